/**
 * The refusal subprotocol behind a proxy that strips `Sec-WebSocket-Protocol` from the server's 101
 * (or in front of a gateway older than the subprotocol): a client offering it fails every handshake, in
 * Node's `ws` and in browsers alike. The reference client must fall back to offering nothing, keep
 * working, and remember it; and a plain outage must not leave it without the subprotocol for good.
 * The real server (MemoryStore, dev auth) throughout; the clients' timers run on a manual clock.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import {
  PRESENCE_BATCHES_SUBPROTOCOL,
  REFUSAL_SUBPROTOCOL,
  type ChatClient,
  type ChatClientEvents,
  type WebSocketConstructor,
} from '../../client';
import { startTcpProxy as startOutageProxy, type TcpProxy as OutageProxy } from '../recovery/tcp-proxy';
import { browserLikeWebSocket, openedSockets, recordingNodeWebSocket, type OpenedSockets } from './browser-like-websocket';
import { collectMessages, nextEvent } from './client-events';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
let clock: ManualClock;
const clients = testClients();
let proxies: (TcpProxy | OutageProxy)[];

beforeEach(async () => {
  clock = createManualClock();
  proxies = [];
  stack = await startRealStack();
  await stack.createConversation('conv', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  for (const p of proxies) await p.close();
  await stack.close();
});

function client(userId: string, url: string, WebSocketImpl: WebSocketConstructor): ChatClient {
  return clients.open(url, { conversationId: 'conv', userId, WebSocketImpl, clock });
}

async function strippingProxy(): Promise<TcpProxy> {
  const proxy = await startTcpProxy(stack.port, { stripSubprotocol: true });
  proxies.push(proxy);
  return proxy;
}

/** What ended the current attempt: `connected`, or a disconnect (so a failing test fails at once). */
function nextOutcome(
  c: ChatClient,
): Promise<['connected', ChatClientEvents['connected']] | ['disconnected', ChatClientEvents['disconnected']]> {
  return Promise.race([
    nextEvent(c, 'connected').then((e) => ['connected', e] as const),
    nextEvent(c, 'disconnected').then((e) => ['disconnected', e] as const),
  ]) as Promise<['connected', ChatClientEvents['connected']] | ['disconnected', ChatClientEvents['disconnected']]>;
}

async function post(sender: string, content: string): Promise<number> {
  return (await stack.runtime.post('conv', { sender_id: sender, message_id: `${sender}-${content}`, content })).sequence_id;
}

// What the client offers: the refusal subprotocol, with the presence-batches opt-in.
const OFFERED = [REFUSAL_SUBPROTOCOL, PRESENCE_BATCHES_SUBPROTOCOL];
const NONE = undefined;

