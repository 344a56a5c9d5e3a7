/**
 * The reference client given several server urls (client/entry-points.ts), against scripted `ws` servers and TCP
 * servers that reset every connection, on a manual clock: which closes leave a server for the next one at once, which
 * retry the same one with backoff, when the backoff waits (every server failed since the last connection or wait),
 * and what maxRetries counts then. failover.test.ts runs two real servers on one store.
 */
import net from 'node:net';
import { createManualClock, type ManualClock } from '../../actors/clock';
import { createChatClient, type ChatClient, type ChatClientOptions } from '../../client/chat-client';
import { createEntryPoints, entryPointList, isServerGone } from '../../client/entry-points';
import { createUnreachableServers, UNREACHABLE_FOR_MS } from '../../client/unreachable-servers';
import { REFUSAL_SUBPROTOCOL, TOKEN_EXPIRED_CLOSE_REASON } from '../../client/protocol-frames';
import { nextEvent } from './client-events';
import { connectedFrame, messageFrame, startScriptedServer, type ScriptedServer } from './scripted-ws-server';
import { testClients } from './test-clients';

let clock: ManualClock;
const clients = testClients();
let closers: (() => Promise<void>)[];

beforeEach(() => {
  clock = createManualClock();
  closers = [];
});

afterEach(async () => {
  clients.closeAll();
  for (const close of closers.splice(0)) await close();
});

async function scripted(): Promise<ScriptedServer> {
  const server = await startScriptedServer();
  closers.push(() => server.close());
  return server;
}

/** A server that is down: every TCP connection is reset before any handshake (a closed port could be reused meanwhile). */
async function deadServerUrl(): Promise<string> {
  const reset = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => reset.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => reset.close(() => resolve())));
  return `ws://127.0.0.1:${(reset.address() as net.AddressInfo).port}`;
}

function client(urls: readonly string[], extra: Partial<ChatClientOptions> = {}): ChatClient {
  return clients.open(urls, { conversationId: 'c1', userId: 'alice', clock, ...extra });
}

