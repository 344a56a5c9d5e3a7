/**
 * A caller authenticated under the id of one of a conversation's AI participants (a JWT with sub "echo", or dev
 * mode ?user_id=echo) must not act as that AI: the runtime takes a sender's type from its membership, so its posts
 * would be sequenced as the agent's answers. Real server on port 0, every HTTP entry point and the WebSocket upgrade.
 */
import { createEchoAgent } from '../../actors/agents/echo-agent';
import type { ChatMessage } from '../../actors/message-types';
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, startHarness, type Harness } from './harness';
import { refusedStatus, upgradeOutcome } from './ws-test-client';

afterEach(closeAll);

const AS_AI = 'echo is an AI participant of this conversation; humans cannot act as it';

/** Every HTTP route acting for the caller on one conversation (both path families), with a body where it needs one. */
function entryPoints(conv: string): [string, string, unknown?][] {
  return [
    ['GET', `/chat/conversations/${conv}`],
    ['GET', `/chat/conversations/${conv}/messages?after=0`],
    ['POST', `/chat/conversations/${conv}/messages`, { message_id: 'fake-1', content: 'I am the agent' }],
    ['POST', `/chat/conversations/${conv}/join`],
    ['POST', `/chat/${conv}/join`],
    ['POST', `/chat/conversations/${conv}/redact`, { sender_id: 'alice' }],
    ['POST', `/chat/conversations/${conv}/leave`],
    ['DELETE', `/chat/conversations/${conv}/participants/me`],
    ['DELETE', `/chat/${conv}/leave`],
  ];
}

/** The conversation's records, read by its owner. */
async function history(h: Harness, conv: string): Promise<ChatMessage[]> {
  const res = await h.request('GET', `/chat/conversations/${conv}/messages?after=0`, 'alice');
  expect(res.status).toBe(200);
  return res.body.messages as ChatMessage[];
}

describe('a human authenticated under an AI participant id', () => {
  let h: Harness;
  let conv: string;
  beforeEach(async () => {
    h = await startHarness({}, { agents: [createEchoAgent()] });
    conv = await h.createConversation('alice', ['bob'], { agents: ['echo'] });
  });

  test('every HTTP entry point: 403 CHAT_ERR_FORBIDDEN naming the AI; nothing posted, the AI stays a member', async () => {
    const before = await history(h, conv);
    for (const [method, path, body] of entryPoints(conv)) {
      const res = await h.request(method, path, 'echo', body);
      expect({ method, path, status: res.status, error: res.body.error, message: res.body.message }).toEqual({
        method,
        path,
        status: 403,
        error: 'CHAT_ERR_FORBIDDEN',
        message: AS_AI,
      });
    }
    expect(await history(h, conv)).toEqual(before);
    const echo = (await h.runtime.getConversation(conv)).participants.find((p) => p.participant_id === 'echo');
    expect(echo?.participant_type).toBe('ai');
  });

  test('dev mode (?user_id=echo): the HTTP post is refused the same way', async () => {
    const dev = await startHarness({ server: { auth: { mode: 'dev' } } }, { agents: [createEchoAgent()] });
    const create = await fetch(`${dev.url}/chat/conversations?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agents: ['echo'], auto_join_agents: false }),
    });
    const id = ((await create.json()) as { conversation_id: string }).conversation_id;
    const res = await fetch(`${dev.url}/chat/conversations/${id}/messages?user_id=echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message_id: 'fake-1', content: 'I am the agent' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'CHAT_ERR_FORBIDDEN', message: AS_AI });
    const ws = `${dev.url.replace(/^http/, 'ws')}/chat/ws/${id}?user_id=echo`;
    expect(await refusedStatus(ws)).toBe(403);
  });

  test('WebSocket upgrade, with and without join=true: HTTP 403, or close 4003 CHAT_ERR_FORBIDDEN; audited', async () => {
    const audited: string[] = [];
    const audit = { forbidden: (actor: string, target: string, action: string) => audited.push(`${actor} ${target} ${action}`) };
    const a = await startHarness({}, { agents: [createEchoAgent()], audit });
    const id = await a.createConversation('alice', [], { agents: ['echo'] });
    const queries: Record<string, string>[] = [{}, { join: 'true' }, { last_sequence_id: '0' }];
    for (const params of queries) {
      expect(await refusedStatus(a.wsUrl(id, 'echo', params))).toBe(403);
      expect(await upgradeOutcome(a.wsUrl(id, 'echo', params), [REFUSAL_SUBPROTOCOL])).toEqual({
        status: 101,
        protocol: REFUSAL_SUBPROTOCOL,
        frames: [],
        close: { code: 4003, reason: 'CHAT_ERR_FORBIDDEN' },
      });
    }
    expect(audited).toEqual(Array.from({ length: 6 }, () => `echo ${id} ws connect as an AI participant`));
    // Nothing of the refused sockets stays subscribed, and the AI is still the member it was.
    expect(a.runtime.health().connections).toBe(0);
    expect((await a.runtime.getConversation(id)).participants.map((p) => `${p.participant_id}:${p.participant_type}`)).toEqual([
      'alice:human',
      'echo:ai',
    ]);
  });

  test('a human member with an ordinary id is unaffected on every entry point it may use', async () => {
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b1', content: 'hi' })).status).toBe(201);
    const client = await h.connect(conv, 'bob');
    await client.close();
    expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
  });
});

describe('one id, one participant type per conversation (runtime)', () => {
  test('a human cannot join under the id of an AI member, nor an AI under a human member id', async () => {
    const h = await startHarness({}, { agents: [createEchoAgent()] });
    const conv = await h.createConversation('alice', ['bob'], { agents: ['echo'] });
    await expect(h.runtime.join(conv, { participant_id: 'echo', participant_type: 'human' })).rejects.toMatchObject({
      code: 'CHAT_ERR_FORBIDDEN',
      message: AS_AI,
    });
    await expect(h.runtime.join(conv, { participant_id: 'bob', participant_type: 'ai', external: true })).rejects.toMatchObject({
      code: 'CHAT_ERR_FORBIDDEN',
      message: 'bob is a human participant of this conversation; an AI participant cannot take its id',
    });
    // Joining again as what one already is stays an idempotent no-op.
    await expect(h.runtime.join(conv, { participant_id: 'echo', participant_type: 'ai' })).resolves.toMatchObject({
      participant_type: 'ai',
    });
    await expect(h.runtime.join(conv, { participant_id: 'bob', participant_type: 'human' })).resolves.toMatchObject({
      participant_type: 'human',
    });
  });

  test('embedders still post as an AI participant through runtime.post', async () => {
    const h = await startHarness({}, { agents: [createEchoAgent()] });
    const conv = await h.createConversation('alice');
    await h.runtime.join(conv, { participant_id: 'helper', participant_type: 'ai', external: true });
    const result = await h.runtime.post(conv, { sender_id: 'helper', message_id: 'h1', content: 'from the service' });
    const record = (await history(h, conv)).find((m) => m.sequence_id === result.sequence_id);
    expect(record).toMatchObject({ sender_id: 'helper', sender_type: 'ai' });
  });
});
