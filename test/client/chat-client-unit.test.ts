/**
 * The reference client's own logic (backoff, outbox, dedup, ordering, 429, fatal closes) against a
 * real `ws` server on loopback that each test scripts frame by frame. Time is a manual clock.
 */
import net from 'node:net';
import { WebSocket } from 'ws';
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientOptions, ConnectedInfo, WebSocketConstructor } from '../../client/chat-client';
import { DEFAULT_SERVER_LIMITS } from '../../client/message-limits';
import { collectMessages, nextEvent } from './client-events';
import { connectedFrame, messageFrame, startScriptedServer, type ScriptedServer } from './scripted-ws-server';
import { testClients } from './test-clients';

let server: ScriptedServer;
let clock: ManualClock;
const clients = testClients();
let created: string[];
let closers: (() => Promise<void>)[];

/** Counts constructions synchronously, so a test can assert no reconnect happened yet. */
class CountingWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    created.push(url);
  }
}

function makeClient(extra: Partial<ChatClientOptions> = {}): ChatClient {
  return clients.open(server.url, {
    conversationId: 'c1',
    userId: 'alice',
    WebSocketImpl: CountingWebSocket as unknown as WebSocketConstructor,
    clock,
    generateId: (() => {
      let n = 0;
      return () => `client-msg-${++n}`;
    })(),
    ...extra,
  });
}

beforeEach(async () => {
  server = await startScriptedServer();
  clock = createManualClock();
  created = [];
  closers = [];
});

afterEach(async () => {
  clients.closeAll();
  await server.close();
  for (const close of closers) await close();
});

const isType = (t: string) => (f: Record<string, unknown>) => f['type'] === t;

type ScriptedConnection = Awaited<ReturnType<ScriptedServer['connection']>>;

/** A new client, connected on the server's first connection. */
async function connectedClient(extra: Partial<ChatClientOptions> = {}): Promise<{ client: ChatClient; conn: ScriptedConnection }> {
  const client = makeClient(extra);
  const connected = client.connect();
  const conn = await server.connection(0);
  conn.send(connectedFrame(0));
  await connected;
  return { client, conn };
}

/** Closes `conn` (1001: the client reconnects) and answers the client's next attempt with `connected`. */
async function reconnect(client: ChatClient, conn: ScriptedConnection, index: number, lastSequenceId: number): Promise<ScriptedConnection> {
  const reconnecting = nextEvent(client, 'reconnecting');
  await conn.close(1001, 'shutdown');
  await reconnecting;
  clock.advance(0);
  const next = await server.connection(index);
  next.send(connectedFrame(lastSequenceId));
  return next;
}

/**
 * Where every attempt fails before `connected`: a TCP server of ours that resets each connection
 * (a closed port could be taken by a parallel test meanwhile).
 */
async function resettingServerUrl(): Promise<string> {
  const reset = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => reset.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => reset.close(() => resolve())));
  return `ws://127.0.0.1:${(reset.address() as net.AddressInfo).port}`;
}

