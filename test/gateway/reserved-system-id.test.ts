/**
 * `system` is the sender id of the conversation's own records (mode changes, redactions, edits, lost placeholders,
 * agent job ends), whose message ids are predictable (`mode-7`, `edit-4-1`). A member with that id could post those
 * ids first: an edit's announcement was then taken for already made (the lookup by sender `system` and id found the
 * member's post) and never sequenced. No member may have the id: create and join refuse it, over HTTP and in the
 * runtime. Real server on port 0.
 */
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

const reserved = (field: string): unknown => ({
  error: 'CHAT_ERR_INVALID_ARGUMENT',
  code: 400,
  message: `${field} "system" is reserved: it is the sender of the conversation's own records`,
});

test('a human or AI participant named "system" is refused at create and at join; nothing is created or joined', async () => {
  const h = await startHarness();
  const named = await h.request('POST', '/chat/conversations', 'alice', {
    conversation_id: 'c1',
    participants: [{ participant_id: 'system' }],
    auto_join_agents: false,
  });
  expect([named.status, named.body]).toEqual([400, reserved('participant_id')]);
  expect((await h.request('GET', '/chat/conversations/c1', 'alice')).status).toBe(404);

  const byCaller = await h.request('POST', '/chat/conversations', 'system', { conversation_id: 'c2', auto_join_agents: false });
  expect([byCaller.status, byCaller.body]).toEqual([400, reserved('created_by')]);

  const conv = await h.createConversation('alice');
  const join = await h.request('POST', `/chat/conversations/${conv}/join`, 'system', {});
  expect([join.status, join.body]).toEqual([400, reserved('participant_id')]);
  await expect(h.runtime.join(conv, { participant_id: 'system', participant_type: 'ai', agent_id: 'echo' })).rejects.toMatchObject({
    code: 'CHAT_ERR_INVALID_ARGUMENT',
  });
  const members = (await h.request('GET', `/chat/conversations/${conv}`, 'alice')).body.participants as Array<{ participant_id: string }>;
  expect(members.map((m) => m.participant_id)).toEqual(['alice']);
});
