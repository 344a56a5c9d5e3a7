import { Writable } from 'node:stream';
import { createLogger } from '../../observability/logger';
import { closeAll, startHarness, track } from './harness';
import { TestClient } from './ws-test-client';

afterEach(closeAll);

/** A real pino logger (the binary's) whose JSON lines are collected, parsed, as an embedder's log would get them. */
function capturedPino() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write: (chunk, _encoding, done) => {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe("the gateway's logger (GatewayLogger)", () => {
  test('a pino logger fits as given: each WebSocket connection logs through a child bound to its conversation, participant and connection', async () => {
    const { logger, lines } = capturedPino();
    // Dead time is 10 intervals, as in connection-health.test.ts: both clients never pong and are closed for it.
    const h = await startHarness({ server: { websocket: { heartbeat_interval_s: 0.05, heartbeat_dead_s: 0.5 } } }, { logger });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = track(new TestClient(h.wsUrl(conv, 'alice'), { autoPong: false }));
    const bob = track(new TestClient(h.wsUrl(conv, 'bob'), { autoPong: false }));
    expect((await alice.closed).reason).toBe('GATEWAY_ERR_HEARTBEAT_TIMEOUT');
    expect((await bob.closed).reason).toBe('GATEWAY_ERR_HEARTBEAT_TIMEOUT');

    // The line is written with only {silent_ms}; the rest comes from the connection's child bindings.
    const timeouts = lines.filter((l) => l.msg === 'heartbeat timeout');
    expect(timeouts.map((l) => l.participant_id).sort()).toEqual(['alice', 'bob']);
    for (const line of timeouts) {
      expect(line).toMatchObject({ level: 'info', service: 'nlweb-chat', conversation_id: conv });
      expect(typeof line.connection_id).toBe('string');
      expect(typeof line.silent_ms).toBe('number');
    }
    expect(new Set(timeouts.map((l) => l.connection_id)).size).toBe(2);
  });
});
