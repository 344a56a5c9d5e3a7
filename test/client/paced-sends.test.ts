/**
 * The reference client paces its `message` frames to the message budget the server's `connected` frame announces
 * (limits.rate_limit_per_second / rate_limit_burst), against the real server (port 0, dev auth) with a small budget
 * on a manual gateway clock: a backlog after a reconnect goes out at the allowed rate, with no refusal at all when the
 * client is the user's only sender. Two tabs of one user share the server's bucket, which neither can see: their
 * refusals are retried, everything is acknowledged once and stored in each tab's order, and the application sees
 * those refusals as `throttled`, never as `error`. The clients' timers run on a manual clock of their own, moved
 * with the gateway's; every wait is for the server's answers to what the clients sent.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientError, SendResult } from '../../client/chat-client';
import { nextEvent } from './client-events';
import { lossyNetwork, type LossyNetwork, type WireFrame } from './lossy-websocket';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

/** Two messages a second, four at once: a token is back every STEP_MS. */
const BUDGET = { rate_limit_per_second: 2, rate_limit_burst: 4 };
const STEP_MS = 500;

let stack: RealStack;
let gatewayClock: ManualClock;
let clientClock: ManualClock;
const clients = testClients();
let proxy: TcpProxy | undefined;

/** alice's client (a tab) through `network`, recording what its application sees. */
function tab(network: LossyNetwork, url = stack.wsUrl): { client: ChatClient; errors: ChatClientError[]; throttled: ChatClientError[] } {
  const client = clients.open(url, {
    conversationId: 'room',
    userId: 'alice',
    WebSocketImpl: network.WebSocketImpl,
    clock: clientClock,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 'none' },
  });
  const errors: ChatClientError[] = [];
  const throttled: ChatClientError[] = [];
  client.on('error', (e) => errors.push(e));
  client.on('throttled', (e) => throttled.push(e));
  return { client, errors, throttled };
}

/** Time passes for the server and the clients alike (the server's first: its bucket refills before a client's timer sends). */
function advance(ms: number): void {
  gatewayClock.advance(ms);
  clientClock.advance(ms);
}

const messagesSent = (network: LossyNetwork): WireFrame[] => network.sent.filter((f) => f.type === 'message');
const isAnswer = (f: WireFrame): boolean => f.type === 'message_ack' || (f.type === 'error' && f.reply_to === 'message');
const refusals = (network: LossyNetwork): WireFrame[] => network.delivered.filter((f) => f.type === 'error');

/** Resolves once the server has answered every `message` frame the client sent through `network` (ack or refusal). */
function answered(network: LossyNetwork): Promise<void> {
  const done = (): boolean => network.delivered.filter(isAnswer).length >= messagesSent(network).length;
  return done() ? Promise.resolve() : network.handled(done);
}

/** Moves both clocks a token's time at a time until every client's outbox is empty (at most `maxSteps`). */
async function stepUntilAcked(networks: readonly LossyNetwork[], tabs: readonly ChatClient[], maxSteps: number): Promise<number> {
  let steps = 0;
  while (tabs.some((c) => c.pendingCount > 0)) {
    if (++steps > maxSteps) throw new Error(`still ${tabs.map((c) => c.pendingCount).join('/')} pending after ${maxSteps} steps`);
    advance(STEP_MS);
    await Promise.all(networks.map(answered));
  }
  return steps;
}

/** alice's text records, oldest first. */
const stored = async (): Promise<{ message_id: string; content: string }[]> =>
  (await stack.runtime.readMessages('room', 0, 500)).filter((m) => m.sender_id === 'alice' && m.message_type === 'text');

/** How often each id occurs in `frames` (message frames by message_id, acks by message_id). */
function countById(frames: readonly WireFrame[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of frames) counts.set(String(f.message_id), (counts.get(String(f.message_id)) ?? 0) + 1);
  return counts;
}

