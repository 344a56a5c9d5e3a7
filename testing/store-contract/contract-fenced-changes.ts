import type { ConversationClaim } from '../../storage-providers/conversation-claims';
import { REDACTION_MARKER } from '../../storage-providers/chat-store';
import { expectCode, type ContractContext } from './chat-store.contract';
import { meta, msgs } from './fixtures';

const HOUR = 3_600_000;

/**
 * Changes of stored records (redactMessages, replaceMessageContent) are fenced like journal appends: a runtime whose
 * claim was taken over must not rewrite the new holder's records, which that holder's cache and no record would tell
 * of. Registered inside the claims group (stores with `supports.claims`).
 */
export function describeFencedChanges(ctx: ContractContext): void {
  const { test, expect } = ctx.runner;

  /** c1 with records 1..3 written by A, whose expired claim B then took over: both claims. */
  async function takenOver(): Promise<{ a: ConversationClaim; b: ConversationClaim }> {
    const { store } = ctx;
    await store.createConversation(meta('c1'));
    const a = await store.claimConversation('c1', { ownerId: 'A', ttlMs: 0 });
    if (!a.claimed) throw new Error('A should hold c1');
    await store.appendMessages('c1', msgs('c1', 1, 3), a.claim);
    const b = await store.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR });
    if (!b.claimed) throw new Error('B should take c1 over');
    return { a: a.claim, b: b.claim };
  }

  test('a redaction under a claim taken over since is refused (STORAGE_ERR_FENCED) and changes nothing', async () => {
    const { store } = ctx;
    const { a, b } = await takenOver();
    const before = await store.readMessages('c1', 0, 10);
    await expectCode(store.redactMessages('c1', { messageIds: ['c1-m1', 'c1-m3'] }, a), 'STORAGE_ERR_FENCED');
    await expectCode(store.redactMessages('c1', { senderId: 'bob' }, a), 'STORAGE_ERR_FENCED');
    // Refused whether or not it would change anything: the caller must learn it no longer holds the conversation.
    await expectCode(store.redactMessages('c1', { senderId: 'nobody' }, a), 'STORAGE_ERR_FENCED');
    expect(await store.readMessages('c1', 0, 10)).toEqual(before);
    // A conversation never claimed (epoch 0) refuses any fence above it, as appends do.
    await store.createConversation(meta('c2'));
    await expectCode(store.redactMessages('c2', { senderId: 'nobody' }, a), 'STORAGE_ERR_FENCED');
    // The holder's redaction is made, and an unknown conversation is not refused (nothing to fence).
    expect(await store.redactMessages('c1', { messageIds: ['c1-m1'] }, b)).toEqual({ redacted: [1], alreadyRedacted: [] });
    expect((await store.readMessages('c1', 0, 10)).map((m) => m.content)).toEqual([REDACTION_MARKER, 'message 2 of c1', 'message 3 of c1']);
    expect(await store.redactMessages('ghost', { senderId: 'bob' }, a)).toEqual({ redacted: [], alreadyRedacted: [] });
  });

  ctx.testIf('replaceContent')('a content replacement under a claim taken over since is refused and changes nothing', async () => {
    const { store } = ctx;
    const { a, b } = await takenOver();
    const before = await store.readMessages('c1', 0, 10);
    const edit = { senderId: 'alice', content: 'edited by a stale owner', metadata: { edited: true } };
    await expectCode(store.replaceMessageContent('c1', 1, edit, a), 'STORAGE_ERR_FENCED');
    expect(await store.readMessages('c1', 0, 10)).toEqual(before);
    const changed = await store.replaceMessageContent('c1', 1, { ...edit, content: 'edited by the holder' }, b);
    expect(changed?.content).toBe('edited by the holder');
    expect((await store.readMessages('c1', 0, 1))[0]).toEqual(changed);
  });
}
