import fc from 'fast-check';
import type { ChatMessage } from '../../actors/message-types';
import { RecentRecords } from '../../actors/recent-records';

const record = (seq: number): ChatMessage =>
  ({
    sequence_id: seq,
    message_id: `m${seq}`,
    conversation_id: 'c',
    sender_id: 'a',
    sender_type: 'human',
    message_type: 'text',
    content: '',
    timestamp: '',
    metadata: {},
  }) as ChatMessage;
const seqs = (r: RecentRecords): number[] => r.toArray().map((m) => m.sequence_id);

describe('RecentRecords', () => {
  it('keeps the last `bound` records, and older views keep exactly theirs', () => {
    let view = RecentRecords.of([record(1), record(2)], 3);
    const early = view;
    for (let s = 3; s <= 10; s++) view = view.append(record(s));
    expect(seqs(view)).toEqual([8, 9, 10]);
    expect(view.first?.sequence_id).toBe(8);
    expect(seqs(early)).toEqual([1, 2]);
    expect(seqs(RecentRecords.of([], 0).append(record(1)))).toEqual([]);
  });

  it('matches a copied array under any mix of appends to new and old views (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.nat(20), { maxLength: 120 }), (bound, picks) => {
        // Each step appends to one of the views made so far (mostly the newest, sometimes an old one).
        const views: Array<{ view: RecentRecords; model: number[] }> = [{ view: RecentRecords.of([], bound), model: [] }];
        picks.forEach((pick, step) => {
          const from = pick % 4 === 0 ? views[pick % views.length]! : views[views.length - 1]!;
          const model = [...from.model, step].slice(Math.max(0, from.model.length + 1 - bound));
          views.push({ view: from.view.append(record(step)), model: bound === 0 ? [] : model });
        });
        for (const { view, model } of views) expect(seqs(view)).toEqual(model);
      }),
    );
  });
});
