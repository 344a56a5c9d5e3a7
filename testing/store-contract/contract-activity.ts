import { PREVIEW_SCAN } from '../../storage-providers/conversation-activity';
import { expectCode, type ContractContext } from './chat-store.contract';
import { agent, iso, meta, msg, msgs, person } from './fixtures';

/** listConversationActivity: a user's conversations by last activity, with last sequence id, preview and pages. */
export function describeConversationActivity(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  describe('conversation activity', () => {
    test('ranks by the latest record (else created_at), ties by id; last sequence id; preview skips bookkeeping', async () => {
      const { store } = ctx;
      // Created in the opposite order of their activity.
      await store.createConversation(meta('quiet', 50_000), [person('alice')]);
      await store.createConversation(meta('busy', 1000), [person('alice'), person('bob')]);
      await store.createConversation(meta('joins-only', 2000), [person('alice')]);
      await store.createConversation(meta('tie-b', 3000), [person('alice')]);
      await store.createConversation(meta('tie-a', 3000), [person('alice')]);
      await store.createConversation(meta('not-mine', 90_000), [person('bob')]);
      // busy: a text at 60 s, then an agent answer, then bookkeeping at 70 and 80 s.
      await store.appendMessages('busy', [
        msg('busy', 1, { message_type: 'join', timestamp: iso(1000) }),
        msg('busy', 2, { timestamp: iso(60_000), content: 'hello there' }),
        msg('busy', 3, { message_type: 'nlweb_response', sender_type: 'ai', sender_id: 'nlweb', timestamp: iso(65_000) }),
        msg('busy', 4, { message_type: 'agent_job_finished', sender_type: 'system', sender_id: 'system', timestamp: iso(70_000) }),
        msg('busy', 5, { message_type: 'join', sender_id: 'carol', timestamp: iso(80_000) }),
      ]);
      await store.appendMessages('joins-only', [msg('joins-only', 1, { message_type: 'join', timestamp: iso(40_000) })]);
      const page = await store.listConversationActivity('alice', { limit: 10 });
      expect(page.map((e) => e.meta.conversation_id)).toEqual(['busy', 'quiet', 'joins-only', 'tie-a', 'tie-b']);
      const [busy, quiet, joinsOnly] = page;
      expect(busy.lastSequenceId).toBe(5);
      expect(busy.activityAt).toBe(iso(80_000));
      expect(busy.preview).toEqual(
        msg('busy', 3, { message_type: 'nlweb_response', sender_type: 'ai', sender_id: 'nlweb', timestamp: iso(65_000) }),
      );
      expect(busy.meta).toEqual(meta('busy', 1000));
      expect(quiet.lastSequenceId).toBe(0);
      expect(quiet.activityAt).toBe(iso(50_000));
      expect(quiet.preview).toBeUndefined();
      expect(joinsOnly.lastSequenceId).toBe(1);
      expect(joinsOnly.preview).toBeUndefined();
    });

    test(`the preview is searched among the last ${PREVIEW_SCAN} records only`, async () => {
      const { store } = ctx;
      await store.createConversation(meta('long'), [person('alice')]);
      await store.appendMessages('long', [msg('long', 1, { content: 'the only text' })]);
      const bookkeeping = { message_type: 'agent_job_started', sender_type: 'system' as const, sender_id: 'system' };
      await store.appendMessages('long', msgs('long', 2, PREVIEW_SCAN - 1, bookkeeping));
      expect((await store.listConversationActivity('alice', { limit: 1 }))[0].preview?.content).toBe('the only text');
      await store.appendMessages('long', [msg('long', PREVIEW_SCAN + 1, bookkeeping)]);
      const [entry] = await store.listConversationActivity('alice', { limit: 1 });
      expect(entry.lastSequenceId).toBe(PREVIEW_SCAN + 1);
      expect(entry.preview).toBeUndefined();
    });

    test('pages: after + limit walk the whole list once, in order; the member filter of listConversationsForUser', async () => {
      const { store } = ctx;
      for (let i = 0; i < 7; i++) await store.createConversation(meta(`c${i}`, i * 1000), [person('alice')]);
      await store.createConversation(meta('same-time-z', 3000), [person('alice')]);
      await store.createConversation(meta('agent-side', 9000), [person('bob'), agent('alice')]);
      await store.appendMessages('c0', [msg('c0', 1, { timestamp: iso(100_000) })]);
      const walked: string[] = [];
      let after: { activityAt: string; conversationId: string } | undefined;
      for (;;) {
        const page = await store.listConversationActivity('alice', { limit: 3, participantType: 'human', after });
        walked.push(...page.map((e) => e.meta.conversation_id));
        if (page.length < 3) break;
        const last = page[page.length - 1];
        after = { activityAt: last.activityAt, conversationId: last.meta.conversation_id };
      }
      expect(walked).toEqual(['c0', 'c6', 'c5', 'c4', 'c3', 'same-time-z', 'c2', 'c1']);
      const all = async (options: { includeLeft?: boolean; participantType?: 'human' | 'ai' } = {}) =>
        (await store.listConversationActivity('alice', { limit: 100, ...options })).map((e) => e.meta.conversation_id);
      expect(await all()).toEqual(['c0', 'agent-side', 'c6', 'c5', 'c4', 'c3', 'same-time-z', 'c2', 'c1']);
      expect(await all({ participantType: 'ai' })).toEqual(['agent-side']);
      await store.removeParticipant('c5', 'alice');
      expect((await all({ participantType: 'human' })).includes('c5')).toBe(false);
      expect((await all({ participantType: 'human', includeLeft: true })).includes('c5')).toBe(true);
      expect(await store.listConversationActivity('nobody', { limit: 5 })).toEqual([]);
    });

    test('bad arguments are STORAGE_ERR_INVALID_ARGUMENT', async () => {
      const { store } = ctx;
      await expectCode(store.listConversationActivity('alice', { limit: 0 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.listConversationActivity('alice', { limit: 1001 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.listConversationActivity('alice', { limit: 1.5 }), 'STORAGE_ERR_INVALID_ARGUMENT');
      const badAfter = { activityAt: 7 as unknown as string, conversationId: 'c1' };
      await expectCode(store.listConversationActivity('alice', { limit: 5, after: badAfter }), 'STORAGE_ERR_INVALID_ARGUMENT');
      const badId = { activityAt: iso(0), conversationId: '' };
      await expectCode(store.listConversationActivity('alice', { limit: 5, after: badId }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.listConversationActivity('', { limit: 5 }), 'STORAGE_ERR_INVALID_ARGUMENT');
    });
  });
}
