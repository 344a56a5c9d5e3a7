import fc from 'fast-check';
import type { ChatMessage } from '../../actors/message-types';
import { messageAckJson, messageFrameJson } from '../../gateway/frame-json';
import { createFrameValidator } from '../../gateway/protocol/frame-validator';

// Any string JSON can carry: quotes, backslashes, control characters, lone surrogates, emoji.
const text = fc.string({ unit: 'binary', maxLength: 40 });

const record: fc.Arbitrary<ChatMessage> = fc.record({
  message_id: text,
  conversation_id: text,
  sequence_id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  sender_id: text,
  sender_type: fc.constantFrom('human' as const, 'ai' as const, 'system' as const),
  message_type: text,
  content: text,
  timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  metadata: fc.oneof(fc.constant({}), fc.dictionary(text, fc.jsonValue(), { maxKeys: 4 })),
});

describe('hand-written frame JSON (gateway/frame-json.ts)', () => {
  it('a message frame is byte for byte what JSON.stringify writes, for any record', () => {
    fc.assert(
      fc.property(record, (m) => {
        expect(messageFrameJson(m)).toBe(JSON.stringify({ type: 'message', message: m }));
      }),
      { numRuns: 500 },
    );
  });

  it('a record with a field of an unexpected type falls back to JSON.stringify (nothing dropped, still valid JSON)', () => {
    const odd = { message_id: 'm', sequence_id: 1.5, metadata: undefined, extra: [1] } as unknown as ChatMessage;
    expect(messageFrameJson(odd)).toBe(JSON.stringify({ type: 'message', message: odd }));
  });

  it('a message_ack is what JSON.stringify writes and passes the protocol schema', () => {
    const validator = createFrameValidator();
    fc.assert(
      fc.property(
        text,
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        fc.boolean(),
        (id, seq, duplicate, persisted) => {
          const json = messageAckJson(id, seq, duplicate, persisted);
          const frame = { type: 'message_ack', message_id: id, sequence_id: seq, duplicate, persisted };
          expect(json).toBe(JSON.stringify(frame));
          if (id.length > 0 && id.length <= 128) expect(validator.server(JSON.parse(json)).ok).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
