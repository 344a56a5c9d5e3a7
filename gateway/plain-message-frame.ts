import { MAX_MESSAGE_ID_LENGTH, type ClientMessageFrame } from './protocol/client-frames';

/**
 * The `message` frame almost every client sends, read without JSON.parse and ajv: exactly
 * `{"type":"message","message_id":"…","content":"…"}` (the reference client's order, no whitespace, no metadata)
 * where both values are 1 to 128 and 0 or more characters of printable ASCII (0x20-0x7e) other than `"` and `\`.
 *
 * Why: the peer waits for the sender's frame to be read, decoded and posted before its own write (docs/benchmarks.md).
 * isUtf8, the UTF-8 decode, JSON.parse and the ajv check of such a frame cost ~7.1k instructions, this scan of its
 * bytes ~3.3k (callgrind, 1,000 warm calls each); with the content checks it spares, the gateway's read-to-post
 * segment went from ~20.7k to ~13.3k instructions (perf/gateway-instructions.js, with probes).
 *
 * Exact, never a second opinion: such bytes are valid UTF-8, JSON.parse makes this very object of them and the
 * schema takes it, so the full path would accept the same frame. Anything else (other keys, another order, escapes,
 * whitespace, non-ASCII, an id too long or empty) is undefined here and goes the full path, which words every
 * refusal as before (test/gateway/plain-message-frame.test.ts checks both). The text is also free of everything the
 * content and id rules look for with regular expressions (controls, NUL, lone surrogates): `plain` tells posting so.
 */
export function plainMessageFrame(bytes: Buffer): ClientMessageFrame | undefined {
  const end = bytes.length - FRAME_END.length;
  const idStart = expect(bytes, 0, FRAME_START);
  if (idStart < 0) return undefined;
  const idEnd = plainRunEnd(bytes, idStart, end);
  if (idEnd <= idStart || idEnd - idStart > MAX_MESSAGE_ID_LENGTH) return undefined;
  const contentStart = expect(bytes, idEnd, AFTER_ID);
  if (contentStart < 0 || plainRunEnd(bytes, contentStart, end) !== end || expect(bytes, end, FRAME_END) < 0) return undefined;
  // latin1: each byte one character, which for ASCII is what the UTF-8 decode makes. Two strings of their own, not
  // slices of one: a slice would keep the whole frame alive as long as the record holds its content.
  return {
    type: 'message',
    message_id: bytes.toString('latin1', idStart, idEnd),
    content: bytes.toString('latin1', contentStart, end),
  };
}

const FRAME_START = Buffer.from('{"type":"message","message_id":"', 'latin1');
const AFTER_ID = Buffer.from('","content":"', 'latin1');
const FRAME_END = Buffer.from('"}', 'latin1');

/** Where `literal` ends if `bytes` has it at `at`, else -1. */
function expect(bytes: Buffer, at: number, literal: Buffer): number {
  if (at + literal.length > bytes.length) return -1;
  for (let i = 0; i < literal.length; i++) if (bytes[at + i] !== literal[i]) return -1;
  return at + literal.length;
}

/**
 * Where the run of plain characters from `at` ends (at a quote, or at `limit`); -1 at anything else: a byte JSON
 * escapes or refuses raw (controls), `\` (an escape follows), DEL and beyond (no longer what the regexes pass).
 */
function plainRunEnd(bytes: Buffer, at: number, limit: number): number {
  for (; at < limit; at++) {
    const b = bytes[at]!;
    if (b === QUOTE) return at;
    if (b < 0x20 || b > 0x7e || b === BACKSLASH) return -1;
  }
  return at;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
