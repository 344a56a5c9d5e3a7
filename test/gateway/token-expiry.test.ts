import jwt from 'jsonwebtoken';
import { createManualClock, type Clock, type ManualClock } from '../../actors/clock';
import { createNoopLogger, REFUSAL_SUBPROTOCOL, type Authenticator, type GatewayLogger } from '../../gateway';
import { MAX_TIMER_MS, watchCredentialExpiry } from '../../gateway/credential-expiry';
import { closeAll, JWT_SECRET, startHarness, track, type Harness } from './harness';
import { connectClient, upgradeOutcome, upgradeRefusal } from './ws-test-client';

/**
 * A WebSocket's authority ends with its token: at the token's `exp` (on the gateway's clock, a manual one here, so
 * nothing sleeps) the server sends an `error` frame and closes 4001 "GATEWAY_ERR_UNAUTHENTICATED token expired".
 */
afterEach(closeAll);

const signWithExp = (userId: string, expS: number): string => jwt.sign({ sub: userId, exp: expS }, JWT_SECRET, { algorithm: 'HS256' });

async function harnessAt(clock: ManualClock): Promise<{ h: Harness; conv: string; ws: (token: string) => string }> {
  const h = await startHarness({}, { clock });
  const conv = await h.createConversation('alice', ['bob']);
  return { h, conv, ws: (token) => `${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?token=${token}` };
}

describe('a socket whose token expires', () => {
  test("is closed at exp with an error frame and 4001 'GATEWAY_ERR_UNAUTHENTICATED token expired'; what it posted stays; other sockets stay open", async () => {
    const clock = createManualClock(Date.now());
    const { h, conv, ws } = await harnessAt(clock);
    const expS = Math.floor(clock.now() / 1000) + 30;
    const alice = track(await connectClient(ws(signWithExp('alice', expS))));
    const aliceLongLived = track(await connectClient(ws(h.token('alice'))));
    alice.send({ type: 'message', message_id: 'before-exp', content: 'said in time' });
    const ack = await alice.waitFor('message_ack', (f) => f.message_id === 'before-exp');

    // One second before exp the socket still works.
    clock.advance(expS * 1000 - clock.now() - 1000);
    alice.send({ type: 'ping', ts: 1 });
    await alice.waitFor('pong', (f) => f.ts === 1);

    clock.advance(1000);
    const error = await alice.waitFor('error');
    expect(error).toEqual({
      type: 'error',
      error: 'GATEWAY_ERR_UNAUTHENTICATED',
      code: 401,
      message: 'token expired: reconnect with a fresh token, resuming from your last sequence id',
    });
    expect(await alice.closed).toEqual({ code: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED token expired' });

    // The same user's socket with a longer token, and what was posted before the close, are untouched.
    aliceLongLived.send({ type: 'ping', ts: 2 });
    await aliceLongLived.waitFor('pong', (f) => f.ts === 2);
    const history = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'bob');
    expect(history.body.messages.filter((m: { message_id: string }) => m.message_id === 'before-exp')).toEqual([
      expect.objectContaining({ sequence_id: ack.sequence_id, content: 'said in time' }),
    ]);
  });

  test('an upgrade with a token already expired is refused: 401 over HTTP, and on the refusal subprotocol 4001 with the same reason', async () => {
    const clock = createManualClock(Date.now());
    const { ws } = await harnessAt(clock);
    const expired = signWithExp('alice', Math.floor(Date.now() / 1000) - 5);
    expect(await upgradeOutcome(ws(expired), [REFUSAL_SUBPROTOCOL])).toMatchObject({
      status: 101,
      frames: [],
      close: { code: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED token expired' },
    });
    // A wrong token keeps the bare code: only an expired one is worth retrying with another.
    expect(await upgradeOutcome(ws('not-a-jwt'), [REFUSAL_SUBPROTOCOL])).toMatchObject({
      close: { code: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED' },
    });
    expect(await upgradeOutcome(ws(expired), [])).toMatchObject({ status: 401 });
  });

  test("an embedder's authenticate returning an expiresAt that is not a finite number is refused 401 and logged, as a throwing one is", async () => {
    const warnings: string[] = [];
    const logger: GatewayLogger = { ...createNoopLogger(), warn: (_o, msg) => void warnings.push(msg ?? '') };
    logger.child = () => logger;
    let expiresAt: unknown;
    const authenticate: Authenticator = async () => ({ userId: 'alice', expiresAt: expiresAt as number });
    const h = await startHarness({}, { authenticate, logger });
    const conv = await h.createConversation('alice');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1700000000000']) {
      expiresAt = bad;
      expect((await upgradeRefusal(h.wsUrl(conv, 'alice'))).status).toBe(401);
    }
    expect(warnings).toEqual(Array(3).fill('authenticator failed: expiresAt must be a finite number (ms since the epoch)'));
    // A finite one in the future is accepted.
    expiresAt = Date.now() + 3_600_000;
    const accepted = track(await connectClient(h.wsUrl(conv, 'alice')));
    expect(accepted.ws.readyState).toBe(accepted.ws.OPEN);
  });
});

describe('watchCredentialExpiry', () => {
  test('fires once at expiresAt, at once when already past, and not after stop()', () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    watchCredentialExpiry(clock, 5000, () => fired.push('a'));
    const stopped = watchCredentialExpiry(clock, 5000, () => fired.push('stopped'));
    watchCredentialExpiry(clock, 0, () => fired.push('past'));
    expect(fired).toEqual(['past']);
    clock.advance(4999);
    expect(fired).toEqual(['past']);
    stopped.stop();
    clock.advance(1);
    expect(fired).toEqual(['past', 'a']);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('a delay longer than a Node timer takes (~24.8 days) is waited out in steps, never asked for in one', () => {
    const manual = createManualClock(0);
    const delays: number[] = [];
    const recording: Clock = { ...manual, setTimeout: (fn, ms) => (delays.push(ms), manual.setTimeout(fn, ms)) };
    const thirtyDays = 30 * 86_400_000;
    let fired = false;
    watchCredentialExpiry(recording, thirtyDays, () => (fired = true));
    manual.advance(thirtyDays - 1);
    expect(fired).toBe(false);
    manual.advance(1);
    expect(fired).toBe(true);
    expect(delays).toEqual([MAX_TIMER_MS, thirtyDays - MAX_TIMER_MS]);
  });
});
