// Seeds supabase/schemas/<domain>/<layer>.sql from the catalog the migrations
// build. Run once when the declarative schema was introduced; since then the
// schema files are the source and migrations are generated from them
// (`npm run db:diff -- <name>`). Kept to re-seed if a hand-written migration
// ever lands without its schema-file change (the equality test would say so).
//
//   npm run db:seed-schema          (needs the local PostgreSQL, or SCRATCH_DATABASE_URL)
//
// How: the migrations are applied to a scratch database, pg-delta exports it
// one file per object, every statement the Supabase platform itself creates
// (the shim's baseline) is dropped, and each object's statements go to its
// domain and layer; the prose comment above the object's newest definition in
// the migrations is carried over, and each public function gets a `-- Rules:`
// line naming the triggers and policies of the tables it touches.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { applyLocalShim, ensureHistoryTable, listMigrations, migrateUp, SUPABASE_DIR } from './lib/migrator.ts';
import { createScratchDatabase } from './lib/scratch_db.ts';
import { DOMAINS, LAYERS, type Domain, type Layer, layerFile } from './lib/schema_layout.ts';
import { splitStatements } from './lib/sql_split.ts';

const PGDELTA = join(import.meta.dirname, '..', 'node_modules', '.bin', 'pgdelta');

/** Objects whose domain is not the one of the migration that created them. */
const DOMAIN_OVERRIDES: Record<string, Domain> = {
  'public.user_profiles': 'foundation',
  'private.jsonb_int': 'foundation',
  'private.jsonb_num': 'foundation',
  'private.jsonb_str': 'foundation',
  'private.jsonb_text_array': 'foundation',
  'private.canonical_json': 'foundation',
  'private.idempotency_keys': 'foundation',
  'private.idempotency_claim': 'foundation',
  'private.idempotency_store': 'foundation',
  'public.idempotent_call': 'foundation',
  'private.check_page_limit': 'foundation',
  'private.time_cursor_decode': 'foundation',
  'private.is_http_url': 'foundation',
  'private.adopted_tables': 'foundation',
  'private.table_state': 'foundation',
  'private.adoption_begin': 'foundation',
  'private.adoption_undo': 'foundation',
  'private.budget_alert_thresholds': 'packages',
  'private.jsonb_merge_patch': 'foundation',
};

/** The domain each migration file mostly belongs to (the first one to create an object decides its domain). */
const MIGRATION_DOMAINS: Record<string, Domain | undefined> = {
  foundation: 'foundation',
  runs_registry: 'runs',
  run_objectives: 'runs',
  wandb_ingestion: 'wandb',
  package_versions: 'packages',
  conversations: 'conversations',
  training_examples: 'training_examples',
  training_ingest_path: 'training_examples',
  conversations_authoring: 'conversations',
};

/** For objects first created by a migration that spans domains: by name. */
function domainByName(key: string): Domain | undefined {
  const name = key.split('.')[1]!;
  if (/^(acting_as_service|idempoten)/.test(name)) return 'foundation';
  if (/^(runs?_|objective_)/.test(name)) return 'runs';
  if (/^wandb_/.test(name)) return 'wandb';
  if (/^(packages?_|training_configs|get_next_version_number)/.test(name)) return 'packages';
  if (/^(conversation|batch_job|export_|job_positions|check_parent_template|quality_)/.test(name)) return 'conversations';
  if (/^training_/.test(name)) return 'training_examples';
  return undefined;
}

interface ObjectInfo {
  key: string; // schema.name
  kind: 'table' | 'view' | 'function' | 'schema' | 'default_privileges';
  statements: string[];
}

