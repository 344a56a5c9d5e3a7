import type { ChatMessage } from '../../actors/message-types';
import { expectCode, type ContractContext } from './chat-store.contract';
import { isDeepFrozen, meta, msg, msgs } from './fixtures';

/** Append contiguity, duplicates, atomic batches, reads and record fidelity. */
export function describeJournal(ctx: ContractContext): void {
  const { describe, test, beforeEach, expect } = ctx.runner;
  describe('journal', () => {
    beforeEach(async () => {
      await ctx.store.createConversation(meta('c1'));
    });

    test('an empty conversation reads as empty; unknown conversations too', async () => {
      const { store } = ctx;
      await store.appendMessages('c1', []);
      expect(await store.lastSequenceId('c1')).toBe(0);
      expect(await store.readMessages('c1', 0, 10)).toEqual([]);
      expect(await store.readLatestMessages('nope', 10)).toEqual([]);
      expect(await store.lastSequenceId('nope')).toBe(0);
      expect(await store.findSequenceByMessageId('nope', 'alice', 'x')).toBeUndefined();
    });

    test('appending to an unknown conversation is CHAT_ERR_NOT_FOUND', async () => {
      await expectCode(ctx.store.appendMessages('nope', [msg('nope', 1)]), 'CHAT_ERR_NOT_FOUND');
    });

    test('the first sequence id must be last + 1', async () => {
      const { store } = ctx;
      await expectCode(store.appendMessages('c1', [msg('c1', 2)]), 'STORAGE_ERR_SEQUENCE_GAP');
      await store.appendMessages('c1', msgs('c1', 1, 3));
      await expectCode(store.appendMessages('c1', [msg('c1', 5)]), 'STORAGE_ERR_SEQUENCE_GAP');
      await expectCode(store.appendMessages('c1', [msg('c1', 3, { message_id: 'new' })]), 'STORAGE_ERR_DUPLICATE_SEQUENCE');
      await expectCode(store.appendMessages('c1', msgs('c1', 2, 3)), 'STORAGE_ERR_DUPLICATE_SEQUENCE');
      expect(await store.lastSequenceId('c1')).toBe(3);
      await store.appendMessages('c1', msgs('c1', 4, 2));
      expect(await store.lastSequenceId('c1')).toBe(5);
    });

    test('a second (sender_id, message_id) is STORAGE_ERR_DUPLICATE_MESSAGE and the batch stores nothing', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c2'));
      await store.appendMessages('c1', msgs('c1', 1, 2));
      const again = msg('c1', 4, { message_id: 'c1-m2', sender_id: 'bob' });
      await expectCode(store.appendMessages('c1', [msg('c1', 3), again]), 'STORAGE_ERR_DUPLICATE_MESSAGE');
      const twice = [msg('c1', 3, { message_id: 'x' }), msg('c1', 4, { message_id: 'x', sender_id: 'alice' })];
      await expectCode(store.appendMessages('c1', twice), 'STORAGE_ERR_DUPLICATE_MESSAGE');
      expect(await store.lastSequenceId('c1')).toBe(2);
      expect(await store.findSequenceByMessageId('c1', 'alice', 'c1-m3')).toBeUndefined();
      // The same message id is fine from another sender or in another conversation.
      await store.appendMessages('c1', [msg('c1', 3, { message_id: 'c1-m2', sender_id: 'carol' })]);
      await store.appendMessages('c2', [msg('c2', 1, { message_id: 'c1-m2', sender_id: 'bob' })]);
      expect(await store.findSequenceByMessageId('c1', 'carol', 'c1-m2')).toBe(3);
      expect(await store.findSequenceByMessageId('c1', 'bob', 'c1-m2')).toBe(2);
      expect(await store.findSequenceByMessageId('c2', 'bob', 'c1-m2')).toBe(1);
      expect(await store.findSequenceByMessageId('c1', 'alice', 'c1-m2')).toBeUndefined();
    });

    test('records come back equal to what was appended, plain and deeply frozen', async () => {
      const { store } = ctx;
      const input: ChatMessage[] = [
        msg('c1', 1, { content: 'émoji 🎉 "quotes" \\ back\nslash 中文', metadata: {} }),
        msg('c1', 2, { sender_type: 'ai', message_type: 'nlweb_response', content: 'x'.repeat(20000) }),
        msg('c1', 3, { sender_type: 'system', message_type: 'custom.kind', metadata: { list: [{ a: [1, 2.5, 'z'] }], f: false } }),
      ];
      await store.appendMessages('c1', input);
      (input[1].metadata as Record<string, unknown>).later = 'mutation';
      const out = await store.readMessages('c1', 0, 10);
      expect(out).toEqual([input[0], { ...input[1], metadata: msg('c1', 2).metadata }, input[2]]);
      for (const record of out) {
        expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
        expect(isDeepFrozen(record)).toBe(true);
        expect(Object.keys(record).sort()).toEqual(Object.keys(input[0]).sort());
      }
      expect(() => {
        (out[2].metadata.list as unknown[]).push(1);
      }).toThrow();
      expect((await store.readMessages('c1', 2, 1))[0].metadata).toEqual(input[2].metadata);
    });

    test('readMessages pages by afterSequenceId and limit', async () => {
      const { store } = ctx;
      for (let from = 1; from <= 300; from += 100) await store.appendMessages('c1', msgs('c1', from, 100));
      const seqs = (list: ChatMessage[]) => list.map((m) => m.sequence_id);
      expect(seqs(await store.readMessages('c1', 0, 2))).toEqual([1, 2]);
      expect(seqs(await store.readMessages('c1', 150, 3))).toEqual([151, 152, 153]);
      expect(seqs(await store.readMessages('c1', 297, 100))).toEqual([298, 299, 300]);
      expect(await store.readMessages('c1', 300, 10)).toEqual([]);
      expect(await store.readMessages('c1', 5000, 10)).toEqual([]);
      expect((await store.readMessages('c1', 0, 1000)).length).toBe(300);
      expect(await store.readMessages('c1', 41, 1)).toEqual([msg('c1', 42)]);
    });

    test('readLatestMessages returns the tail in order', async () => {
      const { store } = ctx;
      await store.appendMessages('c1', msgs('c1', 1, 10));
      expect((await store.readLatestMessages('c1', 3)).map((m) => m.sequence_id)).toEqual([8, 9, 10]);
      expect((await store.readLatestMessages('c1', 50)).map((m) => m.sequence_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await store.readLatestMessages('c1', 1)).toEqual([msg('c1', 10)]);
    });

    test('streamMessages yields the whole journal in order, page by page', async () => {
      const { store } = ctx;
      await store.appendMessages('c1', msgs('c1', 1, 23));
      // Records where each page starts (a hand-made spy: the suite runs under any runner).
      const starts: number[] = [];
      const own = Object.getOwnPropertyDescriptor(store, 'readMessages');
      const read = store.readMessages;
      store.readMessages = (id, after, limit) => (starts.push(after), read.call(store, id, after, limit));
      const seen: number[] = [];
      try {
        for await (const m of store.streamMessages('c1', 5)) seen.push(m.sequence_id);
      } finally {
        if (own) Object.defineProperty(store, 'readMessages', own);
        else delete (store as { readMessages?: unknown }).readMessages;
      }
      expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
      expect(starts).toEqual([0, 5, 10, 15, 20]);
      const empty: ChatMessage[] = [];
      for await (const m of store.streamMessages('nope')) empty.push(m);
      expect(empty).toEqual([]);
      const exact: number[] = [];
      for await (const m of store.streamMessages('c1', 23)) exact.push(m.sequence_id);
      expect(exact.length).toBe(23);
    });

    test('conversations are isolated: own counters, own reads, parallel appends', async () => {
      const { store } = ctx;
      const ids = Array.from({ length: 12 }, (_, i) => `p${i}`);
      for (const id of ids) await store.createConversation(meta(id));
      await Promise.all(ids.map((id) => store.appendMessages(id, msgs(id, 1, 4))));
      await store.appendMessages('c1', msgs('c1', 1, 2));
      for (const id of ids) {
        expect(await store.lastSequenceId(id)).toBe(4);
        expect(await store.readMessages(id, 0, 100)).toEqual(msgs(id, 1, 4));
      }
      expect(await store.readMessages('c1', 0, 100)).toEqual(msgs('c1', 1, 2));
      await store.redactMessages('p0', { senderId: 'alice' });
      expect(await store.readMessages('p1', 0, 100)).toEqual(msgs('p1', 1, 4));
    });
  });
}