describe('backoff', () => {
  test('reconnect delays double from 1 s and are capped at 30 s; the client gives up after maxRetries', async () => {
    const deadUrl = await resettingServerUrl();
    const client = makeClient({
      url: deadUrl,
      random: () => 0.9999999,
      maxRetries: 8,
    });
    const connectResult = client.connect().catch((err: Error) => err);
    const expected = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
    for (const [i, delay] of expected.entries()) {
      const ev = await nextEvent(client, 'reconnecting');
      expect(ev).toEqual({ attempt: i + 1, delayMs: delay, url: deadUrl });
      const before = created.length;
      clock.advance(delay - 1);
      expect(created.length).toBe(before); // not one millisecond early
      clock.advance(1);
      expect(created.length).toBe(before + 1);
    }
    const closed = await nextEvent(client, 'closed');
    expect(closed.reason).toMatch(/gave up after 8/);
    expect(client.state).toBe('closed');
    expect(await connectResult).toMatchObject({ code: 'CLIENT_CLOSED' });
    expect(created.length).toBe(9);
  });

  test('maxRetries Infinity keeps trying at the 30 s cap; reconnectNow() cuts the wait short and cancels the old timer', async () => {
    const deadUrl = await resettingServerUrl();
    const client = makeClient({
      url: deadUrl,
      random: () => 0.9999999,
      maxRetries: Infinity,
    });
    expect(client.reconnectNow()).toBe(false); // idle: nothing to cut short
    client.connect().catch(() => undefined);
    let last = await nextEvent(client, 'reconnecting');
    for (let attempt = 2; attempt <= 14; attempt++) {
      const next = nextEvent(client, 'reconnecting');
      clock.advance(last.delayMs);
      last = await next;
    }
    expect(last).toEqual({ attempt: 14, delayMs: 30_000, url: deadUrl });
    expect(client.state).toBe('reconnecting');

    // A third of the wait passed; "retry now" opens a socket at once, without the clock moving.
    clock.advance(10_000);
    const before = created.length;
    const after = nextEvent(client, 'reconnecting');
    expect(client.reconnectNow()).toBe(true);
    expect(created.length).toBe(before + 1);
    // That attempt failed too and waits its own backoff: the old timer (due 20 s from now) no longer fires.
    expect(await after).toEqual({ attempt: 15, delayMs: 30_000, url: deadUrl });
    expect(client.reconnectNow()).toBe(true);
    expect(created.length).toBe(before + 2);
    await nextEvent(client, 'reconnecting');
    clock.advance(29_999);
    expect(created.length).toBe(before + 2);
    clock.advance(1);
    expect(created.length).toBe(before + 3);
    // An attempt in flight is not doubled.
    expect(client.reconnectNow()).toBe(false);
    expect(created.length).toBe(before + 3);
    client.close();
    expect(client.reconnectNow()).toBe(false);
  });

  test('reconnectNow() on an open client does nothing', async () => {
    const { client } = await connectedClient();
    expect(client.reconnectNow()).toBe(false);
    expect(created).toHaveLength(1);
    expect(client.state).toBe('open');
  });

  test('full jitter draws uniformly below the cap; a connection that stayed open healthyAfterMs resets the sequence', async () => {
    const client = makeClient({ random: () => 0.5 });
    const connected = client.connect();
    (await server.connection(0)).send(connectedFrame(0));
    await connected;
    for (const [i, delay] of [500, 1000, 2000].entries()) {
      const conn = await server.connection(i);
      const reconnecting = nextEvent(client, 'reconnecting');
      await conn.close(1001, 'shutdown');
      expect(await reconnecting).toEqual({ attempt: i + 1, delayMs: delay, url: server.url });
      clock.advance(delay);
    }
    // The 4th connection succeeds and stays open 10 s (the default healthyAfterMs): the next drop starts again at the
    // first cap. One that closes sooner is another failed attempt (flapping-servers.test.ts).
    const fourth = await server.connection(3);
    const again = nextEvent(client, 'connected');
    fourth.send(connectedFrame(0));
    expect((await again).reconnect).toBe(true);
    clock.advance(10_000);
    const reconnecting = nextEvent(client, 'reconnecting');
    await fourth.close(4008, 'slow consumer');
    expect(await reconnecting).toEqual({ attempt: 1, delayMs: 500, url: server.url });
  });
});