const CREATES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^create\s+(?:or\s+replace\s+)?(?:function|procedure)\s+([\w."]+)\s*\(/i, (m) => qualify(m[1]!)],
  [/^create\s+table\s+(?:if\s+not\s+exists\s+)?([\w."]+)/i, (m) => qualify(m[1]!)],
  [/^create\s+(?:or\s+replace\s+)?view\s+([\w."]+)/i, (m) => qualify(m[1]!)],
  [/^create\s+policy\s+"?(\w+)"?\s+on\s+([\w."]+)/i, (m) => `policy:${m[1]} on ${qualify(m[2]!)}`],
  [/^create\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+(\w+)[\s\S]*?\bon\s+([\w."]+)/i, (m) => `trigger:${m[1]} on ${qualify(m[2]!)}`],
  [/^create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?(\w+)/i, (m) => `index:${m[1]}`],
];

function qualify(name: string): string {
  const n = name.replaceAll('"', '').toLowerCase();
  return n.includes('.') ? n : `public.${n}`;
}

/**
 * Comments that only read right inside their migration: figures (they live in
 * bench/README.md), references to other migrations or to what is "above" in
 * that file, and "the same for" lead-ins.
 */
const MIGRATION_ONLY_COMMENT = /\b\d+(\.\d+)?\s*(µs|us|ms)\b|\b2026\d{4}|\babove\b|^-- The same for|^-- \d+\. /im;

/** The comment lines directly above a statement (a blank line ends the block: file headers stay behind). */
function leadingComment(statement: string): { comment: string; sql: string } {
  const lines = statement.split('\n');
  let i = 0;
  while (i < lines.length && (lines[i]!.trim().startsWith('--') || lines[i]!.trim() === '')) i++;
  const head = lines.slice(0, i);
  let start = head.length;
  while (start > 0 && head[start - 1]!.trim().startsWith('--')) start--;
  return { comment: head.slice(start).join('\n').trim(), sql: lines.slice(i).join('\n').trim() };
}

/** Prose comments and first-creating migration of every object, from the migration files. */
function harvestMigrations(): { comments: Map<string, string>; createdIn: Map<string, string>; triggers: Map<string, string> } {
  const comments = new Map<string, string>();
  const triggers = new Map<string, string>();
  const createdIn = new Map<string, string>();
  for (const m of listMigrations()) {
    for (const statement of splitStatements(readFileSync(m.path, 'utf8'))) {
      const { comment, sql } = leadingComment(statement);
      for (const [re, key] of CREATES) {
        const match = re.exec(sql);
        if (!match) continue;
        const k = key(match);
        if (!createdIn.has(k)) createdIn.set(k, m.name);
        if (comment && !MIGRATION_ONLY_COMMENT.test(comment)) comments.set(k, comment);
        if (k.startsWith('trigger:')) triggers.set(k, sql.replace(/^create\s+or\s+replace\s+/i, 'create '));
        break;
      }
    }
  }
  return { comments, createdIn, triggers };
}

function exportCatalog(url: string): Map<string, ObjectInfo> {
  const dir = mkdtempSync(join(tmpdir(), 'schema-export-'));
  try {
    execFileSync(PGDELTA, ['schema', 'export', '--source', url, '--out-dir', dir, '--layout', 'by-object'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const objects = new Map<string, ObjectInfo>();
    for (const file of walk(dir)) {
      if (!file.endsWith('.sql')) continue; // the export's manifest
      const rel = relative(dir, file).replace(/\.sql$/, '');
      const parts = rel.split('/'); // schemas/<schema>/<kind>s/<name> | schemas/<schema>/schema | schemas/<schema>/default_privileges
      const schema = parts[1]!;
      const kind = parts.length === 3 ? (parts[2] as 'schema' | 'default_privileges') : (parts[2]!.replace(/s$/, '') as ObjectInfo['kind']);
      const name = parts.length === 3 ? schema : parts[3]!.replace(/\.fk$/, '');
      const key = `${schema}.${name}`;
      const statements = splitStatements(readFileSync(file, 'utf8')).map((s) => leadingComment(s).sql);
      const existing = objects.get(`${kind}:${key}`);
      if (existing) existing.statements.push(...statements);
      else objects.set(`${kind}:${key}`, { key, kind, statements });
    }
    return objects;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** What the platform's default privileges grant on a new table or view, taken back before its own grants. */
function revokeDefaults(kind: 'table', key: string): string {
  const [schema, name] = key.split('.');
  return `revoke all on ${kind} "${schema}"."${name}" from "anon", "authenticated", "service_role";`;
}

/** Tables after the tables their foreign keys reference (a table file loads in one go). */
function referencedFirst(objects: ObjectInfo[]): ObjectInfo[] {
  const byKey = new Map(objects.filter((o) => o.kind === 'table').map((o) => [o.key, o]));
  const done = new Set<ObjectInfo>();
  const out: ObjectInfo[] = [];
  const visit = (o: ObjectInfo, path: string[]) => {
    if (done.has(o)) return;
    if (path.includes(o.key)) throw new Error(`foreign-key cycle: ${[...path, o.key].join(' -> ')}`);
    if (o.kind === 'table') {
      const create = o.statements.find((s) => /^create\s+table/i.test(s)) ?? '';
      for (const m of create.matchAll(/\breferences\s+([\w."]+)\s*\(/gi)) {
        const ref = byKey.get(qualify(m[1]!));
        if (ref && ref !== o) visit(ref, [...path, o.key]);
      }
    }
    done.add(o);
    out.push(o);
  };
  for (const o of objects) visit(o, []);
  return out;
}

/** CREATE TABLE with the columns later ALTER TABLE ... ADD COLUMN statements add, in catalog order. */
function inlineAddedColumns(statements: string[], order: string[]): string[] {
  const added = new Map<string, string>();
  const rest: string[] = [];
  for (const st of statements) {
    const m = /^alter table "[^"]+"\."[^"]+"\s+add column ("([^"]+)"[\s\S]*);$/i.exec(st);
    if (m) added.set(m[2]!, `  ${m[1]!.replace(/\s*\n\s*/g, ' ')}`);
    else rest.push(st);
  }
  if (added.size === 0) return statements;
  const i = rest.findIndex((st) => /^create table/i.test(st));
  const lines = rest[i]!.split('\n');
  const head = lines[0]!;
  const body = lines.slice(1, -1);
  // one element per column or constraint: a line at two spaces starts one, deeper lines continue it
  const elements: string[] = [];
  for (const line of body) {
    if (/^ {2}\S/.test(line)) elements.push(line.replace(/,$/, ''));
    else elements[elements.length - 1] += `\n${line.replace(/,$/, '')}`;
  }
  const columns = new Map(elements.filter((e) => /^ {2}"/.test(e)).map((e) => [/^ {2}"([^"]+)"/.exec(e)![1]!, e]));
  for (const [name, def] of added) columns.set(name, def);
  const ordered = order.map((name) => columns.get(name)).filter((e): e is string => e !== undefined);
  if (ordered.length !== columns.size) throw new Error(`${head}: columns and catalog order disagree`);
  const constraints = elements.filter((e) => !/^ {2}"/.test(e));
  rest[i] = [head, [...ordered, ...constraints].join(',\n'), lines[lines.length - 1]].join('\n');
  return rest;
}

/** Which layer a statement of a table's file belongs to. */
function tableLayer(sql: string): Layer {
  if (/^create\s+table/i.test(sql)) return 'tables';
  if (/^comment\s+on\s+(table|column)/i.test(sql)) return 'tables';
  if (/^alter\s+table\s+\S+\s+(add\s+column|add\s+constraint|alter\s+column)/i.test(sql)) return 'rules';
  if (/^create\s+(unique\s+)?index/i.test(sql)) return 'rules';
  if (/^create\s+(constraint\s+)?trigger/i.test(sql)) return 'rules';
  if (/^alter\s+table\s+\S+\s+(enable|force)\s+row\s+level\s+security/i.test(sql)) return 'access';
  if (/^(create|comment\s+on)\s+policy/i.test(sql)) return 'access';
  if (/^(grant|revoke)\s/i.test(sql)) return 'access';
  throw new Error(`unclassified table statement: ${sql.slice(0, 120)}`);
}

/** Table-level grants before column-level ones: a table-level REVOKE also revokes every column privilege. */
function grantOrder(sql: string): number {
  return /^(grant|revoke)\s[^;]*?\(/i.test(sql.split(/\s+on\s+/i)[0]!) ? 1 : 0;
}

async function main() {
  const migrated = await createScratchDatabase('scratch_seed_migrated');
  const baseline = await createScratchDatabase('scratch_seed_baseline');
  try {
    await applyLocalShim(migrated.client);
    await migrateUp(migrated.client);
    await applyLocalShim(baseline.client);
    await ensureHistoryTable(baseline.client);
    const ours = exportCatalog(migrated.url);
    // Columns pg-delta adds with ALTER TABLE (those whose default or generation
    // calls a function) go back into their CREATE TABLE at their position, so a
    // database built from the schema files has the deployed column order.
    const positions = await migrated.client.query<{ tbl: string; cols: string[] }>(`
      select format('%s.%s', table_schema, table_name) as tbl, array_agg(column_name::text order by ordinal_position) as cols
        from information_schema.columns where table_schema in ('public', 'private') group by 1`);
    for (const { tbl, cols } of positions) {
      const o = ours.get(`table:${tbl}`);
      if (o) o.statements = inlineAddedColumns(o.statements, cols);
    }
    const platform = new Set([...exportCatalog(baseline.url).values()].flatMap((o) => o.statements.map((s) => `${o.key}|${s}`)));
    const { comments, createdIn, triggers } = harvestMigrations();
    const ourStatements = new Set([...ours.values()].flatMap((o) => o.statements.map((st) => `${o.key}|${st}`)));
    /** `alter default privileges ... grant` the platform has and the migrations revoked, as revokes. */
    const platformRevokes = (key: string) => [...platform]
      .filter((entry) => entry.startsWith(`${key}|alter default privileges`) && !ourStatements.has(entry))
      .map((entry) => entry.slice(key.length + 1).replace(/ grant (.+?) on (\w+) to (.+);$/i, ' revoke all on $2 from $3;'));

    const domainOf = (key: string): Domain => {
      const override = DOMAIN_OVERRIDES[key];
      if (override) return override;
      const migration = createdIn.get(key);
      const domain = (migration ? MIGRATION_DOMAINS[migration] : undefined) ?? domainByName(key);
      if (!domain) throw new Error(`${key}: no domain (created in ${migration ?? 'no migration'}); add it to DOMAIN_OVERRIDES`);
      return domain;
    };

    // Triggers and policies per table, for the `-- Rules:` lines.
    const rulesOf = new Map<string, { triggers: string[]; policies: string[] }>();
    for (const o of ours.values()) {
      if (o.kind !== 'table') continue;
      const triggers = o.statements.flatMap((s) => /^create\s+(?:constraint\s+)?trigger\s+(\w+)/i.exec(s)?.[1] ?? []);
      const policies = o.statements.flatMap((s) => /^create\s+policy\s+"?(\w+)"?/i.exec(s)?.[1] ?? []);
      rulesOf.set(o.key, { triggers, policies });
    }

    // Private functions a CREATE TABLE calls (checks, defaults) load before the tables.
    const tableHelpers = new Set([...ours.values()]
      .filter((o) => o.kind === 'table')
      .flatMap((o) => o.statements.filter((s) => /^create\s+table/i.test(s)))
      .flatMap((s) => [...s.matchAll(/\bprivate\.(\w+)\s*\(/g)].map((m) => `private.${m[1]}`)));

    // The tables a function body names, directly or through the private functions it calls.
    const bodies = new Map([...ours.values()].filter((o) => o.kind === 'function').map((o) => [o.key, o.statements[0] ?? '']));
    const tablesTouched = (body: string, seen = new Set<string>()): string[] => {
      const tables = [
        ...[...body.matchAll(/\bpublic\.(\w+)/g)].map((m) => `public.${m[1]}`),
        // tables named as text, for dynamic SQL over an allow-list (format('... public.%I', kind))
        ...[...body.matchAll(/'(\w+)'/g)].map((m) => `public.${m[1]}`),
      ].filter((t) => rulesOf.has(t));
      for (const m of body.matchAll(/\bprivate\.(\w+)\s*\(/g)) {
        const callee = `private.${m[1]}`;
        if (seen.has(callee) || !bodies.has(callee)) continue;
        seen.add(callee);
        tables.push(...tablesTouched(bodies.get(callee)!, seen));
      }
      return [...new Set(tables)];
    };

    const out = new Map<string, string[]>(); // file -> blocks
    const add = (domain: Domain, layer: Layer, block: string) => {
      const file = layerFile(domain, layer);
      if (!out.has(file)) out.set(file, []);
      out.get(file)!.push(block);
    };

    const rank = (o: ObjectInfo) => (o.kind === 'schema' ? 0 : 1);
    const sorted = referencedFirst([...ours.values()].sort((a, b) => rank(a) - rank(b) || a.key.localeCompare(b.key)));
    for (const o of sorted) {
      const [schema] = o.key.split('.');
      if (schema === 'auth' || schema === 'supabase_migrations') continue;
      const statements = o.statements.filter((s) => !platform.has(`${o.key}|${s}`));
      if (o.kind === 'default_privileges') {
        // Before any table: an identity column's sequence takes them at creation.
        add('foundation', 'helpers', [...platformRevokes(o.key), ...statements].join('\n\n'));
        continue;
      }
      if (statements.length === 0) continue;
      if (o.kind === 'schema') {
        add('foundation', 'helpers', statements.join('\n\n'));
        continue;
      }
      const domain = domainOf(o.key);
      const prose = comments.get(o.key);
      if (o.kind === 'table') {
        const byLayer = new Map<Layer, string[]>();
        for (const s of statements) {
          const layer = tableLayer(s);
          if (!byLayer.has(layer)) byLayer.set(layer, []);
          byLayer.get(layer)!.push(s);
        }
        for (const [layer, list] of byLayer) {
          if (layer === 'access') {
            list.sort((a, b) => grantOrder(a) - grantOrder(b));
            if (schema === 'public') list.splice(list.findIndex((st) => /^(grant|revoke)\s/i.test(st)), 0, revokeDefaults('table', o.key));
          }
          const blocks = list.map((s) => {
            const m = /^create\s+(policy|(?:constraint\s+)?trigger|(?:unique\s+)?index)\s+"?(\w+)"?/i.exec(s);
            // A trigger's WHEN as written: its deparsed form does not always parse back to the same tree.
            if (m && /trigger/i.test(m[1]!) && triggers.has(`trigger:${m[2]} on ${o.key}`)) {
              s = triggers.get(`trigger:${m[2]} on ${o.key}`)!;
            }
            const key = !m ? undefined : /index/i.test(m[1]!) ? `index:${m[2]}` : `${/policy/i.test(m[1]!) ? 'policy' : 'trigger'}:${m[2]} on ${o.key}`;
            const c = key && comments.get(key);
            return c ? `${c}\n${s}` : s;
          });
          const header = layer === 'tables' ? (prose ? `${prose}\n` : '') : `-- ${o.key}\n`;
          add(domain, layer, header + blocks.join('\n\n'));
        }
        continue;
      }
      if (o.kind === 'view') {
        const grants = statements.findIndex((st) => /^(grant|revoke)\s/i.test(st));
        if (grants >= 0 && schema === 'public') statements.splice(grants, 0, revokeDefaults('table', o.key));
        add(domain, 'rules', (prose ? `${prose}\n` : '') + statements.join('\n\n'));
        continue;
      }
      // functions and procedures: private helpers with the rules (those a table's
      // checks call before any rule exists: first), public ones are the API
      const layer: Layer = schema === 'public' ? 'api' : tableHelpers.has(o.key) ? 'helpers' : 'functions';
      let header = prose ? `${prose}\n` : '';
      if (layer === 'api') {
        const body = statements[0]!;
        const touched = tablesTouched(body).filter((t) => t !== o.key);
        const rules = touched.map((t) => {
          const r = rulesOf.get(t)!;
          const where = `${domainOf(t)}/`;
          const parts = [
            r.triggers.length ? `triggers ${r.triggers.join(', ')} (${where}30_rules.sql)` : '',
            r.policies.length ? `policies ${r.policies.join(', ')} (${where}40_access.sql)` : '',
          ].filter(Boolean);
          return `${t.replace('public.', '')}: ${parts.join('; ') || 'no triggers or policies'}`;
        });
        header += rules.length ? rules.map((r, i) => `-- ${i === 0 ? 'Rules:' : '       '} ${r}`).join('\n') + '\n' : '-- Rules: touches no table directly\n';
      }
      if (schema === 'public') {
        // The platform's default privileges grant every new function to anon and authenticated.
        const i = statements.findIndex((st) => /^revoke\s+all\s+on\s+function\s[\s\S]+\sfrom\s+public;$/i.test(st));
        if (i < 0) throw new Error(`${o.key}: no revoke from public to extend`);
        statements[i] = statements[i]!.replace(/(\s)from\s+public;$/i, '$1from public, "anon", "authenticated", "service_role";');
      }
      add(domain, layer, header + statements.join('\n\n'));
    }

    rmSync(join(SUPABASE_DIR, 'schemas'), { recursive: true, force: true });
    const written: string[] = [];
    for (const domain of DOMAINS) {
      for (const layer of LAYERS) {
        const file = layerFile(domain, layer);
        const blocks = out.get(file);
        if (!blocks) continue;
        const path = join(SUPABASE_DIR, file);
        mkdirSync(join(path, '..'), { recursive: true });
        const preamble = layer === 'helpers' || layer === 'functions' || layer === 'api'
          // Function bodies may name objects a later file creates (the CLI loads files one by one).
          ? 'set check_function_bodies = off;\n\n'
          : '';
        writeFileSync(path, `${fileHeader(domain, layer)}\n\n${preamble}${blocks.join('\n\n')}\n`);
        written.push(file);
        console.log(`wrote supabase/${file} (${blocks.length} objects)`);
      }
    }
    writeSchemaPaths(written);
  } finally {
    await migrated.drop();
    await baseline.drop();
  }
}

/** config.toml's schema_paths: layer by layer, every domain in order within a layer. */
function writeSchemaPaths(files: string[]) {
  const order = (f: string) => {
    const [, domain, layer] = /^schemas\/(\w+)\/\d+_(\w+)\.sql$/.exec(f)!;
    return LAYERS.indexOf(layer as Layer) * 100 + DOMAINS.indexOf(domain as Domain);
  };
  const list = [...files].sort((a, b) => order(a) - order(b)).map((f) => `  "./${f}",`).join('\n');
  const path = join(SUPABASE_DIR, 'config.toml');
  const config = readFileSync(path, 'utf8');
  const next = config.replace(/^schema_paths = \[[\s\S]*?^\]/m, `schema_paths = [\n${list}\n]`);
  if (next === config && !config.includes(list)) throw new Error('config.toml: no schema_paths = [...] to rewrite');
  writeFileSync(path, next);
}

function fileHeader(domain: Domain, layer: Layer): string {
  return [
    `-- ${domain}: ${LAYER_TITLES[layer]}`,
    '-- The declarative schema: the current definition of each object, once. Edit here,',
    '-- then `npm run db:diff -- <name>` writes the migration and its rollback.',
  ].join('\n');
}

const LAYER_TITLES: Record<Layer, string> = {
  helpers: 'pure helpers the tables\' checks and defaults call',
  tables: 'tables, their columns, checks and keys',
  functions: 'private helpers and trigger functions (not callable through the API)',
  rules: 'generated columns, cross-table keys, indexes, triggers and views',
  access: 'row-level security, policies and grants',
  api: 'the public SQL functions the HTTP functions and the table API call',
};

await main();
