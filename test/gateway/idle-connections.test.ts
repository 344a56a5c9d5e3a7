import net from 'node:net';
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

/** Resolves with how long a TCP connection that sends nothing stays open (rejects after `guardMs`: never closed). */
function idleLifetime(url: string, guardMs: number): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname);
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`an idle connection was still open after ${guardMs} ms`));
    }, guardMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(Date.now() - started);
    });
  });
}

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
