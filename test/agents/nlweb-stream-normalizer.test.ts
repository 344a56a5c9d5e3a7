import { createNlwebStreamNormalizer, normalizeNlwebItem, normalizeNlwebJson } from '../../actors/agents/nlweb-stream-normalizer';

const item = {
  '@type': 'Item',
  url: 'https://x.example/a',
  name: 'A',
  site: 'x',
  score: 80,
  description: 'first',
  schema_object: { '@type': 'Recipe' },
};

describe('NLWeb stream normalizer', () => {
  it('maps a current-style stream', () => {
    const n = createNlwebStreamNormalizer();
    const pieces = [
      { message_type: 'begin-nlweb-response', query: 'q' },
      { message_type: 'decontextualized_query', decontextualized_query: 'q2' },
      { message_type: 'result', content: [item] },
      { message_type: 'result', content: [{ '@type': 'Summary', text: 'in short' }] },
      { message_type: 'nlws', answer: 'the answer', items: [item] },
      { message_type: 'end-nlweb-response' },
    ].flatMap((e) => n.accept(e));
    expect(pieces.map((p) => p.kind)).toEqual(['begin', 'info', 'items', 'summary', 'answer', 'end']);
    expect(pieces[2]).toMatchObject({ kind: 'items', items: [{ url: 'https://x.example/a', name: 'A', score: 80, description: 'first' }] });
    expect(pieces[3]).toMatchObject({ text: 'in short' });
    expect(pieces[4]).toMatchObject({ text: 'the answer', items: [{ name: 'A' }] });
    expect(n.style).toBe('current');
  });

  it('maps an older-style stream', () => {
    const n = createNlwebStreamNormalizer();
    const pieces = [
      { message_type: 'api_version', api_version: '0.1' },
      {
        message_type: 'result_batch',
        results: [{ url: 'u', name: 'N', ranking: { score: 70, description: 'why' }, details: { name: 'N' } }],
      },
      { message_type: 'summary', message: 'sum' },
      { message_type: 'complete' },
    ].flatMap((e) => n.accept(e));
    expect(pieces.map((p) => p.kind)).toEqual(['info', 'items', 'summary', 'end']);
    expect(pieces[1]).toMatchObject({ items: [{ url: 'u', name: 'N', score: 70, description: 'why' }] });
    expect(n.style).toBe('legacy');
  });

  it('reports no-answer types, errors and end with error', () => {
    const n = createNlwebStreamNormalizer();
    expect(n.accept({ message_type: 'no_results', message: 'none' })).toEqual([
      { kind: 'no_answer', messageType: 'no_results', reason: 'no_results', text: 'none' },
    ]);
    expect(n.accept({ message_type: 'site_is_irrelevant_to_query', message: 'no' })[0]).toMatchObject({
      reason: 'site_is_irrelevant_to_query',
    });
    expect(n.accept({ message_type: 'ask_user', message: 'which city?' })[0]).toMatchObject({ kind: 'ask_user', text: 'which city?' });
    expect(n.accept({ message_type: 'error', message: 'boom' })[0]).toMatchObject({ kind: 'error', text: 'boom' });
    expect(n.accept({ message_type: 'end-nlweb-response', error: true })[0]).toEqual({
      kind: 'end',
      messageType: 'end-nlweb-response',
      error: true,
    });
  });

  it('counts unknown message types and ignores them', () => {
    const n = createNlwebStreamNormalizer();
    expect(n.accept({ message_type: 'hologram' })).toEqual([]);
    expect(n.accept({ no_type: true })).toEqual([]);
    expect(n.accept(42)).toEqual([]);
    expect(n.unknownCount).toBe(3);
    expect(n.unknownTypes).toContain('hologram');
  });

  it('drops result entries that are no items', () => {
    expect(normalizeNlwebItem('text')).toBeUndefined();
    expect(normalizeNlwebItem({ score: 3 })).toBeUndefined();
    expect(normalizeNlwebItem({ url: 'u' })).toEqual({ url: 'u', name: 'u' });
  });

  it('normalizes a current non-streaming body (array of envelopes)', () => {
    const pieces = normalizeNlwebJson([
      { message_type: 'result', content: [item] },
      { message_type: 'nlws', answer: 'a', items: [] },
    ]);
    expect(pieces.map((p) => p.kind)).toEqual(['items', 'answer', 'end']);
  });

  it('normalizes an older non-streaming body (object keyed by message_type)', () => {
    const pieces = normalizeNlwebJson({
      results: [
        { url: 'u1', name: 'one' },
        { url: 'u2', name: 'two' },
      ],
      summary: { message: 's' },
      query_id: 'q',
    });
    expect(pieces.map((p) => p.kind)).toEqual(['items', 'summary', 'end']);
    expect(pieces[0]).toMatchObject({ items: [{ name: 'one' }, { name: 'two' }] });
  });
});
