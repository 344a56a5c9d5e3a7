/**
 * The one rule for integers in query values (the socket URL's `last_sequence_id`, `history` and `protocol_version`,
 * HTTP's `after`, `before` and `limit`, the SSE URL's and `Last-Event-ID`): decimal digits written plainly, no sign,
 * no spaces, no leading zeros ("0" itself is fine), at most Number.MAX_SAFE_INTEGER, as a `sync` frame's JSON
 * number allows. Before, `last_sequence_id` took at most 15 digits (9007199254740991 refused while `sync` and
 * `after` took it) and `last_sequence_id=01` was taken where `protocol_version=01` was refused.
 */
const PLAIN_INTEGER = /^(?:0|[1-9]\d*)$/;

/** True when `value` is an integer written plainly (any size: protocol_version names versions of any length). */
export function isPlainInteger(value: string): boolean {
  return PLAIN_INTEGER.test(value);
}

/** `value` as a number when it is a plainly written integer within [min, max] (max at most MAX_SAFE_INTEGER), else undefined. */
export function plainIntegerIn(value: string, min: number, max: number): number | undefined {
  // 16 digits are enough for MAX_SAFE_INTEGER: a longer one is out of range, whatever it is.
  if (value.length > 16 || !PLAIN_INTEGER.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/** How a range reads in a refusal: "an integer from 1 to 500", "a non-negative integer", "an integer of at least 1". */
export function integerRange(min: number, max: number): string {
  if (max < Number.MAX_SAFE_INTEGER) return `an integer from ${min} to ${max}`;
  return min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`;
}
