import type { Authenticator } from '../../gateway';
import { MemoryStore } from '../../storage-providers';
import { startTcpProxy, type TcpProxy } from '../client/real-server';
import { closeAll, startHarness, track, type Harness } from './harness';
import { connectClient, refusedAnswer } from './ws-test-client';

/**
 * `chat.ownership.forward` with development authentication on both servers (two local servers on one store). The
 * forwarding server has already authenticated the request with dev mode's own checks (loopback address, loopback
 * Host, not proxied) before it learns the conversation is held elsewhere; the holder checks the forwarded request
 * again. Dev mode refuses requests carrying X-Forwarded-For (ceaf717), which forwarding used to add, so every
 * forwarded request was 401 at the holder.
 */
describe('owner forwarding between two dev-mode servers', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
  });

  async function devPair(): Promise<{ a: Harness; b: Harness; conv: string }> {
    const store = new MemoryStore({ claims: true });
    let aPort = 0;
    const proxy = await startTcpProxy(() => aPort);
    proxies.push(proxy);
    const config = (id: string, address: string) => ({
      server: { auth: { mode: 'dev' as const } },
      chat: { ownership: { instance_id: id, address, forward: true } },
    });
    const a = await startHarness(config('a', proxy.url), { store });
    aPort = Number(new URL(a.url).port);
    const b = await startHarness(config('b', 'ws://b.invalid'), { store });
    const created = await fetch(`${a.url}/chat/conversations?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 't', participants: [{ participant_id: 'bob', participant_type: 'human' }], auto_join_agents: false }),
    });
    expect(created.status).toBe(201);
    const { conversation_id: conv } = (await created.json()) as { conversation_id: string };
    return { a, b, conv };
  }

  const wsUrl = (h: Harness, conv: string, user: string): string => `${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?user_id=${user}`;

  test('an HTTP request sent to the other server is answered by the holder', async () => {
    const { b, conv } = await devPair();
    const posted = await fetch(`${b.url}/chat/conversations/${conv}/messages?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message_id: 'h1', content: 'over http via b' }),
    });
    expect(posted.status).toBe(201);
  });

  test('a WebSocket sent to the other server is piped to the holder and accepted there', async () => {
    const { a, b, conv } = await devPair();
    const alice = track(await connectClient(wsUrl(b, conv, 'alice')));
    expect(await alice.waitFor('connected')).toMatchObject({ conversation_id: conv, participant_id: 'alice' });
    alice.send({ type: 'message', message_id: 'via-b', content: 'through b' });
    const ack = await alice.waitFor('message_ack', (f) => f.message_id === 'via-b');

    const read = await fetch(`${b.url}/chat/conversations/${conv}/messages?after=0&limit=50&user_id=bob`);
    expect(read.status).toBe(200);
    const body = (await read.json()) as { messages: { message_id: string; sequence_id: number }[] };
    expect(body.messages.find((m) => m.message_id === 'via-b')?.sequence_id).toBe(ack.sequence_id);
    // The holder sequenced it; b never took the conversation.
    await expect(b.runtime.getConversation(conv)).rejects.toMatchObject({ code: 'CHAT_ERR_OWNED_ELSEWHERE' });
    expect((await a.runtime.getConversation(conv)).conversation_id).toBe(conv);
  });

  test("outside dev mode forwarding still tells the holder the client's address (X-Forwarded-For)", async () => {
    const store = new MemoryStore({ claims: true });
    const seen: (string | undefined)[] = [];
    // An embedder's authenticate (not dev mode) on both servers, noting what the holder is told.
    const authenticate: Authenticator = async (req) => {
      seen.push(req.headers['x-forwarded-for'] as string | undefined);
      const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user_id');
      return user === null ? undefined : { userId: user };
    };
    let aPort = 0;
    const proxy = await startTcpProxy(() => aPort);
    proxies.push(proxy);
    const ownership = (id: string, address: string) => ({
      server: { auth: { query_parameters: ['user_id'] } },
      chat: { ownership: { instance_id: id, address, forward: true } },
    });
    const a = await startHarness(ownership('a', proxy.url), { store, authenticate });
    aPort = Number(new URL(a.url).port);
    const b = await startHarness(ownership('b', 'ws://b.invalid'), { store, authenticate });
    const conv = await a.runtime.createConversation({
      title: 't',
      created_by: 'alice',
      participants: [{ participant_id: 'alice', participant_type: 'human', role: 'owner' }],
      autoJoinAgents: false,
    });
    seen.length = 0;
    track(await connectClient(wsUrl(b, conv.conversation_id, 'alice')));
    // b's own check (no header), then the holder's: told the client's loopback address.
    expect(seen).toEqual([undefined, '127.0.0.1']);
  });

  test("dev mode's own refusals still hold: a proxied request is refused by the first server, before any forwarding", async () => {
    const { b, conv } = await devPair();
    expect(await refusedAnswer(wsUrl(b, conv, 'alice'), { 'X-Forwarded-For': '203.0.113.9' })).toMatchObject({
      status: 401,
      body: { message: 'development authentication serves loopback requests only: this one came through a proxy (X-Forwarded-For)' },
    });
    const http = await fetch(`${b.url}/chat/conversations/${conv}?user_id=alice`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(http.status).toBe(401);
  });

  // Dev mode also takes the caller's name from the X-User-Id header instead of ?user_id= (docs/http-api.md): a request
  // forwarded to the holder must carry that header along, or the holder answered 401 "no user_id".
  test('a request naming its user by X-User-Id, sent to the other server, is answered by the holder as that user', async () => {
    const { b, conv } = await devPair();
    const posted = await fetch(`${b.url}/chat/conversations/${conv}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'alice' },
      body: JSON.stringify({ message_id: 'h1', content: 'via b, named by header' }),
    });
    expect({ status: posted.status, body: await posted.json() }).toMatchObject({
      status: 201,
      body: { message_id: 'h1', duplicate: false },
    });
    const read = await fetch(`${b.url}/chat/conversations/${conv}/messages?after=0`, { headers: { 'x-user-id': 'alice' } });
    expect(read.status).toBe(200);
    const page = (await read.json()) as { messages: { message_id: string; sender_id: string }[] };
    expect(page.messages.find((m) => m.message_id === 'h1')?.sender_id).toBe('alice');
  });
});
