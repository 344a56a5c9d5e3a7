/**
 * Byte helpers of the frames written without a JSON string (frame-writer.ts, plain-record-frame.ts): literal pieces,
 * plain ASCII fields and sequence ids, written straight into a frame's Buffer.
 */

/** The two printable ASCII characters JSON escapes. */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
/** Fields up to this long are copied by a loop; longer ones by one latin1 write (a call into C++ costs more than a short loop). */
export const SHORT_FIELD = 48;
/** Any character JSON escapes or that takes more than one byte in UTF-8. */
export const NOT_PLAIN = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/** A literal piece's bytes. */
export function ascii(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Copies a literal piece into the frame at `at`; returns where it ends. */
export function put(frame: Buffer, at: number, bytes: Buffer): number {
  frame.set(bytes, at);
  return at + bytes.length;
}

/** Whether JSON writes `s` as it is (between quotes) and UTF-8 in one byte per character: printable ASCII but `"` and `\\`. */
export function isPlainAscii(s: string): boolean {
  if (s.length > SHORT_FIELD) return !NOT_PLAIN.test(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return false;
  }
  return true;
}

/** Decimal digits of a non-negative integer. */
export function digitCount(n: number): number {
  let count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

/** Writes a non-negative integer's digits at `at`; returns where they end. */
export function putDigits(frame: Buffer, at: number, n: number): number {
  const end = at + digitCount(n);
  let i = end;
  do {
    const next = Math.floor(n / 10);
    frame[--i] = 0x30 + (n - next * 10);
    n = next;
  } while (n > 0);
  return end;
}

/** Whether metadata has a key (no list of them made). */
export function hasKeys(metadata: Readonly<Record<string, unknown>>): boolean {
  for (const _key in metadata) return true;
  return false;
}
