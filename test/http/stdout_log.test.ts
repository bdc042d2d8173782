// npm start's request log (scripts/lib/stdout_log.ts): the lines of one turn
// of the event loop in one write, in order, and none lost on process.exit.
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stdoutLog } from '../../scripts/lib/stdout_log.ts';

describe('stdoutLog', () => {
  it('writes the lines of one turn together, in order, one JSON object per line', async () => {
    const writes: string[] = [];
    const log = stdoutLog({ write: (text: string) => writes.push(text) });
    log({ n: 1 });
    log({ n: 2, path: '/runs/"x"\n' });
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    log({ n: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(2);
    expect(writes.join('').trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([{ n: 1 }, { n: 2, path: '/runs/"x"\n' }, { n: 3 }]);
  });

  it('keeps serving when its reader goes away (the write fails: EPIPE)', async () => {
    const out = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    const log = stdoutLog(out);
    log({ n: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    log({ n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(out.destroyed).toBe(true);
  });

  it('writes what is pending when the process exits right after logging', () => {
    const script = `import { stdoutLog } from ${JSON.stringify(new URL('../../scripts/lib/stdout_log.ts', import.meta.url).href)};
      const log = stdoutLog(); log({ last: 'words' }); process.exit(0);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('{"last":"words"}\n');
  });
});