describe('ordered, deduplicated delivery', () => {
  test('duplicates are dropped, out-of-order records are buffered, a gap triggers one sync', async () => {
    const client = makeClient();
    const got = collectMessages(client);
    const connected = client.connect();
    const conn = await server.connection(0);
    expect(conn.url.pathname).toBe('/chat/ws/c1');
    expect(conn.url.searchParams.get('user_id')).toBe('alice');
    expect(conn.url.searchParams.get('last_sequence_id')).toBe('0');
    conn.send(connectedFrame(0));
    await connected;
    for (const seq of [1, 2, 2, 1, 4, 6]) conn.send(messageFrame(seq));
    const sync = await conn.nextFrame(isType('sync'));
    expect(sync).toEqual({ type: 'sync', last_sequence_id: 2, last_message_id: 'm2', last_sender_id: 'bob' }); // names its last record
    // The server replays from 3 (repeating 4), then continues live.
    for (const seq of [3, 4, 5, 6, 7]) conn.send(messageFrame(seq));
    conn.send({ type: 'sync_complete', from: 3, to: 6, recovered: true });
    await got.waitFor(7);
    expect(got.seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(client.lastSequenceId).toBe(7);
    expect(client.duplicatesDropped).toBe(4);
    expect(conn.frames.filter(isType('sync'))).toHaveLength(1);
  });

  /** A connected client that got record 1, then `ahead` (held behind a gap), and has asked for a sync. */
  async function afterFirstRecordThen(ahead: number) {
    const client = makeClient();
    const got = collectMessages(client);
    const connected = client.connect();
    const conn = await server.connection(0);
    conn.send(connectedFrame(0));
    await connected;
    conn.send(messageFrame(1));
    conn.send(messageFrame(ahead));
    await conn.nextFrame(isType('sync'));
    return { client, got, conn };
  }

  test('an unrecoverable gap is skipped instead of stalling delivery', async () => {
    const { client, got, conn } = await afterFirstRecordThen(5);
    const syncEvent = nextEvent(client, 'sync');
    conn.send({ type: 'sync_complete', from: 2, to: 4, recovered: false });
    expect((await syncEvent).recovered).toBe(false);
    conn.send(messageFrame(6));
    await got.waitFor(6);
    expect(got.seqs).toEqual([1, 5, 6]);
  });

  test('a dropped range reported before its replay skips exactly that range, even with records already held', async () => {
    // 9 arrives ahead of a gap and is held; the client asks for the rest.
    const { got, conn } = await afterFirstRecordThen(9);
    // The journal dropped 2..4: reported first, then the held records 5..8 are replayed, then the end of the replay.
    conn.send({ type: 'sync_complete', from: 2, to: 4, recovered: false });
    for (const seq of [5, 6, 7, 8]) conn.send(messageFrame(seq));
    conn.send({ type: 'sync_complete', from: 5, to: 9, recovered: true });
    conn.send(messageFrame(10));
    await got.waitFor(10);
    expect(got.seqs).toEqual([1, 5, 6, 7, 8, 9, 10]);
  });

  test("'live' start asks for no history and continues from the server's head", async () => {
    const client = makeClient({ lastSequenceId: 'live' });
    const got = collectMessages(client);
    const connected = client.connect();
    const conn = await server.connection(0);
    expect(conn.url.searchParams.has('last_sequence_id')).toBe(false);
    conn.send(connectedFrame(41));
    expect((await connected).serverLastSequenceId).toBe(41);
    // connect() on an open client answers at once with the current connection.
    expect((await client.connect()).serverLastSequenceId).toBe(41);
    expect(created).toHaveLength(1);
    conn.send(messageFrame(42));
    await got.waitFor(42);
    expect(got.seqs).toEqual([42]);
  });

  test('a server whose journal ends before our cursor resets the cursor (reported as CLIENT_CURSOR_RESET)', async () => {
    const client = makeClient({ lastSequenceId: 10 });
    const got = collectMessages(client);
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    const connected = client.connect();
    const conn = await server.connection(0);
    expect(conn.url.searchParams.get('last_sequence_id')).toBe('10');
    conn.send(connectedFrame(4));
    await connected;
    expect(client.lastSequenceId).toBe(4);
    conn.send(messageFrame(5));
    await got.waitFor(5);
    expect(got.seqs).toEqual([5]);
    expect(errors).toEqual(['CLIENT_CURSOR_RESET']);
  });

  test('cumulative acks are throttled: one frame per interval, or at once after ackEvery records', async () => {
    const client = makeClient({ ackIntervalMs: 200, ackEvery: 5 });
    const got = collectMessages(client);
    const connected = client.connect();
    const conn = await server.connection(0);
    conn.send(connectedFrame(0));
    await connected;
    for (const seq of [1, 2, 3]) conn.send(messageFrame(seq));
    await got.waitFor(3);
    expect(conn.frames.filter(isType('ack'))).toHaveLength(0);
    clock.advance(200);
    expect(await conn.nextFrame(isType('ack'))).toEqual({ type: 'ack', sequence_id: 3 });
    for (const seq of [4, 5, 6, 7, 8]) conn.send(messageFrame(seq));
    // 5 new records reach ackEvery: acked without waiting for the timer.
    expect(await conn.nextFrame((f) => f['type'] === 'ack' && f['sequence_id'] === 8)).toEqual({ type: 'ack', sequence_id: 8 });
  });
});

describe('connected info', () => {
  test("limits: each connection's as announced, the server defaults when its connected frame has none", async () => {
    const client = makeClient();
    const infos: ConnectedInfo[] = [];
    client.on('connected', (info) => infos.push(info));
    const connected = client.connect();
    const first = await server.connection(0);
    first.send({ ...connectedFrame(0), limits: { max_frame_bytes: 3000, max_message_length: 700, max_metadata_bytes: 0 } });
    expect((await connected).limits).toEqual({ maxFrameBytes: 3000, maxMessageLength: 700, maxMetadataBytes: 0 });
    // The next server is older than the field: the client assumes, and says, the server defaults.
    await reconnect(client, first, 1, 0);
    await nextEvent(client, 'connected');
    expect(infos.map((i) => [i.reconnect, i.limits])).toEqual([
      [false, { maxFrameBytes: 3000, maxMessageLength: 700, maxMetadataBytes: 0 }],
      [true, DEFAULT_SERVER_LIMITS],
    ]);
  });
});

describe('outbox', () => {
  test('an unacknowledged message is re-sent with the same message_id after a reconnect that resumes', async () => {
    const client = makeClient();
    const got = collectMessages(client);
    const connected = client.connect();
    const first = await server.connection(0);
    first.send(connectedFrame(0));
    await connected;
    first.send(messageFrame(1));
    first.send(messageFrame(2));
    await got.waitFor(2);
    const sent = client.send('hello', { k: 1 });
    const original = await first.nextFrame(isType('message'));
    expect(original).toEqual({ type: 'message', message_id: 'client-msg-1', content: 'hello', metadata: { k: 1 } });
    expect(client.pendingCount).toBe(1);

    const reconnecting = nextEvent(client, 'reconnecting');
    await first.close(1001, 'shutdown');
    await reconnecting;
    clock.advance(0);
    const second = await server.connection(1);
    expect(second.url.searchParams.get('last_sequence_id')).toBe('2');
    second.send(connectedFrame(3));
    const resent = await second.nextFrame(isType('message'));
    expect(resent).toEqual(original);
    second.send({ type: 'message_ack', message_id: 'client-msg-1', sequence_id: 3, persisted: false, duplicate: true });
    expect(await sent).toEqual({ message_id: 'client-msg-1', sequence_id: 3, persisted: false, duplicate: true });
    // Sequenced but not yet persisted: still kept for at-least-once; a later persisted ack clears it.
    expect(client.pendingCount).toBe(1);
    const persistedAck = nextEvent(client, 'ack', (a) => a.persisted);
    second.send({ type: 'message_ack', message_id: 'client-msg-1', sequence_id: 3, persisted: true, duplicate: true });
    await persistedAck;
    expect(client.pendingCount).toBe(0);
  });

  test('sequenced-but-unpersisted messages are re-sent after a reconnect; a persisted frame clears them', async () => {
    const client = makeClient();
    const connected = client.connect();
    const first = await server.connection(0);
    first.send(connectedFrame(0));
    await connected;
    const a = client.send('a');
    const b = client.send('b');
    await first.nextFrame((f) => f['message_id'] === 'client-msg-2');
    first.send({ type: 'message_ack', message_id: 'client-msg-1', sequence_id: 1, persisted: true, duplicate: false });
    first.send({ type: 'message_ack', message_id: 'client-msg-2', sequence_id: 2, persisted: false, duplicate: false });
    expect((await a).sequence_id).toBe(1);
    expect((await b).sequence_id).toBe(2);
    const reconnecting = nextEvent(client, 'reconnecting');
    await first.close(4008, 'slow consumer');
    await reconnecting;
    clock.advance(0);
    const second = await server.connection(1);
    second.send(connectedFrame(2));
    const resent = await second.nextFrame(isType('message'));
    expect(resent['message_id']).toBe('client-msg-2');
    expect(second.frames.filter(isType('message'))).toHaveLength(1);
    const ack = nextEvent(client, 'ack');
    second.send({ type: 'persisted', up_to_sequence_id: 2 });
    second.send({ type: 'message_ack', message_id: 'client-msg-2', sequence_id: 2, persisted: true, duplicate: true });
    await ack;
    expect(client.pendingCount).toBe(0);
  });

  test('a wall clock set back during a 429 pause does not stretch the pause: the message goes again after retry_after_ms', async () => {
    // Timers run on the manual clock (monotonic, like setTimeout); now() is the wall clock, set back by an hour.
    let offset = 0;
    const wall = { now: () => clock.now() + offset, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout };
    const { client, conn } = await connectedClient({ clock: wall });
    const sent = client.send('busy');
    await conn.nextFrame(isType('message'));
    const throttled = nextEvent(client, 'throttled');
    conn.send({
      type: 'error',
      error: 'GATEWAY_ERR_RATE_LIMITED',
      code: 429,
      message: 'slow down',
      retry_after_ms: 1000,
      message_id: 'client-msg-1',
    });
    await throttled;
    // Should it never be re-sent, the test fails on the count below, not on a rejection when the client is closed.
    sent.catch(() => undefined);
    offset = -3_600_000;
    clock.advance(1000);
    // Frames arrive in order: once this sync is in, the re-send (if any) is too.
    client.sync();
    await conn.nextFrame(isType('sync'));
    expect(conn.frames.filter(isType('message')).map((f) => f['message_id'])).toEqual(['client-msg-1', 'client-msg-1']);
    conn.send({ type: 'message_ack', message_id: 'client-msg-1', sequence_id: 1, persisted: true, duplicate: false });
    expect((await sent).sequence_id).toBe(1);
  });

  test('a 429 error frame pauses sending for retry_after_ms, then the same message_id goes again', async () => {
    const client = makeClient();
    const connected = client.connect();
    const conn = await server.connection(0);
    conn.send(connectedFrame(0));
    await connected;
    const sent = client.send('busy');
    await conn.nextFrame(isType('message'));
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    // The client re-sends by itself: the application is told by a `throttled` event, not an `error`.
    const err = nextEvent(client, 'throttled');
    conn.send({
      type: 'error',
      error: 'CHAT_ERR_QUEUE_FULL',
      code: 429,
      message: 'full',
      retry_after_ms: 5000,
      message_id: 'client-msg-1',
    });
    expect(await err).toMatchObject({ code: 'CHAT_ERR_QUEUE_FULL', status: 429, retryAfterMs: 5000, messageId: 'client-msg-1' });
    // A new message during the pause waits too (it would otherwise overtake the first one).
    const later = client.send('later');
    clock.advance(4999);
    // Frames arrive in order: once this sync is in, nothing was re-sent before it.
    client.sync();
    await conn.nextFrame(isType('sync'));
    expect(conn.frames.filter(isType('message'))).toHaveLength(1);
    clock.advance(1);
    // After a 429 the refused message goes alone; the next waits for its ack (the window grows again with acks).
    await conn.nextFrame((f) => f['message_id'] === 'client-msg-1' && conn.frames.filter(isType('message')).length === 2);
    client.sync();
    await conn.nextFrame(isType('sync'));
    expect(conn.frames.filter(isType('message')).map((f) => f['message_id'])).toEqual(['client-msg-1', 'client-msg-1']);
    conn.send({ type: 'message_ack', message_id: 'client-msg-1', sequence_id: 1, persisted: true, duplicate: false });
    await conn.nextFrame((f) => f['message_id'] === 'client-msg-2');
    expect(conn.frames.filter(isType('message')).map((f) => f['message_id'])).toEqual(['client-msg-1', 'client-msg-1', 'client-msg-2']);
    conn.send({ type: 'message_ack', message_id: 'client-msg-2', sequence_id: 2, persisted: true, duplicate: false });
    expect((await sent).sequence_id).toBe(1);
    expect((await later).sequence_id).toBe(2);
    expect(errors).toEqual([]);
  });

  test('sends are paced to the budget `connected` announced: the burst at once, then one per token; GATEWAY_ERR_RATE_LIMITED empties the bucket', async () => {
    const client = makeClient();
    const connected = client.connect();
    const conn = await server.connection(0);
    const limits = { max_frame_bytes: 65_536, max_message_length: 10_000, max_metadata_bytes: 8192 };
    conn.send({ ...connectedFrame(0), limits: { ...limits, rate_limit_per_second: 4, rate_limit_burst: 2 } });
    expect((await connected).limits).toMatchObject({ rateLimitPerSecond: 4, rateLimitBurst: 2 });
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    const contents = () => conn.frames.filter(isType('message')).map((f) => f['content']);
    /**
     * Frames arrive in order: once this typing frame is in, everything the client sent before it is too. (Not a sync:
     * it spends a token of the budget, as on the server.)
     */
    const fence = async (): Promise<void> => {
      const typing = conn.frames.filter(isType('typing')).length;
      client.setTyping(true);
      await conn.nextFrame(() => conn.frames.filter(isType('typing')).length > typing);
    };
    const ack = (messageId: unknown, sequenceId: number): void =>
      conn.send({ type: 'message_ack', message_id: messageId, sequence_id: sequenceId, persisted: true, duplicate: false });

    const sends = ['a', 'b', 'c', 'd'].map((c) => client.send(c));
    await fence();
    expect(contents()).toEqual(['a', 'b']);
    ack('client-msg-1', 1);
    ack('client-msg-2', 2);
    await Promise.all(sends.slice(0, 2));
    // A token every 250 ms, not one millisecond early.
    clock.advance(249);
    await fence();
    expect(contents()).toEqual(['a', 'b']);
    clock.advance(1);
    await fence();
    expect(contents()).toEqual(['a', 'b', 'c']);

    // Something the client cannot see spent the server's bucket: the refusal's wait empties ours as far.
    const throttled = nextEvent(client, 'throttled');
    conn.send({
      type: 'error',
      error: 'GATEWAY_ERR_RATE_LIMITED',
      code: 429,
      message: 'slow down',
      retry_after_ms: 1000,
      reply_to: 'message',
      message_id: 'client-msg-3',
    });
    expect(await throttled).toMatchObject({ code: 'GATEWAY_ERR_RATE_LIMITED', retryAfterMs: 1000, messageId: 'client-msg-3' });
    clock.advance(999);
    await fence();
    expect(contents()).toEqual(['a', 'b', 'c']);
    clock.advance(1);
    await fence();
    expect(contents()).toEqual(['a', 'b', 'c', 'c']);
    // The bucket it followed had one token at that moment, which c took: d waits for the next.
    ack('client-msg-3', 3);
    await sends[2];
    clock.advance(249);
    await fence();
    expect(contents()).toEqual(['a', 'b', 'c', 'c']);
    clock.advance(1);
    await fence();
    expect(contents()).toEqual(['a', 'b', 'c', 'c', 'd']);
    ack('client-msg-4', 4);
    expect((await sends[3]!).sequence_id).toBe(4);
    expect(errors).toEqual([]);
  });

  test('a sync spends a token as a message does and waits for one; a message refused before the budget check gives its token back', async () => {
    const client = makeClient();
    const connected = client.connect();
    const conn = await server.connection(0);
    const limits = { max_frame_bytes: 65_536, max_message_length: 10_000, max_metadata_bytes: 8192 };
    conn.send({ ...connectedFrame(0), limits: { ...limits, rate_limit_per_second: 4, rate_limit_burst: 2 } });
    await connected;
    const sent = (type: string) => conn.frames.filter(isType(type)).length;
    const fence = async (): Promise<void> => {
      const typing = sent('typing');
      client.setTyping(true);
      await conn.nextFrame(() => sent('typing') > typing);
    };
    const contents = () => conn.frames.filter(isType('message')).map((f) => f['content']);

    // The burst of 2: the sync takes one, so one message goes and the next waits.
    client.sync();
    const bad = client.send('a');
    const good = client.send('b');
    // Settled below; a failing step must not leave them rejected unhandled when the client closes.
    for (const p of [bad, good]) p.catch(() => undefined);
    await fence();
    expect(sent('sync')).toBe(1);
    expect(contents()).toEqual(['a']);
    // Refused before the server's budget check: its token was never spent there, and b goes without waiting for one.
    conn.send({
      type: 'error',
      error: 'GATEWAY_ERR_CONTENT_INVALID',
      code: 400,
      message: 'no',
      reply_to: 'message',
      message_id: 'client-msg-1',
    });
    await expect(bad).rejects.toMatchObject({ code: 'GATEWAY_ERR_CONTENT_INVALID' });
    await fence();
    expect(contents()).toEqual(['a', 'b']);
    conn.send({ type: 'message_ack', message_id: 'client-msg-2', sequence_id: 1, persisted: true, duplicate: false });
    await good;

    // The bucket is empty: a sync waits for the next token (250 ms), not one millisecond less, instead of being refused.
    const replayed = nextEvent(client, 'sync');
    conn.send({ type: 'sync_complete', from: 1, to: 0, recovered: true });
    await replayed;
    client.sync();
    clock.advance(249);
    await fence();
    expect(sent('sync')).toBe(1);
    clock.advance(1);
    await conn.nextFrame(() => sent('sync') === 2);
  });

  test('a server that announces no budget (older than it): nothing is paced', async () => {
    const { client, conn } = await connectedClient();
    expect((await client.connect()).limits.rateLimitPerSecond).toBeUndefined();
    // Never acknowledged: they reject when the test closes the client.
    for (const c of ['a', 'b', 'c', 'd', 'e']) client.send(c).catch(() => undefined);
    await conn.nextFrame(() => conn.frames.filter(isType('message')).length === 5);
  });

  test('a non-retriable error frame for a message rejects its send() only', async () => {
    const client = makeClient();
    const connected = client.connect();
    const conn = await server.connection(0);
    conn.send(connectedFrame(0));
    await connected;
    const bad = client.send('\u0000');
    await conn.nextFrame(isType('message'));
    conn.send({
      type: 'error',
      error: 'GATEWAY_ERR_CONTENT_INVALID',
      code: 400,
      message: 'control characters',
      message_id: 'client-msg-1',
    });
    await expect(bad).rejects.toMatchObject({ code: 'GATEWAY_ERR_CONTENT_INVALID', status: 400 });
    expect(client.state).toBe('open');
    expect(client.pendingCount).toBe(0);
  });

  test('a re-send after a reconnect carries the metadata as first sent, even when the application changed its object since', async () => {
    const { client, conn: first } = await connectedClient();
    const metadata: Record<string, unknown> = { draft: 1, tags: ['a'] };
    const sent = client.send('hello', metadata);
    const original = await first.nextFrame(isType('message'));
    metadata.draft = 2;
    (metadata.tags as string[]).push('b');

    const second = await reconnect(client, first, 1, 0);
    // Anything else would be refused as CHAT_ERR_MESSAGE_ID_REUSED by the server: same id, other metadata.
    expect(await second.nextFrame(isType('message'))).toEqual(original);
    expect(original['metadata']).toEqual({ draft: 1, tags: ['a'] });
    second.send({ type: 'message_ack', message_id: 'client-msg-1', sequence_id: 1, persisted: true, duplicate: true });
    expect((await sent).duplicate).toBe(true);
  });

  test('CHAT_ERR_MESSAGE_ID_REUSED rejects the send and is emitted, with the message_id and the original sequence id', async () => {
    const { client, conn } = await connectedClient();
    const sent = client.send('edited');
    await conn.nextFrame(isType('message'));
    const emitted = nextEvent(client, 'error');
    conn.send({
      type: 'error',
      error: 'CHAT_ERR_MESSAGE_ID_REUSED',
      code: 409,
      message: 'message_id client-msg-1 was accepted with other content (sequence 7)',
      message_id: 'client-msg-1',
      sequence_id: 7,
    });
    const expected = { code: 'CHAT_ERR_MESSAGE_ID_REUSED', status: 409, messageId: 'client-msg-1', sequenceId: 7 };
    await expect(sent).rejects.toMatchObject(expected);
    expect(await emitted).toMatchObject(expected);
    expect(client.pendingCount).toBe(0);
  });

  test('CHAT_ERR_MESSAGE_ID_REUSED for an acknowledged, unpersisted re-send drops it: it would be refused after every reconnect', async () => {
    const { client, conn: first } = await connectedClient();
    const sent = client.send('hello');
    await first.nextFrame(isType('message'));
    first.send({ type: 'message_ack', message_id: 'client-msg-1', sequence_id: 1, persisted: false, duplicate: false });
    await sent;
    expect(client.pendingCount).toBe(1);

    const second = await reconnect(client, first, 1, 1);
    await second.nextFrame(isType('message'));
    const emitted = nextEvent(client, 'error');
    second.send({
      type: 'error',
      error: 'CHAT_ERR_MESSAGE_ID_REUSED',
      code: 409,
      message: 'reused',
      message_id: 'client-msg-1',
      sequence_id: 1,
    });
    expect(await emitted).toMatchObject({ code: 'CHAT_ERR_MESSAGE_ID_REUSED', messageId: 'client-msg-1', sequenceId: 1 });
    expect(client.pendingCount).toBe(0);
  });
});

describe('close codes', () => {
  test.each([1000, 4001, 4003, 4004, 4009, 4503, 1009, 1007])('close %i is fatal: no reconnect, pending sends reject', async (code) => {
    const client = makeClient();
    const connected = client.connect();
    const conn = await server.connection(0);
    conn.send(connectedFrame(0));
    await connected;
    const pending = client.send('x').catch((err: unknown) => err);
    await conn.nextFrame(isType('message'));
    const disconnected = nextEvent(client, 'disconnected');
    const closed = nextEvent(client, 'closed');
    await conn.close(code, 'bye');
    expect(await disconnected).toEqual({ code, reason: 'bye', willReconnect: false });
    expect((await closed).code).toBe(code);
    expect(await pending).toMatchObject({ code: 'CLIENT_CLOSED' });
    clock.advance(60_000);
    expect(created).toHaveLength(1);
    expect(client.state).toBe('closed');
  });

  test('a refused upgrade (HTTP 401) is fatal too', async () => {
    const http = require('node:http') as typeof import('node:http');
    const refuse = http.createServer();
    refuse.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    await new Promise<void>((resolve) => refuse.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (refuse.address() as { port: number }).port;
      const client = makeClient({ url: `ws://127.0.0.1:${port}` });
      const closed = nextEvent(client, 'closed');
      await expect(client.connect()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
      expect((await closed).code).toBe(4001);
      expect(created).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => refuse.close(() => resolve()));
    }
  });

  test('a silent connection is dropped after two ping intervals and resumed', async () => {
    const client = makeClient({ pingIntervalMs: 1000 });
    const connected = client.connect();
    const conn = await server.connection(0);
    conn.send(connectedFrame(0));
    await connected;
    clock.advance(1000);
    await conn.nextFrame(isType('ping'));
    const disconnected = nextEvent(client, 'disconnected');
    clock.advance(1000);
    expect(await disconnected).toMatchObject({ code: 4000, willReconnect: true });
    clock.advance(0);
    const second = await server.connection(1);
    expect(second.url.searchParams.get('last_sequence_id')).toBe('0');
  });
});

describe('read marks and the server version', () => {
  test('a server whose participant list has no read_positions (before read positions) is sent no read frame; one that has them is', async () => {
    // Such a server refuses `read` as an unknown frame type: every mark, and its repeat at each connect, was an error.
    const { client, conn } = await connectedClient();
    let listed = nextEvent(client, 'participants');
    conn.send({ type: 'participant_list', participants: [], mode: 'multi', online: ['alice'] });
    await listed;
    client.markRead(5);
    client.setTyping(true);
    await conn.nextFrame(isType('typing'));
    expect(conn.frames.filter(isType('read'))).toEqual([]);

    listed = nextEvent(client, 'participants');
    conn.send({ type: 'participant_list', participants: [], mode: 'multi', online: ['alice'], read_positions: { alice: 1 } });
    await listed;
    // The mark the old server was not told is said at this welcome; the next one goes at once.
    expect(await conn.nextFrame(isType('read'))).toEqual({ type: 'read', sequence_id: 5 });
    client.markRead(6);
    await conn.nextFrame((f) => f['type'] === 'read' && f['sequence_id'] === 6);
  });
});

test('a mark made between connected and the participant list is sent once, not again at the list', async () => {
  // The list is a snapshot from before the mark arrived: it shows the server's older position.
  const { client, conn } = await connectedClient();
  client.markRead(7);
  await conn.nextFrame(isType('read'));
  const listed = nextEvent(client, 'participants');
  conn.send({ type: 'participant_list', participants: [], mode: 'multi', online: ['alice'], read_positions: { alice: 1 } });
  await listed;
  client.setTyping(true);
  await conn.nextFrame(isType('typing'));
  expect(conn.frames.filter(isType('read'))).toEqual([{ type: 'read', sequence_id: 7 }]);
});

test('a read refused with retry_after_ms is re-sent after the wait; a disconnect cancels that re-send (the welcome says it)', async () => {
  const { client, conn } = await connectedClient();
  let listed = nextEvent(client, 'participants');
  conn.send({ type: 'participant_list', participants: [], mode: 'multi', online: ['alice'], read_positions: { alice: 1 } });
  await listed;
  const refusal = { type: 'error', error: 'CHAT_ERR_RESTARTING', code: 503, reply_to: 'read', retry_after_ms: 500 };

  client.markRead(5);
  await conn.nextFrame(isType('read'));
  let throttled = nextEvent(client, 'throttled');
  conn.send(refusal);
  expect(await throttled).toMatchObject({ code: 'CHAT_ERR_RESTARTING', retryAfterMs: 500 });
  clock.advance(500);
  expect(await conn.nextFrame((f) => f['type'] === 'read' && conn.frames.filter(isType('read')).length === 2)).toEqual({
    type: 'read',
    sequence_id: 5,
  });

  // Refused again, then the socket goes before the wait is over: the new connection's welcome says the mark once.
  throttled = nextEvent(client, 'throttled');
  conn.send(refusal);
  await throttled;
  const next = await reconnect(client, conn, 1, 10);
  listed = nextEvent(client, 'participants');
  next.send({ type: 'participant_list', participants: [], mode: 'multi', online: ['alice'], read_positions: { alice: 1 } });
  await listed;
  await next.nextFrame(isType('read'));
  clock.advance(500);
  client.setTyping(true);
  await next.nextFrame(isType('typing'));
  expect(next.frames.filter(isType('read'))).toEqual([{ type: 'read', sequence_id: 5 }]);
  expect(conn.frames.filter(isType('read'))).toHaveLength(2);
});

test("read positions above the server's end at connect are lowered to its list's, also without a cursor reset ('live' start)", async () => {
  const { client, conn } = await connectedClient({ lastSequenceId: 'live' });
  const members = ['alice', 'bob'].map((id, i) => ({
    participant_id: id,
    participant_type: 'human',
    display_name: id,
    role: i === 0 ? 'owner' : 'member',
    joined_at_sequence: i + 1,
  }));
  let listed = nextEvent(client, 'participants');
  conn.send({ type: 'participant_list', participants: members, mode: 'multi', online: ['alice'], read_positions: { alice: 1, bob: 9 } });
  await listed;
  // The cursor is 0 (live from an empty conversation), below the next server's end: only bob's 9 says it lost records.
  const next = await reconnect(client, conn, 1, 5);
  listed = nextEvent(client, 'participants');
  next.send({ type: 'participant_list', participants: members, mode: 'multi', online: ['alice'], read_positions: { alice: 1, bob: 3 } });
  await listed;
  expect(Object.fromEntries(client.readPositions)).toEqual({ alice: 1, bob: 3 });
  // Otherwise a list never lowers a position: a snapshot older than a read frame, say.
  next.send({ type: 'read', participant_id: 'bob', sequence_id: 5 });
  await nextEvent(client, 'read');
  listed = nextEvent(client, 'participants');
  next.send({ type: 'participant_list', participants: members, mode: 'multi', online: ['alice'], read_positions: { alice: 1, bob: 4 } });
  await listed;
  expect(client.readPositions.get('bob')).toBe(5);
});
