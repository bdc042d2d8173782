// The documented-examples runner's parts (npm run docs:test runs them against
// npm start in CI): how a document's examples are found, how a bash example
// splits into commands with what each answers, and how a shown output is
// compared. Also: every function README is in the runner's list, and every
// example in the list parses.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENTED_EXAMPLES } from '../../scripts/lib/doctest/documents.ts';
import { mismatch, normalize, parsePattern } from '../../scripts/lib/doctest/expect.ts';
import { extractExamples } from '../../scripts/lib/doctest/markdown.ts';
import { splitCommands } from '../../scripts/lib/doctest/shell.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the documents', () => {
  it('lists the README and every function README', () => {
    const functions = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('_')).map((d) => `functions/${d.name}/README.md`);
    expect(new Set(DOCUMENTED_EXAMPLES)).toEqual(new Set(['README.md', ...functions]));
  });

  it('has only examples that parse, and a reason for each one skipped', () => {
    let commands = 0;
    for (const file of DOCUMENTED_EXAMPLES) {
      for (const example of extractExamples(readFileSync(join(ROOT, file), 'utf8'), file)) {
        if (example.skip || example.language !== 'bash') continue;
        const split = splitCommands(example.code);
        for (const c of split) if (c.expect.body) parsePattern(c.expect.body);
        commands += split.length;
      }
    }
    expect(commands).toBeGreaterThan(80);
  });
});

describe('extractExamples', () => {
  it('finds bash and python blocks with their skip reason and hidden setup, and nothing else', () => {
    const md = [
      '# t', '```bash', 'echo 1', '```',
      '<!-- doctest: skip needs a cloud -->', '```sh', 'deploy', '```',
      '<!-- doctest-setup', 'x = 1', '-->', '```python', 'print(x)', '```',
      '```json', '{}', '```',
    ].join('\n');
    const found = extractExamples(md, 'a.md');
    expect(found.map(({ language, code, skip, setup, line }) => ({ language, code, skip, setup, line }))).toEqual([
      { language: 'bash', code: 'echo 1', skip: undefined, setup: '', line: 3 },
      { language: 'bash', code: 'deploy', skip: 'needs a cloud', setup: '', line: 7 },
      { language: 'python', code: 'print(x)', skip: undefined, setup: 'x = 1', line: 13 },
    ]);
  });

  it('refuses a skip without a reason, and a doctest comment away from its block', () => {
    expect(() => extractExamples('<!-- doctest: skip -->\n```bash\nx\n```', 'a.md')).toThrow(/needs a reason/);
    expect(() => extractExamples('<!-- doctest: skip why -->\ntext\n```bash\nx\n```', 'a.md')).toThrow(/right before/);
  });
});

describe('splitCommands', () => {
  it('keeps quoted multi-line bodies, continuations and $(...) in one command', () => {
    const code = [
      "T=x; B=y",
      "curl -s -X POST $B/runs -d '{",
      '  "run_id": "a # not a comment"}\'',
      'P=$(curl -s $B \\',
      "  -d '{\"a\": 1}' | jq -r .id)",
      'echo "it\'s $P"',
    ].join('\n');
    expect(splitCommands(code).map((c) => c.line)).toEqual([1, 2, 4, 6]);
  });

  it('reads what a command answers from its trailing comment or the comment lines after it', () => {
    const code = [
      'curl -s $B/a   # -> 409',
      'curl -s $B/b',
      '# -> {"total": 4,',
      '#     "by": [1, ...]}',
      '# a comment about what comes next',
      'curl -s $B/c   # an ordinary comment',
      '',
      '# -> 200',
    ].join('\n');
    expect(() => splitCommands(code)).toThrow(/follows no command/);
    const [a, b, c] = splitCommands(code.split('\n').slice(0, 6).join('\n'));
    expect(a!.expect).toEqual({ status: 409 });
    expect(b!.expect).toEqual({ body: '{"total": 4,\n    "by": [1, ...]}' });
    expect(c!.expect).toEqual({});
  });

  it('refuses a command that never ends', () => {
    expect(() => splitCommands("curl -d '{")).toThrow(/never ends/);
  });
});

describe('output patterns', () => {
  const check = (pattern: string, actual: unknown) => mismatch(parsePattern(pattern), actual);

  it('matches exact values, and "..." as any value', () => {
    expect(check('{"a": 1, "b": "..."}', { a: 1, b: { deep: true } })).toBeNull();
    expect(check('{"a": 1}', { a: 2 })).toMatch(/\$\.a: 2, the document shows 1/);
    expect(check('{"a": 1}', { a: 1, b: 2 })).toMatch(/does not show .*: b/);
    expect(check('{"a": 1, ...}', { a: 1, b: 2 })).toBeNull();
    expect(check('{"a": 1}', {})).toMatch(/no member "a"/);
  });

  it('matches arrays exactly, or the shown elements in order among others with ...', () => {
    expect(check('[1, 2]', [1, 2])).toBeNull();
    expect(check('[1, 2]', [1, 2, 3])).toMatch(/3 elements, the document shows 2/);
    expect(check('[..., 2, ...]', [1, 2, 3])).toBeNull();
    expect(check('[3, ..., 1]', [1, 2, 3])).toMatch(/no element matches/);
    expect(check('[{"id": "x"}, ...]', [{ id: 'y' }, { id: 'x' }])).toBeNull();
  });

  it('compares ids, timestamps and hashes by their shape', () => {
    expect(normalize('2026-11-30T08:39:10.962273Z 1b4e28ba-2fa1-11d2-883f-0016d3cca427'))
      .toBe('<timestamp> <uuid>');
    expect(check('{"at": "2026-11-30T08:39:10Z"}', { at: '2027-01-01T00:00:00.5+00:00' })).toBeNull();
    expect(check('{"at": "2026-11-30T08:39:10Z"}', { at: 'yesterday' })).not.toBeNull();
  });

  it('says where a pattern is malformed', () => {
    expect(() => parsePattern('{"a": }')).toThrow(/a value at character 7/);
    expect(() => parsePattern('{"a": 1} x')).toThrow(/text after the value/);
  });
});
