// A recursive-descent parser for the runs filter language (README: "Filter
// language"). Every error names the 1-based column where the text went wrong.
//
//   expr      := and ( OR and )*
//   and       := primary ( AND primary )*
//   primary   := '(' expr ')' | predicate
//   predicate := field ( cmp literal | [NOT] IN '(' literal, ... ')' | IS [NOT] NULL | [NOT] [I]LIKE string )
//   field     := segment ( '.' segment )*        segment := word | `any text`
//   literal   := number | 'string' | "string" | TRUE | FALSE
import {
  COMPARISONS, type Field, type FilterNode, type Literal, MAX_DEPTH, OBJECTIVE_METRICS, type Order, type Predicate,
  RUN_COLUMNS, type RunColumn, validateFilter,
} from './ast.ts';

export class FilterSyntaxError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(`column ${column}: ${message}`);
    this.name = 'FilterSyntaxError';
    this.column = column;
  }
}

type Token =
  | { t: 'ident'; segments: { text: string; quoted: boolean; col: number }[]; col: number; raw: string }
  | { t: 'string'; value: string; col: number; raw: string }
  | { t: 'number'; value: number; col: number; raw: string }
  | { t: 'op'; value: string; col: number; raw: string }
  | { t: 'punct'; value: '(' | ')' | ','; col: number; raw: string }
  | { t: 'end'; col: number; raw: string };

const WORD = /[A-Za-z_][A-Za-z0-9_-]*/y;
const SEGMENT = /[A-Za-z0-9_-]+/y;
const NUMBER = /-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/y;
const OPERATOR = /(<=|>=|!=|<>|==|=|<|>)/y;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const sticky = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(src);
    return m ? m[0] : null;
  };
  const backtick = (start: number): string => {
    const close = src.indexOf('`', start + 1);
    if (close < 0) throw new FilterSyntaxError('unclosed ` in a name', start + 1);
    if (close === start + 1) throw new FilterSyntaxError('empty `` name', start + 1);
    return src.slice(start + 1, close);
  };
  while (i < src.length) {
    const ch = src[i]!;
    const col = i + 1;
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ t: 'punct', value: ch, col, raw: ch });
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new FilterSyntaxError(`unclosed ${ch} string`, col);
        if (src[j] === ch) {
          if (src[j + 1] === ch) { value += ch; j += 2; continue; } // '' is a quote inside '...'
          break;
        }
        value += src[j];
        j++;
      }
      tokens.push({ t: 'string', value, col, raw: src.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    const op = sticky(OPERATOR);
    if (op) {
      tokens.push({ t: 'op', value: op, col, raw: op });
      i += op.length;
      continue;
    }
    const num = sticky(NUMBER);
    if (num && (ch === '-' || /[\d.]/.test(ch))) {
      tokens.push({ t: 'number', value: Number(num), col, raw: num });
      i += num.length;
      continue;
    }
    if (ch === '`' || sticky(WORD)) {
      const segments: { text: string; quoted: boolean; col: number }[] = [];
      const start = i;
      for (;;) {
        const segCol = i + 1;
        if (src[i] === '`') {
          const text = backtick(i);
          segments.push({ text, quoted: true, col: segCol });
          i += text.length + 2;
        } else {
          const word = segments.length === 0 ? sticky(WORD) : sticky(SEGMENT);
          if (!word) throw new FilterSyntaxError('expected a name after "."', segCol);
          segments.push({ text: word, quoted: false, col: segCol });
          i += word.length;
        }
        if (src[i] !== '.') break;
        i++;
      }
      tokens.push({ t: 'ident', segments, col, raw: src.slice(start, i) });
      continue;
    }
    throw new FilterSyntaxError(`unexpected character ${JSON.stringify(ch)}`, col);
  }
  tokens.push({ t: 'end', col: src.length + 1, raw: 'the end' });
  return tokens;
}

const describe = (tok: Token) => (tok.t === 'end' ? 'the end of the filter' : JSON.stringify(tok.raw));

class Parser {
  readonly tokens: Token[];
  pos = 0;
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  peek(): Token {
    return this.tokens[this.pos]!;
  }
  next(): Token {
    return this.tokens[this.pos++]!;
  }
  /** The current token is the bare keyword `kw` (case-insensitive). */
  isKeyword(kw: string, tok = this.peek()): boolean {
    return tok.t === 'ident' && tok.segments.length === 1 && !tok.segments[0]!.quoted
      && tok.segments[0]!.text.toUpperCase() === kw;
  }
  acceptKeyword(kw: string): boolean {
    if (!this.isKeyword(kw)) return false;
    this.pos++;
    return true;
  }
  expectKeyword(kw: string) {
    if (!this.acceptKeyword(kw)) throw new FilterSyntaxError(`expected ${kw}, found ${describe(this.peek())}`, this.peek().col);
  }
  expectPunct(p: '(' | ')' | ',') {
    const tok = this.next();
    if (tok.t !== 'punct' || tok.value !== p) throw new FilterSyntaxError(`expected "${p}", found ${describe(tok)}`, tok.col);
  }

