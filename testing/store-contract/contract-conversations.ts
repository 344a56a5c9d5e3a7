import { REDACTION_MARKER } from '../../storage-providers/chat-store';
import { expectCode, type ContractContext } from './chat-store.contract';
import { agent, isDeepFrozen, iso, meta, msg, msgs, person } from './fixtures';

/** Conversation metadata, membership, listing, retention and redaction. */
export function describeConversations(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  describe('conversations', () => {
    test('create, get (frozen copy), duplicate create, status update', async () => {
      const { store } = ctx;
      const input = meta('c1', 0, { title: 'Ünïcode «title»' });
      await store.createConversation(input);
      const got = await store.getConversation('c1');
      expect(got).toEqual(input);
      expect(isDeepFrozen(got)).toBe(true);
      expect(await store.getConversation('c2')).toBeUndefined();
      await expectCode(store.createConversation(meta('c1')), 'CHAT_ERR_ALREADY_EXISTS');
      await store.updateConversationStatus('c1', 'failed');
      expect(await store.getConversation('c1')).toEqual({ ...input, status: 'failed' });
      await expectCode(store.updateConversationStatus('c2', 'closed'), 'CHAT_ERR_NOT_FOUND');
    });

    test('participants: initial, put, update, remove, rejoin, agent_id', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice', 0, { role: 'owner' }), agent('nlweb', 0)]);
      expect(await store.getParticipants('c1')).toEqual([person('alice', 0, { role: 'owner' }), agent('nlweb', 0)]);
      await store.putParticipant('c1', person('bob', 7));
      await store.putParticipant('c1', person('bob', 7, { display_name: 'Bobby' }));
      const members = await store.getParticipants('c1');
      expect(members.map((p) => p.participant_id)).toEqual(['alice', 'nlweb', 'bob']);
      expect(members[2]).toEqual(person('bob', 7, { display_name: 'Bobby' }));
      expect('agent_id' in members[0]).toBe(false);
      expect(isDeepFrozen(members[1])).toBe(true);
      await store.removeParticipant('c1', 'alice');
      await store.removeParticipant('c1', 'nobody');
      expect((await store.getParticipants('c1')).map((p) => p.participant_id)).toEqual(['nlweb', 'bob']);
      await store.putParticipant('c1', person('alice', 9));
      expect((await store.getParticipants('c1')).map((p) => p.participant_id)).toEqual(['nlweb', 'bob', 'alice']);
      expect(await store.getParticipants('nope')).toEqual([]);
      await expectCode(store.putParticipant('nope', person('bob')), 'CHAT_ERR_NOT_FOUND');
    });

    test('getParticipantsOf: each conversation named as getParticipants answers it, unknown ones empty, in one call', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice', 0, { role: 'owner' }), agent('nlweb', 0)]);
      await store.createConversation(meta('c2'), [person('bob', 0, { role: 'owner' }), person('carol', 1)]);
      await store.createConversation(meta('c3'), [person('dave', 0, { role: 'owner' })]);
      await store.putParticipant('c2', person('alice', 4));
      await store.removeParticipant('c2', 'carol');
      const found = await store.getParticipantsOf(['c2', 'nope', 'c1', 'c2']);
      expect([...found.keys()]).toEqual(['c2', 'nope', 'c1']);
      expect(found.get('c1')).toEqual(await store.getParticipants('c1'));
      expect(found.get('c2')).toEqual([person('bob', 0, { role: 'owner' }), person('alice', 4)]);
      expect(found.get('nope')).toEqual([]);
      expect(isDeepFrozen(found.get('c1')![1])).toBe(true);
      expect((await store.getParticipantsOf([])).size).toBe(0);
      await expectCode(store.getParticipantsOf(['c1', '']), 'STORAGE_ERR_INVALID_ARGUMENT');
    });

    test('listConversationsForUser: member conversations only, newest first, includeLeft', async () => {
      const { store } = ctx;
      await store.createConversation(meta('old', 1000), [person('alice')]);
      await store.createConversation(meta('new', 5000), [person('alice'), person('bob')]);
      await store.createConversation(meta('other', 9000), [person('bob')]);
      await store.createConversation(meta('tie-b', 3000), [person('alice')]);
      await store.createConversation(meta('tie-a', 3000), [person('alice')]);
      const ids = async (user: string, includeLeft?: boolean) =>
        (await store.listConversationsForUser(user, { includeLeft })).map((c) => c.conversation_id);
      expect(await ids('alice')).toEqual(['new', 'tie-a', 'tie-b', 'old']);
      expect(await store.listConversationsForUser('alice')).toContainEqual(meta('old', 1000));
      await store.removeParticipant('old', 'alice');
      expect(await ids('alice')).toEqual(['new', 'tie-a', 'tie-b']);
      expect(await ids('alice', true)).toEqual(['new', 'tie-a', 'tie-b', 'old']);
      expect(await ids('bob')).toEqual(['other', 'new']);
      expect(await ids('carol', true)).toEqual([]);
      await store.putParticipant('old', person('alice', 3));
      expect(await ids('alice')).toEqual(['new', 'tie-a', 'tie-b', 'old']);
    });

    test('listConversationsForUser: participantType keeps the conversations where the id is a member of that type', async () => {
      const { store } = ctx;
      await store.createConversation(meta('agent-answers', 2000), [person('alice'), agent('echo')]);
      await store.createConversation(meta('echo-is-human', 1000), [person('echo')]);
      const ids = async (participantType?: 'human' | 'ai', includeLeft?: boolean) =>
        (await store.listConversationsForUser('echo', { participantType, includeLeft })).map((c) => c.conversation_id);
      expect(await ids()).toEqual(['agent-answers', 'echo-is-human']);
      expect(await ids('human')).toEqual(['echo-is-human']);
      expect(await ids('ai')).toEqual(['agent-answers']);
      await store.removeParticipant('echo-is-human', 'echo');
      expect(await ids('human')).toEqual([]);
      expect(await ids('human', true)).toEqual(['echo-is-human']);
      await expectCode(store.listConversationsForUser('echo', { participantType: 'robot' as 'ai' }), 'STORAGE_ERR_INVALID_ARGUMENT');
    });

    test('retention: listConversationsCreatedBefore + deleteConversation remove everything', async () => {
      const { store } = ctx;
      await store.createConversation(meta('a', 1000), [person('alice')]);
      await store.createConversation(meta('b', 2000), [person('alice')]);
      await store.createConversation(meta('c', 3000), [person('alice')]);
      await store.appendMessages('a', msgs('a', 1, 5));
      await store.appendMessages('b', msgs('b', 1, 2));
      expect(await store.listConversationsCreatedBefore(iso(2000))).toEqual(['a']);
      expect(await store.listConversationsCreatedBefore(iso(2001))).toEqual(['a', 'b']);
      // Non-canonical ISO input is normalised before comparing.
      expect(await store.listConversationsCreatedBefore('2026-01-01T00:00:02.500+00:00')).toEqual(['a', 'b']);
      await store.deleteConversation('a');
      await store.deleteConversation('a');
      await store.deleteConversation('never-existed');
      expect(await store.getConversation('a')).toBeUndefined();
      expect(await store.readMessages('a', 0, 10)).toEqual([]);
      expect(await store.lastSequenceId('a')).toBe(0);
      expect(await store.getParticipants('a')).toEqual([]);
      expect(await store.findSequenceByMessageId('a', 'alice', 'a-m1')).toBeUndefined();
      expect((await store.listConversationsForUser('alice', { includeLeft: true })).map((c) => c.conversation_id)).toEqual(['c', 'b']);
      expect(await store.readMessages('b', 0, 10)).toEqual(msgs('b', 1, 2));
      // The id can be reused from sequence 1.
      await store.createConversation(meta('a', 4000));
      await store.appendMessages('a', [msg('a', 1)]);
      expect(await store.lastSequenceId('a')).toBe(1);
    });

    test('redaction by message ids keeps sequence ids, marks metadata', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 6));
      const redacted = await store.redactMessages('c1', { messageIds: ['c1-m5', 'c1-m2', 'unknown'] });
      expect(redacted).toEqual({ redacted: [2, 5], alreadyRedacted: [] });
      const out = await store.readMessages('c1', 0, 10);
      expect(out.map((m) => m.content)).toEqual([
        'message 1 of c1',
        REDACTION_MARKER,
        'message 3 of c1',
        'message 4 of c1',
        REDACTION_MARKER,
        'message 6 of c1',
      ]);
      expect(out[1]).toEqual({ ...msg('c1', 2), content: REDACTION_MARKER, metadata: { ...msg('c1', 2).metadata, redacted: true } });
      expect(out[0].metadata).toEqual(msg('c1', 1).metadata);
      expect(isDeepFrozen(out[4])).toBe(true);
      expect(await store.lastSequenceId('c1')).toBe(6);
      expect(await store.findSequenceByMessageId('c1', 'bob', 'c1-m2')).toBe(2);
      expect(await store.redactMessages('c1', { messageIds: [] })).toEqual({ redacted: [], alreadyRedacted: [] });
      await store.appendMessages('c1', [msg('c1', 7)]);
      expect(await store.lastSequenceId('c1')).toBe(7);
    });

    test('redaction by sender covers all of its records and only them', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.createConversation(meta('c2'));
      await store.appendMessages('c1', msgs('c1', 1, 5));
      await store.appendMessages('c2', msgs('c2', 1, 2));
      expect(await store.redactMessages('c1', { senderId: 'bob' })).toEqual({ redacted: [2, 4], alreadyRedacted: [] });
      const out = await store.readMessages('c1', 0, 10);
      expect(out.filter((m) => m.content === REDACTION_MARKER).map((m) => m.sequence_id)).toEqual([2, 4]);
      expect(out.filter((m) => m.metadata.redacted === true).map((m) => m.sender_id)).toEqual(['bob', 'bob']);
      expect(await store.readMessages('c2', 0, 10)).toEqual(msgs('c2', 1, 2));
      const none = { redacted: [], alreadyRedacted: [] };
      expect(await store.redactMessages('c1', { senderId: 'nobody' })).toEqual(none);
      expect(await store.redactMessages('nope', { senderId: 'bob' })).toEqual(none);
      // Redacting again changes nothing, and says the records were redacted already.
      expect(await store.redactMessages('c1', { senderId: 'bob' })).toEqual({ redacted: [], alreadyRedacted: [2, 4] });
      expect((await store.readMessages('c1', 1, 1))[0].metadata).toEqual({ ...msg('c1', 2).metadata, redacted: true });
    });

    test('a redaction leaves records already redacted as they are and names them apart from those it redacted', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 6));
      expect(await store.redactMessages('c1', { messageIds: ['c1-m2'] })).toEqual({ redacted: [2], alreadyRedacted: [] });
      const before = (await store.readMessages('c1', 1, 1))[0];
      // By message ids: m2 is redacted already, m5 is new, an unknown id matches nothing.
      expect(await store.redactMessages('c1', { messageIds: ['c1-m5', 'c1-m2', 'unknown'] })).toEqual({
        redacted: [5],
        alreadyRedacted: [2],
      });
      expect((await store.readMessages('c1', 1, 1))[0]).toEqual(before);
      // By sender (bob sent 2, 4 and 6): only 4 and 6 are new.
      expect(await store.redactMessages('c1', { senderId: 'bob' })).toEqual({ redacted: [4, 6], alreadyRedacted: [2] });
      expect(await store.redactMessages('c1', { messageIds: ['c1-m4', 'c1-m5', 'c1-m6'] })).toEqual({
        redacted: [],
        alreadyRedacted: [4, 5, 6],
      });
      const out = await store.readMessages('c1', 0, 10);
      expect(out.filter((m) => m.metadata.redacted === true).map((m) => m.sequence_id)).toEqual([2, 4, 5, 6]);
      expect(out.filter((m) => m.content === REDACTION_MARKER).map((m) => m.sequence_id)).toEqual([2, 4, 5, 6]);
    });

    // The runtime passes the conversation's last sequence id when the redaction was asked: "redact bob" must not take
    // what bob posted after the request, however soon after, nor name it (the answer is what was redacted).
    test('a redaction bounded by upTo leaves the records sequenced after it as they are and names none of them', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 6));
      // bob sent 2, 4 and 6.
      expect(await store.redactMessages('c1', { senderId: 'bob' }, undefined, 3)).toEqual({ redacted: [2], alreadyRedacted: [] });
      expect(await store.redactMessages('c1', { messageIds: ['c1-m2', 'c1-m4', 'c1-m5'] }, undefined, 4)).toEqual({
        redacted: [4],
        alreadyRedacted: [2],
      });
      // Redacted already but after the bound: not this redaction's either.
      expect(await store.redactMessages('c1', { senderId: 'bob' }, undefined, 3)).toEqual({ redacted: [], alreadyRedacted: [2] });
      expect(await store.redactMessages('c1', { senderId: 'bob' }, undefined, 0)).toEqual({ redacted: [], alreadyRedacted: [] });
      const out = await store.readMessages('c1', 0, 10);
      expect(out.filter((m) => m.metadata.redacted === true).map((m) => m.sequence_id)).toEqual([2, 4]);
      expect(out.slice(4)).toEqual(msgs('c1', 5, 2));
      // A bound past the end, and none, cover every record.
      expect(await store.redactMessages('c1', { senderId: 'bob' }, undefined, 100)).toEqual({ redacted: [6], alreadyRedacted: [2, 4] });
      expect(await store.redactMessages('c1', { messageIds: ['c1-m5'] })).toEqual({ redacted: [5], alreadyRedacted: [] });
    });
  });
}