describe.each([
  ['Node ws', recordingNodeWebSocket, 'Server sent no subprotocol'],
  ['a browser-like WebSocket', (opened: OpenedSockets) => browserLikeWebSocket(true, opened), ''],
])('behind a proxy that strips the subprotocol (%s)', (_name, makeImpl, handshakeFailure) => {
  test('connects on the second attempt, without the subprotocol; messages flow, resume works, reconnects do not offer it again', async () => {
    const proxy = await strippingProxy();
    const opened = openedSockets();
    const alice = client('alice', proxy.url, makeImpl(opened));
    const got = collectMessages(alice);
    const disconnects: ChatClientEvents['disconnected'][] = [];
    alice.on('disconnected', (e) => disconnects.push(e));

    const first = nextOutcome(alice);
    const reconnecting = nextEvent(alice, 'reconnecting');
    void alice.connect().catch(() => undefined);
    expect(await first).toEqual(['disconnected', { code: 1006, reason: handshakeFailure, willReconnect: true }]);
    expect(await reconnecting).toEqual({ attempt: 1, delayMs: 0, url: proxy.url });
    const second = nextOutcome(alice);
    clock.advance(0);
    expect(await second).toEqual(['connected', expect.objectContaining({ participantId: 'alice', reconnect: false })]);
    expect(opened.protocols).toEqual([OFFERED, NONE]);

    // An ordinary connection: our message is acknowledged, bob's arrives.
    expect(await alice.send('hello')).toMatchObject({ persisted: true, duplicate: false });
    const s1 = await post('bob', 'one');
    await got.waitFor(s1);

    // Dropped and resumed: the reconnect goes without the subprotocol at once (no failed handshake first).
    const cut = nextEvent(alice, 'reconnecting');
    proxy.cutAll();
    await cut;
    let last = 0;
    for (const c of ['two', 'three']) last = await post('bob', c);
    const resumed = nextOutcome(alice);
    clock.advance(0);
    expect(await resumed).toEqual(['connected', expect.objectContaining({ reconnect: true, resumedFrom: s1 })]);
    await got.waitFor(last);
    expect(got.seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(got.contents.slice(-4)).toEqual(['hello', 'one', 'two', 'three']);
    expect(opened.protocols).toEqual([OFFERED, NONE, NONE]);
    expect(disconnects.map((d) => d.code)).toEqual([1006, 1006]);
  });
});

test('Node ws behind the stripping proxy: a refusal after the fallback is the HTTP status mapped as before (403 → 4003, final)', async () => {
  const proxy = await strippingProxy();
  const opened = openedSockets();
  const mallory = client('mallory', proxy.url, recordingNodeWebSocket(opened));
  const reconnecting = nextEvent(mallory, 'reconnecting');
  void mallory.connect().catch(() => undefined);
  await reconnecting;
  const refused = nextOutcome(mallory);
  const closed = nextEvent(mallory, 'closed');
  clock.advance(0);
  expect(await refused).toEqual(['disconnected', { code: 4003, reason: 'Unexpected server response: 403', willReconnect: false }]);
  expect(await closed).toEqual({ code: 4003, reason: 'fatal close 4003: Unexpected server response: 403' });
  expect(opened.protocols).toEqual([OFFERED, NONE]);
  expect(clock.pendingTimers()).toBe(0);
});

test('an outage is not taken for a stripped subprotocol for good: failed attempts alternate, and a refusal is still coded', async () => {
  // No stripping here: the server is simply unreachable for a while (connections reset), and a
  // browser-like WebSocket cannot tell that from a failed handshake.
  const outage = await startOutageProxy({ host: '127.0.0.1', port: stack.port });
  proxies.push(outage);
  const opened = openedSockets();
  const alice = client('alice', `ws://127.0.0.1:${outage.port}`, browserLikeWebSocket(true, opened));
  const attempts: number[] = [];
  alice.on('reconnecting', (e) => attempts.push(e.attempt));
  await alice.connect();
  expect(opened.protocols).toEqual([OFFERED]);

  // Down: the drop of an open connection keeps the subprotocol, each failed handshake swaps.
  let scheduled = nextEvent(alice, 'reconnecting');
  outage.cut();
  await scheduled;
  for (let i = 0; i < 3; i++) {
    scheduled = nextEvent(alice, 'reconnecting');
    clock.advance(0);
    await scheduled;
  }
  expect(opened.protocols).toEqual([OFFERED, OFFERED, NONE, OFFERED]);

  // Back while the next attempt offers nothing: it connects, and later reconnects start without.
  outage.accept();
  const back = nextOutcome(alice);
  clock.advance(0);
  expect(await back).toEqual(['connected', expect.objectContaining({ reconnect: true })]);
  expect(opened.protocols.at(-1)).toBe(NONE);

  // Alice is removed while away. Without the subprotocol a browser sees her refusal as a bare 1006;
  // the attempt after it offers the subprotocol again and gets the coded close: one extra attempt, not
  // retries until maxRetries.
  scheduled = nextEvent(alice, 'reconnecting');
  outage.cut();
  await scheduled;
  await stack.runtime.leave('conv', 'alice');
  outage.accept();
  const hidden = nextOutcome(alice);
  clock.advance(0);
  expect(await hidden).toEqual(['disconnected', { code: 1006, reason: '', willReconnect: true }]);
  const closed = nextEvent(alice, 'closed');
  clock.advance(0);
  expect(await closed).toEqual({ code: 4003, reason: 'fatal close 4003: CHAT_ERR_NOT_PARTICIPANT' });
  expect(opened.protocols.slice(-2)).toEqual([NONE, OFFERED]);
  expect(clock.pendingTimers()).toBe(0);
});