describe('the rules', () => {
  test('a list of one behaves as a single url; the round ends when every server failed once; RangeError for no server', () => {
    expect(entryPointList('ws://a')).toEqual(['ws://a']);
    expect(() => entryPointList([])).toThrow(RangeError);
    expect(() => entryPointList(['ws://a', ''])).toThrow(RangeError);
    expect(() => client([])).toThrow(RangeError);

    const one = createEntryPoints(['ws://a']);
    expect(one.moveOn()).toBe(false);
    expect(one.current).toBe('ws://a');

    const three = createEntryPoints(['ws://a', 'ws://b', 'ws://c']);
    expect([three.moveOn(), three.current]).toEqual([true, 'ws://b']);
    expect([three.moveOn(), three.current]).toEqual([true, 'ws://c']);
    expect([three.moveOn(), three.current]).toEqual([false, 'ws://a']);
    three.newRound();
    expect([three.moveOn(), three.current]).toEqual([true, 'ws://b']);
    // A connection in between (or a wait) starts the count again.
    three.newRound();
    expect([three.moveOn(), three.moveOn(), three.moveOn()]).toEqual([true, true, false]);
  });

  test('a server marked unreachable is left out while the current one answers; when none answers, the list order is kept', () => {
    let now = 0;
    const unreachable = createUnreachableServers(() => now);
    const three = createEntryPoints(['ws://a', 'ws://b', 'ws://c'], unreachable);
    unreachable.add('ws://a'); // refused: the next one at once, as before
    expect([three.moveOn(), three.current]).toEqual([true, 'ws://b']);
    // b answers (a coded refusal): c, the one not yet tried; c answers too: a is left out, the wait starts at b.
    expect([three.moveOn(), three.current]).toEqual([true, 'ws://c']);
    expect([three.moveOn(), three.current]).toEqual([false, 'ws://b']);

    const two = createEntryPoints(['ws://dead', 'ws://live'], unreachable);
    unreachable.add('ws://dead');
    expect([two.moveOn(), two.current]).toEqual([true, 'ws://live']);
    // The live one refuses for now (a 4421 naming the dead one): it stays current, after the backoff.
    expect([two.moveOn(), two.current]).toEqual([false, 'ws://live']);
    two.newRound();
    expect([two.moveOn(), two.current]).toEqual([false, 'ws://live']);
    // The mark runs out: the dead one may be back.
    now += UNREACHABLE_FOR_MS;
    two.newRound();
    expect([two.moveOn(), two.current]).toEqual([true, 'ws://dead']);

    // Nothing answers: every server marked, the order of the list as without marks (a, b at once, wait, a, b ...).
    const down = createEntryPoints(['ws://x', 'ws://y'], unreachable);
    unreachable.add('ws://x');
    expect([down.moveOn(), down.current]).toEqual([true, 'ws://y']);
    unreachable.add('ws://y');
    expect([down.moveOn(), down.current]).toEqual([false, 'ws://x']);
    down.newRound();
    expect([down.moveOn(), down.current]).toEqual([true, 'ws://y']);
    // A socket opened to x since (reached): no longer left out, the next round starts there.
    unreachable.reached('ws://x');
    expect([down.moveOn(), down.current]).toEqual([false, 'ws://x']);
  });

  test('a url given twice is one server: a round is not two attempts at it, and the first place of each url keeps the order', () => {
    expect(entryPointList(['ws://a', 'ws://b', 'ws://a', 'ws://b', 'ws://c'])).toEqual(['ws://a', 'ws://b', 'ws://c']);
    const twice = createEntryPoints(entryPointList(['ws://a', 'ws://a']));
    // Gone: with one server, the backoff, not a second attempt at once at the server that just failed.
    expect([twice.moveOn(), twice.current]).toEqual([false, 'ws://a']);
  });

  test('spellings of one server are one entry, the first spelling kept; another port, path or host is another server', () => {
    const spellings = ['ws://a', 'ws://a/', 'WS://A:80', 'http://a', 'HTTP://a:80//', 'ws://A/'];
    expect(entryPointList(spellings)).toEqual(['ws://a']);
    expect(entryPointList(['https://Chat.Example.com:443/', 'wss://chat.example.com', 'WSS://CHAT.example.com/'])).toEqual([
      'https://Chat.Example.com:443/',
    ]);
    expect(entryPointList(['ws://a/chat/', 'http://A/chat', 'ws://a/chat//'])).toEqual(['ws://a/chat/']);
    const apart = ['ws://a', 'ws://a:8080', 'ws://a:443', 'wss://a', 'wss://a:80', 'ws://a/x', 'ws://a/y', 'ws://b'];
    expect(entryPointList(apart)).toEqual(apart);
    // A server given twice in two spellings fails once per round, then the backoff: no second attempt at once.
    const twice = createEntryPoints(entryPointList(['ws://a', 'http://A:80/']));
    expect([twice.moveOn(), twice.current]).toEqual([false, 'ws://a']);
  });

  test('an address the URL class cannot parse is kept, as before (its WebSocket constructor fails when it is tried)', async () => {
    expect(entryPointList(['not a url', 'ws://a', 'not a url', '//a'])).toEqual(['not a url', 'ws://a', '//a']);
    const a = await scripted();
    const c = client(['not a url', a.url], { maxRetries: 0 });
    const failed = nextEvent(c, 'error');
    const next = nextEvent(c, 'reconnecting');
    const connected = c.connect();
    connected.catch(() => undefined); // awaited below
    expect(await failed).toMatchObject({ code: 'CLIENT_CONNECT_FAILED' });
    expect(await next).toEqual({ attempt: 1, delayMs: 0, url: a.url });
    clock.advance(0);
    (await a.connection(0)).send(connectedFrame(0));
    expect(await connected).toMatchObject({ url: a.url });
  });

  test('a url naming no address a WebSocket can open is refused at once, not retried for ever without a word', () => {
    // `url: '127.0.0.1:8000'` (no scheme) used to make connect() wait for ever: each attempt's constructor threw, and the
    // application saw only "reconnecting". Nothing in such a list could ever connect.
    const named = 'url: "127.0.0.1:8000" names no ws://, wss://, http:// or https:// address (e.g. ws://127.0.0.1:8000)';
    expect(() => entryPointList('127.0.0.1:8000')).toThrow(new RangeError(named));
    expect(() => createChatClient({ url: '127.0.0.1:8000', conversationId: 'c', userId: 'alice' })).toThrow(new RangeError(named));
    expect(() => entryPointList(['localhost:8000', 'ftp://a'])).toThrow(
      new RangeError('url: "localhost:8000", "ftp://a" names no ws://, wss://, http:// or https:// address (e.g. ws://127.0.0.1:8000)'),
    );
    // A JavaScript caller without the option is told so, not "url is not iterable".
    expect(() => entryPointList(undefined as unknown as string)).toThrow(
      new RangeError('url: a server address, or a non-empty list of them'),
    );
    for (const ok of ['ws://a', 'WSS://a:1/x', 'http://127.0.0.1:8000', 'https://chat.example.com/base/'])
      expect(entryPointList(ok)).toEqual([ok]);
  });

  test('closes about the client (token expired, slow consumer) keep the server; every other retriable close leaves it', () => {
    for (const code of [1001, 1006, 1011, 1012, 1013, 4000, 4421]) expect(isServerGone(code, '')).toBe(true);
    expect(isServerGone(4008, 'GATEWAY_ERR_SLOW_CONSUMER')).toBe(false);
    expect(isServerGone(4001, TOKEN_EXPIRED_CLOSE_REASON)).toBe(false);
  });
});

