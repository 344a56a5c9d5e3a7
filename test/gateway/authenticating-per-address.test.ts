import type { IncomingMessage } from 'node:http';
import jwt from 'jsonwebtoken';
import type { AuthenticatedUser, Authenticator } from '../../gateway';
import { JWT_SECRET, closeAll, startHarness, track } from './harness';
import { TestClient, upgradeOutcome, upgradeRefusal } from './ws-test-client';

afterEach(closeAll);

interface SeenUpgrade {
  readonly userId: string;
  /** Resolves when the server's side of the TCP connection has closed (after the gateway's own close listener). */
  readonly serverClosed: Promise<void>;
}

/**
 * Verifies the harness's tokens like the JWT authenticator, records each WebSocket upgrade with its server-side
 * socket, and holds upgrades whose URL says `hold=true` in authentication until the test lets them go.
 */
function recordingAuthenticator() {
  const seen: SeenUpgrade[] = [];
  const held: Array<(user: AuthenticatedUser | undefined) => void> = [];
  /** The user of each held upgrade, in the order of `held` (concurrent upgrades arrive in any order). */
  const heldUsers: string[] = [];
  let onHeld: () => void = () => undefined;
  const authenticate: Authenticator = async (req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://test.invalid');
    const token = url.searchParams.get('token') ?? req.headers.authorization?.replace(/^Bearer /, '') ?? '';
    const userId = (jwt.verify(token, JWT_SECRET) as { sub: string }).sub;
    if (url.pathname.startsWith('/chat/ws/')) {
      seen.push({ userId, serverClosed: new Promise((resolve) => req.socket.once('close', () => resolve())) });
    }
    if (url.searchParams.get('hold') !== 'true') return { userId };
    return new Promise((resolve) => {
      held.push(resolve);
      heldUsers.push(userId);
      onHeld();
    });
  };
  const heldCount = (count: number): Promise<void> =>
    new Promise((resolve) => {
      onHeld = () => {
        if (held.length >= count) resolve();
      };
      onHeld();
    });
  return { authenticate, seen, held, heldUsers, heldCount };
}

const config = (perAddress: number) => ({
  server: { auth: { query_parameters: ['hold'] }, websocket: { max_authenticating_per_address: perAddress } },
});

describe('server.websocket.max_authenticating_per_address', () => {
  test('upgrades waiting for authentication past the bound are refused 429 / close 1013 without calling the authenticator; open sockets do not count', async () => {
    const auth = recordingAuthenticator();
    const h = await startHarness(config(2), { authenticate: auth.authenticate });
    const conv = await h.createConversation('alice', ['bob', 'carol']);
    // Four open sockets from one address (a proxy, an office): authenticated, so only the per-user bound applies.
    for (const user of ['alice', 'bob', 'carol', 'alice']) await h.connect(conv, user);
    expect(h.server.gateway.connectionCount()).toBe(4);
    const waiting = [0, 1].map(() => track(new TestClient(h.wsUrl(conv, 'alice', { hold: 'true' }))));
    await auth.heldCount(2);
    const seenBefore = auth.seen.length;
    const refused = await upgradeRefusal(h.wsUrl(conv, 'carol'));
    expect(refused).toMatchObject({
      status: 429,
      body: {
        error: 'GATEWAY_ERR_TOO_MANY_CONNECTIONS',
        code: 429,
        message:
          '127.0.0.1 has 2 WebSocket upgrades waiting for authentication, the most one address may (server.websocket.max_authenticating_per_address)',
      },
    });
    const closed = await upgradeOutcome(h.wsUrl(conv, 'carol'), ['nlweb-chat.refusals']);
    expect(closed.close).toEqual({ code: 1013, reason: 'GATEWAY_ERR_TOO_MANY_CONNECTIONS' });
    // Refused before authentication: the authenticator saw neither.
    expect(auth.seen.length).toBe(seenBefore);
    // Authenticated is done: its slot is free while its socket stays open.
    auth.held[0]({ userId: 'alice' });
    await waiting[0].opened;
    await h.connect(conv, 'carol');
    auth.held[1]({ userId: 'alice' });
    await waiting[1].opened;
    expect(h.server.gateway.connectionCount()).toBe(7);
  });

  test('a bad token waiting counts too; a refusal after authentication and a client leaving mid-authentication give the slot back once', async () => {
    const auth = recordingAuthenticator();
    const h = await startHarness(config(2), { authenticate: auth.authenticate });
    const conv = await h.createConversation('alice', ['bob', 'carol']);
    const alice = track(new TestClient(h.wsUrl(conv, 'alice', { hold: 'true' })));
    const bob = track(new TestClient(h.wsUrl(conv, 'bob', { hold: 'true' })));
    await auth.heldCount(2);
    const heldOf = (user: string) => auth.held[auth.heldUsers.indexOf(user)];
    // A third upgrade, even with a token that would be refused as 401, is refused for the address first.
    const bad = h.wsUrl(conv, 'carol').replace(/token=[^&]+/, 'token=not-a-token');
    expect((await upgradeRefusal(bad)).status).toBe(429);
    // Bob's authentication refuses him (401): his slot comes back with the answer.
    heldOf('bob')(undefined);
    await expect(bob.opened).rejects.toMatchObject({ statusCode: 401 });
    await h.connect(conv, 'carol');
    // Alice gives up while authenticating. Her server-side socket is not being read during the upgrade, so it
    // notices only when her authentication answers: the slot comes back then, and the close that follows must not
    // give it back a second time.
    const aliceClosed = auth.seen.find((s) => s.userId === 'alice')!.serverClosed;
    alice.ws.terminate();
    heldOf('alice')({ userId: 'alice' });
    await aliceClosed;
    const again = [0, 1].map(() => track(new TestClient(h.wsUrl(conv, 'carol', { hold: 'true' }))));
    await auth.heldCount(4);
    // The bound still holds at two.
    expect((await upgradeRefusal(h.wsUrl(conv, 'bob'))).status).toBe(429);
    auth.held[2]({ userId: 'carol' });
    auth.held[3]({ userId: 'carol' });
    await Promise.all(again.map((c) => c.opened));
    expect(h.server.gateway.connectionCount()).toBe(3);
  });

  test('the default bound is 200; 0 lifts it', async () => {
    const h = await startHarness();
    expect(h.config.server.websocket.max_authenticating_per_address).toBe(200);
    const auth = recordingAuthenticator();
    const unbounded = await startHarness(config(0), { authenticate: auth.authenticate });
    const conv = await unbounded.createConversation('alice');
    const waiting = [0, 1, 2, 3, 4].map(() => track(new TestClient(unbounded.wsUrl(conv, 'alice', { hold: 'true' }))));
    await auth.heldCount(5);
    for (const release of auth.held) release({ userId: 'alice' });
    await Promise.all(waiting.map((c) => c.opened));
    expect(unbounded.server.gateway.connectionCount()).toBe(5);
  });
});