  expr(depth: number): FilterNode {
    if (depth > MAX_DEPTH) throw new FilterSyntaxError(`parentheses nest deeper than ${MAX_DEPTH} levels`, this.peek().col);
    const args = [this.and(depth)];
    while (this.acceptKeyword('OR')) args.push(this.and(depth));
    return args.length === 1 ? args[0]! : { op: 'or', args };
  }

  and(depth: number): FilterNode {
    const args = [this.primary(depth)];
    while (this.acceptKeyword('AND')) args.push(this.primary(depth));
    return args.length === 1 ? args[0]! : { op: 'and', args };
  }

  primary(depth: number): FilterNode {
    const tok = this.peek();
    if (tok.t === 'punct' && tok.value === '(') {
      this.pos++;
      const inner = this.expr(depth + 1);
      this.expectPunct(')');
      return inner;
    }
    return this.predicate();
  }

  predicate(): Predicate {
    const tok = this.next();
    if (tok.t !== 'ident' || ['AND', 'OR', 'NOT', 'IN', 'IS', 'LIKE', 'ILIKE'].some((k) => this.isKeyword(k, tok))) {
      throw new FilterSyntaxError(`expected a field name, found ${describe(tok)}`, tok.col);
    }
    const field = resolveField(tok);
    const opTok = this.peek();

    if (opTok.t === 'op') {
      this.pos++;
      const cmp = ({ '==': '=', '<>': '!=' } as Record<string, string>)[opTok.value] ?? opTok.value;
      const valueTok = this.peek();
      const value = this.literal();
      checkLiteral(field, tok, value, valueTok.col, cmp);
      return { op: 'cmp', field, cmp: cmp as (typeof COMPARISONS)[number], value };
    }
    if (this.acceptKeyword('IS')) {
      const negated = this.acceptKeyword('NOT');
      this.expectKeyword('NULL');
      return { op: 'null', field, negated };
    }
    const negated = this.acceptKeyword('NOT');
    if (this.acceptKeyword('IN')) {
      this.expectPunct('(');
      const values: Literal[] = [];
      for (;;) {
        const valueTok = this.peek();
        const value = this.literal();
        checkLiteral(field, tok, value, valueTok.col, '=');
        if (values.length > 0 && typeof value !== typeof values[0]) {
          throw new FilterSyntaxError('every value in an IN list must have the same type', valueTok.col);
        }
        values.push(value);
        if (this.peek().t === 'punct' && (this.peek() as { value: string }).value === ',') { this.pos++; continue; }
        break;
      }
      this.expectPunct(')');
      return { op: 'in', field, values, negated };
    }
    const like = this.isKeyword('LIKE') ? 'LIKE' : this.isKeyword('ILIKE') ? 'ILIKE' : null;
    if (like) {
      this.pos++;
      const patternTok = this.next();
      if (patternTok.t !== 'string') throw new FilterSyntaxError(`${like} needs a quoted pattern, found ${describe(patternTok)}`, patternTok.col);
      checkLike(field, tok);
      return { op: 'like', field, pattern: patternTok.value, negated, case_insensitive: like === 'ILIKE' };
    }
    const found = this.peek();
    throw new FilterSyntaxError(
      `expected a comparison (= != < <= > >=), IN, IS NULL or LIKE after ${tok.raw}, found ${describe(found)}`, found.col);
  }

  literal(): Literal {
    const tok = this.next();
    if (tok.t === 'number') {
      if (!Number.isFinite(tok.value)) throw new FilterSyntaxError(`number ${tok.raw} is out of range`, tok.col);
      return tok.value;
    }
    if (tok.t === 'string') return tok.value;
    if (this.isKeyword('TRUE', tok)) return true;
    if (this.isKeyword('FALSE', tok)) return false;
    const hint = tok.t === 'ident' ? ' (quote text values: \'mgda\')' : '';
    throw new FilterSyntaxError(`expected a value, found ${describe(tok)}${hint}`, tok.col);
  }
}

