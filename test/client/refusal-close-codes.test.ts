/**
 * A refused upgrade as a browser sees it: no HTTP status, only a close code. The reference client runs
 * against the real server (JWT auth) through a Node WebSocket that reports what a browser reports, and
 * must stop at once on the close code the server sends on the refusal subprotocol.
 */
import jwt from 'jsonwebtoken';
import { createManualClock, type ManualClock } from '../../actors/clock';
import { PRESENCE_BATCHES_SUBPROTOCOL, REFUSAL_SUBPROTOCOL, type ChatClient, type WebSocketConstructor } from '../../client';
import {
  PRESENCE_BATCHES_SUBPROTOCOL as GATEWAY_PRESENCE_BATCHES_SUBPROTOCOL,
  REFUSAL_SUBPROTOCOL as GATEWAY_REFUSAL_SUBPROTOCOL,
} from '../../gateway';
import { browserLikeWebSocket, openedSockets } from './browser-like-websocket';
import { nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

const SECRET = 'refusal-test-secret';

let stack: RealStack;
let clock: ManualClock;
const clients = testClients();

beforeEach(async () => {
  clock = createManualClock();
  stack = await startRealStack({ config: { server: { auth: { mode: 'jwt', jwt_secret: SECRET } } } });
  await stack.createConversation('conv', ['alice']);
});

afterEach(async () => {
  clients.closeAll();
  await stack.close();
});

function client(token: string, WebSocketImpl: WebSocketConstructor): ChatClient {
  return clients.open(stack.wsUrl, { conversationId: 'conv', token, WebSocketImpl, clock });
}

test('offering the subprotocol, a browser-like client stops at once on 4001 (wrong token) and 4003 (non-member)', async () => {
  const opened = openedSockets();
  const Impl = browserLikeWebSocket(true, opened);
  const reconnects: number[] = [];

  const wrong = client('not-a-jwt', Impl);
  wrong.on('reconnecting', (e) => reconnects.push(e.attempt));
  const closedWrong = nextEvent(wrong, 'closed');
  await expect(wrong.connect()).rejects.toMatchObject({ code: 'GATEWAY_ERR_UNAUTHENTICATED', closeCode: 4001 });
  expect(await closedWrong).toEqual({ code: 4001, reason: 'fatal close 4001: GATEWAY_ERR_UNAUTHENTICATED' });

  const stranger = client(jwt.sign({ sub: 'mallory' }, SECRET, { algorithm: 'HS256' }), Impl);
  stranger.on('reconnecting', (e) => reconnects.push(e.attempt));
  const closedStranger = nextEvent(stranger, 'closed');
  await expect(stranger.connect()).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_PARTICIPANT', closeCode: 4003 });
  expect(await closedStranger).toEqual({ code: 4003, reason: 'fatal close 4003: CHAT_ERR_NOT_PARTICIPANT' });

  // One attempt each, nothing scheduled: no retry will ever come.
  expect(opened.urls).toHaveLength(2);
  expect(reconnects).toEqual([]);
  expect(clock.pendingTimers()).toBe(0);
});

test('the same client not offering it sees the refusal as a browser did before: 1006, and schedules a retry', async () => {
  const opened = openedSockets();
  const wrong = client('not-a-jwt', browserLikeWebSocket(false, opened));
  const disconnected = nextEvent(wrong, 'disconnected');
  const reconnecting = nextEvent(wrong, 'reconnecting');
  void wrong.connect().catch(() => undefined);
  expect(await disconnected).toEqual({ code: 1006, reason: '', willReconnect: true });
  expect((await reconnecting).attempt).toBe(1);
  expect(opened.urls).toHaveLength(1);
});

test('an accepted connection through the subprotocol is an ordinary one', async () => {
  const opened = openedSockets();
  const alice = client(jwt.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS256' }), browserLikeWebSocket(true, opened));
  await alice.connect();
  const sent = await alice.send('hello');
  expect(sent).toMatchObject({ sequence_id: expect.any(Number), persisted: true, duplicate: false });
});

test('the client offers the subprotocols the gateway knows (each side declares them: the client ships alone)', () => {
  expect(REFUSAL_SUBPROTOCOL).toBe(GATEWAY_REFUSAL_SUBPROTOCOL);
  expect(PRESENCE_BATCHES_SUBPROTOCOL).toBe(GATEWAY_PRESENCE_BATCHES_SUBPROTOCOL);
});
