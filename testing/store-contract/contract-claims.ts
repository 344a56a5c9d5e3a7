import { expectCode, type ContractContext } from './chat-store.contract';
import { describeFencedChanges } from './contract-fenced-changes';
import { meta, msgs } from './fixtures';

const HOUR = 3_600_000;

/**
 * Conversation claims (stores with `supports.claims`): only one runtime sequences a conversation, and
 * journal writes carry the epoch of the claim they were made under (storage-providers/conversation-claims.ts).
 */
export function describeClaims(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  describe('conversation claims, every store', () => {
    // The other side of the optional group below: what the base class gives a store that keeps no claims.
    if (ctx.supports.claims !== true) {
      test('without the capability every claim succeeds with epoch 0 and nothing is fenced', async () => {
        const { store } = ctx;
        await store.createConversation(meta('c1'));
        const a = await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
        const b = await store.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR });
        expect(a).toEqual({ claimed: true, claim: { ownerId: 'A', epoch: 0 } });
        expect(b).toEqual({ claimed: true, claim: { ownerId: 'B', epoch: 0 } });
        await store.appendMessages('c1', msgs('c1', 1, 2), { ownerId: 'A', epoch: 0 });
        expect(await store.lastSequenceId('c1')).toBe(2);
        expect(await store.redactMessages('c1', { messageIds: ['c1-m1'] }, { ownerId: 'A', epoch: 0 })).toEqual({
          redacted: [1],
          alreadyRedacted: [],
        });
      });
    }

    test('claim arguments are validated', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await expectCode(store.claimConversation('c1', { ownerId: '', ttlMs: 1 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.claimConversation('c1', { ownerId: 'A', ttlMs: -1 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.claimConversation('c1', { ownerId: 'A', ttlMs: 1.5 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.claimConversation('', { ownerId: 'A', ttlMs: 1 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(
        store.claimConversation('c1', { ownerId: 'A', ttlMs: 1, address: 'x'.repeat(1025) }),
        'STORAGE_ERR_INVALID_ARGUMENT',
      );
      await expectCode(store.renewClaims('', 1), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.releaseClaim('c1', { ownerId: 'A', epoch: -1 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', msgs('c1', 1, 1), { ownerId: 'A', epoch: 1.5 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.redactMessages('c1', { senderId: 'bob' }, { ownerId: 'A', epoch: -1 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      expect(await store.lastSequenceId('c1')).toBe(0);
    });
  });

  ctx.group('conversation claims', () => {
    test('a held claim refuses other runtimes and says who holds it, where, and for how long', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      const first = await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR, address: 'ws://a.example:8000' });
      expect(first).toEqual({ claimed: true, claim: { ownerId: 'A', epoch: 1 } });
      const refused = await store.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR });
      expect(refused.claimed).toBe(false);
      if (refused.claimed) return;
      expect(refused.holder.ownerId).toBe('A');
      expect(refused.holder.address).toBe('ws://a.example:8000');
      expect(refused.holder.expiresInMs).toBeGreaterThan(HOUR - 60_000);
      expect(refused.holder.expiresInMs).toBeLessThanOrEqual(HOUR);
      // Claims are per conversation.
      await store.createConversation(meta('c2'));
      expect(await store.claimConversation('c2', { ownerId: 'B', ttlMs: HOUR })).toEqual({
        claimed: true,
        claim: { ownerId: 'B', epoch: 1 },
      });
    });

    test('an expired claim is taken over with a higher epoch; the old holder is fenced off', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      const a = await store.claimConversation('c1', { ownerId: 'A', ttlMs: 0 });
      if (!a.claimed) throw new Error('A should hold c1');
      await store.appendMessages('c1', msgs('c1', 1, 2), a.claim);
      await store.setSequenceReservation('c1', 40, a.claim);
      const b = await store.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR });
      expect(b).toEqual({ claimed: true, claim: { ownerId: 'B', epoch: 2 } });
      // A, paused past its expiry, wakes up and writes: refused, nothing stored or changed.
      await expectCode(store.appendMessages('c1', msgs('c1', 3, 2), a.claim), 'STORAGE_ERR_FENCED');
      await expectCode(store.setSequenceReservation('c1', 80, a.claim), 'STORAGE_ERR_FENCED');
      expect(await store.lastSequenceId('c1')).toBe(2);
      expect(await store.getSequenceReservation('c1')).toBe(40);
      if (!b.claimed) return;
      await store.appendMessages('c1', msgs('c1', 3, 1), b.claim);
      await store.setSequenceReservation('c1', 64, b.claim);
      expect(await store.lastSequenceId('c1')).toBe(3);
      expect(await store.getSequenceReservation('c1')).toBe(64);
    });

    test('the same runtime claiming again (a restart with the same instance id) raises the epoch', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      const before = await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
      const after = await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
      expect(after).toEqual({ claimed: true, claim: { ownerId: 'A', epoch: 2 } });
      if (!before.claimed) return;
      await expectCode(store.appendMessages('c1', msgs('c1', 1, 1), before.claim), 'STORAGE_ERR_FENCED');
      expect(await store.lastSequenceId('c1')).toBe(0);
    });

    test('renewClaims extends what the runtime still holds and leaves out what was taken over', async () => {
      const { store } = ctx;
      for (const id of ['c1', 'c2', 'c3']) await store.createConversation(meta(id));
      await store.claimConversation('c1', { ownerId: 'A', ttlMs: 0 });
      await store.claimConversation('c2', { ownerId: 'A', ttlMs: 0 });
      await store.claimConversation('c3', { ownerId: 'B', ttlMs: HOUR });
      // c2 expired and B took it over before A's renewal came.
      await store.claimConversation('c2', { ownerId: 'B', ttlMs: HOUR });
      const held = await store.renewClaims('A', HOUR);
      expect([...held.entries()].sort()).toEqual([['c1', 1]]);
      // The renewal made c1 live again: B is refused now.
      expect((await store.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR })).claimed).toBe(false);
      expect([...(await store.renewClaims('B', HOUR)).entries()].sort()).toEqual([
        ['c2', 2],
        ['c3', 1],
      ]);
      expect((await store.renewClaims('nobody', HOUR)).size).toBe(0);
    });

    test('a released claim can be taken at once; releasing a claim taken over since changes nothing', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      const a = await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
      if (!a.claimed) throw new Error('A should hold c1');
      await store.releaseClaim('c1', a.claim);
      expect((await store.renewClaims('A', HOUR)).size).toBe(0);
      const b = await store.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR });
      expect(b).toEqual({ claimed: true, claim: { ownerId: 'B', epoch: 2 } });
      await store.releaseClaim('c1', a.claim);
      expect((await store.claimConversation('c1', { ownerId: 'C', ttlMs: HOUR })).claimed).toBe(false);
    });

    test('an unknown conversation is claimed with epoch 0 and nothing is stored for it', async () => {
      const { store } = ctx;
      expect(await store.claimConversation('ghost', { ownerId: 'A', ttlMs: HOUR })).toEqual({
        claimed: true,
        claim: { ownerId: 'A', epoch: 0 },
      });
      expect(await store.getConversation('ghost')).toBeUndefined();
      expect((await store.renewClaims('A', HOUR)).size).toBe(0);
      await store.createConversation(meta('ghost'));
      expect(await store.claimConversation('ghost', { ownerId: 'B', ttlMs: HOUR })).toEqual({
        claimed: true,
        claim: { ownerId: 'B', epoch: 1 },
      });
    });

    test('writes without a fence (tools, stores of older runtimes) are not checked', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
      await store.appendMessages('c1', msgs('c1', 1, 1));
      await store.appendMessages('c1', msgs('c1', 2, 1), { ownerId: 'X', epoch: 0 });
      await store.setSequenceReservation('c1', 10);
      expect(await store.lastSequenceId('c1')).toBe(2);
    });

    describeFencedChanges(ctx);

    ctx.testIf('durable')('durable stores keep claims and epochs across a reopen', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
      const other = await ctx.reopen();
      expect((await other.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR })).claimed).toBe(false);
      expect(await other.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR })).toEqual({
        claimed: true,
        claim: { ownerId: 'A', epoch: 2 },
      });
    });
  });
}