function resolveField(tok: Extract<Token, { t: 'ident' }>): Field {
  const [head, ...rest] = tok.segments;
  const root = head!.quoted ? null : head!.text.toLowerCase();
  if (root === 'config' && rest.length > 0) return { kind: 'config', path: rest.map((s) => s.text) };
  if (root === 'metadata' && rest.length > 0) return { kind: 'metadata', path: rest.map((s) => s.text) };
  if ((root === 'metrics' || root === 'metric') && rest.length > 0) {
    return { kind: 'metric', key: rest.map((s) => s.text).join('.') };
  }
  if (root === 'objective' || root === 'objectives') {
    if (rest.length !== 2) {
      throw new FilterSyntaxError(`an objective is objective.<name>.<metric>, e.g. objective.COMT_activity.raw_mean`, tok.col);
    }
    const metric = rest[1]!.text;
    if (!(OBJECTIVE_METRICS as readonly string[]).includes(metric)) {
      throw new FilterSyntaxError(`unknown objective metric ${metric}: use ${OBJECTIVE_METRICS.join(', ')}`, rest[1]!.col);
    }
    return { kind: 'objective', name: rest[0]!.text, metric: metric as (typeof OBJECTIVE_METRICS)[number] };
  }
  if (tok.segments.length === 1 && Object.hasOwn(RUN_COLUMNS, head!.text)) {
    return { kind: 'column', name: head!.text as RunColumn };
  }
  throw new FilterSyntaxError(
    `unknown field ${tok.raw}: use a run column (${Object.keys(RUN_COLUMNS).slice(0, 6).join(', ')}, ...), ` +
      'config.<path>, metadata.<path>, metrics.<key> or objective.<name>.<metric>', tok.col);
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The literal fits the field: numbers for numeric columns and objectives, text for text, ... */
function checkLiteral(field: Field, tok: Extract<Token, { t: 'ident' }>, value: Literal, col: number, cmp: string) {
  const name = tok.raw;
  if (typeof value === 'boolean' && !['=', '!='].includes(cmp)) {
    throw new FilterSyntaxError('true and false compare only with = and !=', col);
  }
  if (field.kind === 'objective') {
    if (typeof value !== 'number') throw new FilterSyntaxError(`${name} is a number: compare it with a number`, col);
    return;
  }
  if (field.kind !== 'column') return; // config, metadata and metrics values are JSON: any literal
  const type = RUN_COLUMNS[field.name];
  if (type === 'integer' || type === 'double precision') {
    if (typeof value !== 'number') throw new FilterSyntaxError(`${name} is a number: compare it with a number`, col);
    if (type === 'integer' && (!Number.isInteger(value) || Math.abs(value) > 2147483647)) {
      throw new FilterSyntaxError(`${name} is an integer: compare it with a whole number`, col);
    }
    return;
  }
  if (typeof value !== 'string') {
    throw new FilterSyntaxError(`${name} is ${type === 'text' ? 'text' : `a ${type}`}: quote the value`, col);
  }
  if (type === 'timestamptz' && (!ISO_TIMESTAMP.test(value) || Number.isNaN(Date.parse(value)))) {
    throw new FilterSyntaxError(`${name} is a timestamp: use ISO 8601, e.g. '2026-01-31T00:00:00Z'`, col);
  }
  if (type === 'uuid' && !UUID.test(value)) throw new FilterSyntaxError(`${name} is a uuid`, col);
}

function checkLike(field: Field, tok: Extract<Token, { t: 'ident' }>) {
  if (field.kind === 'objective' || (field.kind === 'column' && RUN_COLUMNS[field.name] !== 'text')) {
    throw new FilterSyntaxError(`LIKE applies to text, and ${tok.raw} is not text`, tok.col);
  }
}

/** Parses a filter expression into a validated AST, or throws FilterSyntaxError. */
export function parseFilter(src: string): FilterNode {
  const parser = new Parser(tokenize(src));
  if (parser.peek().t === 'end') throw new FilterSyntaxError('the filter is empty', 1);
  const node = parser.expr(1);
  const rest = parser.peek();
  if (rest.t !== 'end') {
    const hint = rest.t === 'punct' && rest.value === ')' ? ' (unbalanced parenthesis)' : ' (join conditions with AND or OR)';
    throw new FilterSyntaxError(`unexpected ${describe(rest)}${hint}`, rest.col);
  }
  try {
    return validateFilter(node);
  } catch (err) {
    throw new FilterSyntaxError(err instanceof Error && !('issues' in err) ? err.message : 'filter is too large', 1);
  }
}

/** Parses order_by: `<field> [ASC|DESC]`, or the older `<column>.asc` / `<column>.desc`. */
export function parseOrderBy(src: string): Order {
  const tokens = tokenize(src);
  const parser = new Parser(tokens);
  const tok = parser.next();
  if (tok.t !== 'ident') throw new FilterSyntaxError(`expected a field name, found ${describe(tok)}`, tok.col);
  const last = tok.segments.at(-1)!;
  if (tok.segments.length === 2 && !last.quoted && ['asc', 'desc'].includes(last.text.toLowerCase())
      && Object.hasOwn(RUN_COLUMNS, tok.segments[0]!.text) && parser.peek().t === 'end') {
    return { field: { kind: 'column', name: tok.segments[0]!.text as RunColumn }, dir: last.text.toLowerCase() as 'asc' | 'desc' };
  }
  const field = resolveField(tok);
  let dir: 'asc' | 'desc' = 'asc';
  if (parser.acceptKeyword('DESC')) dir = 'desc';
  else parser.acceptKeyword('ASC');
  const rest = parser.peek();
  if (rest.t !== 'end') throw new FilterSyntaxError(`expected ASC, DESC or the end, found ${describe(rest)}`, rest.col);
  return { field, dir };
}
