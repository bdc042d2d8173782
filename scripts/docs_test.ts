// npm run docs:test [-- --keep] [-- file.md ...]
// Every bash and Python example of the README and the function READMEs, run in
// document order against a fresh `npm start` (embedded database, its own data
// folder, a free port), each document's examples in one shell so what an
// example captures ($P, $V, ...) the next one uses. Placeholders npm start
// prints (<DEMO_USER_TOKEN>, <DEMO_TEMPLATE_ID>, ...) are filled in; any other
// <placeholder> left in an example fails it. Every curl call must answer below
// 400 unless the document says `# -> <status>`, and output the document shows
// after `# ->` is compared (scripts/lib/doctest/expect.ts). Exit 1 on any failure.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DOCUMENTED_BASE, DOCUMENTED_EXAMPLES } from './lib/doctest/documents.ts';
import { mismatch, parsePattern } from './lib/doctest/expect.ts';
import { type Example, extractExamples } from './lib/doctest/markdown.ts';
import { type Command, splitCommands } from './lib/doctest/shell.ts';

const ROOT = resolve(import.meta.dirname, '..');

const { values, positionals } = parseArgs({ allowPositionals: true, options: { keep: { type: 'boolean', default: false } } });
const documents = positionals.length > 0 ? positionals.map((p) => relative(ROOT, resolve(p))) : DOCUMENTED_EXAMPLES;

// The examples run bash, curl, jq and python3: say which one is missing before anything fails less clearly.
const missing = ['bash', 'curl', 'jq', 'python3'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error);
if (missing.length > 0) {
  console.error(`docs:test needs ${missing.join(', ')} on the PATH: apt-get install ${missing.join(' ')}`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'registry-doctest-'));
