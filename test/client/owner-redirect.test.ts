/**
 * The reference client follows a conversation to the server that holds it: two real servers on one store,
 * the client pointed at the one that does not hold the conversation. The owner's address is a TCP proxy in
 * front of it, made before the owner so the address can go into its config (the owner listens on port 0).
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientEvents, ChatClientOptions } from '../../client/chat-client';
import { createOwnerRedirect } from '../../client/owner-redirect';
import { CLOSE_CODES } from '../../client/protocol-frames';
import { createUnreachableServers, UNREACHABLE_FOR_MS } from '../../client/unreachable-servers';
import { MemoryStore } from '../../storage-providers';
import { nextEvent } from './client-events';
import { closedPortUrl } from './closed-port';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

describe('createOwnerRedirect', () => {
  const refusal = (address: string) => `CHAT_ERR_OWNED_ELSEWHERE ${address}`;

  test('a 4421 naming an address sends the next attempt there; any other close sends it back to the entry point', () => {
    const r = createOwnerRedirect('ws://entry.example');
    expect(r.onClose(CLOSE_CODES.OWNED_ELSEWHERE, refusal('ws://owner.example:8000'))).toBe('ws://owner.example:8000');
    expect(r.base).toBe('ws://owner.example:8000');
    expect(r.onClose(1001, 'server shutting down')).toBeUndefined();
    expect(r.base).toBe('ws://entry.example');
    // 4421 without an address (a socket whose server lost the conversation): back to the entry point too.
    r.onClose(CLOSE_CODES.OWNED_ELSEWHERE, refusal('ws://owner.example'));
    expect(r.onClose(CLOSE_CODES.OWNED_ELSEWHERE, 'CHAT_ERR_OWNED_ELSEWHERE')).toBeUndefined();
    expect(r.base).toBe('ws://entry.example');
    // The same text under another close code is not a refusal.
    expect(r.onClose(4003, refusal('ws://owner.example'))).toBeUndefined();
  });

  test('never from TLS to plain text, never to another scheme or a non-URL, and only what the predicate accepts', () => {
    const secure = createOwnerRedirect('wss://entry.example');
    expect(secure.onClose(4421, refusal('ws://owner.example'))).toBeUndefined();
    expect(secure.onClose(4421, refusal('http://owner.example'))).toBeUndefined();
    expect(secure.onClose(4421, refusal('https://owner.example'))).toBe('https://owner.example');

    const plain = createOwnerRedirect('ws://entry.example');
    expect(plain.onClose(4421, refusal('javascript:alert(1)'))).toBeUndefined();
    expect(plain.onClose(4421, refusal('not a url'))).toBeUndefined();
    expect(plain.onClose(4421, refusal('wss://owner.example'))).toBe('wss://owner.example');

    const own = createOwnerRedirect('ws://entry.example', (address) => new URL(address).hostname.endsWith('.chat.example'));
    expect(own.onClose(4421, refusal('ws://evil.example'))).toBeUndefined();
    expect(own.onClose(4421, refusal('ws://b.chat.example'))).toBe('ws://b.chat.example');
    expect(createOwnerRedirect('ws://entry.example', false).onClose(4421, refusal('ws://b.example'))).toBeUndefined();
  });

  test('a server marked unreachable is not followed, in any spelling, until the mark ends', () => {
    let now = 0;
    const unreachable = createUnreachableServers(() => now);
    const r = createOwnerRedirect('ws://entry.example', true, unreachable);
    expect(r.onClose(4421, refusal('ws://dead.example'))).toBe('ws://dead.example');
    expect(r.following).toBe(true);
    unreachable.add('ws://dead.example'); // what the connection loop does when the followed owner's handshake fails
    expect(r.onClose(1006, '')).toBeUndefined();
    expect(r.onClose(4421, refusal('ws://dead.example'))).toBeUndefined();
    expect(r.onClose(4421, refusal('http://DEAD.example:80/'))).toBeUndefined();
    expect(r.onClose(4421, refusal('ws://other.example'))).toBe('ws://other.example');
    // A healthy connection clears the marks (the loop), and so does time: a killed server may be back.
    unreachable.clear();
    expect(r.onClose(4421, refusal('ws://dead.example'))).toBe('ws://dead.example');
    unreachable.add('ws://dead.example');
    r.onConnected();
    now += UNREACHABLE_FOR_MS - 1;
    expect(r.onClose(4421, refusal('ws://dead.example'))).toBeUndefined();
    now += 1;
    expect(r.onClose(4421, refusal('ws://dead.example'))).toBe('ws://dead.example');
  });

  test('the entry point may move (the current server of a list): a close that follows no owner goes back to the current one', () => {
    let entry = 'ws://a.example';
    const r = createOwnerRedirect(() => entry);
    expect(r.onClose(4421, refusal('ws://owner.example'))).toBe('ws://owner.example');
    entry = 'ws://b.example';
    expect(r.base).toBe('ws://owner.example');
    expect(r.onClose(1001, 'GATEWAY_ERR_SHUTTING_DOWN')).toBeUndefined();
    expect([r.base, r.following]).toEqual(['ws://b.example', false]);
    // Named back to the entry point itself: no owner is being followed there.
    expect(r.onClose(4421, refusal('ws://c.example'))).toBe('ws://c.example');
    expect(r.onClose(4421, refusal('ws://b.example'))).toBe('ws://b.example');
    expect(r.following).toBe(false);
  });

  test('two servers naming each other (a conversation moving) stop being followed after 3 hops until a connection is made', () => {
    const r = createOwnerRedirect('ws://a.example');
    expect(r.onClose(4421, refusal('ws://b.example'))).toBe('ws://b.example');
    expect(r.onClose(4421, refusal('ws://a.example'))).toBe('ws://a.example');
    expect(r.onClose(4421, refusal('ws://b.example'))).toBe('ws://b.example');
    expect(r.onClose(4421, refusal('ws://a.example'))).toBeUndefined();
    expect(r.base).toBe('ws://a.example');
    r.onConnected();
    expect(r.onClose(4421, refusal('ws://b.example'))).toBe('ws://b.example');
  });
});

describe('two real servers on one store', () => {
  let store: MemoryStore;
  let owner: RealStack;
  let other: RealStack;
  let ownerAddress: TcpProxy;
  let clock: ManualClock;
  const clients = testClients();

  beforeEach(async () => {
    clock = createManualClock();
    store = new MemoryStore({ claims: true });
    await store.open();
    let ownerPort = 0;
    ownerAddress = await startTcpProxy(() => ownerPort);
    const ownership = (id: string, address: string) => ({ chat: { ownership: { instance_id: id, address } } });
    owner = await startRealStack({ store, config: ownership('owner', ownerAddress.url) });
    ownerPort = owner.port;
    other = await startRealStack({ store, config: ownership('other', 'ws://other.invalid') });
    // Created on the owner: its runtime claims the conversation, with its address.
    await owner.createConversation('conv', ['alice', 'bob']);
  });

  afterEach(async () => {
    clients.closeAll();
    await ownerAddress.close();
    await owner.close();
    await other.close();
    await store.close();
  });

  function client(extra: Partial<ChatClientOptions> = {}): ChatClient {
    return clients.open(other.wsUrl, { conversationId: 'conv', userId: 'alice', clock, random: () => 0.5, ...extra });
  }

  test('a client pointed at the other server is sent to the owner at once and chats there', async () => {
    const c = client();
    const redirected = nextEvent(c, 'redirected');
    const reconnecting = nextEvent(c, 'reconnecting');
    const connected = c.connect();
    expect(await redirected).toEqual({ ownerAddress: ownerAddress.url });
    expect((await reconnecting).delayMs).toBe(0);
    clock.advance(0);
    const info = await connected;
    expect(info.participantId).toBe('alice');

    const ack = await c.send('hello owner');
    const history = await owner.runtime.readMessages('conv', 0, 50, 'alice');
    expect(history.find((m) => m.sequence_id === ack.sequence_id)?.content).toBe('hello owner');
    // The other server never took the conversation: it still refuses it.
    await expect(other.runtime.post('conv', { sender_id: 'bob', message_id: 'b1', content: 'x' })).rejects.toMatchObject({
      code: 'CHAT_ERR_OWNED_ELSEWHERE',
    });
  });

  test('several urls, the first down: the next one at once, and its refusal followed to the owner at once', async () => {
    const c = clients.open([await closedPortUrl(), other.wsUrl], { conversationId: 'conv', userId: 'alice', clock, random: () => 0.5 });
    const plans: ChatClientEvents['reconnecting'][] = [];
    c.on('reconnecting', (r) => plans.push(r));
    const planned = (n: number): Promise<unknown> =>
      plans.length >= n ? Promise.resolve() : nextEvent(c, 'reconnecting', () => plans.length >= n);
    const connected = c.connect();
    await planned(1);
    clock.advance(0);
    await planned(2);
    clock.advance(0);
    expect(await connected).toMatchObject({ url: ownerAddress.url, reconnect: false });
    expect(plans).toEqual([
      { attempt: 1, delayMs: 0, url: other.wsUrl },
      { attempt: 2, delayMs: 0, url: ownerAddress.url },
    ]);
  });

  test('followOwner: false keeps retrying the entry point with backoff', async () => {
    const c = client({ followOwner: false });
    let redirects = 0;
    c.on('redirected', () => (redirects += 1));
    const disconnected = nextEvent(c, 'disconnected');
    const reconnecting = nextEvent(c, 'reconnecting');
    void c.connect().catch(() => undefined);
    expect(await disconnected).toMatchObject({ code: CLOSE_CODES.OWNED_ELSEWHERE, willReconnect: true });
    expect((await reconnecting).delayMs).toBe(500);
    expect(redirects).toBe(0);
  });

  test('an owner that cannot be reached is tried once: then the entry point again, with backoff and the subprotocol still offered', async () => {
    // The owner's server is gone but its runtime still holds the claim (a server killed before its claims expire).
    await owner.stopServer();
    const c = client();
    let redirects = 0;
    c.on('redirected', () => (redirects += 1));
    const closes: number[] = [];
    c.on('disconnected', (d) => closes.push(d.code));
    const delays: number[] = [];
    c.on('reconnecting', (r) => delays.push(r.delayMs));
    void c.connect().catch(() => undefined);

    await nextEvent(c, 'redirected');
    clock.advance(0); // the followed owner: the TCP connection is refused behind its address
    const backToEntry = await nextEvent(c, 'reconnecting', (r) => r.delayMs > 0);
    clock.advance(backToEntry.delayMs);
    // The entry point refuses again naming the dead owner: on the subprotocol (4421, not the 1013 a plain 421 maps
    // to), and not followed this time.
    await nextEvent(c, 'reconnecting', () => closes.length >= 3);
    expect(closes.slice(0, 3)).toEqual([4421, 1006, 4421]);
    expect(redirects).toBe(1);
    expect(delays[0]).toBe(0);
    expect(delays.slice(1).every((d) => d > 0)).toBe(true);
  });

  test('when the owner stops, the client goes back to its entry point, which now takes the conversation', async () => {
    const c = client({ backoff: { initialMs: 10 } });
    const first = c.connect();
    await nextEvent(c, 'redirected');
    clock.advance(0);
    await first;
    await c.send('before the move');

    const back = nextEvent(c, 'connected', (info) => info.reconnect);
    const disconnected = nextEvent(c, 'disconnected');
    const retry = nextEvent(c, 'reconnecting');
    await owner.stopServer();
    await owner.runtime.close({ deadlineMs: 2000 });
    expect((await disconnected).code).toBe(1001);
    // The client's clock stands still until the owner has released its claim: the retry goes to the entry point.
    clock.advance((await retry).delayMs);
    await back;
    const ack = await c.send('after the move');
    // Sequenced by the entry point's server now, after what the owner stored.
    const history = await other.runtime.readMessages('conv', 0, 50, 'alice');
    const contents = history.filter((m) => m.sender_id === 'alice' && m.message_type === 'text').map((m) => m.content);
    expect(contents).toEqual(['before the move', 'after the move']);
    expect(history.at(-1)?.sequence_id).toBe(ack.sequence_id);
  });
});
