import http from 'node:http';
import { closeAll, startHarness, track, type Harness } from './harness';
import { TestClient, upgradeOutcome, upgradeRefusal } from './ws-test-client';

afterEach(closeAll);

/** Resolves once the gateway has seen `count` sockets close (a client's close resolves before the server's may). */
async function serverConnections(h: Harness, count: number): Promise<void> {
  for (let turn = 0; turn < 1000 && h.server.gateway.connectionCount() !== count; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  expect(h.server.gateway.connectionCount()).toBe(count);
}

/** An upgrade the gateway lets through to ws, which refuses it (400, plain text): its key is not a WebSocket key. */
function badKeyUpgradeStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get(url.replace(/^ws/, 'http'), {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'x', 'Sec-WebSocket-Version': '13' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('error', reject);
  });
}

describe('server.websocket.max_connections_per_user', () => {
  test('a user past the bound is refused 429 GATEWAY_ERR_TOO_MANY_CONNECTIONS; other users are not; a closed socket frees its slot', async () => {
    const h = await startHarness({ server: { websocket: { max_connections_per_user: 2 } } });
    const conv = await h.createConversation('alice', ['bob']);
    const first = await h.connect(conv, 'alice');
    await h.connect(conv, 'alice');
    const refused = await upgradeRefusal(h.wsUrl(conv, 'alice'));
    expect(refused).toMatchObject({
      status: 429,
      body: {
        error: 'GATEWAY_ERR_TOO_MANY_CONNECTIONS',
        code: 429,
        message: 'alice has 2 WebSockets open, the most one user may (server.websocket.max_connections_per_user)',
      },
    });
    // Offering the refusal subprotocol: close 1013 (try again later), the code as the reason.
    const closed = await upgradeOutcome(h.wsUrl(conv, 'alice'), ['nlweb-chat.refusals']);
    expect(closed.close).toEqual({ code: 1013, reason: 'GATEWAY_ERR_TOO_MANY_CONNECTIONS' });
    await h.connect(conv, 'bob');
    await first.close();
    await serverConnections(h, 2);
    await h.connect(conv, 'alice');
  });

  test('upgrades racing for the last slots get exactly the bound, and refusals of other kinds take no slot', async () => {
    const h = await startHarness({ server: { websocket: { max_connections_per_user: 3 } } });
    const conv = await h.createConversation('alice');
    const elsewhere = await h.createConversation('carol');
    for (let i = 0; i < 5; i++) expect((await upgradeRefusal(h.wsUrl(elsewhere, 'alice'))).status).toBe(403);
    // Handshakes ws aborts after the gateway accepted them (a key that is not one) give their slot back too.
    for (let i = 0; i < 5; i++) expect(await badKeyUpgradeStatus(h.wsUrl(conv, 'alice'))).toBe(400);
    const racing = Array.from({ length: 8 }, () => track(new TestClient(h.wsUrl(conv, 'alice'))));
    const outcomes = await Promise.all(
      racing.map((c) =>
        c.opened.then(
          () => 'open',
          (err: { statusCode?: number }) => err.statusCode,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'open')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 429)).toHaveLength(5);
  });

  test('0 lifts the bound', async () => {
    const h = await startHarness({ server: { websocket: { max_connections_per_user: 0 } } });
    const conv = await h.createConversation('alice');
    for (let i = 0; i < 60; i++) await h.connect(conv, 'alice');
    expect(h.server.gateway.connectionCount()).toBe(60);
  });

  test('the default bound is 50', async () => {
    const h = await startHarness();
    expect(h.config.server.websocket.max_connections_per_user).toBe(50);
    const conv = await h.createConversation('alice');
    for (let i = 0; i < 50; i++) await h.connect(conv, 'alice');
    expect((await upgradeRefusal(h.wsUrl(conv, 'alice'))).status).toBe(429);
  });
});
