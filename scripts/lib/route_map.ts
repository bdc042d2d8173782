// Each function's route map, for functions/<name>/README.md: every route of
// its OpenAPI document, the SQL function its handler calls (read from the
// handler's source), that function's schema file, the triggers and policies
// guarding the tables it touches (its `-- Rules:` line there), and the tests
// that call the route. Two hops from a route to its rule: the map, then the file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; summary?: string }>>;
}

interface SqlFunction {
  file: string; // relative to the repository
  rules: { table: string; triggers?: string; policies?: string }[];
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Every public SQL function in the schema files: where it is defined and its Rules lines. */
function sqlFunctions(): Map<string, SqlFunction> {
  const out = new Map<string, SqlFunction>();
  for (const file of walk(join(ROOT, 'supabase', 'schemas'))) {
    if (!file.endsWith('.sql')) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^create or replace function public\.(\w+)\s*\(/.exec(line);
      if (!m) return;
      const rules: SqlFunction['rules'] = [];
      for (let j = i - 1; j >= 0 && lines[j]!.startsWith('--'); j--) {
        const rule = /^-- (?:Rules:|\s+)\s*(\w+): (.*)$/.exec(lines[j]!);
        if (!rule) continue;
        const [, table, text] = rule;
        rules.unshift({
          table: table!,
          triggers: /triggers [^(]+\(([^)]+)\)/.exec(text!)?.[1],
          policies: /policies [^(]+\(([^)]+)\)/.exec(text!)?.[1],
        });
      }
      out.set(m[1]!, { file: relative(ROOT, file), rules });
    });
  }
  return out;
}

/**
 * operationId (or a pattern of them, for routes a loop declares with a
 * template-literal id) -> SQL functions its handler calls, directly or
 * through a helper function of the same folder. Each file is read on its own:
 * route keys (`routes.create`) repeat across files.
 */
