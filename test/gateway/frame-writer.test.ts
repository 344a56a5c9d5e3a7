import fc from 'fast-check';
import type { ChatMessage } from '../../actors/message-types';
import { messageAckJson, messageFrameJson } from '../../gateway/frame-json';
import { FrameWriter } from '../../gateway/frame-writer';
import { plainRecordFrame } from '../../gateway/plain-record-frame';
import { encodeTextFrame } from '../../gateway/text-frames';

// Any string JSON can carry (quotes, backslashes, control characters, lone surrogates, emoji), and plain ASCII,
// which the writer copies as it is, short or long (a loop up to 48 characters, one latin1 write beyond).
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '~', '-', ':'), minLength: 40, maxLength: 70 }),
);

/** Records whose id-like fields are `field`s, with `content` and `metadata` as given. */
function recordOf(
  field: fc.Arbitrary<string>,
  content: fc.Arbitrary<string>,
  metadata: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<ChatMessage> {
  return fc.record({
    message_id: field,
    conversation_id: field,
    sequence_id: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
    sender_id: field,
    sender_type: fc.constantFrom('human' as const, 'ai' as const, 'system' as const),
    message_type: field,
    content,
    timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    metadata,
  });
}

const record = recordOf(
  text,
  fc.oneof(text, fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ minLength: 60_000, maxLength: 70_000 })),
  fc.oneof(fc.constant({}), fc.dictionary(text, fc.jsonValue(), { maxKeys: 4 })),
);

describe('frames written without a JSON string (gateway/frame-writer.ts)', () => {
  it('a message frame is byte for byte the frame of frame-json.ts, for any record', () => {
    const writer = new FrameWriter();
    fc.assert(
      fc.property(record, (m) => {
        expect(writer.message(m).equals(encodeTextFrame(messageFrameJson(m)))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a record that frame-json.ts does not write by hand (odd field types, a negative id) takes its path', () => {
    const writer = new FrameWriter();
    const odd = { message_id: 'm', sequence_id: 1.5, metadata: undefined, extra: [1] } as unknown as ChatMessage;
    expect(writer.message(odd).equals(encodeTextFrame(messageFrameJson(odd)))).toBe(true);
    const negative = { ...(odd as object), sequence_id: -3, metadata: {} } as unknown as ChatMessage;
    expect(writer.message(negative).equals(encodeTextFrame(messageFrameJson(negative)))).toBe(true);
  });

  it('a field escaped in one frame is not carried into the next', () => {
    const writer = new FrameWriter();
    const base = {
      conversation_id: 'c',
      sequence_id: 1,
      sender_id: 's',
      sender_type: 'human',
      message_type: 'text',
      timestamp: 't',
      metadata: {},
    };
    const first = { ...base, message_id: 'é"', content: 'x\n' } as ChatMessage;
    const second = { ...base, message_id: 'plain', content: 'plain too' } as ChatMessage;
    expect(writer.message(first).equals(encodeTextFrame(messageFrameJson(first)))).toBe(true);
    expect(writer.message(second).equals(encodeTextFrame(messageFrameJson(second)))).toBe(true);
    expect(writer.ack('a\u2028', 1, false, true).equals(encodeTextFrame(messageAckJson('a\u2028', 1, false, true)))).toBe(true);
    expect(writer.ack('b', 2, true, false).equals(encodeTextFrame(messageAckJson('b', 2, true, false)))).toBe(true);
  });

  it('a message_ack is byte for byte the frame of frame-json.ts', () => {
    const writer = new FrameWriter();
    fc.assert(
      fc.property(
        text,
        fc.integer({ min: -5, max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        fc.boolean(),
        (id, seq, duplicate, persisted) => {
          expect(writer.ack(id, seq, duplicate, persisted).equals(encodeTextFrame(messageAckJson(id, seq, duplicate, persisted)))).toBe(
            true,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a record of printable ASCII fields, the usual chat line, is the same bytes by the plain path (plain-record-frame.ts)', () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
    const plainRecord = recordOf(
      printable,
      // Short and long (copied by a loop up to 48 characters, by one latin1 write beyond), a quote now and then.
      fc.oneof(printable, fc.string({ unit: fc.constantFrom('a', ' ', '~', '"'), minLength: 40, maxLength: 300 })),
      fc.oneof(fc.constant({}), fc.dictionary(printable, fc.jsonValue(), { minKeys: 1, maxKeys: 2 })),
    );
    const writer = new FrameWriter();
    let taken = 0;
    fc.assert(
      fc.property(plainRecord, (m) => {
        const expected = encodeTextFrame(messageFrameJson(m));
        const plain = plainRecordFrame(m);
        const fields = [m.message_id, m.conversation_id, m.sender_id, m.message_type, m.content].join('');
        const expectPlain = !/["\\]/.test(fields) && Object.keys(m.metadata).length === 0;
        expect(plain !== undefined).toBe(expectPlain);
        if (plain !== undefined) taken++;
        if (plain !== undefined) expect(plain.equals(expected)).toBe(true);
        expect(writer.message(m).equals(expected)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(taken).toBeGreaterThan(50);
  });
});
