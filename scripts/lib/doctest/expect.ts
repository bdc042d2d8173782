// The output a document shows, as a pattern: JSON with two kinds of ellipsis.
//   "..."            any value (a string of the pattern that is exactly three dots)
//   ...              as an object member or an array element: more of them, not shown
// An object without `...` must have exactly the keys shown; an array without it
// exactly the elements shown, in order; with it, the elements shown appear in
// that order among the others. Numbers, booleans and null compare exactly.
// Ids, timestamps and hashes differ on every run, so strings are compared
// after normalize(): a UUID, an ISO timestamp, a SHA-256 become a placeholder.

export type Pattern =
  | { kind: 'any' }
  | { kind: 'value'; value: null | boolean | number | string }
  | { kind: 'object'; members: [string, Pattern][]; more: boolean }
  | { kind: 'array'; items: Pattern[]; more: boolean };

export function parsePattern(text: string): Pattern {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`output pattern: ${what} at character ${at + 1} of ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`);
  };
  const space = () => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  const ellipsis = () => {
    space();
    if (text.startsWith('...', at)) {
      at += 3;
      return true;
    }
    return false;
  };
  const string = (): string => {
    const end = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(at));
    if (!end) fail('an unterminated string');
    at += end![0].length;
    return JSON.parse(end![0]) as string;
  };
  const value = (): Pattern => {
    space();
    const ch = text[at];
    if (ch === '{') {
      at++;
      const members: [string, Pattern][] = [];
      let more = false;
      space();
      if (text[at] === '}') {
        at++;
        return { kind: 'object', members, more };
      }
      for (;;) {
        if (ellipsis()) more = true;
        else {
          space();
          if (text[at] !== '"') fail('a member name');
          const key = string();
          space();
          if (text[at] !== ':') fail('":"');
          at++;
          members.push([key, value()]);
        }
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return { kind: 'object', members, more };
        }
        fail('"," or "}"');
      }
    }
    if (ch === '[') {
      at++;
      const items: Pattern[] = [];
      let more = false;
      space();
      if (text[at] === ']') {
        at++;
        return { kind: 'array', items, more };
      }
      for (;;) {
        if (ellipsis()) more = true;
        else items.push(value());
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return { kind: 'array', items, more };
        }
        fail('"," or "]"');
      }
    }
    if (ch === '"') {
      const s = string();
      return s === '...' ? { kind: 'any' } : { kind: 'value', value: s };
    }
    const literal = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(text.slice(at));
    if (!literal) fail('a value');
    at += literal![0].length;
    return { kind: 'value', value: JSON.parse(literal![0]) as null | boolean | number };
  };
  const pattern = value();
  space();
  if (at < text.length) fail('text after the value');
  return pattern;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g;
const SHA256 = /\b[0-9a-f]{64}\b/g;

/** What stays the same from run to run. */
export function normalize(s: string): string {
  return s.replace(UUID, '<uuid>').replace(SHA256, '<sha256>').replace(TIMESTAMP, '<timestamp>');
}

/** Null when the value matches; otherwise where and how it differs. */
export function mismatch(pattern: Pattern, actual: unknown, path = '$'): string | null {
  switch (pattern.kind) {
    case 'any':
      return null;
    case 'value': {
      const expected = pattern.value;
      if (typeof expected === 'string' && typeof actual === 'string') {
        return normalize(expected) === normalize(actual) ? null : `${path}: ${JSON.stringify(actual)}, the document shows ${JSON.stringify(expected)}`;
      }
      return Object.is(expected, actual) || expected === actual ? null : `${path}: ${JSON.stringify(actual)}, the document shows ${JSON.stringify(expected)}`;
    }
    case 'object': {
      if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path}: ${describe(actual)}, the document shows an object`;
      const record = actual as Record<string, unknown>;
      for (const [key, member] of pattern.members) {
        if (!(key in record)) return `${path}: no member "${key}"`;
        const inner = mismatch(member, record[key], `${path}.${key}`);
        if (inner) return inner;
      }
      if (!pattern.more) {
        const shown = new Set(pattern.members.map(([k]) => k));
        const extra = Object.keys(record).filter((k) => !shown.has(k));
        if (extra.length > 0) return `${path}: members the document does not show (add them, or "..."): ${extra.join(', ')}`;
      }
      return null;
    }
    case 'array': {
      if (!Array.isArray(actual)) return `${path}: ${describe(actual)}, the document shows an array`;
      if (!pattern.more) {
        if (actual.length !== pattern.items.length) return `${path}: ${actual.length} elements, the document shows ${pattern.items.length}`;
        for (let i = 0; i < actual.length; i++) {
          const inner = mismatch(pattern.items[i]!, actual[i], `${path}[${i}]`);
          if (inner) return inner;
        }
        return null;
      }
      // The elements shown, in order, among the others.
      let from = 0;
      for (const [n, item] of pattern.items.entries()) {
        let found = -1;
        let firstMiss: string | null = null;
        for (let i = from; i < actual.length; i++) {
          const inner = mismatch(item, actual[i], `${path}[${i}]`);
          if (!inner) {
            found = i;
            break;
          }
          firstMiss ??= inner;
        }
        if (found < 0) return `${path}: no element matches the document's element ${n + 1}${firstMiss ? ` (nearest: ${firstMiss})` : ''}`;
        from = found + 1;
      }
      return null;
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}