const server = await startServer(join(work, 'pglite'));
let failures = 0;
let commandsRun = 0;
try {
  for (const file of documents) {
    const examples = extractExamples(readFileSync(join(ROOT, file), 'utf8'), file);
    const result = runDocument(file, examples, server.printed, work);
    commandsRun += result.commands;
    failures += result.failures;
  }
} finally {
  server.child.kill('SIGTERM');
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
console.log(failures === 0
  ? `\ndocs:test passed: ${commandsRun} commands in ${documents.length} documents`
  : `\ndocs:test FAILED: ${failures} of ${commandsRun} commands`);
process.exit(failures === 0 ? 0 : 1);

interface Server {
  child: ChildProcess;
  /** What npm start printed as NAME=value, plus BASE (where it listens). */
  printed: Map<string, string>;
}

async function startServer(dataDir: string): Promise<Server> {
  // Its output goes to a file: the examples run synchronously, and a pipe nobody
  // drains meanwhile would stop the server once full.
  const log = join(work, 'npm-start.log');
  const child = spawn(process.execPath, ['scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, DATABASE_URL: '' },
    stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
  });
  let exited: number | null | undefined;
  child.on('exit', (code) => { exited = code; });
  const printed = new Map<string, string>();
  for (const started = Date.now(); !printed.has('DEMO_PACKAGE_ID'); await sleep(100)) {
    const output = readIfAny(log);
    if (exited !== undefined) throw new Error(`npm start exited (${exited}) before it was ready:\n${output}`);
    if (Date.now() - started > 180_000) throw new Error(`npm start was not ready in 180 s:\n${output}`);
    for (const line of output.split('\n')) {
      const at = /ready in \d+ ms at (http:\/\/[^/]+)\//.exec(line);
      if (at) printed.set('BASE', at[1]!);
      const pair = /^([A-Z_]+)=(\S+)$/.exec(line);
      if (pair) printed.set(pair[1]!, pair[2]!);
    }
  }
  console.log(`npm start: ready at ${printed.get('BASE')} (data in ${dataDir}, its log in ${log})`);
  return { child, printed };
}

/** The example's code with npm start's values in place of the placeholders it prints. */
function substitute(code: string, printed: Map<string, string>): string {
  let out = code.replaceAll(DOCUMENTED_BASE, printed.get('BASE')!);
  for (const [name, value] of printed) out = out.replaceAll(`<${name}>`, value);
  return out;
}

interface Step {
  example: Example;
  command?: Command;
  /** The shell text run for the step. */
  text: string;
}

function runDocument(file: string, examples: Example[], printed: Map<string, string>, work: string): { commands: number; failures: number } {
  console.log(`\n${file}`);
  const steps: Step[] = [];
  let failures = 0;
  for (const example of examples) {
    if (example.skip) {
      console.log(`  -  ${file}:${example.line} skipped: ${example.skip}`);
      continue;
    }
    const leftover = /<[A-Za-z][A-Za-z _-]*>/.exec(withoutComments(substitute(example.code, printed)));
    if (leftover) {
      console.log(`  ✗  ${file}:${example.line}: the placeholder ${leftover[0]} is not produced by npm start or an earlier example`);
      failures++;
      continue;
    }
    if (example.language === 'python') {
      const code = `${example.setup}\n${substitute(example.code, printed)}`;
      steps.push({ example, text: `python3 - <<'__DOCTEST_PYTHON__'\n${code}\n__DOCTEST_PYTHON__` });
      continue;
    }
    if (example.setup) steps.push({ example, text: substitute(example.setup, printed) });
    for (const command of splitCommands(example.code)) {
      steps.push({ example, command, text: substitute(command.text, printed) });
    }
  }
  const dir = mkdtempSync(join(work, 'doc-'));
  const script = [
    // Every variable an example assigns reaches the Python examples after it.
    'set -a -o pipefail',
    `cd ${JSON.stringify(dir)}`,
    // Each curl call's HTTP status goes to the step's stderr, after its own.
    `curl() { command curl -w '%{stderr}\\nHTTP %{http_code}\\n' "$@"; }`,
    ...steps.map((step, i) => `{ ${step.text}\n} >${i}.out 2>${i}.err </dev/null; echo $? >${i}.rc`),
  ].join('\n');
  writeFileSync(join(dir, 'doc.sh'), script);
  const run = spawnSyncShell(join(dir, 'doc.sh'), dir, printed);
  if (run !== 0) {
    console.log(`  ✗  ${file}: the shell itself failed (${run}); see ${dir}/doc.sh`);
    failures++;
  }
  steps.forEach((step, i) => {
    const where = `${file}:${step.example.line + (step.command ? step.command.line - 1 : 0)}`;
    const out = readIfAny(join(dir, `${i}.out`));
    const err = readIfAny(join(dir, `${i}.err`));
    const rc = Number(readIfAny(join(dir, `${i}.rc`)).trim() || 'NaN');
    const problem = judge(step, rc, out, err);
    const title = (step.command?.text ?? step.text).split('\n')[0]!.slice(0, 110);
    if (problem) {
      failures++;
      console.log(`  ✗  ${where}  ${title}\n       ${problem}\n       output: ${clip(out)}${err.replace(/\n?HTTP \d{3}\n?/g, '').trim() ? `\n       stderr: ${clip(err)}` : ''}`);
    } else {
      console.log(`  ✓  ${where}  ${title}`);
    }
  });
  return { commands: steps.length, failures };
}

function judge(step: Step, rc: number, out: string, err: string): string | null {
  if (rc !== 0) return `exited with ${rc}`;
  const statuses = [...err.matchAll(/^HTTP (\d{3})$/gm)].map((m) => Number(m[1]));
  const expected = step.command?.expect.status;
  if (expected !== undefined) {
    if (statuses.length === 0) return `the document shows HTTP ${expected}, but no curl call was made`;
    if (statuses.at(-1) !== expected) return `HTTP ${statuses.at(-1)}, the document shows ${expected}`;
    const earlier = statuses.slice(0, -1).find((s) => s >= 400);
    if (earlier) return `an earlier call answered HTTP ${earlier}`;
  } else {
    const bad = statuses.find((s) => s >= 400 || s === 0);
    if (bad !== undefined) return `HTTP ${bad} (the document shows no error: add "# -> ${bad}" if it is meant)`;
  }
  const body = step.command?.expect.body;
  if (body !== undefined) {
    let actual: unknown;
    try {
      actual = JSON.parse(out);
    } catch {
      return 'the output is not JSON, but the document shows JSON';
    }
    return mismatch(parsePattern(body), actual);
  }
  return null;
}

function spawnSyncShell(script: string, cwd: string, printed: Map<string, string>): number {
  const result = spawnSync('bash', [script], {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      ...Object.fromEntries(printed),
      // The client as installed, and a stand-in for W&B's (scripts/lib/doctest/python/wandb.py).
      PYTHONPATH: [join(ROOT, 'clients/python'), join(ROOT, 'scripts/lib/doctest/python')].join(':'),
      TRAINING_REGISTRY_URL: `${printed.get('BASE')}/functions/v1`,
      TRAINING_REGISTRY_TOKEN: printed.get('DEMO_USER_TOKEN'),
      PYTHONDONTWRITEBYTECODE: '1',
    },
  });
  return result.status ?? 1;
}

/** Code without its comments (a `#` starting a word), where a <placeholder> may stand for prose. */
function withoutComments(code: string): string {
  return code.split('\n').map((line) => line.replace(/(^|\s)#.*$/, '')).join('\n');
}

function readIfAny(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 400 ? `${one.slice(0, 400)}…` : one || '(none)';
}
