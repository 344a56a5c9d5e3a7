/**
 * Lone UTF-16 surrogates in what a client posts. A JSON `\ud800` escape without its pair parses into a JavaScript
 * string no store keeps as sent: SQLite and PostgreSQL text write U+FFFD in its place (a re-send then no longer
 * matches its original), and PostgreSQL's jsonb refuses the row, which the journal retries without end. Content has
 * the runtime's rule (actors/input-rules.ts); this covers a post's message_id and metadata at the gateway.
 */

/** With the u flag a surrogate pair is one code point outside this range, so only a lone surrogate matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why `value` (a parsed JSON value: no cycles) carries a lone surrogate in a string or a key, or undefined. */
export function loneSurrogateProblem(value: unknown, what: string): string | undefined {
  return carriesLoneSurrogate(value) ? `${what} contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)` : undefined;
}

function carriesLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(carriesLoneSurrogate);
  for (const [key, inner] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key) || carriesLoneSurrogate(inner)) return true;
  }
  return false;
}
