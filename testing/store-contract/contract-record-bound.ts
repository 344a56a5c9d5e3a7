import type { ChatMessage } from '../../actors/message-types';
import { REDACTION_MARKER } from '../../storage-providers/chat-store';
import type { ContractContext } from './chat-store.contract';
import { declares } from './contract-plan';
import { meta, msg, msgs } from './fixtures';

const seqs = (list: readonly ChatMessage[]) => list.map((m) => m.sequence_id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Stores with `supports.maxRecordsPerConversation` drop a conversation's oldest records past the bound.
 * What readers rely on: the last sequence id and the numbering are unaffected, a read of the dropped
 * range starts at the oldest record held (the gap tells the reader that range is gone), and from there
 * every held record comes once, in order, and `droppedUpTo` says how far the store dropped, so a
 * reader can tell those ids from a hole. Stores without the capability keep everything and drop nothing.
 */
export function describeRecordBound(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  const bound = () => ctx.store.supports.maxRecordsPerConversation ?? 0;
  const totalBound = () => ctx.store.supports.maxRecordsTotal ?? 0;

  describe('record keeping', () => {
    test('the capabilities are absent or whole numbers (0 = unbounded)', async () => {
      for (const b of [bound(), totalBound()]) expect(Number.isSafeInteger(b) && b >= 0).toBe(true);
    });

    // The other side of the optional groups below.
    const unbounded = !declares(ctx.supports, 'maxRecordsPerConversation') && !declares(ctx.supports, 'maxRecordsTotal');
    if (unbounded) {
      test('an unbounded store keeps every record', async () => {
        const { store } = ctx;
        await store.createConversation(meta('c1'));
        for (let from = 1; from <= 1200; from += 400) await store.appendMessages('c1', msgs('c1', from, 400));
        expect(seqs(await store.readMessages('c1', 0, 2000))).toEqual(range(1, 1200));
        expect(await store.droppedUpTo('c1')).toBe(0);
        expect(await store.droppedUpTo('unknown')).toBe(0);
      });
    }
  });

  ctx.group('record bound', () => {
    test('past the bound the oldest records go; numbering, last id and later appends are unaffected', async () => {
      const { store } = ctx;
      const max = bound();
      await store.createConversation(meta('c1'));
      await store.createConversation(meta('c2'));
      await store.appendMessages('c2', msgs('c2', 1, 3));
      const total = 2 * max + 7;
      for (let from = 1; from <= total; from += 97) await store.appendMessages('c1', msgs('c1', from, Math.min(97, total - from + 1)));
      expect(await store.lastSequenceId('c1')).toBe(total);

      const held = await store.readMessages('c1', 0, total);
      const first = held[0].sequence_id;
      expect(first).toBeGreaterThan(1);
      expect(held.length).toBeLessThanOrEqual(max);
      expect(seqs(held)).toEqual(range(first, total)); // contiguous from the oldest held, nothing repeated
      expect(held).toEqual(msgs('c1', first, total - first + 1));
      expect(await store.droppedUpTo('c1')).toBe(first - 1);
      expect(await store.droppedUpTo('c2')).toBe(0);
      expect(await store.droppedUpTo('unknown')).toBe(0);
      // A read that starts inside the dropped range gets the same: the held records, from the oldest.
      expect(seqs(await store.readMessages('c1', first - 2, 3))).toEqual([first, first + 1, first + 2]);
      expect(seqs(await store.readMessages('c1', first, 2))).toEqual([first + 1, first + 2]);
      expect(seqs(await store.readLatestMessages('c1', 3))).toEqual([total - 2, total - 1, total]);
      const streamed: number[] = [];
      for await (const m of store.streamMessages('c1', 50)) streamed.push(m.sequence_id);
      expect(streamed).toEqual(range(first, total));

      // The dropped records' ids are forgotten with them; held ones are still found and redactable.
      expect(await store.findSequenceByMessageId('c1', 'alice', 'c1-m1')).toBeUndefined();
      expect(await store.findSequenceByMessageId('c1', msg('c1', total).sender_id, `c1-m${total}`)).toBe(total);
      expect(await store.redactMessages('c1', { messageIds: ['c1-m1', `c1-m${total}`] })).toEqual({
        redacted: [total],
        alreadyRedacted: [],
      });
      expect((await store.readLatestMessages('c1', 1))[0].content).toBe(REDACTION_MARKER);

      await store.appendMessages('c1', [msg('c1', total + 1)]);
      expect(await store.lastSequenceId('c1')).toBe(total + 1);
      // The bound is per conversation.
      expect(seqs(await store.readMessages('c2', 0, 10))).toEqual([1, 2, 3]);
    });

    test('a batch larger than the bound keeps its newest records', async () => {
      const { store } = ctx;
      const max = bound();
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, max + 5));
      const held = await store.readMessages('c1', 0, max + 5);
      expect(held.length).toBeLessThanOrEqual(max);
      expect(seqs(held)).toEqual(range(held[0].sequence_id, max + 5));
    });
  });

  ctx.group('total record bound', () => {
    test('past the total bound the conversations appended to least recently lose their oldest records first', async () => {
      const { store } = ctx;
      const total = totalBound();
      // Three conversations of 40 % of the total each, a, b, c in that order (kept under 90 % of any
      // per-conversation bound, so that bound drops nothing here).
      const each = Math.min(Math.floor(total * 0.4), bound() > 0 ? Math.floor(bound() * 0.9) : total);
      const appendTo = async (id: string, from: number, count: number) => {
        for (let at = from; at < from + count; at += 97) await store.appendMessages(id, msgs(id, at, Math.min(97, from + count - at)));
      };
      for (const id of ['a', 'b', 'c']) await store.createConversation(meta(id));
      await appendTo('a', 1, each);
      await appendTo('b', 1, each);
      await appendTo('a', each + 1, 1); // a is now more recent than b
      await appendTo('c', 1, each);
      const held = async (id: string) => store.readMessages(id, 0, 3 * total);
      const [a, b, c] = [await held('a'), await held('b'), await held('c')];
      expect(a.length + b.length + c.length).toBeLessThanOrEqual(total);
      // b, the quietest, lost records before a did; c, appended last, kept everything.
      expect(b.length).toBeLessThan(each);
      expect(seqs(c)).toEqual(range(1, each));
      expect(await store.droppedUpTo('c')).toBe(0);
      if (a.length < each + 1) expect(b.length).toBe(0);
      for (const [id, list, last] of [
        ['a', a, each + 1],
        ['b', b, each],
      ] as const) {
        expect(await store.lastSequenceId(id)).toBe(last);
        if (list.length > 0) expect(seqs(list)).toEqual(range(list[0].sequence_id, last));
        // An emptied conversation dropped everything up to its last id.
        expect(await store.droppedUpTo(id)).toBe(list.length > 0 ? list[0].sequence_id - 1 : last);
      }
      await store.appendMessages('b', [msg('b', each + 1)]);
      expect(await store.lastSequenceId('b')).toBe(each + 1);
    });
  });
}
