import { createEchoAgent } from '../../actors/agents/echo-agent';
import { healthConversationKey } from '../../gateway/health-conversation-keys';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const ids = (list: { participant_id: string }[]): string[] => list.map((p) => p.participant_id).sort();

function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toEqual({ status, body: { error: code, code: status, message: expect.any(String) } });
}

describe('gateway HTTP API', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(
      { chat: { input: { multi_mode_window_ms: 0 }, limits: { max_participants: 5 } } },
      {
        agents: [createEchoAgent()],
        extraRoutes: (app) => app.get('/metrics', (_req, res) => void res.type('text/plain').send('# metrics\n')),
      },
    );
  });

  test('create, list, get: with humans and an agent; only members see a conversation', async () => {
    const created = await h.request('POST', '/chat/conversations', 'alice', {
      title: 'Trip planning',
      participants: [
        { participant_id: 'bob', participant_type: 'human', display_name: 'Bob' },
        { participant_id: 'carol', participant_type: 'human' },
      ],
      agents: ['echo'],
      settings: { site: 'example.com' },
    });
    expect(created.status).toBe(201);
    const conv = created.body.conversation_id as string;
    expect(created.headers.get('location')).toBe(`/chat/conversations/${conv}`);
    expect(created.body).toMatchObject({
      title: 'Trip planning',
      created_by: 'alice',
      status: 'active',
      mode: 'multi',
      settings: { site: 'example.com' },
    });
    expect(ids(created.body.participants)).toEqual(['alice', 'bob', 'carol', 'echo']);
    const owner = created.body.participants.find((p: { participant_id: string }) => p.participant_id === 'alice');
    expect(owner.role).toBe('owner');
    expect(created.body.participants.find((p: { participant_id: string }) => p.participant_id === 'echo')).toMatchObject({
      participant_type: 'ai',
      agent_id: 'echo',
    });

    const other = await h.createConversation('dave');
    const listed = await h.request('GET', '/chat/conversations', 'bob');
    expect(listed.status).toBe(200);
    expect(listed.body.conversations.map((c: { conversation_id: string }) => c.conversation_id)).toEqual([conv]);
    const alias = await h.request('GET', '/chat/my-conversations', 'dave');
    expect(alias.body.conversations.map((c: { conversation_id: string }) => c.conversation_id)).toEqual([other]);

    const got = await h.request('GET', `/chat/conversations/${conv}`, 'carol');
    expect(got.status).toBe(200);
    expect(got.body.conversation_id).toBe(conv);
    expectError(await h.request('GET', `/chat/conversations/${conv}`, 'dave'), 403, 'CHAT_ERR_NOT_PARTICIPANT');
    expectError(await h.request('GET', '/chat/conversations/nope', 'dave'), 404, 'CHAT_ERR_NOT_FOUND');
    expectError(await h.request('POST', '/chat/conversations', 'dave', { conversation_id: other }), 409, 'CHAT_ERR_ALREADY_EXISTS');
    const tooMany = await h.request('POST', '/chat/conversations', 'dave', {
      participants: ['p1', 'p2', 'p3', 'p4', 'p5'].map((participant_id) => ({ participant_id })),
    });
    expectError(tooMany, 409, 'CHAT_ERR_PARTICIPANT_LIMIT');
    // A new conversation has reached nothing yet: the answer says how many were asked for and the limit.
    expect(tooMany.body.message).toBe('6 participants (the creator included) exceed the limit of 5 (chat.limits.max_participants)');
  });

  test('post over HTTP (dedup by message_id), the agent answers, history pages', async () => {
    const conv = await h.createConversation('alice', ['bob'], { agents: ['echo'] });
    const bob = await h.connect(conv, 'bob');
    const first = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'm1',
      content: 'hello',
      metadata: { k: 1 },
    });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ message_id: 'm1', sequence_id: expect.any(Number), persisted: expect.any(Boolean), duplicate: false });
    const again = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'm1',
      content: 'hello',
      metadata: { k: 1 },
    });
    expect(again.body).toMatchObject({ sequence_id: first.body.sequence_id, duplicate: true });
    const echo = await bob.waitFor('message', (f) => f.message.sender_id === 'echo');
    expect(echo.message.content).toBe('echo: hello');

    const all = await h.request('GET', `/chat/conversations/${conv}/messages`, 'bob');
    expect(all.status).toBe(200);
    const seqs = all.body.messages.map((m: { sequence_id: number }) => m.sequence_id);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));
    expect(all.body.messages.find((m: { message_id: string }) => m.message_id === 'm1')).toMatchObject({
      sender_id: 'alice',
      metadata: { k: 1 },
    });
    const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=1&limit=2`, 'bob');
    expect(page.body.messages.map((m: { sequence_id: number }) => m.sequence_id)).toEqual([2, 3]);
    expect(page.body).toMatchObject({ next_after: 3, has_more: true, last_sequence_id: seqs.length });
    const tail = await h.request('GET', `/chat/conversations/${conv}/messages?after=${seqs.length - 2}&limit=2`, 'bob');
    expect(tail.body).toMatchObject({ next_after: seqs.length, has_more: false });
    for (const q of ['limit=501', 'limit=0', 'after=-1', 'limit=abc']) {
      expectError(await h.request('GET', `/chat/conversations/${conv}/messages?${q}`, 'bob'), 400, 'GATEWAY_ERR_BAD_REQUEST');
    }
    expectError(await h.request('GET', `/chat/conversations/${conv}/messages`, 'mallory'), 403, 'CHAT_ERR_NOT_PARTICIPANT');
    expectError(
      await h.request('POST', `/chat/conversations/${conv}/messages`, 'mallory', { message_id: 'x', content: 'hi' }),
      403,
      'CHAT_ERR_NOT_PARTICIPANT',
    );
    expectError(
      await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { content: 'no id' }),
      400,
      'GATEWAY_ERR_BAD_REQUEST',
    );
    expectError(
      await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'x', content: 'hi', extra: true }),
      400,
      'GATEWAY_ERR_BAD_REQUEST',
    );
  });

  test('join and leave, with the NLWeb aliases', async () => {
    const conv = await h.createConversation('alice');
    const joined = await h.request('POST', `/chat/conversations/${conv}/join`, 'bob');
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({
      conversation_id: conv,
      participant: { participant_id: 'bob', participant_type: 'human', role: 'member' },
    });
    const twice = await h.request('POST', `/chat/conversations/${conv}/join`, 'bob');
    expect(twice.status).toBe(200);
    expect(twice.body.participant.joined_at_sequence).toBe(joined.body.participant.joined_at_sequence);
    expect((await h.request('POST', `/chat/${conv}/join`, 'carol')).status).toBe(200);
    expect((await h.request('POST', `/chat/${conv}/join`, 'dave')).status).toBe(200);
    let summary = await h.request('GET', `/chat/conversations/${conv}`, 'alice');
    expect(ids(summary.body.participants)).toEqual(['alice', 'bob', 'carol', 'dave']);

    const left = await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob');
    expect(left.body).toEqual({ conversation_id: conv, participant_id: 'bob', left: true });
    expect((await h.request('DELETE', `/chat/conversations/${conv}/participants/me`, 'carol')).status).toBe(200);
    expect((await h.request('DELETE', `/chat/${conv}/leave`, 'dave')).status).toBe(200);
    summary = await h.request('GET', `/chat/conversations/${conv}`, 'alice');
    expect(ids(summary.body.participants)).toEqual(['alice']);
    expectError(await h.request('GET', `/chat/conversations/${conv}`, 'bob'), 403, 'CHAT_ERR_NOT_PARTICIPANT');
    expectError(await h.request('POST', '/chat/conversations/nope/join', 'bob'), 404, 'CHAT_ERR_NOT_FOUND');
  });

  test('whoever knows a conversation id may join and read it all: the ids the server picks are random v4 UUIDs', async () => {
    const conv = await h.createConversation('alice');
    const other = await h.createConversation('alice');
    const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect([conv, other]).toEqual([expect.stringMatching(UUID_V4), expect.stringMatching(UUID_V4)]);
    expect(other).not.toBe(conv);
    const before = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'm1',
      content: 'before mallory',
    });
    expect(before.status).toBe(201);

    // 403 for a conversation that exists, 404 for one that does not: the answer tells which ids exist.
    expectError(await h.request('GET', `/chat/conversations/${conv}`, 'mallory'), 403, 'CHAT_ERR_NOT_PARTICIPANT');
    expectError(await h.request('GET', `/chat/conversations/${conv}x`, 'mallory'), 404, 'CHAT_ERR_NOT_FOUND');
    // No invitation is asked for: any authenticated user with the id joins, and reads what came before the join.
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'mallory')).status).toBe(200);
    const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'mallory');
    expect(history.body.messages.map((m: { content: string }) => m.content)).toContain('before mallory');
  });

  test('NLWeb create alias accepts NLWeb participant fields', async () => {
    const res = await h.request('POST', '/chat/create', 'alice', {
      title: 'from NLWeb',
      participants: [{ user_id: 'bob', name: 'Bob B' }],
      enable_ai: false,
    });
    expect(res.status).toBe(201);
    expect(res.body.participants.find((p: { participant_id: string }) => p.participant_id === 'bob')).toMatchObject({
      display_name: 'Bob B',
    });
  });

  test("redaction of others' messages and by sender is for the owner only", async () => {
    const conv = await h.createConversation('alice', ['bob']);
    await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b1', content: 'oops, my password' });
    await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b2', content: 'fine' });
    await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'a1', content: 'from alice' });
    // A member deletes only its own messages (message-edits.test.ts): alice's, or a whole sender, are refused.
    expectError(await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { message_ids: ['a1'] }), 403, 'CHAT_ERR_FORBIDDEN');
    expectError(await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { sender_id: 'bob' }), 403, 'CHAT_ERR_FORBIDDEN');
    expectError(await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', {}), 400, 'GATEWAY_ERR_BAD_REQUEST');
    expectError(
      await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: ['b1'], sender_id: 'bob' }),
      400,
      'GATEWAY_ERR_BAD_REQUEST',
    );
    const done = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: ['b1'] });
    expect(done.status).toBe(200);
    expect(done.body.redacted_sequence_ids).toHaveLength(1);
    const page = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    const byId = new Map(page.body.messages.map((m: { message_id: string; content: string }) => [m.message_id, m.content]));
    expect(byId.get('b1')).not.toContain('password');
    expect(byId.get('b2')).toBe('fine');
  });

  test('errors are JSON with a code; unknown paths, /ask and /mcp are not ours', async () => {
    const unauth = await h.request('GET', '/chat/conversations');
    expectError(unauth, 401, 'GATEWAY_ERR_UNAUTHENTICATED');
    expect(unauth.headers.get('www-authenticate')).toBe('Bearer');
    expectError(await h.request('GET', '/chat/nothing/here/at/all', 'alice'), 404, 'GATEWAY_ERR_NOT_FOUND');
    expectError(await h.request('POST', '/chat/conversations', 'alice', '{"title": '), 400, 'GATEWAY_ERR_MALFORMED_JSON');
    expectError(
      await h.request('POST', '/chat/conversations', 'alice', { title: 'x'.repeat(100_000) }),
      413,
      'GATEWAY_ERR_FRAME_TOO_LARGE',
    );
    expectError(await h.request('POST', '/chat/conversations', 'alice', { participants: 'bob' }), 400, 'GATEWAY_ERR_BAD_REQUEST');
    expect((await h.request('POST', '/ask', 'alice', { query: 'x' })).status).toBe(404);
    expect((await h.request('GET', '/mcp', 'alice')).status).toBe(404);
    const metrics = await h.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('# metrics');
  });

  test('health, liveness and readiness', async () => {
    const conv = await h.createConversation('alice', ['bob'], { agents: ['echo'] });
    await h.connect(conv, 'alice');
    await h.connect(conv, 'bob');
    const health = await h.request('GET', '/health/chat');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'healthy',
      reasons: [],
      connections: 2,
      conversations: 1,
      // Named by digest: /health/chat answers anyone, and an id lets its reader join (health-conversation-ids.test.ts).
      participants_by_conversation: { [healthConversationKey('digest')(conv)]: { humans: 2, ai_agents: 1 } },
      queue_depths: { [healthConversationKey('digest')(conv)]: expect.any(Number) },
      storage: 'connected',
      persistence_lag: expect.any(Number),
      persistence_lag_ms: expect.any(Number),
    });
    expect(await h.request('GET', '/livez')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await h.request('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    await h.runtime.close({ deadlineMs: 1000 });
    expect((await h.request('GET', '/readyz')).status).toBe(503);
    const closing = await h.request('GET', '/health/chat');
    expect(closing).toMatchObject({ status: 503, body: { status: 'unhealthy', shutting_down: true } });
    expect((await h.request('GET', '/livez')).status).toBe(200);
  });
});
