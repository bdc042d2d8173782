// A bash example split into its commands, each with what the document says it
// answers. A command runs until its quotes, parentheses and line continuations
// close (a multi-line JSON body is one command). What it answers is a comment
// starting with `->`, at the end of the command or on the comment lines right
// after it:
//   curl -s $B/runs/stats -H "Authorization: Bearer $T"
//   # -> {"total_runs": 4, ...}
//   curl -s -X POST $B/runs/x/crash ...   # -> 409
// `-> 409` is the HTTP status of the command's last curl call (every other call
// must answer below 400); a JSON pattern (expect.ts) is compared with what the
// command printed; the pattern may go on over several comment lines.

export interface Expectation {
  status?: number;
  /** The JSON pattern's text (expect.ts), when the document shows the output. */
  body?: string;
}

export interface Command {
  /** 1-based line within the example. */
  line: number;
  text: string;
  expect: Expectation;
}

interface Scan {
  single: boolean;
  double: boolean;
  depth: number;
}

export function splitCommands(code: string): Command[] {
  const commands: Command[] = [];
  const state: Scan = { single: false, double: false, depth: 0 };
  let current: { line: number; lines: string[] } | undefined;
  let last: Command | undefined;
  // An expectation whose brackets have not closed yet takes the next comment lines.
  let open: { command: Command; text: string } | undefined;

  const finishExpectation = (command: Command, text: string) => {
    const m = /^->\s*(\d{3})?\s*([\s\S]*)$/.exec(text.trim());
    if (!m || (!m[1] && !m[2])) throw new Error(`line ${command.line}: "->" names no status and no output`);
    if (m[1]) command.expect.status = Number(m[1]);
    if (m[2]) command.expect.body = m[2].trim();
  };
  const expectationText = (command: Command, text: string) => {
    if (balanced(text)) {
      finishExpectation(command, text);
      open = undefined;
    } else {
      open = { command, text };
    }
  };

  code.split('\n').forEach((raw, index) => {
    const lineNumber = index + 1;
    if (!current) {
      const trimmed = raw.trim();
      if (trimmed.startsWith('#')) {
        const comment = trimmed.replace(/^#\s?/, '');
        if (open) expectationText(open.command, `${open.text}\n${comment}`);
        else if (comment.startsWith('->')) {
          if (!last) throw new Error(`line ${lineNumber}: "->" follows no command`);
          expectationText(last, comment);
        }
        return;
      }
      if (open) throw new Error(`line ${open.command.line}: the output shown after the command does not close its brackets`);
      if (trimmed === '') {
        last = undefined;
        return;
      }
      current = { line: lineNumber, lines: [] };
    }
    current.lines.push(raw);
    const { comment, continued } = scanLine(raw, state);
    const complete = !state.single && !state.double && state.depth === 0 && !continued;
    if (!complete) {
      if (comment?.trim().startsWith('->')) throw new Error(`line ${lineNumber}: "->" inside an unfinished command`);
      return;
    }
    const command: Command = { line: current.line, text: current.lines.join('\n'), expect: {} };
    commands.push(command);
    last = command;
    current = undefined;
    if (comment?.trim().startsWith('->')) expectationText(command, comment.trim());
  });
  if (current) throw new Error(`line ${current.line}: the command never ends (an unclosed quote or parenthesis)`);
  if (open) throw new Error(`line ${open.command.line}: the output shown after the command does not close its brackets`);
  return commands;
}

/** Advances the quoting state over one line; returns its trailing comment and whether it ends in a backslash. */
function scanLine(line: string, state: Scan): { comment?: string; continued: boolean } {
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (state.single) {
      if (ch === "'") state.single = false;
    } else if (state.double) {
      if (ch === '\\') i++;
      else if (ch === '"') state.double = false;
    } else if (ch === '\\') {
      if (i === line.length - 1) return { continued: true };
      i++;
    } else if (ch === "'") state.single = true;
    else if (ch === '"') state.double = true;
    else if (ch === '(') state.depth++;
    else if (ch === ')') state.depth--;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return { comment: line.slice(i + 1), continued: false };
    }
  }
  return { continued: false };
}

/** Brackets outside JSON strings all closed. */
function balanced(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return depth <= 0;
}
