import { REDACTION_MARKER } from '../../storage-providers/chat-store';
import { expectCode, type ContractContext } from './chat-store.contract';
import { agent, meta, msg, msgs, person } from './fixtures';

/** Durable providers: everything survives close + reopen; shared ones see each other's writes. */
export function describeDurability(ctx: ContractContext): void {
  const { test, expect } = ctx.runner;
  ctx.group('durability', () => {
    test('a reopened durable store keeps conversations, members, journal and redactions', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1', 1000), [person('alice', 0, { role: 'owner' }), agent('nlweb', 0)]);
      await store.createConversation(meta('c2', 2000), [person('alice')]);
      await store.putParticipant('c1', person('bob', 3));
      await store.removeParticipant('c2', 'alice');
      await store.updateConversationStatus('c2', 'closed');
      await store.appendMessages('c1', msgs('c1', 1, 40));
      await store.redactMessages('c1', { messageIds: ['c1-m7'] });
      const before = await store.readMessages('c1', 0, 100);
      await store.close();

      const again = await ctx.reopen();
      expect(await again.getConversation('c1')).toEqual(meta('c1', 1000));
      expect(await again.getConversation('c2')).toEqual(meta('c2', 2000, { status: 'closed' }));
      expect(await again.getParticipants('c1')).toEqual([person('alice', 0, { role: 'owner' }), agent('nlweb', 0), person('bob', 3)]);
      expect(await again.getParticipants('c2')).toEqual([]);
      expect((await again.listConversationsForUser('alice', { includeLeft: true })).map((c) => c.conversation_id)).toEqual(['c2', 'c1']);
      expect(await again.readMessages('c1', 0, 100)).toEqual(before);
      expect((await again.readMessages('c1', 6, 1))[0].content).toBe(REDACTION_MARKER);
      expect(await again.lastSequenceId('c1')).toBe(40);
      expect(await again.findSequenceByMessageId('c1', 'alice', 'c1-m39')).toBe(39);
      await expectCode(again.appendMessages('c1', [msg('c1', 40, { message_id: 'fresh' })]), 'STORAGE_ERR_DUPLICATE_SEQUENCE');
      await expectCode(
        again.appendMessages('c1', [msg('c1', 41, { message_id: 'c1-m1', sender_id: 'alice' })]),
        'STORAGE_ERR_DUPLICATE_MESSAGE',
      );
      await again.appendMessages('c1', [msg('c1', 41)]);
      expect(await again.lastSequenceId('c1')).toBe(41);
    });

    test('close() lets in-flight writes finish', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      const writes = [store.appendMessages('c1', msgs('c1', 1, 50)), store.putParticipant('c1', person('bob'))];
      await store.close();
      await Promise.all(writes);
      const again = await ctx.reopen();
      expect(await again.lastSequenceId('c1')).toBe(50);
      expect(await again.getParticipants('c1')).toEqual([person('bob')]);
    });

    ctx.testIf('sharedAcrossProcesses')('instances sharing a location see each other and cannot duplicate sequence ids', async () => {
      const { store } = ctx;
      const other = await ctx.reopen();
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 3));
      expect(await other.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
      await expectCode(other.appendMessages('c1', [msg('c1', 3, { message_id: 'dup' })]), 'STORAGE_ERR_DUPLICATE_SEQUENCE');
      await other.appendMessages('c1', [msg('c1', 4)]);
      expect(await store.lastSequenceId('c1')).toBe(4);
      await expectCode(store.createConversation(meta('c1')), 'CHAT_ERR_ALREADY_EXISTS');
    });
  });
}