beforeEach(async () => {
  proxy = undefined;
  gatewayClock = createManualClock();
  clientClock = createManualClock();
  stack = await startRealStack({ clock: gatewayClock, config: { chat: { limits: BUDGET } } });
  await stack.createConversation('room', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  await proxy?.close();
  await stack.close();
});

test('a backlog of 10 messages after a reconnect goes out at the announced rate: no refusal, in order, each sent and acknowledged once', async () => {
  proxy = await startTcpProxy(stack.port);
  const network = lossyNetwork();
  const alice = tab(network, proxy.url);
  const info = await alice.client.connect();
  expect(info.limits).toMatchObject({ rateLimitPerSecond: 2, rateLimitBurst: 4 });
  // The burst goes at once and empties the bucket (the server's and the client's alike).
  const before = ['a0', 'a1', 'a2', 'a3'];
  await Promise.all(before.map((c) => alice.client.send(c)));

  const reconnecting = nextEvent(alice.client, 'reconnecting');
  proxy.cutAll();
  await reconnecting;
  const backlog = Array.from({ length: 10 }, (_, i) => `b${i}`);
  const sends = backlog.map((c) => alice.client.send(c));
  const connected = nextEvent(alice.client, 'connected');
  // The backoff: a second, two tokens back on both sides (the client's bucket outlives the socket).
  advance(1000);
  expect(await connected).toMatchObject({ reconnect: true });
  await answered(network);
  expect(messagesSent(network).map((f) => f.content)).toEqual([...before, 'b0', 'b1']);

  // Then one message per token, each on its own step.
  const steps = await stepUntilAcked([network], [alice.client], 30);
  expect(steps).toBe(8);
  const results: SendResult[] = await Promise.all(sends);

  expect(refusals(network)).toEqual([]);
  expect(alice.errors).toEqual([]);
  expect(alice.throttled).toEqual([]);
  // Each went on the wire once and was acknowledged once, in the order sent.
  expect(messagesSent(network).map((f) => f.content)).toEqual([...before, ...backlog]);
  expect([...countById(network.delivered.filter((f) => f.type === 'message_ack')).values()].every((n) => n === 1)).toBe(true);
  const records = await stored();
  expect(records.map((m) => m.content)).toEqual([...before, ...backlog]);
  expect(results.map((r) => r.duplicate)).toEqual(backlog.map(() => false));
  const seqs = results.map((r) => r.sequence_id);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
});

test('two tabs of one user share the budget: refusals are retried as `throttled` (no `error`), all acknowledged once, each tab in order', async () => {
  const networks = [lossyNetwork(), lossyNetwork()];
  const tabs = networks.map((n) => tab(n));
  for (const t of tabs) await t.client.connect();
  const contents = tabs.map((_, i) => Array.from({ length: 6 }, (__, k) => `t${i}-${k}`));
  // Each tab holds the whole burst in its own bucket; together they ask for twice what the server has.
  const sends = tabs.map((t, i) => contents[i]!.map((c) => t.client.send(c)));
  await Promise.all(networks.map(answered));
  await stepUntilAcked(
    networks,
    tabs.map((t) => t.client),
    60,
  );
  const results = await Promise.all(sends.map((s) => Promise.all(s)));

  // The server did refuse (the shared bucket), and the application saw each refusal only as `throttled`.
  const refused = networks.flatMap(refusals);
  expect(refused.length).toBeGreaterThan(0);
  expect(tabs.flatMap((t) => t.errors)).toEqual([]);
  expect(tabs.flatMap((t) => t.throttled)).toHaveLength(refused.length);
  for (const e of tabs.flatMap((t) => t.throttled)) {
    expect(e).toMatchObject({ status: 429, retryAfterMs: expect.any(Number) as number, messageId: expect.any(String) as string });
    expect(['GATEWAY_ERR_RATE_LIMITED', 'GATEWAY_ERR_HELD_FOR_ORDER']).toContain(e.code);
  }

  const records = await stored();
  expect(records).toHaveLength(12);
  for (const [i, t] of tabs.entries()) {
    // In the tab's own order, each record once, each acknowledged once (a retried message too).
    expect(records.map((m) => m.content).filter((c) => c.startsWith(`t${i}-`))).toEqual(contents[i]);
    const acks = countById(networks[i]!.delivered.filter((f) => f.type === 'message_ack'));
    expect([...acks.values()]).toEqual(contents[i]!.map(() => 1));
    expect(results[i]!.map((r) => r.duplicate)).toEqual(contents[i]!.map(() => false));
    expect(t.client.pendingCount).toBe(0);
  }
});

test('a sync spends a token of the budget, as on the server: the burst after it waits for the next token instead of being refused', async () => {
  const network = lossyNetwork();
  const alice = tab(network);
  const replayed = nextEvent(alice.client, 'sync');
  await alice.client.connect();
  await replayed;
  // An explicit sync (a gap asks for one the same way): the server takes one of the 4 tokens for it.
  const synced = nextEvent(alice.client, 'sync');
  alice.client.sync();
  await synced;
  const contents = ['s0', 's1', 's2', 's3'];
  const sends = contents.map((c) => alice.client.send(c));
  await answered(network);
  // Three tokens left: three go at once, the fourth waits for the next one.
  expect(messagesSent(network).map((f) => f.content)).toEqual(['s0', 's1', 's2']);
  await stepUntilAcked([network], [alice.client], 4);
  await Promise.all(sends);

  expect(network.sent.filter((f) => f.type === 'sync')).toHaveLength(1);
  expect(refusals(network)).toEqual([]);
  expect(alice.throttled).toEqual([]);
  expect(alice.errors).toEqual([]);
  expect(messagesSent(network).map((f) => f.content)).toEqual(contents);
  expect((await stored()).map((m) => m.content)).toEqual(contents);
});

test('edits spend the message budget too: a burst of edits waits for tokens instead of being refused, and the message after them is paced', async () => {
  const network = lossyNetwork();
  const alice = tab(network);
  await alice.client.connect();
  const sent = await alice.client.send('first');
  const edits = ['e1', 'e2', 'e3', 'e4'];
  const edited: string[] = [];
  alice.client.on('edited', (e) => edited.push(e.content));
  const editFrames = (): WireFrame[] => network.sent.filter((f) => f.type === 'edit');
  const editRecords = (n: number): Promise<void> =>
    network.handled(
      () =>
        network.delivered.filter((f) => f.type === 'message' && (f.message as { message_type?: string }).message_type === 'edit').length >=
        n,
    );
  for (const c of edits) expect(alice.client.edit(sent.message_id, c)).toBe(true);
  // The message took one of the 4 tokens: three edits go at once, the fourth waits for the next token.
  await editRecords(3);
  expect(editFrames().map((f) => f.content)).toEqual(['e1', 'e2', 'e3']);
  advance(STEP_MS - 1);
  expect(editFrames()).toHaveLength(3);
  advance(1);
  await editRecords(4);
  expect(editFrames().map((f) => f.content)).toEqual(edits);
  // The bucket is empty on both sides: the next message waits for its token rather than being refused.
  const after = alice.client.send('after');
  expect(messagesSent(network).map((f) => f.content)).toEqual(['first']);
  await stepUntilAcked([network], [alice.client], 2);
  await after;

  expect(refusals(network)).toEqual([]);
  expect(alice.errors).toEqual([]);
  expect(alice.throttled).toEqual([]);
  expect(edited).toEqual(edits);
});

test('an edit still waiting for a token when the connection drops is kept: sent after the reconnect, paced; an edit the server took is not sent again', async () => {
  proxy = await startTcpProxy(stack.port);
  const network = lossyNetwork();
  const alice = tab(network, proxy.url);
  await alice.client.connect();
  const sent = await alice.client.send('first');
  const edited: string[] = [];
  const allEdited = new Promise<void>((resolve) => alice.client.on('edited', (e) => edited.push(e.content) >= 4 && resolve()));
  for (const c of ['e1', 'e2', 'e3', 'e4']) expect(alice.client.edit(sent.message_id, c)).toBe(true);
  expect(network.sent.filter((f) => f.type === 'edit')).toHaveLength(3);

  const disconnected = nextEvent(alice.client, 'disconnected');
  proxy.cutAll();
  await disconnected;
  const connected = nextEvent(alice.client, 'connected');
  advance(1000);
  await connected;
  // Tokens for whatever goes again and e4.
  advance(STEP_MS * 8);
  await allEdited;
  // e1..e3 went before the cut; those the server had not taken (their records not in the replay) went again, then e4.
  const frames = network.sent.filter((f) => f.type === 'edit').map((f) => f.content);
  expect(frames.slice(0, 3)).toEqual(['e1', 'e2', 'e3']);
  expect(frames[frames.length - 1]).toBe('e4');
  expect(frames.length).toBeLessThanOrEqual(7);
  // Each edit landed once, in order.
  expect(edited).toEqual(['e1', 'e2', 'e3', 'e4']);
  expect((await stored()).map((m) => m.content)).toEqual(['e4']);
  expect(alice.errors).toEqual([]);
  expect(refusals(network)).toEqual([]);
});
