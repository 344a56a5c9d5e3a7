/**
 * The reference client against the REAL server (createChatServer + createChatRuntime + MemoryStore):
 * resume after a dropped connection, at-least-once re-send deduplicated by the runtime, a server
 * restart on the same port, 429s honoured, fatal refusals. The clients' timers run on a manual
 * clock, so "while the client is away" is a deterministic window, not a sleep.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientOptions } from '../../client/chat-client';
import { collectMessages, nextEvent } from './client-events';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
let proxy: TcpProxy | undefined;
let clock: ManualClock;
const clients = testClients();

function client(userId: string, extra: Partial<ChatClientOptions> = {}): ChatClient {
  return clients.open(stack.wsUrl, { conversationId: 'conv', userId, clock, ackIntervalMs: 10, ...extra });
}

async function post(sender: string, content: string): Promise<number> {
  const r = await stack.runtime.post('conv', { sender_id: sender, message_id: `${sender}-${content}`, content });
  return r.sequence_id;
}

function expectContiguous(seqs: readonly number[], from: number, to: number): void {
  expect(seqs).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
}

beforeEach(async () => {
  clock = createManualClock();
  proxy = undefined;
});

afterEach(async () => {
  clients.closeAll();
  await proxy?.close();
  await stack.close();
});

describe('against the real server', () => {
  beforeEach(async () => {
    stack = await startRealStack();
    await stack.createConversation('conv', ['alice', 'bob']);
  });

  test('resume after a dropped connection: messages posted meanwhile arrive once, in order, no gap', async () => {
    proxy = await startTcpProxy(stack.port);
    const alice = client('alice', { url: proxy.url });
    const got = collectMessages(alice);
    await alice.connect();
    const s1 = await post('bob', 'one');
    await got.waitFor(s1);

    const reconnecting = nextEvent(alice, 'reconnecting');
    proxy.cutAll();
    expect((await reconnecting).attempt).toBe(1);
    // Alice is away: the conversation moves on.
    let last = 0;
    for (const c of ['two', 'three', 'four']) last = await post('bob', c);
    const reconnected = nextEvent(alice, 'connected');
    const sync = nextEvent(alice, 'sync');
    clock.advance(0);
    const info = await reconnected;
    expect(info).toMatchObject({ reconnect: true, resumedFrom: s1 });
    expect((await sync).recovered).toBe(true);
    const s5 = await post('bob', 'five');
    await got.waitFor(s5);
    expect(s5).toBe(last + 1);
    // The whole journal from 1 (the client starts from 0 by default): joins, then the five posts.
    expectContiguous(got.seqs, 1, s5);
    expect(got.contents.slice(-5)).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(alice.duplicatesDropped).toBe(0);
  });

  test('a message whose ack was lost is re-sent with the same message_id and gets exactly one sequence id', async () => {
    proxy = await startTcpProxy(stack.port);
    const alice = client('alice', { url: proxy.url });
    const bob = client('bob');
    const bobGot = collectMessages(bob);
    const aliceGot = collectMessages(alice);
    await Promise.all([alice.connect(), bob.connect()]);

    proxy.swallowDownstream = true; // the server gets the message, alice never hears back
    const metadata = { n: 1 };
    const sent = alice.send('exactly once', metadata);
    // The application reuses its object: the re-send still carries what was sent (else CHAT_ERR_MESSAGE_ID_REUSED).
    metadata.n = 2;
    const seqSeenByBob = await bobGot.waitForContent('exactly once');
    expect(alice.pendingCount).toBe(1);

    const reconnecting = nextEvent(alice, 'reconnecting');
    proxy.cutAll();
    await reconnecting;
    proxy.swallowDownstream = false;
    clock.advance(0);
    const result = await sent;
    expect(result).toMatchObject({ sequence_id: seqSeenByBob, duplicate: true });
    await aliceGot.waitFor(seqSeenByBob);

    const journal = await stack.runtime.readMessages('conv', 0, 100);
    expect(journal.filter((m) => m.content === 'exactly once')).toHaveLength(1);
    expect(aliceGot.contents.filter((c) => c === 'exactly once')).toHaveLength(1);
    expect(bobGot.contents.filter((c) => c === 'exactly once')).toHaveLength(1);
  });

  test('server restart in the middle: the client reconnects to the new server on the same port and resumes', async () => {
    const alice = client('alice');
    const got = collectMessages(alice);
    await alice.connect();
    const s1 = await post('bob', 'before');
    await got.waitFor(s1);

    const disconnected = nextEvent(alice, 'disconnected');
    const reconnecting = nextEvent(alice, 'reconnecting');
    await stack.stopServer();
    expect(await disconnected).toMatchObject({ code: 1001, willReconnect: true });
    await reconnecting;
    // While the server is down: the runtime keeps sequencing, alice queues a message of her own.
    const s2 = await post('bob', 'during');
    const queued = alice.send('queued while down');
    // A first attempt while nothing listens fails and backs off again (1 s cap, random 0).
    const refused = nextEvent(alice, 'reconnecting');
    clock.advance(0);
    expect((await refused).attempt).toBe(2);

    await stack.startServer();
    const reconnected = nextEvent(alice, 'connected');
    clock.advance(0);
    expect((await reconnected).resumedFrom).toBe(s1);
    const ack = await queued;
    expect(ack.sequence_id).toBeGreaterThan(s2);
    const s4 = await post('bob', 'after');
    await got.waitFor(s4);
    expect(got.contents.slice(-4)).toEqual(['before', 'during', 'queued while down', 'after']);
    expect(new Set(got.seqs).size).toBe(got.seqs.length);
    expectContiguous(got.seqs, 1, s4);
  });

  test('fatal refusals stop reconnecting: not a participant (4003) and unknown conversation (4004)', async () => {
    const mallory = client('mallory');
    const closedM = nextEvent(mallory, 'closed');
    await expect(mallory.connect()).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_PARTICIPANT', closeCode: 4003 });
    expect((await closedM).code).toBe(4003);

    const lost = client('alice', { conversationId: 'no-such-conversation' });
    const closedL = nextEvent(lost, 'closed');
    await expect(lost.connect()).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_FOUND', closeCode: 4004 });
    expect((await closedL).code).toBe(4004);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('rate limits', () => {
  beforeEach(async () => {
    stack = await startRealStack({ config: { chat: { limits: { rate_limit_per_second: 20, rate_limit_burst: 2 } } } });
    await stack.createConversation('conv', ['alice', 'bob']);
  });

  test('429 error frames (her HTTP posts spent the budget) are honoured: sending pauses for retry_after_ms, every message lands exactly once, no `error`', async () => {
    // Real time here: the server's token bucket refills on the system clock.
    const alice = clients.open(stack.wsUrl, { conversationId: 'conv', userId: 'alice', random: Math.random });
    await alice.connect();
    const errors: { at: number; retryAfterMs: number; messageId: string }[] = [];
    const resentAt = new Map<string, number>();
    // Refusals the client retries by itself are `throttled`, not `error`s.
    const appErrors: string[] = [];
    alice.on('error', (e) => appErrors.push(e.code));
    alice.on('throttled', (e) => {
      if (e.code === 'GATEWAY_ERR_RATE_LIMITED') errors.push({ at: Date.now(), retryAfterMs: e.retryAfterMs!, messageId: e.messageId! });
    });
    // The client paces its sends to the announced budget: the server refuses them only when something it cannot see
    // spent alice's bucket, as her posts over HTTP (or another tab) do.
    for (const id of ['http-1', 'http-2']) {
      const res = await fetch(`http://127.0.0.1:${stack.port}/chat/conversations/conv/messages`, {
        method: 'POST',
        headers: { 'X-User-Id': 'alice', 'content-type': 'application/json' },
        body: JSON.stringify({ message_id: id, content: id }),
      });
      expect(res.status).toBe(201);
    }
    alice.on('ack', (a) => {
      if (!resentAt.has(a.message_id)) resentAt.set(a.message_id, Date.now());
    });
    const contents = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const results = await Promise.all(contents.map((c) => alice.send(c)));
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e.retryAfterMs).toBeGreaterThan(0);
      // Nothing limited was accepted before its retry_after_ms had passed (5 ms clock slack).
      const ackedAt = resentAt.get(e.messageId);
      if (ackedAt !== undefined) expect(ackedAt - e.at).toBeGreaterThanOrEqual(e.retryAfterMs - 5);
    }
    expect(appErrors).toEqual([]);
    expect(new Set(results.map((r) => r.sequence_id)).size).toBe(5);
    const journal = await stack.runtime.readMessages('conv', 0, 100);
    expect(
      journal
        .filter((m) => m.sender_id === 'alice' && m.message_type === 'text' && !m.content.startsWith('http-'))
        .map((m) => m.content)
        .sort(),
    ).toEqual(contents);
  });
});
