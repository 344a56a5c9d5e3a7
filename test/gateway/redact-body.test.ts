/**
 * POST /chat/conversations/{id}/redact takes exactly one of message_ids and sender_id (docs/http-api.md): a body
 * with neither or both is told so, rather than "missing field message_ids" (sender_id would have done) or ajv's
 * "must match exactly one schema in oneOf". Real server on port 0.
 */
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

describe('redact body', () => {
  test('neither or both of message_ids and sender_id: 400 naming the choice; one of them: 200', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const choice = { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: 'body needs exactly one of "message_ids", "sender_id"' };
    for (const body of [{}, { message_ids: ['m1'], sender_id: 'bob' }]) {
      const answer = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', body);
      expect([body, answer.status, answer.body]).toEqual([body, 400, choice]);
    }
    // Other problems keep their own messages.
    const wrongType = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: [5] });
    expect([wrongType.status, wrongType.body]).toEqual([
      400,
      { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: 'message_ids.0 must be string' },
    ]);
    const unknown = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { sender_id: 'bob', why: 'x' });
    expect(unknown.body).toMatchObject({ message: 'unknown field "why"' });
    const bySender = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { sender_id: 'bob' });
    expect(bySender.status).toBe(200);
  });
});
