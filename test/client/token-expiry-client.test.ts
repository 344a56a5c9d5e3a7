/**
 * The reference client against a real jwt-mode server when its token expires on an open socket: the server closes
 * 4001 "GATEWAY_ERR_UNAUTHENTICATED token expired"; a client whose `token` is a function fetches a new one and
 * resumes from its last sequence id (no gap, no duplicate, its unacknowledged post delivered once), one with a
 * string token ends as on any 4001. The gateway's clock and the client's are manual: nothing sleeps.
 */
import jwt from 'jsonwebtoken';
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientOptions } from '../../client/chat-client';
import { closeAll, JWT_SECRET, startHarness, type Harness } from '../gateway/harness';
import { collectMessages, nextEvent } from './client-events';
import { testClients } from './test-clients';

let gatewayClock: ManualClock;
let clientClock: ManualClock;
let h: Harness;
let conv: string;
const clients = testClients();

beforeEach(async () => {
  gatewayClock = createManualClock(Date.now());
  clientClock = createManualClock(Date.now());
  h = await startHarness({}, { clock: gatewayClock });
  conv = await h.createConversation('alice', ['bob']);
});

afterEach(async () => {
  clients.closeAll();
  await closeAll();
});

/** A token for `userId` that expires `inS` seconds after the gateway clock's now. */
const tokenExpiringIn = (userId: string, inS: number): string =>
  jwt.sign({ sub: userId, exp: Math.floor(gatewayClock.now() / 1000) + inS }, JWT_SECRET, { algorithm: 'HS256' });

function makeClient(token: ChatClientOptions['token']): ChatClient {
  return clients.open(h.url, { conversationId: conv, token, clock: clientClock, random: () => 0.5 });
}

async function historyIds(): Promise<number[]> {
  const res = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'bob');
  return res.body.messages.map((m: { sequence_id: number }) => m.sequence_id);
}

test('token() given: the expired socket is closed 4001, the client fetches a fresh token and resumes with no gap and no duplicate', async () => {
  const issued: string[] = [];
  const alice = makeClient(async () => {
    // The first token lives 30 s; the ones fetched after it an hour.
    const token = issued.length === 0 ? tokenExpiringIn('alice', 30) : h.token('alice');
    issued.push(token);
    return token;
  });
  const delivered = collectMessages(alice);
  const errors: string[] = [];
  alice.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
  await alice.connect();
  const bob = await h.connect(conv, 'bob');

  const a1 = await alice.send('before expiry');
  bob.send({ type: 'message', message_id: 'b1', content: 'bob before' });
  await delivered.waitForContent('bob before');

  const disconnected = nextEvent(alice, 'disconnected');
  const reconnecting = nextEvent(alice, 'reconnecting');
  // On the wire as the token expires: the server closes before it reads the frame (same process, same turn), so
  // nothing acknowledges it on this socket; the client must send it again after the resume, and it lands once.
  const inFlight = alice.send('in flight at expiry');
  gatewayClock.advance(30_000);
  expect(await disconnected).toEqual({ code: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED token expired', willReconnect: true });
  const { delayMs } = await reconnecting;
  expect(errors).toEqual(['GATEWAY_ERR_UNAUTHENTICATED: token expired: reconnect with a fresh token, resuming from your last sequence id']);

  // While alice is away: bob posts, and alice queues a post of her own.
  bob.send({ type: 'message', message_id: 'b2', content: 'bob while alice was away' });
  await bob.waitFor('message_ack', (f) => f.message_id === 'b2');
  const queued = alice.send('after expiry');

  const reconnected = nextEvent(alice, 'connected');
  clientClock.advance(delayMs);
  const info = await reconnected;
  expect(info).toMatchObject({ reconnect: true, resumedFrom: a1.sequence_id + 1 });
  expect(issued).toHaveLength(2);
  const a2 = await queued;
  const a3 = await inFlight;
  await delivered.waitFor(Math.max(a2.sequence_id, a3.sequence_id));

  // Every record of the conversation, once each, in order: the replay filled exactly what the closed socket missed.
  expect(delivered.seqs).toEqual(await historyIds());
  expect(delivered.contents.filter((c) => c === 'after expiry')).toHaveLength(1);
  expect(delivered.contents.filter((c) => c === 'in flight at expiry')).toHaveLength(1);
  expect(delivered.contents).toContain('bob while alice was away');
  expect(alice.duplicatesDropped).toBe(0);
  expect(alice.state).toBe('open');
});

test('a string token: the close is final, as any 4001 (the client has no way to get another token)', async () => {
  const alice = makeClient(tokenExpiringIn('alice', 30));
  await alice.connect();
  const closed = nextEvent(alice, 'closed');
  const disconnected = nextEvent(alice, 'disconnected');
  gatewayClock.advance(30_000);
  expect(await disconnected).toMatchObject({ code: 4001, willReconnect: false });
  expect(await closed).toEqual({ code: 4001, reason: 'fatal close 4001: GATEWAY_ERR_UNAUTHENTICATED token expired' });
  expect(alice.state).toBe('closed');
});

test('token() returning a token already expired: the refused upgrade is retried with the next token, not final', async () => {
  let calls = 0;
  const alice = makeClient(() => (++calls === 1 ? tokenExpiringIn('alice', -5) : h.token('alice')));
  const disconnected = nextEvent(alice, 'disconnected');
  const reconnecting = nextEvent(alice, 'reconnecting');
  const connecting = alice.connect();
  expect(await disconnected).toEqual({ code: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED token expired', willReconnect: true });
  const { delayMs } = await reconnecting;
  clientClock.advance(delayMs);
  expect(await connecting).toMatchObject({ participantId: 'alice' });
  expect(calls).toBe(2);
});
