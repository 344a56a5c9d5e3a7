/**
 * The reference client's `sync` and the message budget of the real server (port 0; chat.limits.rate_limit_per_second
 * 1, burst 1, on a manual gateway clock), which spends a token on every sync. A token the client spent itself (a
 * send) makes the sync wait for the next one, as its messages do: nothing is refused. One it cannot see (an HTTP
 * post) gets the sync refused: the refusal names the frame it answers (`reply_to: "sync"`), so the gap it was asked
 * for is asked again after retry_after_ms, by one timer, on the same socket, and the client's bucket follows the
 * server's, so nothing sent meanwhile is refused either. A network between them loses one record, which opens the
 * gap. The client's timers run on a manual clock of their own.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientError } from '../../client/chat-client';
import { collectMessages, nextEvent } from './client-events';
import { lossyNetwork, type LossyNetwork, type WireFrame } from './lossy-websocket';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
let gatewayClock: ManualClock;
let clientClock: ManualClock;
const clients = testClients();

const isSync = (f: WireFrame): boolean => f.type === 'sync';
const isMessage = (f: WireFrame): boolean => f.type === 'message';
const hasContent =
  (content: string) =>
  (f: WireFrame): boolean =>
    f.type === 'message' && f.message?.content === content;

/** bob's client through `network`, connected, with the conversation's history delivered. */
async function connectedBob(network: LossyNetwork): Promise<ChatClient> {
  const bob = clients.open(stack.wsUrl, {
    conversationId: 'trip',
    userId: 'bob',
    WebSocketImpl: network.WebSocketImpl,
    clock: clientClock,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 'none' },
  });
  const replayed = nextEvent(bob, 'sync');
  await bob.connect();
  await replayed;
  return bob;
}

/** A record of alice's, posted past the gateway (it spends none of bob's budget). */
const post = (content: string) => stack.runtime.post('trip', { sender_id: 'alice', message_id: content, content });