function handlerCalls(functionDir: string, known: Set<string>): { id: RegExp; fns: string[] }[] {
  const sources = readdirSync(functionDir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(functionDir, f), 'utf8'));
  const rpcNames = (text: string) => [...new Set([...text.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!).filter((n) => known.has(n)))];
  // helper functions at any depth, each up to the closing brace at its own indentation
  const helpers = new Map<string, string>();
  for (const source of sources) {
    for (const m of source.matchAll(/^([ \t]*)(?:export\s+)?(?:async\s+)?function\s+(\w+)/gm)) {
      const end = source.indexOf(`\n${m[1]}}`, m.index);
      helpers.set(m[2]!, source.slice(m.index, end < 0 ? undefined : end));
    }
  }
  const calledIn = (body: string) => [...new Set([
    ...rpcNames(body),
    ...[...body.matchAll(/\b(\w+)\(/g)].map((m) => helpers.get(m[1]!)).filter((h): h is string => h !== undefined).flatMap(rpcNames),
  ])];
  // a statement: from its start to the next line indented no deeper than it starts
  const statementAt = (source: string, start: number, indent: number) => {
    const next = new RegExp(`\\n[ \\t]{0,${indent}}\\S`, 'g');
    next.lastIndex = start;
    const end = next.exec(source);
    return source.slice(start, end ? end.index : undefined);
  };
  const idPattern = (id: string) => new RegExp(`^${id.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('\\w+')}$`);
  const out: { id: RegExp; fns: string[] }[] = [];
  for (const source of sources) {
    const operationOf = new Map<string, string>();
    for (const m of source.matchAll(/(\w+)\s*[:=]\s*createRoute\(\{\s*operationId:\s*['`]([^'`]+)['`]/g)) operationOf.set(m[1]!, m[2]!);
    for (const m of source.matchAll(/^([ \t]*)app\.openapi\((?:routes\.)?(\w+)/gm)) {
      const operationId = operationOf.get(m[2]!);
      if (operationId) out.push({ id: idPattern(operationId), fns: calledIn(statementAt(source, m.index, m[1]!.length)) });
    }
    // routes registered by hand (registerPath) and served with app.<method>(path, ...)
    for (const m of source.matchAll(/registerPath\(\{\s*operationId:\s*'(\w+)',\s*method:\s*'(\w+)',\s*path:\s*'([^']+)'/g)) {
      const start = source.indexOf(`app.${m[2]}('${m[3]}'`);
      if (start < 0) continue;
      const indent = start - source.lastIndexOf('\n', start) - 1;
      out.push({ id: idPattern(m[1]!), fns: calledIn(statementAt(source, start, indent)) });
    }
  }
  // exact ids before patterns
  return out.sort((a, b) => Number(a.id.source.includes('\\w+')) - Number(b.id.source.includes('\\w+')));
}

/** Test files that call a route (its path, parameters as anything) or its SQL functions. */
function testsFor(domain: string, path: string, fns: string[], tests: { file: string; text: string }[]): string[] {
  const segment = path.replace(/\/$/, '').split('/').map((s) => (/^\{\w+\}$/.test(s) ? '[^/\\s\'"`]+' : s.replace(/[.*+?^$()|[\]\\-]/g, '\\$&'))).join('/');
  // handlers' tests often call paths relative to the function (`/${id}/versions`): the base is optional
  // when a literal segment remains to recognise the route by
  const [, base, rest] = /^(\/[^/]+)(.*)$/.exec(segment)!;
  // (with only parameters left, the relative form must be a template literal: `/${pkg.id}`)
  const optionalBase = /\/[a-z-]/.test(rest!) ? `(?:${base})?${rest}`
    : rest ? `(?:${segment}|\`${rest!.replaceAll('[^/\\s\'"`]+', '\\$\\{[^}]+\\}')})` : segment;
  const re = new RegExp(`${optionalBase}(?=[?'"\`\\s]|$)`);
  const calling = tests.filter((t) => re.test(t.text) || fns.some((f) => t.text.includes(`'${f}'`)));
  // the domain's own tests first, then the cross-cutting ones; a handful is enough to find the proof
  const own = calling.filter((t) => t.file.startsWith(`test/${domain}/`));
  return [...own, ...calling.filter((t) => !own.includes(t))].slice(0, 4).map((t) => t.file);
}

export function renderRouteMap(name: string, document: OpenApiDocument): string {
  const fns = sqlFunctions();
  const calls = handlerCalls(join(ROOT, 'functions', name), new Set(fns.keys()));
  const tests = [...walk(join(ROOT, 'test'))].filter((f) => f.endsWith('.test.ts'))
    .map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
  const link = (file: string, text = file.split('/').slice(-2).join('/')) => `[${text}](../../${file})`;
  const rows = ['| Route | What | SQL function | Guarded by (schema file) | Tests |', '| --- | --- | --- | --- | --- |'];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const route = `\`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}\``;
      const called = calls.find((h) => h.id.test(op.operationId ?? ''))?.fns ?? [];
      const sql = called.map((f) => link(fns.get(f)!.file, `\`${f}\``)).join(', ') || 'none (no database)';
      const guards = [...new Map(called.flatMap((f) => fns.get(f)!.rules).map((r) => [r.table, r])).values()]
        .map((r) => `\`${r.table}\`: ${[r.triggers && link(`supabase/schemas/${r.triggers}`, 'triggers'), r.policies && link(`supabase/schemas/${r.policies}`, 'policies')].filter(Boolean).join(', ') || 'none'}`)
        .join('<br>') || '—';
      const proving = testsFor(name === 'wandb-webhook' ? 'wandb' : name.replace('-', '_'), path, called, tests);
      rows.push(`| ${route} | ${op.summary ?? ''} | ${sql} | ${guards} | ${proving.map((f) => link(f, f.replace(/^test\//, ''))).join(', ') || '—'} |`);
    }
  }
  return rows.join('\n');
}
