import fc from 'fast-check';
import { createSseParser } from '../../actors/agents/nlweb-sse-parser';
import type { SseEvent } from '../../actors/agents/nlweb-sse-parser';

function parseAll(chunks: string[]): SseEvent[] {
  const parser = createSseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...parser.push(c));
  out.push(...parser.end());
  return out;
}

function splitAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
}

describe('createSseParser', () => {
  it('parses data lines with and without the optional space', () => {
    expect(parseAll(['data: {"a":1}\n\ndata:{"b":2}\n\n']).map((e) => e.data)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('keeps a second leading space as part of the value', () => {
    expect(parseAll(['data:  x\n\n'])[0]!.data).toBe(' x');
  });

  it('handles CRLF, LF and lone CR line breaks alike', () => {
    const lf = parseAll(['data: 1\n\ndata: 2\n\n']);
    const crlf = parseAll(['data: 1\r\n\r\ndata: 2\r\n\r\n']);
    const cr = parseAll(['data: 1\r\rdata: 2\r\r']);
    expect(crlf).toEqual(lf);
    expect(cr).toEqual(lf);
  });

  it('does not treat a CRLF split across chunks as two line breaks', () => {
    // "data: 1\r" | "\ndata: 2\r\n\r\n": a second blank line would dispatch event 1 alone, too early.
    const parser = createSseParser();
    expect(parser.push('data: 1\r')).toEqual([]);
    expect(parser.push('\ndata: 2\r\n\r\n')).toEqual([{ event: 'message', data: '1\n2' }]);
  });

  it('joins multi-line data with newlines', () => {
    expect(parseAll(['data: line one\ndata: line two\n\n'])[0]!.data).toBe('line one\nline two');
  });

  it('counts comments and never dispatches them', () => {
    const parser = createSseParser();
    const events = parser.push(': keepalive\n\n: keepalive\ndata: x\n\n');
    expect(events).toEqual([{ event: 'message', data: 'x' }]);
    expect(parser.comments).toBe(2);
  });

  it('dispatches a final event that lacks its blank line at EOF', () => {
    const parser = createSseParser();
    expect(parser.push('data: {"message_type":"complete"}')).toEqual([]);
    expect(parser.end()).toEqual([{ event: 'message', data: '{"message_type":"complete"}' }]);
  });

  it('keeps event names and ids, and ignores retry and unknown fields', () => {
    const events = parseAll(['id: 7\nevent: update\nretry: 100\nfoo: bar\ndata: x\n\ndata: y\n\n']);
    expect(events).toEqual([
      { event: 'update', data: 'x', id: '7' },
      { event: 'message', data: 'y', id: '7' },
    ]);
  });

  it('an event without data lines is not dispatched', () => {
    expect(parseAll(['event: ping\n\n'])).toEqual([]);
  });

  it('gives the same events for any split of a stream (property)', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 12 }).map((s) => `data: ${s.replace(/[\r\n]/g, '')}`),
      fc.string({ maxLength: 12 }).map((s) => `data:${s.replace(/[\r\n]/g, '')}`),
      fc.constant(': keepalive'),
      fc.constant(''),
      fc.constant('event: x'),
    );
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    const stream = fc.array(fc.tuple(line, eol), { maxLength: 25 }).map((parts) => parts.map(([l, e]) => l + e).join(''));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const whole = parseAll([text]);
        const split = parseAll(splitAt(text, cuts));
        const charByChar = parseAll([...text]);
        expect(split).toEqual(whole);
        expect(charByChar).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
