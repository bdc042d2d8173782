// Every migration here runs twice without error or change (ARCHITECTURE: a
// partly applied or re-sent migration must be harmless). pg-delta writes plain
// CREATE and DROP statements; this rewrites each kind it emits into its
// re-runnable form. A statement it does not know stays as written, and the
// proof in db_diff.ts (applied twice, same catalog) refuses to write a
// migration that still cannot run twice: hand-edit it then.
import { splitStatements } from './sql_split.ts';

const NAME = String.raw`(?:"[^"]+"|\w+)`;
const QUALIFIED = String.raw`${NAME}(?:\.${NAME})?`;

const REWRITES: [RegExp, (m: RegExpExecArray) => string][] = [
  [new RegExp(String.raw`^CREATE (TABLE|SEQUENCE|SCHEMA) (?!IF NOT EXISTS)`, 'i'), (m) => `CREATE ${m[1]} IF NOT EXISTS `],
  [new RegExp(String.raw`^CREATE (UNIQUE )?INDEX (?!IF NOT EXISTS)`, 'i'), (m) => `CREATE ${m[1] ?? ''}INDEX IF NOT EXISTS `],
  [/^CREATE VIEW /i, () => 'CREATE OR REPLACE VIEW '],
  [/^CREATE TRIGGER /i, () => 'CREATE OR REPLACE TRIGGER '],
  [new RegExp(String.raw`^DROP (TABLE|VIEW|INDEX|SEQUENCE|SCHEMA|FUNCTION|PROCEDURE|TYPE) (?!IF EXISTS)`, 'i'), (m) => `DROP ${m[1]} IF EXISTS `],
  [new RegExp(String.raw`^DROP (TRIGGER|POLICY) (?!IF EXISTS)`, 'i'), (m) => `DROP ${m[1]} IF EXISTS `],
  [new RegExp(String.raw`^(ALTER TABLE (?:ONLY )?${QUALIFIED}) ADD COLUMN (?!IF NOT EXISTS)`, 'i'), (m) => `${m[1]} ADD COLUMN IF NOT EXISTS `],
  [new RegExp(String.raw`^(ALTER TABLE (?:ONLY )?${QUALIFIED}) DROP (COLUMN|CONSTRAINT) (?!IF EXISTS)`, 'i'), (m) => `${m[1]} DROP ${m[2]} IF EXISTS `],
];

/** Statements with no IF [NOT] EXISTS form: dropped first, so creating them again is harmless. */
const DROP_FIRST: [RegExp, (m: RegExpExecArray) => string][] = [
  [new RegExp(String.raw`^CREATE POLICY (${NAME}) ON (${QUALIFIED})`, 'i'), (m) => `DROP POLICY IF EXISTS ${m[1]} ON ${m[2]};`],
  [new RegExp(String.raw`^CREATE CONSTRAINT TRIGGER (${NAME})[\s\S]*?\bON (${QUALIFIED})`, 'i'), (m) => `DROP TRIGGER IF EXISTS ${m[1]} ON ${m[2]};`],
];

/** ADD CONSTRAINT has no IF NOT EXISTS, and dropping a key others reference fails: only when it is missing. */
const ADD_CONSTRAINT = new RegExp(String.raw`^ALTER TABLE (?:ONLY )?(${QUALIFIED}) ADD CONSTRAINT (${NAME})`, 'i');

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name.toLowerCase();
}

export function rerunnable(sql: string): string {
  return splitStatements(sql).map((statement) => {
    for (const [re, replace] of REWRITES) {
      const m = re.exec(statement);
      if (m) return statement.replace(re, replace(m));
    }
    const constraint = ADD_CONSTRAINT.exec(statement);
    if (constraint) {
      const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
      return [
        'do $rerun$ begin',
        `  if not exists (select 1 from pg_catalog.pg_constraint where conrelid = ${literal(constraint[1]!)}::regclass and conname = ${literal(unquote(constraint[2]!))}) then`,
        `    ${statement.replace(/;$/, '')};`,
        '  end if;',
        'end $rerun$;',
      ].join('\n');
    }
    for (const [re, drop] of DROP_FIRST) {
      const m = re.exec(statement);
      if (m) return `${drop(m)}\n${statement}`;
    }
    return statement;
  }).join('\n\n');
}
