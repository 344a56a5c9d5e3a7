import type { ChatMessage } from '../actors/message-types';
import { isPlainRecord, messageAckJson, messageFrameJson } from './frame-json';
import type { MessageAckFrame } from './protocol/server-frames';
import { ascii, digitCount, hasKeys, isPlainAscii, put, putDigits, QUOTE, SHORT_FIELD } from './frame-bytes';
import { plainRecordFrame } from './plain-record-frame';
import { encodeTextFrame, textFrameHeaderLength, writeTextFrameHeader } from './text-frames';

/**
 * The two frames every post produces, the shared `message` frame and the sender's `message_ack`, written straight
 * into their WebSocket text frame (text-frames.ts): the bytes of frame-json.ts, without building the JSON string.
 *
 * Why: frame-json.ts concatenates some twenty pieces; V8 makes a cons string per `+` and a quoted copy per
 * JSON.stringify of a field, then Buffer.byteLength flattens the whole tree into one more string before the bytes
 * are copied out. perf/gateway-alloc.js counted ~1.5 KB per message for that, 15 % of what the gateway server
 * allocates. Here the JSON is written into the frame's Buffer directly: its length is summed first (a field that
 * needs no escaping is its own length), then each piece is copied, field text by a loop (short) or one latin1 write.
 *
 * A field that JSON escapes (quote, backslash, control character) or that is not ASCII is written as
 * JSON.stringify writes it, so the output is byte for byte frame-json.ts's (test/gateway/frame-writer.test.ts
 * checks that for arbitrary records). A record whose fields are not the plain types takes frame-json.ts's path.
 *
 * One per gateway (SharedFrames): it keeps the literal pieces as bytes and a slot per field for the escaped text.
 */
export class FrameWriter {
  /** Literal pieces of the two frames, as bytes (copied with TypedArray#set: no call into C++, nothing allocated). */
  private readonly lit = {
    messageStart: ascii('{"type":"message","message":{"message_id":'),
    conversationId: ascii(',"conversation_id":'),
    sequenceId: ascii(',"sequence_id":'),
    senderId: ascii(',"sender_id":'),
    senderType: ascii(',"sender_type":'),
    messageType: ascii(',"message_type":'),
    content: ascii(',"content":'),
    timestamp: ascii(',"timestamp":'),
    metadata: ascii(',"metadata":'),
    emptyObjectEnd: ascii('{}}}'),
    objectEnd: ascii('}}'),
    ackStart: ascii('{"type":"message_ack","message_id":'),
    ackDuplicate: ascii(',"duplicate":'),
    ackPersisted: ascii(',"persisted":'),
    true: ascii('true'),
    false: ascii('false'),
    ackEnd: ascii('}'),
  };
  /** A field's JSON text when it is not written as it is (see fieldBytes), else undefined; one slot per field. */
  private readonly escaped: (string | undefined)[] = [];

