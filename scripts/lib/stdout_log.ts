// npm start's request log: one JSON line per request on stdout, as the
// functions write it on Supabase (console.log), but written once per turn of
// the event loop for all the lines of that turn. On Linux a write to a
// terminal, file or pipe blocks the server, and console.log's own work and a
// write per request were ~7 % of a small read's CPU (issue 16).
import type { LogLine } from '../../functions/_shared/http/app.ts';

type Out = { write(text: string): unknown; on?(event: 'error', listener: (err: Error) => void): unknown };

export function stdoutLog(out: Out = process.stdout): (line: LogLine) => void {
  // A reader that went away (`npm start | head`, a restarted log shipper) costs
  // the lines, never the server: console.log ignores such errors too.
  out.on?.('error', () => {});
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    out.write(text);
  };
  // Lines of the last turn still go out when the process exits (process.exit included).
  process.once('exit', flush);
  return (line) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(`${JSON.stringify(line)}\n`);
  };
}
