// Numbers a JSON body cannot carry into the database unchanged. JavaScript
// parses every JSON number into a double: `1e400` becomes Infinity (and then
// null when written back out), `9007199254740993` becomes ...992, and
// `0.30000000000000000001` becomes 0.3. The database would store the changed
// value and answer 2xx. Instead, every body is read once before parsing and
// the first such number is refused with a 400 naming its field: a number is
// accepted only when the double it parses to has exactly the literal's
// decimal value, so what is stored (jsonb numeric) is what was sent.

export interface InexactNumber {
  /** Dotted path of the field (`config.training.lr`, `items.3.x`); '' for the whole body. */
  path: string;
  literal: string;
  message: string;
}

/** The first number in `text` (valid or not, JSON) that would not survive JSON.parse exactly; null when there is none. */
export function firstInexactNumber(text: string): InexactNumber | null {
  // A container per nesting level: its kind, the key being read (raw JSON
  // text of the key, unescaped only when reported) or the array index.
  const stack: { array: boolean; key: string | null; index: number; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) { // string
      const start = i;
      for (i++; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x5c) i++;
        else if (c === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) top.key = text.slice(start, i + 1);
    } else if (ch === 0x7b || ch === 0x5b) { // { [
      stack.push({ array: ch === 0x5b, key: null, index: 0, expectKey: ch === 0x7b });
    } else if (ch === 0x7d || ch === 0x5d) { // } ]
      stack.pop();
    } else if (ch === 0x2c) { // ,
      const top = stack[stack.length - 1];
      if (top?.array) top.index++;
      else if (top) top.expectKey = true;
    } else if (ch === 0x3a) { // :
      const top = stack[stack.length - 1];
      if (top) top.expectKey = false;
    } else if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) { // - 0-9
      const start = i;
      while (i + 1 < text.length && isNumberChar(text.charCodeAt(i + 1))) i++;
      const literal = text.slice(start, i + 1);
      const problem = numberProblem(literal);
      if (problem) return { path: pathOf(stack), literal, message: problem };
    }
  }
  return null;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

function pathOf(stack: { array: boolean; key: string | null; index: number }[]): string {
  return stack.map((s) => {
    if (s.array) return String(s.index);
    try {
      return JSON.parse(s.key ?? '""') as string;
    } catch {
      return s.key ?? '';
    }
  }).join('.');
}

/** Why `literal` would not be stored as sent; null when it would. */
export function numberProblem(literal: string): string | null {
  const n = Number(literal);
  if (Number.isNaN(n)) return null; // not a JSON number: the parser reports it
  if (!Number.isFinite(n)) {
    return `number ${literal} is out of range: JSON numbers here must be finite doubles (magnitude below 1.8e308)`;
  }
  if (canonical(literal) === canonical(String(n))) return null;
  return `number ${literal} cannot be stored exactly (it would become ${String(n)}): ` +
    'integers beyond 2^53 and decimals with more than 15 significant digits lose precision; send it as a string';
}

/** A decimal literal as sign, significant digits and exponent: equal strings mean equal values. */
function canonical(literal: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) return literal;
  const digits = `${m[2] ?? ''}${m[3] ?? ''}`;
  const first = digits.search(/[1-9]/);
  if (first < 0) return '0';
  const trimmed = digits.slice(first).replace(/0+$/, '');
  // value = 0.<trimmed> x 10^exp
  const exp = Number(m[4] ?? 0) + (m[2] ?? '').length - first;
  return `${m[1]}${trimmed}e${exp}`;
}
