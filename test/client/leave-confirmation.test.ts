/**
 * The reference client's leave() against the real server (port 0, dev auth): it settles on the server's answer.
 * A leave past the user's membership budget (chat.limits.membership_changes_per_second, on the gateway's manual
 * clock) rejects with the server's code and the user stays a member on an open client; an accepted one resolves
 * once the runtime no longer lists the member, and the client is closed for good (no reconnect timer left). The
 * clients' timers run on a manual clock of their own.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import { ChatError } from '../../actors/errors';
import type { ChatClient, ChatClientError } from '../../client/chat-client';
import { collectMessages, nextEvent } from './client-events';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
let gatewayClock: ManualClock;
let clientClock: ManualClock;
const clients = testClients();
let proxy: TcpProxy | undefined;

function client(userId: string, url = stack.wsUrl): ChatClient {
  return clients.open(url, {
    conversationId: 'trip',
    userId,
    clock: clientClock,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 'none' },
  });
}

const members = async (): Promise<string[]> =>
  (await stack.runtime.getConversation('trip')).participants.map((p) => p.participant_id).sort();

/** Spends `userId`'s one membership change (the budget is 1, refilled at 1 a second on the gateway clock). */
async function spendMembershipBudget(userId: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${stack.port}/chat/conversations/elsewhere/join`, {
    method: 'POST',
    headers: { 'X-User-Id': userId },
  });
  expect(res.status).toBe(200);
}

beforeEach(async () => {
  proxy = undefined;
  gatewayClock = createManualClock();
  clientClock = createManualClock();
  stack = await startRealStack({
    clock: gatewayClock,
    config: { chat: { limits: { membership_changes_per_second: 1, membership_changes_burst: 1, rate_limit_burst: 1 } } },
  });
  await stack.createConversation('trip', ['alice', 'bob']);
  await stack.createConversation('elsewhere', ['carol']);
});

afterEach(async () => {
  clients.closeAll();
  await proxy?.close();
  await stack.close();
});

test('a leave past the membership budget rejects with GATEWAY_ERR_RATE_LIMITED and retryAfterMs; bob stays a member on an open client, and may send', async () => {
  const bob = client('bob');
  await bob.connect();
  await spendMembershipBudget('bob');
  const errors: string[] = [];
  bob.on('error', (e) => errors.push(e.code));

  const refusal = (await bob.leave().catch((err: unknown) => err)) as ChatClientError;
  expect(refusal).toMatchObject({ code: 'GATEWAY_ERR_RATE_LIMITED', status: 429, retryAfterMs: 1000 });
  expect(refusal.message).toContain('chat.limits.membership_changes_per_second');
  expect(bob.state).toBe('open');
  expect(await members()).toEqual(['alice', 'bob']);
  // Still an `error` event, as every error frame; and not taken for a message refusal: sending is not paused.
  expect(errors).toEqual(['GATEWAY_ERR_RATE_LIMITED']);
  await expect(bob.send('still here')).resolves.toMatchObject({ duplicate: false });

  // A second after, the budget has a change again: the same client leaves.
  gatewayClock.advance(1000);
  const closed = nextEvent(bob, 'closed');
  await bob.leave();
  // Resolved only once the runtime removed him.
  expect(await members()).toEqual(['alice']);
  expect(bob.state).toBe('closed');
  expect(await closed).toMatchObject({ code: 1000 });
  // Nothing scheduled: a left client never reconnects.
  expect(clientClock.pendingTimers()).toBe(0);
});

test('messages sent after leave() wait for its answer: refused, they go; accepted, they reject with the close and are not posted', async () => {
  const bob = client('bob');
  await bob.connect();
  await spendMembershipBudget('bob');
  const alice = client('alice');
  await alice.connect();
  const seen = collectMessages(alice);
  const refused = bob.leave().catch((err: ChatClientError) => err.code);
  const sent = bob.send('after the refused leave');
  expect(await refused).toBe('GATEWAY_ERR_RATE_LIMITED');
  await sent;
  await seen.waitForContent('after the refused leave');
  expect(await members()).toEqual(['alice', 'bob']);

  gatewayClock.advance(1000);
  const accepted = bob.leave();
  const notSent = bob.send('after the accepted leave').catch((err: ChatClientError) => err);
  await accepted;
  expect(await notSent).toMatchObject({ code: 'CLIENT_CLOSED', closeCode: 1000 });
  const records = await stack.runtime.readMessages('trip', 0, 100);
  expect(records.map((m) => m.content)).toContain('after the refused leave');
  expect(records.map((m) => m.content)).not.toContain('after the accepted leave');
});

test('an earlier refused sync (same code, no message_id) is not taken for the leave: the leave still resolves', async () => {
  const bob = client('bob');
  await bob.connect();
  const errors: string[] = [];
  const throttled: string[] = [];
  bob.on('error', (e) => errors.push(e.code));
  bob.on('throttled', (e) => throttled.push(e.code));
  // rate_limit_burst 1 and a clock that never refills: a post over HTTP takes the message budget where bob's client
  // cannot see it (a second sync of its own would wait for a token rather than be sent), and the sync is refused.
  const res = await fetch(`http://127.0.0.1:${stack.port}/chat/conversations/trip/messages`, {
    method: 'POST',
    headers: { 'X-User-Id': 'bob', 'content-type': 'application/json' },
    body: JSON.stringify({ message_id: 'over-http', content: 'spends the token' }),
  });
  expect(res.status).toBe(201);
  bob.sync();
  await bob.leave();
  // The refused sync is the client's to ask again (a `throttled` event), not the application's.
  expect(throttled).toEqual(['GATEWAY_ERR_RATE_LIMITED']);
  expect(errors).toEqual([]);
  expect(await members()).toEqual(['alice']);
  expect(bob.state).toBe('closed');
});