  /** The `message` frame of a record: encodeTextFrame(messageFrameJson(m)). */
  message(m: ChatMessage): Buffer {
    // frame-json.ts's test for a record its hand-written JSON covers, and a sequence id written as plain digits.
    if (!isPlainRecord(m) || m.sequence_id < 0) return encodeTextFrame(messageFrameJson(m));
    // The usual chat line in one pass; a record with anything to escape, or metadata, field by field below.
    const plain = plainRecordFrame(m);
    if (plain !== undefined) return plain;
    // Cleared first, so no slot is left over from a frame that threw half-way.
    this.escaped.fill(undefined);
    const lit = this.lit;
    const metadataJson = hasKeys(m.metadata) ? JSON.stringify(m.metadata) : undefined;
    const payload =
      lit.messageStart.length +
      this.fieldBytes(0, m.message_id) +
      lit.conversationId.length +
      this.fieldBytes(1, m.conversation_id) +
      lit.sequenceId.length +
      digitCount(m.sequence_id) +
      lit.senderId.length +
      this.fieldBytes(2, m.sender_id) +
      lit.senderType.length +
      this.fieldBytes(3, m.sender_type) +
      lit.messageType.length +
      this.fieldBytes(4, m.message_type) +
      lit.content.length +
      this.fieldBytes(5, m.content) +
      lit.timestamp.length +
      this.fieldBytes(6, m.timestamp) +
      lit.metadata.length +
      (metadataJson === undefined ? lit.emptyObjectEnd.length : Buffer.byteLength(metadataJson) + lit.objectEnd.length);
    const frame = Buffer.allocUnsafe(textFrameHeaderLength(payload) + payload);
    let at = writeTextFrameHeader(frame, payload);
    at = put(frame, at, lit.messageStart);
    at = this.putField(frame, at, 0, m.message_id);
    at = put(frame, at, lit.conversationId);
    at = this.putField(frame, at, 1, m.conversation_id);
    at = put(frame, at, lit.sequenceId);
    at = putDigits(frame, at, m.sequence_id);
    at = put(frame, at, lit.senderId);
    at = this.putField(frame, at, 2, m.sender_id);
    at = put(frame, at, lit.senderType);
    at = this.putField(frame, at, 3, m.sender_type);
    at = put(frame, at, lit.messageType);
    at = this.putField(frame, at, 4, m.message_type);
    at = put(frame, at, lit.content);
    at = this.putField(frame, at, 5, m.content);
    at = put(frame, at, lit.timestamp);
    at = this.putField(frame, at, 6, m.timestamp);
    at = put(frame, at, lit.metadata);
    if (metadataJson === undefined) {
      put(frame, at, lit.emptyObjectEnd);
    } else {
      at += frame.write(metadataJson, at, 'utf8');
      put(frame, at, lit.objectEnd);
    }
    return frame;
  }

  /** A `message_ack` frame: encodeTextFrame(messageAckJson(...)). */
  ack(
    messageId: MessageAckFrame['message_id'],
    sequenceId: MessageAckFrame['sequence_id'],
    duplicate: MessageAckFrame['duplicate'],
    persisted: MessageAckFrame['persisted'],
  ): Buffer {
    if (typeof messageId !== 'string' || !isDigitsOnly(sequenceId)) {
      return encodeTextFrame(messageAckJson(messageId, sequenceId, duplicate, persisted));
    }
    this.escaped[0] = undefined;
    const lit = this.lit;
    const dup = duplicate ? lit.true : lit.false;
    const stored = persisted ? lit.true : lit.false;
    const payload =
      lit.ackStart.length +
      this.fieldBytes(0, messageId) +
      lit.sequenceId.length +
      digitCount(sequenceId) +
      lit.ackDuplicate.length +
      dup.length +
      lit.ackPersisted.length +
      stored.length +
      lit.ackEnd.length;
    const frame = Buffer.allocUnsafe(textFrameHeaderLength(payload) + payload);
    let at = writeTextFrameHeader(frame, payload);
    at = put(frame, at, lit.ackStart);
    at = this.putField(frame, at, 0, messageId);
    at = put(frame, at, lit.sequenceId);
    at = putDigits(frame, at, sequenceId);
    at = put(frame, at, lit.ackDuplicate);
    at = put(frame, at, dup);
    at = put(frame, at, lit.ackPersisted);
    at = put(frame, at, stored);
    put(frame, at, lit.ackEnd);
    return frame;
  }

  /**
   * The bytes a string field takes as JSON. Plain printable ASCII without `"` or `\` is written as it is, between
   * quotes; anything else as JSON.stringify writes it (kept in slot `slot` for putField).
   */
  private fieldBytes(slot: number, s: string): number {
    if (isPlainAscii(s)) return s.length + 2;
    const json = JSON.stringify(s);
    this.escaped[slot] = json;
    return Buffer.byteLength(json);
  }

  private putField(frame: Buffer, at: number, slot: number, s: string): number {
    const json = this.escaped[slot];
    if (json !== undefined) return at + frame.write(json, at, 'utf8');
    frame[at++] = QUOTE;
    if (s.length <= SHORT_FIELD) {
      for (let i = 0; i < s.length; i++) frame[at + i] = s.charCodeAt(i);
    } else {
      frame.write(s, at, 'latin1');
    }
    at += s.length;
    frame[at++] = QUOTE;
    return at;
  }
}

/** A non-negative safe integer: JSON writes it as its decimal digits. */
function isDigitsOnly(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
