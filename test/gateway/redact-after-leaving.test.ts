import { closeAll, startHarness } from './harness';

afterEach(closeAll);

/**
 * Redacting others' messages is the owner's: the participant whose role is `owner` (docs/security.md). The creator
 * who left is no member, and after a re-join a member: "the owner who leaves leaves the conversation without an
 * owner". Found reviewing a failure of the random gateway sessions (seed 1497524753): the runtime took the
 * conversation's creator for its owner whatever its membership, so a creator who had left still redacted anyone's
 * messages.
 */
test("a creator who left redacts nobody's messages, nor after joining again as a member", async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice', ['bob', 'carol']);
  const posted = await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b1', content: 'mine' });
  expect(posted.status).toBe(201);
  expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'alice')).status).toBe(200);

  const asLeaver = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: ['b1'] });
  expect({ status: asLeaver.status, error: asLeaver.body.error }).toEqual({ status: 403, error: 'CHAT_ERR_FORBIDDEN' });
  expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'alice')).status).toBe(200);
  const asMember = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { sender_id: 'bob' });
  expect({ status: asMember.status, error: asMember.body.error }).toEqual({ status: 403, error: 'CHAT_ERR_FORBIDDEN' });

  const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'bob');
  const b1 = (history.body.messages as Array<{ message_id: string; content: string }>).find((m) => m.message_id === 'b1');
  expect(b1?.content).toBe('mine');
  // The role is nobody's now: the summary names no owner.
  const summary = await h.request('GET', `/chat/conversations/${conv}`, 'bob');
  expect((summary.body.participants as Array<{ role: string }>).map((p) => p.role)).not.toContain('owner');
});