/**
 * Holds the runtime's next call of `method` until `release()`; then it runs (or fails with `failWith`), and `done`
 * settles once it has. Later calls go straight to the runtime.
 */
function holdNext(method: 'leave' | 'subscribe', failWith?: Error): { release(): void; done: Promise<void> } {
  const runtime = stack.runtime as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = runtime[method];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  runtime[method] = async (...args: unknown[]) => {
    runtime[method] = original;
    await gate;
    try {
      if (failWith) throw failWith;
      return await original.apply(stack.runtime, args);
    } finally {
      finished();
    }
  };
  return { release, done };
}

test('a sync whose replay fails after the leave went is not taken for the leave: its error names the sync, and the reconnect, refused 4003, resolves the leave', async () => {
  const bob = client('bob');
  await bob.connect();
  const errors: string[] = [];
  bob.on('error', (e) => errors.push(e.code));
  // The replay the sync asks for fails, and the runtime takes the leave only after that failure is sent.
  const replay = holdNext('subscribe', new ChatError('STORAGE_ERR_UNAVAILABLE'));
  const removal = holdNext('leave');
  bob.sync();
  let settled = false;
  const leaving = bob.leave().finally(() => (settled = true));
  const dropped = nextEvent(bob, 'disconnected');
  replay.release();
  // The replay's error (503, no message_id) comes before the leave's answer, then the server closes (1011).
  expect(await dropped).toMatchObject({ code: 1011, willReconnect: true });
  expect(errors).toEqual(['STORAGE_ERR_UNAVAILABLE']);
  expect(settled).toBe(false);
  // The runtime removes the member; the reconnect is refused 4003, which says the leave was done.
  removal.release();
  await removal.done;
  expect(await members()).toEqual(['alice']);
  const closed = nextEvent(bob, 'closed');
  clientClock.advance(1000);
  await leaving;
  expect(await closed).toMatchObject({ code: 4003 });
  expect(await members()).toEqual(['alice']);
  expect(clientClock.pendingTimers()).toBe(0);
});

test('leave() while reconnecting waits for the next connection, then resolves once the member is gone', async () => {
  proxy = await startTcpProxy(stack.port);
  const bob = client('bob', proxy.url);
  await bob.connect();
  const dropped = nextEvent(bob, 'reconnecting');
  proxy.cutAll();
  await dropped;
  expect(bob.state).toBe('reconnecting');

  let settled = false;
  const leaving = bob.leave().finally(() => (settled = true));
  const reconnected = nextEvent(bob, 'connected');
  clientClock.advance(1000);
  await reconnected;
  await leaving;
  expect(settled).toBe(true);
  expect(await members()).toEqual(['alice']);
  expect(bob.state).toBe('closed');
  expect(clientClock.pendingTimers()).toBe(0);
});

test('a connection lost after the server took the leave but before its close arrived: the reconnect is refused 4003, which resolves the leave', async () => {
  proxy = await startTcpProxy(stack.port);
  const alice = client('alice');
  await alice.connect();
  const bob = client('bob', proxy.url);
  await bob.connect();
  const bobLeft = nextEvent(alice, 'participants', (e) => e.change?.action === 'leave' && e.change.participant.participant_id === 'bob');

  // The server's answers (the leave's pong, its close 1000) are lost on the way.
  proxy.swallowDownstream = true;
  let settled = false;
  const leaving = bob.leave().finally(() => (settled = true));
  await bobLeft;
  expect(await members()).toEqual(['alice']);
  expect(settled).toBe(false);

  proxy.swallowDownstream = false;
  const dropped = nextEvent(bob, 'reconnecting');
  proxy.cutAll();
  await dropped;
  const closed = nextEvent(bob, 'closed');
  clientClock.advance(1000);
  await leaving;
  expect(await closed).toMatchObject({ code: 4003 });
  expect(bob.state).toBe('closed');
  expect(clientClock.pendingTimers()).toBe(0);
});

test('leave() before connect() rejects CLIENT_NOT_CONNECTED (nothing is opened); after close(), CLIENT_CLOSED; close() during a leave rejects it', async () => {
  const idle = client('bob');
  await expect(idle.leave()).rejects.toMatchObject({ code: 'CLIENT_NOT_CONNECTED' });
  expect(idle.state).toBe('idle');
  idle.close();
  await expect(idle.leave()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });

  proxy = await startTcpProxy(stack.port);
  const bob = client('bob', proxy.url);
  await bob.connect();
  proxy.swallowDownstream = true;
  const leaving = bob.leave();
  bob.close();
  await expect(leaving).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
});
