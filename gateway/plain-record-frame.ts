import type { ChatMessage } from '../actors/message-types';
import { ascii, BACKSLASH, digitCount, hasKeys, NOT_PLAIN, put, putDigits, QUOTE, SHORT_FIELD } from './frame-bytes';
import { textFrameHeaderLength, writeTextFrameHeader } from './text-frames';

/**
 * The `message` frame of the usual chat line, in one pass: a record (isPlainRecord, sequence id >= 0) without
 * metadata whose text fields are all plain (printable ASCII without `"` or `\`, which JSON writes as it is and UTF-8
 * in one byte each). Undefined for any other record: FrameWriter then writes it field by field, escaping.
 *
 * Why: FrameWriter first looks at every character to size the frame (is the field plain?), then copies it. Assumed
 * plain, the frame's size is known from the fields' lengths, and each character is looked at once, as it is copied;
 * the first one that is not plain abandons the frame. A short record took ~9.0k instructions, now ~6.9k (callgrind,
 * 1,000 warm calls on distinct records), and the sender's connection serialises it before the peer's write. Byte for
 * byte the bytes of frame-json.ts (test/gateway/frame-writer.test.ts).
 */
export function plainRecordFrame(m: ChatMessage): Buffer | undefined {
  if (hasKeys(m.metadata)) return undefined;
  const payload =
    FIXED_BYTES +
    m.message_id.length +
    m.conversation_id.length +
    digitCount(m.sequence_id) +
    m.sender_id.length +
    m.sender_type.length +
    m.message_type.length +
    m.content.length +
    m.timestamp.length;
  const frame = Buffer.allocUnsafe(textFrameHeaderLength(payload) + payload);
  let at = put(frame, writeTextFrameHeader(frame, payload), MESSAGE_ID);
  if ((at = copyPlain(frame, at, m.message_id)) < 0) return undefined;
  at = put(frame, at, CONVERSATION_ID);
  if ((at = copyPlain(frame, at, m.conversation_id)) < 0) return undefined;
  at = putDigits(frame, put(frame, at, SEQUENCE_ID), m.sequence_id);
  at = put(frame, at, SENDER_ID);
  if ((at = copyPlain(frame, at, m.sender_id)) < 0) return undefined;
  at = put(frame, at, SENDER_TYPE);
  if ((at = copyPlain(frame, at, m.sender_type)) < 0) return undefined;
  at = put(frame, at, MESSAGE_TYPE);
  if ((at = copyPlain(frame, at, m.message_type)) < 0) return undefined;
  at = put(frame, at, CONTENT);
  if ((at = copyPlain(frame, at, m.content)) < 0) return undefined;
  at = put(frame, at, TIMESTAMP);
  if ((at = copyPlain(frame, at, m.timestamp)) < 0) return undefined;
  put(frame, at, END);
  return frame;
}

// The literal pieces, the quotes around the fields included.
const MESSAGE_ID = ascii('{"type":"message","message":{"message_id":"');
const CONVERSATION_ID = ascii('","conversation_id":"');
const SEQUENCE_ID = ascii('","sequence_id":');
const SENDER_ID = ascii(',"sender_id":"');
const SENDER_TYPE = ascii('","sender_type":"');
const MESSAGE_TYPE = ascii('","message_type":"');
const CONTENT = ascii('","content":"');
const TIMESTAMP = ascii('","timestamp":"');
const END = ascii('","metadata":{}}}');
const FIXED_BYTES = [MESSAGE_ID, CONVERSATION_ID, SEQUENCE_ID, SENDER_ID, SENDER_TYPE, MESSAGE_TYPE, CONTENT, TIMESTAMP, END].reduce(
  (sum, piece) => sum + piece.length,
  0,
);

/** Copies `s` at `at` if it is plain and returns where it ends; -1 if it is not (the frame is then abandoned). */
function copyPlain(frame: Buffer, at: number, s: string): number {
  if (s.length > SHORT_FIELD) {
    if (NOT_PLAIN.test(s)) return -1;
    frame.write(s, at, 'latin1');
    return at + s.length;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // isPlainAscii's test, written out: shared as one function it cost ~2.4k more instructions per message (docs/benchmarks.md).
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return -1;
    frame[at + i] = c;
  }
  return at + s.length;
}
