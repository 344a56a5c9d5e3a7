import fc from 'fast-check';
import type { ChatMessage } from '../../actors/message-types';
import { messageAckJson, messageFrameJson } from '../../gateway/frame-json';
import { FrameWriter } from '../../gateway/frame-writer';
import { encodeTextFrame } from '../../gateway/text-frames';

// Any string JSON can carry (quotes, backslashes, control characters, lone surrogates, emoji), and plain ASCII,
// which the writer copies as it is, short or long (a loop up to 48 characters, one latin1 write beyond).
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '~', '-', ':'), minLength: 40, maxLength: 70 }),
);

const record: fc.Arbitrary<ChatMessage> = fc.record({
  message_id: text,
  conversation_id: text,
  sequence_id: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  sender_id: text,
  sender_type: fc.constantFrom('human' as const, 'ai' as const, 'system' as const),
  message_type: text,
  content: fc.oneof(text, fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ minLength: 60_000, maxLength: 70_000 })),
  timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  metadata: fc.oneof(fc.constant({}), fc.dictionary(text, fc.jsonValue(), { maxKeys: 4 })),
});

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
});
