import { expectCode, type ContractContext } from './chat-store.contract';
import { meta, msgs } from './fixtures';

/**
 * The per-conversation sequence reservation (stores with `supports.sequenceReservation`): one
 * integer the actor raises ahead of the ids it hands out, so that after a crash it never hands out
 * an id that may have been delivered without being stored. Plain set/get, no max semantics.
 */
export function describeReservation(ctx: ContractContext): void {
  const { test, expect } = ctx.runner;
  // Skipped on stores without the capability (their base-class defaults store nothing).
  ctx.group('sequence reservation', () => {
    test('defaults to 0, round-trips, and can be raised and lowered (a plain set)', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      expect(await store.getSequenceReservation('c1')).toBe(0);
      await store.setSequenceReservation('c1', 100);
      expect(await store.getSequenceReservation('c1')).toBe(100);
      await store.setSequenceReservation('c1', 200);
      expect(await store.getSequenceReservation('c1')).toBe(200);
      // Lowered on a clean stop to the last stored id.
      await store.setSequenceReservation('c1', 57);
      expect(await store.getSequenceReservation('c1')).toBe(57);
      await store.setSequenceReservation('c1', 0);
      expect(await store.getSequenceReservation('c1')).toBe(0);
      await store.setSequenceReservation('c1', Number.MAX_SAFE_INTEGER);
      expect(await store.getSequenceReservation('c1')).toBe(Number.MAX_SAFE_INTEGER);
    });

    test('is per conversation and independent of the journal', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.createConversation(meta('c2'));
      await store.setSequenceReservation('c1', 300);
      expect(await store.getSequenceReservation('c2')).toBe(0);
      await store.setSequenceReservation('c2', 100);
      expect(await store.getSequenceReservation('c1')).toBe(300);
      await store.appendMessages('c1', msgs('c1', 1, 3));
      await store.updateConversationStatus('c1', 'closed');
      expect(await store.getSequenceReservation('c1')).toBe(300);
      expect(await store.lastSequenceId('c1')).toBe(3);
      expect(await store.getConversation('c1')).toEqual(meta('c1', 0, { status: 'closed' }));
    });

    test('an unknown conversation reads 0 and setting it is a no-op that leaves nothing behind', async () => {
      const { store } = ctx;
      expect(await store.getSequenceReservation('ghost')).toBe(0);
      await store.setSequenceReservation('ghost', 500);
      expect(await store.getSequenceReservation('ghost')).toBe(0);
      expect(await store.getConversation('ghost')).toBeUndefined();
      await store.createConversation(meta('ghost'));
      expect(await store.getSequenceReservation('ghost')).toBe(0);
    });

    test('arguments are validated; nothing changes on a rejected call', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.setSequenceReservation('c1', 100);
      const bad: unknown[] = [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, '200', null, undefined];
      for (const upTo of bad) {
        await expectCode(store.setSequenceReservation('c1', upTo as number), 'STORAGE_ERR_INVALID_ARGUMENT');
      }
      await expectCode(store.setSequenceReservation('', 5), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.getSequenceReservation(''), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.getSequenceReservation('x'.repeat(257)), 'STORAGE_ERR_INVALID_ARGUMENT');
      expect(await store.getSequenceReservation('c1')).toBe(100);
    });

    test('a closed store rejects both calls with STORAGE_ERR_NOT_OPEN', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.close();
      await expectCode(store.getSequenceReservation('c1'), 'STORAGE_ERR_NOT_OPEN');
      await expectCode(store.setSequenceReservation('c1', 100), 'STORAGE_ERR_NOT_OPEN');
    });

    test('deleteConversation removes it; a re-created id starts at 0', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.createConversation(meta('c2'));
      await store.setSequenceReservation('c1', 100);
      await store.setSequenceReservation('c2', 200);
      await store.deleteConversation('c1');
      expect(await store.getSequenceReservation('c1')).toBe(0);
      expect(await store.getSequenceReservation('c2')).toBe(200);
      await store.createConversation(meta('c1'));
      expect(await store.getSequenceReservation('c1')).toBe(0);
    });

    ctx.testIf('durable')('a durable store keeps it across close + reopen; instances sharing a location see each other', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.createConversation(meta('c2'));
      await store.appendMessages('c1', msgs('c1', 1, 5));
      await store.setSequenceReservation('c1', 105);
      await store.setSequenceReservation('c2', 7);
      await store.setSequenceReservation('c2', 3);
      await store.close();
      const again = await ctx.reopen();
      expect(await again.getSequenceReservation('c1')).toBe(105);
      expect(await again.getSequenceReservation('c2')).toBe(3);
      expect(await again.lastSequenceId('c1')).toBe(5);
      if (!again.supports.sharedAcrossProcesses) return;
      const other = await ctx.reopen();
      await other.setSequenceReservation('c1', 205);
      expect(await again.getSequenceReservation('c1')).toBe(205);
    });
  });
}
