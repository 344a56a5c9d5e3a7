import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

describe('read positions over HTTP', () => {
  it('POST /read marks over HTTP; the list and the conversation carry read_up_to and unread_count', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    await alice.waitFor('participant_list');
    for (let i = 1; i <= 3; i++) alice.send({ type: 'message', message_id: `a${i}`, content: `line ${i}` });
    const last = (await alice.waitFor('message', (f) => f.message.message_id === 'a3')).message.sequence_id;

    const listed = await h.request('GET', '/chat/conversations', 'bob');
    expect(listed.body.conversations[0]).toMatchObject({ conversation_id: conv, unread_count: 3 });
    const before = (await h.request('GET', `/chat/conversations/${conv}`, 'bob')).body;
    expect(before.unread_count).toBe(3);
    // Alice's own posts are not unread to her.
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'alice')).body.unread_count).toBe(0);

    const marked = await h.request('POST', `/chat/conversations/${conv}/read`, 'bob', { sequence_id: last - 1 });
    expect(marked.status).toBe(200);
    expect(marked.body).toEqual({ conversation_id: conv, read_up_to: last - 1, unread_count: 1 });
    // Lower changes nothing; the answer says where it stands.
    const lower = await h.request('POST', `/chat/conversations/${conv}/read`, 'bob', { sequence_id: 1 });
    expect(lower.body).toEqual({ conversation_id: conv, read_up_to: last - 1, unread_count: 1 });
    const after = await h.request('GET', '/chat/conversations', 'bob');
    expect(after.body.conversations[0]).toMatchObject({ read_up_to: last - 1, unread_count: 1 });

    expect((await h.request('POST', `/chat/conversations/${conv}/read`, 'bob', { sequence_id: -1 })).status).toBe(400);
    expect((await h.request('POST', `/chat/conversations/${conv}/read`, 'bob', {})).body.error).toBe('GATEWAY_ERR_BAD_REQUEST');
    const stranger = await h.request('POST', `/chat/conversations/${conv}/read`, 'mallory', { sequence_id: 1 });
    expect([stranger.status, stranger.body.error]).toEqual([403, 'CHAT_ERR_NOT_PARTICIPANT']);
  });
});
