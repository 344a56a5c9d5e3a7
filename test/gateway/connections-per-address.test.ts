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
  return { authenticate, seen, held, heldCount };
}

const config = (perAddress: number) => ({
  server: { auth: { query_parameters: ['hold'] }, websocket: { max_connections_per_address: perAddress } },
});

describe('server.websocket.max_connections_per_address', () => {
  test('an address past the bound is refused 429 / close 1013 GATEWAY_ERR_TOO_MANY_CONNECTIONS whoever the user; a closed socket frees its slot', async () => {
    const auth = recordingAuthenticator();
    const h = await startHarness(config(2), { authenticate: auth.authenticate });
    const conv = await h.createConversation('alice', ['bob', 'carol']);
    const alice = await h.connect(conv, 'alice');
    await h.connect(conv, 'bob');
    // carol holds no socket (the per-user bound is 50): it is the address that is full.
    const refused = await upgradeRefusal(h.wsUrl(conv, 'carol'));
    expect(refused).toMatchObject({
      status: 429,
      body: {
        error: 'GATEWAY_ERR_TOO_MANY_CONNECTIONS',
        code: 429,
        message: '127.0.0.1 has 2 WebSockets open or connecting, the most one address may (server.websocket.max_connections_per_address)',
      },
    });
    const closed = await upgradeOutcome(h.wsUrl(conv, 'carol'), ['nlweb-chat.refusals']);
    expect(closed.close).toEqual({ code: 1013, reason: 'GATEWAY_ERR_TOO_MANY_CONNECTIONS' });
    // Refused before authentication: the authenticator saw only the two accepted upgrades.
    expect(auth.seen.map((s) => s.userId)).toEqual(['alice', 'bob']);
    await alice.close();
    await auth.seen[0].serverClosed;
    await h.connect(conv, 'carol');
    expect(h.server.gateway.connectionCount()).toBe(2);
  });

  test('upgrades still authenticating count, so unauthenticated clients cannot hold more; an upgrade refused later gives its slot back', async () => {
    const auth = recordingAuthenticator();
    const h = await startHarness(config(2), { authenticate: auth.authenticate });
    const conv = await h.createConversation('alice', ['bob']);
    const waiting = [0, 1].map(() => track(new TestClient(h.wsUrl(conv, 'alice', { hold: 'true' }))));
    await auth.heldCount(2);
    // A third upgrade, even with a token that would be refused as 401, is refused for the address first.
    const bad = h.wsUrl(conv, 'bob').replace(/token=[^&]+/, 'token=not-a-token');
    expect((await upgradeRefusal(bad)).status).toBe(429);
    expect((await upgradeRefusal(h.wsUrl(conv, 'bob'))).status).toBe(429);
    // One held upgrade is accepted, the other refused 401: its slot is free once its connection has closed.
    auth.held[0]({ userId: 'alice' });
    auth.held[1](undefined);
    const outcomes = await Promise.all(
      waiting.map((c) =>
        c.opened.then(
          () => 101,
          (err: { statusCode?: number }) => err.statusCode,
        ),
      ),
    );
    expect(outcomes.sort()).toEqual([101, 401]);
    await auth.seen[1].serverClosed;
    await h.connect(conv, 'bob');
    expect((await upgradeRefusal(h.wsUrl(conv, 'bob'))).status).toBe(429);
  });

  test('the default bound is 200; 0 lifts it', async () => {
    const h = await startHarness();
    expect(h.config.server.websocket.max_connections_per_address).toBe(200);
    const unbounded = await startHarness({ server: { websocket: { max_connections_per_address: 0, max_connections_per_user: 0 } } });
    const conv = await unbounded.createConversation('alice');
    for (let i = 0; i < 5; i++) await unbounded.connect(conv, 'alice');
    expect(unbounded.server.gateway.connectionCount()).toBe(5);
  });
});