/** A post of bob's over HTTP: it spends a token of his budget that his client does not see. */
async function postOverHttp(content: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${stack.port}/chat/conversations/trip/messages`, {
    method: 'POST',
    headers: { 'X-User-Id': 'bob', 'content-type': 'application/json' },
    body: JSON.stringify({ message_id: content, content }),
  });
  expect(res.status).toBe(201);
}

beforeEach(async () => {
  gatewayClock = createManualClock();
  clientClock = createManualClock();
  stack = await startRealStack({
    clock: gatewayClock,
    config: { chat: { limits: { rate_limit_per_second: 1, rate_limit_burst: 1 } } },
  });
  await stack.createConversation('trip', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  await stack.close();
});

test('a gap whose sync is refused is recovered after retry_after_ms on the same socket, by one retry: later gaps meanwhile send no sync', async () => {
  const network = lossyNetwork();
  const bob = await connectedBob(network);
  const seen = collectMessages(bob);
  const errors: ChatClientError[] = [];
  const throttled: ChatClientError[] = [];
  bob.on('error', (e) => errors.push(e));
  bob.on('throttled', (e) => throttled.push(e));
  let disconnects = 0;
  bob.on('disconnected', () => disconnects++);
  // bob's one token of the message budget goes to a post his client does not see: the sync the gap asks for is refused.
  await postOverHttp('spends the token');
  await seen.waitForContent('spends the token');

  network.loseNext(hasContent('lost'));
  // The client asks again by itself: a `throttled` event, not an `error` for the application.
  const refused = nextEvent(bob, 'throttled');
  await post('lost');
  await post('held');
  expect(await refused).toMatchObject({ code: 'GATEWAY_ERR_RATE_LIMITED', status: 429, retryAfterMs: 1000 });
  expect(network.sent.filter(isSync)).toHaveLength(1);
  // Another record behind the same gap while the refusal's wait runs: held, and no second sync (it would be refused too).
  await post('also held');
  await network.handled(hasContent('also held'));
  expect(network.sent.filter(isSync)).toHaveLength(1);
  expect(seen.contents).not.toContain('held');

  gatewayClock.advance(1000);
  clientClock.advance(999);
  expect(network.sent.filter(isSync)).toHaveLength(1);
  clientClock.advance(1);
  expect(network.sent.filter(isSync)).toHaveLength(2);
  await seen.waitForContent('also held');
  expect(seen.contents.slice(-4)).toEqual(['spends the token', 'lost', 'held', 'also held']);
  expect(new Set(seen.seqs).size).toBe(seen.seqs.length);
  // On the socket it had: no reconnect, one refusal.
  expect(disconnects).toBe(0);
  expect(bob.state).toBe('open');
  expect(throttled.map((e) => e.code)).toEqual(['GATEWAY_ERR_RATE_LIMITED']);
  expect(errors).toEqual([]);
});

test('a sync waits for a token its own send spent, instead of being refused: the gap is filled when the token is back', async () => {
  const network = lossyNetwork();
  const bob = await connectedBob(network);
  const seen = collectMessages(bob);
  const throttled: ChatClientError[] = [];
  bob.on('throttled', (e) => throttled.push(e));
  // The client spent the one token itself: it knows the server has none for a sync before a second has passed.
  await bob.send('spends the token');

  network.loseNext(hasContent('lost'));
  await post('lost');
  await post('held');
  await network.handled(hasContent('held'));
  expect(network.sent.filter(isSync)).toHaveLength(0);

  gatewayClock.advance(1000);
  clientClock.advance(999);
  expect(network.sent.filter(isSync)).toHaveLength(0);
  clientClock.advance(1);
  expect(network.sent.filter(isSync)).toHaveLength(1);
  await seen.waitForContent('held');
  expect(seen.contents.slice(-3)).toEqual(['spends the token', 'lost', 'held']);
  expect(network.delivered.filter((f) => f.type === 'error')).toEqual([]);
  expect(throttled).toEqual([]);
});

test('after a refused sync the client paces by the server bucket: a send waits for the token after the retried sync, nothing more is refused; close() cancels the timers', async () => {
  const network = lossyNetwork();
  const bob = await connectedBob(network);
  const throttled: ChatClientError[] = [];
  bob.on('throttled', (e) => throttled.push(e));
  // The token goes to a post over HTTP, which bob's client does not see: its own bucket still has it.
  await postOverHttp('spends the token');
  const refused = nextEvent(bob, 'throttled');
  bob.sync();
  expect(await refused).toMatchObject({ code: 'GATEWAY_ERR_RATE_LIMITED', status: 429, retryAfterMs: 1000 });

  // The refusal said the server's bucket is empty for a second: the message waits (sent now, it would be refused; a
  // send goes on the wire within send(), so it is seen here if it went).
  const sent = bob.send('after the refusal');
  expect(network.sent.filter(isMessage)).toEqual([]);
  // A second later the retried sync (asked first) takes the token, and the message waits for the next.
  gatewayClock.advance(1000);
  clientClock.advance(1000);
  expect(network.sent.filter(isSync)).toHaveLength(2);
  expect(network.sent.filter(isMessage)).toEqual([]);
  // Its replay done, the server has spent that token before the clocks move on.
  await network.handled(() => network.delivered.filter((f) => f.type === 'sync_complete').length === 2);
  gatewayClock.advance(1000);
  clientClock.advance(1000);
  await expect(sent).resolves.toMatchObject({ duplicate: false });
  expect(network.sent.filter(isMessage).map((f) => f.content)).toEqual(['after the refusal']);
  expect(throttled.map((e) => e.code)).toEqual(['GATEWAY_ERR_RATE_LIMITED']);
  expect(bob.pendingCount).toBe(0);

  bob.close();
  expect(clientClock.pendingTimers()).toBe(0);
});
