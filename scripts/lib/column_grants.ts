// Column-level grants, which pg-delta's plans leave out (and a table-level
// REVOKE in a plan silently takes away): for every table whose column grants
// differ between two databases, or that the plan creates or re-grants, the
// target's column grants in full.
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';

type ColumnAcls = Map<string, Map<string, string[]>>; // "schema"."table" -> column -> aclitems

const PRIVILEGES: Record<string, string> = { r: 'select', a: 'insert', w: 'update', x: 'references' };

async function columnAcls(client: SqlClient): Promise<ColumnAcls> {
  const rows = await client.query<{ tbl: string; col: string; acl: string[] | null }>(`
    select format('%I.%I', n.nspname, c.relname) as tbl, a.attname::text as col, a.attacl::text[] as acl
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'private') and c.relkind in ('r', 'v', 'p') and a.attnum > 0 and not a.attisdropped
    order by 1, a.attnum`);
  const out: ColumnAcls = new Map();
  for (const r of rows) {
    if (!out.has(r.tbl)) out.set(r.tbl, new Map());
    out.get(r.tbl)!.set(r.col, [...(r.acl ?? [])].sort());
  }
  return out;
}

/** `grantee=privileges/grantor`, a `*` after a letter marking the grant option; a quoted grantee may hold `=`. */
function parseAclItem(item: string): { grantee: string; privileges: string[]; grantable: string[] } {
  const m = /^((?:"(?:[^"]|"")*"|[^=])*)=([a-zA-Z*]*)\//.exec(item);
  if (!m) throw new Error(`unreadable column privilege ${item}`);
  const raw = m[1]!;
  const name = raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw;
  const privileges: string[] = [];
  const grantable: string[] = [];
  for (const [, letter, star] of m[2]!.matchAll(/([a-zA-Z])(\*?)/g)) {
    const privilege = PRIVILEGES[letter!];
    if (!privilege) continue;
    (star ? grantable : privileges).push(privilege);
  }
  return { grantee: name === '' ? 'public' : `"${name.replaceAll('"', '""')}"`, privileges, grantable };
}

/** Tables a rendered plan creates or grants on at table level (identifiers as pg-delta quotes them). */
function tablesThePlanTouches(planned: string): Set<string> {
  const touched = new Set<string>();
  for (const m of planned.matchAll(/^(?:create table|(?:grant|revoke)\b[^;]*?\bon table)\s+"([^"]+)"\."([^"]+)"/gim)) {
    touched.add(`${quoteIdent(m[1]!)}.${quoteIdent(m[2]!)}`);
  }
  return touched;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

export async function columnGrantChanges(from: SqlClient, to: SqlClient, planned: string): Promise<string[]> {
  const [before, after] = await Promise.all([columnAcls(from), columnAcls(to)]);
  const touched = tablesThePlanTouches(planned);
  const out: string[] = [];
  for (const [table, columns] of after) {
    const old = before.get(table);
    const differs = !old || [...columns].some(([col, acl]) => (old.get(col) ?? []).join(',') !== acl.join(','));
    if (!differs && !touched.has(table)) continue;
    for (const [col, acl] of columns) {
      const grantees = new Set([...(old?.get(col) ?? []), ...acl].map((i) => parseAclItem(i).grantee));
      if (grantees.size === 0) continue;
      out.push(`revoke all (${quoteIdent(col)}) on table ${table} from ${[...grantees].join(', ')};`);
      for (const item of acl) {
        const { grantee, privileges, grantable } = parseAclItem(item);
        if (privileges.length) out.push(`grant ${privileges.join(', ')} (${quoteIdent(col)}) on table ${table} to ${grantee};`);
        if (grantable.length) out.push(`grant ${grantable.join(', ')} (${quoteIdent(col)}) on table ${table} to ${grantee} with grant option;`);
      }
    }
  }
  return out;
}