describe('against scripted servers', () => {
  test('the first url down: the second is tried at once (maxRetries 0 allows it), offered the refusal subprotocol', async () => {
    const dead = await deadServerUrl();
    const a = await scripted();
    const c = client([dead, a.url], { maxRetries: 0 });
    const connected = c.connect();
    connected.catch(() => undefined); // awaited below; a failed step must not leave it rejected unhandled
    expect(await nextEvent(c, 'reconnecting')).toEqual({ attempt: 1, delayMs: 0, url: a.url });
    clock.advance(0);
    const conn = await a.connection(0);
    // The dead server's failed handshake changed what the client offers there, not here (a proxy fronts one address).
    expect(conn.ws.protocol).toBe(REFUSAL_SUBPROTOCOL);
    conn.send(connectedFrame(0));
    expect(await connected).toMatchObject({ url: a.url, reconnect: false });
  });

  test('gone servers are left at once; the backoff waits once per round; a close about the client retries the same server', async () => {
    const a = await scripted();
    const b = await scripted();
    // Every `connected` counts as a healthy connection here (healthyAfterMs 0): this is about rounds, and the 1 s
    // heartbeat would end a connection kept open 10 s. Connections that close sooner: flapping-servers.test.ts.
    const c = client([a.url, b.url], { random: () => 0.5, pingIntervalMs: 1000, healthyAfterMs: 0 });
    const reconnectings: { attempt: number; delayMs: number; url: string }[] = [];
    c.on('reconnecting', (r) => reconnectings.push(r));
    /** Ends `conn` with `code` and returns the next attempt's plan. */
    const closeWith = async (conn: Awaited<ReturnType<ScriptedServer['connection']>>, code: number, reason = '') => {
      const next = nextEvent(c, 'reconnecting');
      await conn.close(code, reason);
      return next;
    };

    const first = c.connect();
    const a0 = await a.connection(0);
    a0.send(connectedFrame(0));
    await first;
    // Shutdown: b at once, resuming from where a left off.
    a0.send(messageFrame(1));
    a0.send(messageFrame(2));
    await nextEvent(c, 'message', (m) => m.sequence_id === 2);
    expect(await closeWith(a0, 1001, 'GATEWAY_ERR_SHUTTING_DOWN')).toEqual({ attempt: 1, delayMs: 0, url: b.url });
    clock.advance(0);
    const b0 = await b.connection(0);
    expect(b0.url.searchParams.get('last_sequence_id')).toBe('2');
    const onB = nextEvent(c, 'connected');
    b0.send(connectedFrame(2));
    expect(await onB).toMatchObject({ url: b.url, reconnect: true });

    // A slow consumer is this client's doing: b again, after the backoff (half the 1 s cap: random 0.5).
    expect(await closeWith(b0, 4008, 'GATEWAY_ERR_SLOW_CONSUMER')).toEqual({ attempt: 1, delayMs: 500, url: b.url });
    clock.advance(499);
    expect(b.connections).toHaveLength(1);
    clock.advance(1);
    const b1 = await b.connection(1);
    b1.send(connectedFrame(2));
    await nextEvent(c, 'connected');

    // Heartbeat death (nothing from b for two ping intervals): a at once.
    const dropped = nextEvent(c, 'reconnecting');
    clock.advance(2000);
    expect(await dropped).toEqual({ attempt: 1, delayMs: 0, url: a.url });
    clock.advance(0);
    // b failed, and now a refuses the conversation without naming an owner: both failed, so the backoff waits.
    const a1 = await a.connection(1);
    expect(a1.url.searchParams.get('last_sequence_id')).toBe('2');
    expect(await closeWith(a1, 4421, 'CHAT_ERR_OWNED_ELSEWHERE')).toEqual({ attempt: 2, delayMs: 500, url: b.url });
    clock.advance(500);
    // The second round: b refusing for now, a restarting; the wait after it is the backoff's second (cap 2 s).
    expect(await closeWith(await b.connection(2), 1013, 'STORAGE_ERR_UNAVAILABLE')).toEqual({ attempt: 3, delayMs: 0, url: a.url });
    clock.advance(0);
    expect(await closeWith(await a.connection(2), 1012)).toEqual({ attempt: 4, delayMs: 1000, url: b.url });
    clock.advance(999);
    expect(b.connections).toHaveLength(3);
    clock.advance(1);
    // The third: b's internal error sends the client to a at once, which serves.
    expect(await closeWith(await b.connection(3), 1011, 'GATEWAY_ERR_INTERNAL')).toEqual({ attempt: 5, delayMs: 0, url: a.url });
    clock.advance(0);
    const a3 = await a.connection(3);
    a3.send(connectedFrame(2));
    expect(await nextEvent(c, 'connected')).toMatchObject({ url: a.url, reconnect: true });
    expect(reconnectings.map((r) => r.url)).toEqual([b.url, b.url, a.url, b.url, a.url, b.url, a.url]);
  });

  test('a token that expired is renewed at the same server; maxRetries counts rounds: with two servers down, 2 waits, 5 attempts', async () => {
    const a = await scripted();
    const b = await scripted();
    const c = client([a.url, b.url], { random: () => 0.5, token: () => 'fresh' });
    const first = c.connect();
    const a0 = await a.connection(0);
    a0.send(connectedFrame(0));
    await first;
    const renewed = nextEvent(c, 'reconnecting');
    await a0.close(4001, TOKEN_EXPIRED_CLOSE_REASON);
    expect(await renewed).toEqual({ attempt: 1, delayMs: 500, url: a.url });

    const dead = [await deadServerUrl(), await deadServerUrl()];
    const d = client(dead, { random: () => 0.9999999, maxRetries: 2 });
    const plans: { attempt: number; delayMs: number; url: string }[] = [];
    d.on('reconnecting', (r) => plans.push(r));
    const ended = d.connect().catch((err: Error) => err);
    const closed = nextEvent(d, 'closed');
    for (let n = 1; n <= 5; n++) {
      if (plans.length < n) await nextEvent(d, 'reconnecting', () => plans.length >= n);
      const { delayMs } = plans[n - 1]!;
      if (delayMs > 0) {
        clock.advance(delayMs - 1);
        expect(plans).toHaveLength(n); // not one millisecond early: the attempt is not even made
      }
      clock.advance(Math.min(1, delayMs));
    }
    expect(await closed).toMatchObject({ reason: 'gave up after 5 failed attempts' });
    expect(plans).toEqual([
      { attempt: 1, delayMs: 0, url: dead[1] },
      { attempt: 2, delayMs: 1000, url: dead[0] },
      { attempt: 3, delayMs: 0, url: dead[1] },
      { attempt: 4, delayMs: 2000, url: dead[0] },
      { attempt: 5, delayMs: 0, url: dead[1] },
    ]);
    expect(await ended).toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
