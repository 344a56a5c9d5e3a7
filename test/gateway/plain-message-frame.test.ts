import fc from 'fast-check';
import { contentProblem } from '../../actors/input-rules';
import { decodeClientData, decodeFrameBytes, type DecodedClientData } from '../../gateway/client-frame-dispatch';
import { plainContentProblem } from '../../gateway/content-validation';
import { plainMessageFrame } from '../../gateway/plain-message-frame';
import { createFrameValidator } from '../../gateway/protocol/frame-validator';
import { storableValueProblem } from '../../storage-providers/record-rules';

const validator = createFrameValidator();
const MAX_LENGTH = 4000;

/** What a decode answers, without how it got there. */
function answer(decoded: DecodedClientData): unknown {
  return decoded.ok ? { ok: true, frame: decoded.frame } : decoded;
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 140 });
// Anything a client could put in a field: quotes, backslashes, controls, DEL, C1, lone surrogates, emoji.
const anyText = fc.oneof(printable, fc.string({ unit: 'binary', maxLength: 140 }));

/** Frames around the fast path's one shape: that shape with raw (unescaped) or escaped values, and its near misses. */
const frameText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(anyText, anyText).map(([id, content]) => `{"type":"message","message_id":"${id}","content":"${content}"}`),
  fc.tuple(anyText, anyText).map(([id, content]) => JSON.stringify({ type: 'message', message_id: id, content })),
  // Ids around the schema's bounds (1 to 128), of one- and two-unit characters.
  fc
    .tuple(fc.integer({ min: 0, max: 130 }), fc.constantFrom('x', '\u{1f600}'))
    .map(([n, c]) => JSON.stringify({ type: 'message', message_id: c.repeat(n), content: 'hi' })),
  fc.tuple(printable, printable).map(([id, content]) => JSON.stringify({ type: 'message', content, message_id: id })),
  fc.tuple(printable, printable).map(([id, content]) => JSON.stringify({ type: 'message', message_id: id, content, metadata: {} })),
  fc.tuple(printable, printable).map(([id, content]) => JSON.stringify({ type: 'message', message_id: id, content }, null, 1)),
  fc.tuple(printable, printable).map(([id, content]) => JSON.stringify({ type: 'edit', message_id: id, content })),
  fc.tuple(printable, printable, fc.nat(80), fc.string({ maxLength: 3 })).map(([id, content, at, cut]) => {
    const json = JSON.stringify({ type: 'message', message_id: id, content });
    const i = at % (json.length + 1);
    return json.slice(0, i) + cut + json.slice(i + cut.length);
  }),
);

describe('the plain message frame (gateway/plain-message-frame.ts)', () => {
  it('decodes every frame as the full path does: the same frame, or the same error frame and close', () => {
    fc.assert(
      fc.property(frameText, (json) => {
        const bytes = Buffer.from(json, 'utf8');
        expect(answer(decodeClientData(bytes, false, validator))).toEqual(answer(decodeFrameBytes(bytes, validator)));
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the reference client frame of printable ASCII, whose text the id and content rules pass unscanned', () => {
    const id = printable.filter((s) => s.length >= 1 && s.length <= 128 && !/["\\]/.test(s));
    const content = printable.filter((s) => !/["\\]/.test(s));
    fc.assert(
      fc.property(id, content, (messageId, text) => {
        const bytes = Buffer.from(JSON.stringify({ type: 'message', message_id: messageId, content: text }));
        const decoded = decodeClientData(bytes, false, validator);
        expect(decoded).toEqual({ ok: true, frame: { type: 'message', message_id: messageId, content: text }, plain: true });
        expect(storableValueProblem(messageId, 'message_id')).toBeUndefined();
        expect(plainContentProblem(text, MAX_LENGTH)).toBe(contentProblem(text, MAX_LENGTH));
        expect(plainContentProblem(text, 5)).toBe(contentProblem(text, 5));
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves binary frames, fragments and frames with escapes to the full path', () => {
    const json = '{"type":"message","message_id":"m1","content":"hi"}';
    expect(plainMessageFrame(Buffer.from(json))).toEqual({ type: 'message', message_id: 'm1', content: 'hi' });
    expect(decodeClientData([Buffer.from(json.slice(0, 20)), Buffer.from(json.slice(20))], true, validator)).toEqual({
      ok: true,
      frame: { type: 'message', message_id: 'm1', content: 'hi' },
      plain: true,
    });
    expect(plainMessageFrame(Buffer.from('{"type":"message","message_id":"m1","content":"a\\u0000"}'))).toBeUndefined();
    expect(plainMessageFrame(Buffer.from('{"type":"message","message_id":"","content":"hi"}'))).toBeUndefined();
    expect(plainMessageFrame(Buffer.from(`{"type":"message","message_id":"${'x'.repeat(129)}","content":"hi"}`))).toBeUndefined();
    expect(plainMessageFrame(Buffer.from('{"type":"message","message_id":"m1","content":"caf\u00e9"}'))).toBeUndefined();
    expect(plainMessageFrame(Buffer.from('{"type":"message","message_id":"m1","content":"\x7f"}'))).toBeUndefined();
  });

  it('refuses content of spaces only or past the limit with contentProblem words', () => {
    expect(plainContentProblem('   ', MAX_LENGTH)).toBe('content is empty');
    expect(plainContentProblem('', MAX_LENGTH)).toBe('content is empty');
    expect(plainContentProblem('abcdef', 5)).toBe(contentProblem('abcdef', 5));
  });
});
