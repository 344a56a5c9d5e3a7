import { REFUSAL_SUBPROTOCOL } from '../../client/protocol-frames';
import { MemoryStore } from '../../storage-providers';
import { startTcpProxy, type TcpProxy } from '../client/real-server';
import { closeAll, closedPort, startHarness, track, type Harness } from './harness';
import { connectClient, refusedStatus, upgradeOutcome } from './ws-test-client';

/**
 * `chat.ownership.forward`: a server asked for a conversation another server holds pipes the WebSocket to the
 * holder's address instead of refusing it, so clients that do not follow `owner_address` still chat. Two real
 * servers on one store; the holder's address is a TCP proxy made before it (it listens on port 0), which also
 * lets a test point an address at the wrong server.
 */
describe('forwarding a websocket to the server that holds its conversation', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
  });

  /**
   * Holder `a` and `b` with forwarding on. `a` publishes a proxy to `addressTarget()` (default: itself), or the
   * address given.
   */
  async function pair(addressTarget?: (() => number) | string): Promise<{ a: Harness; b: Harness; conv: string }> {
    const store = new MemoryStore({ claims: true });
    let aPort = 0;
    let aAddress = typeof addressTarget === 'string' ? addressTarget : '';
    if (typeof addressTarget !== 'string') {
      const proxy = await startTcpProxy(addressTarget ?? (() => aPort));
      proxies.push(proxy);
      aAddress = proxy.url;
    }
    const ownership = (id: string, address: string) => ({ chat: { ownership: { instance_id: id, address, forward: true } } });
    const a = await startHarness(ownership('a', aAddress), { store });
    aPort = Number(new URL(a.url).port);
    const b = await startHarness(ownership('b', 'ws://b.invalid'), { store });
    const conv = await a.createConversation('alice', ['bob']);
    return { a, b, conv };
  }

  test("a client of the other server chats with the holder through it, in one order with the holder's own clients", async () => {
    const { a, b, conv } = await pair();
    const bob = await a.connect(conv, 'bob');
    const alice = track(await connectClient(b.wsUrl(conv, 'alice')));
    const connected = await alice.waitFor('connected');
    expect(connected).toMatchObject({ conversation_id: conv, participant_id: 'alice' });

    alice.send({ type: 'message', message_id: 'via-b', content: 'through b' });
    const ack = await alice.waitFor('message_ack', (f) => f.message_id === 'via-b');
    const seen = await bob.waitFor('message', (f) => f.message.content === 'through b');
    expect(seen.message.sequence_id).toBe(ack.sequence_id);
    bob.send({ type: 'message', message_id: 'from-a', content: 'straight to a' });
    await alice.waitFor('message', (f) => f.message.content === 'straight to a');

    // The holder sequenced both; b never took the conversation.
    const history = await a.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'alice');
    const texts = history.body.messages.filter((m: { message_type: string }) => m.message_type === 'text');
    expect(texts.map((m: { content: string }) => m.content)).toEqual(['through b', 'straight to a']);
    await expect(b.runtime.getConversation(conv)).rejects.toMatchObject({ code: 'CHAT_ERR_OWNED_ELSEWHERE' });
  });

  test("HTTP requests for the conversation get the holder's answers through the other server", async () => {
    const { a, b, conv } = await pair();
    const posted = await b.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'h1',
      content: 'over http via b',
    });
    expect(posted.status).toBe(201);
    const read = await b.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'bob');
    expect(read.status).toBe(200);
    const atHolder = await a.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'bob');
    expect(read.body).toEqual(atHolder.body);
    expect(read.body.messages.find((m: { message_id: string }) => m.message_id === 'h1').sequence_id).toBe(posted.body.sequence_id);
    // The holder's refusals come back as they are: not a member, wrong method, a missing token.
    expect((await b.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=5`, 'mallory')).status).toBe(403);
    expect((await b.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=5`)).status).toBe(401);
  });

  test('the holder authenticates a forwarded client itself: a bad token is refused by it, through the pipe', async () => {
    const { b, conv } = await pair();
    const url = new URL(b.wsUrl(conv, 'alice'));
    url.searchParams.set('token', 'not-a-jwt');
    expect(await refusedStatus(url.toString())).toBe(401);
    // A non-member is refused by the holder as well.
    expect(await refusedStatus(b.wsUrl(conv, 'mallory'))).toBe(403);
  });

  test('one hop at most: an address that leads back to a forwarding server gets the refusal, not a loop', async () => {
    // a publishes an address that reaches b: b forwards there, b sees a forwarded request and refuses it.
    let bPort = 0;
    const { b, conv } = await pair(() => bPort);
    bPort = Number(new URL(b.url).port);
    const refused = await upgradeOutcome(b.wsUrl(conv, 'alice'), [REFUSAL_SUBPROTOCOL]);
    expect(refused.close.code).toBe(4421);
    const http = await b.request('GET', `/chat/conversations/${conv}`, 'alice');
    expect(http.status).toBe(421);
    expect(http.body).toMatchObject({ error: 'CHAT_ERR_OWNED_ELSEWHERE' });
  });

  test('a holder that cannot be reached: the refusal the client would have had without forwarding', async () => {
    const unreachable = `ws://127.0.0.1:${await closedPort()}`;
    const { b, conv } = await pair(unreachable);
    expect(await refusedStatus(b.wsUrl(conv, 'alice'))).toBe(421);
    expect(await upgradeOutcome(b.wsUrl(conv, 'alice'), [REFUSAL_SUBPROTOCOL])).toMatchObject({
      close: { code: 4421, reason: `CHAT_ERR_OWNED_ELSEWHERE ${unreachable}` },
    });
    expect((await b.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(421);
    // Not an address at all: refused the same way.
    const { b: b2, conv: conv2 } = await pair('chat-a.example.com:8000');
    expect(await refusedStatus(b2.wsUrl(conv2, 'alice'))).toBe(421);
  });

  test('closing the forwarding server closes its forwarded connections 1001, as its own (their clients reconnect)', async () => {
    const { b, conv } = await pair();
    const alice = track(await connectClient(b.wsUrl(conv, 'alice')));
    await alice.waitFor('connected');
    await b.server.close();
    expect(await alice.closed).toEqual({ code: 1001, reason: 'GATEWAY_ERR_SHUTTING_DOWN' });
  });
});
