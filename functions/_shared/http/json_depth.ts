// How deeply a JSON text nests, read without parsing it. Postgres refuses
// jsonb nested a few thousand levels deep (stack depth, a 5xx class error) and
// recursive parsers and validators fail the same way; a body deeper than any
// real config is refused up front with a 400 instead.
export const MAX_JSON_DEPTH = 100;

/** True when `text` opens more than `max` arrays/objects inside one another (strings skipped). */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) {
      depth--;
    }
  }
  return false;
}
