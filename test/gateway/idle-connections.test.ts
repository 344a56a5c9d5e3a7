import { closeAll, startHarness } from './harness';
import { idleLifetime } from './idle-socket';

afterEach(closeAll);

describe('server.idle_timeout_s', () => {
  test('a connection that sends nothing is closed after the idle time; an open WebSocket is not', async () => {
    const h = await startHarness({ server: { idle_timeout_s: 0.3 } });
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    const lived = await idleLifetime(h.url, 5000);
    expect(lived).toBeGreaterThanOrEqual(250);
    // The WebSocket, quiet as long as the idle connection, is still served: its liveness is the heartbeat's.
    alice.send({ type: 'ping', ts: 1 });
    expect((await alice.waitFor('pong')).ts).toBe(1);
  });

  test('the default is 60 s', async () => {
    const h = await startHarness();
    expect(h.config.server.idle_timeout_s).toBe(60);
    expect(h.server.server.timeout).toBe(60_000);
  });
});
