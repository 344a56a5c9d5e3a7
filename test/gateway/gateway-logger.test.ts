import { Writable } from 'node:stream';
import { createChatRuntime } from '../../actors';
import { ChatError } from '../../actors/errors';
import { createChatGateway, createChatServer, type GatewayLogger } from '../../gateway';
import { createLogger } from '../../observability/logger';
import { MemoryStore } from '../../storage-providers/memory-store';
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

describe('a logger the gateway cannot use', () => {
  test('is refused when the gateway is made (CONFIG_ERR_INVALID naming each missing method), not per connection', async () => {
    const runtime = await createChatRuntime({ config: { observability: { log_level: 'silent' } }, storage: new MemoryStore() });
    try {
      // Shaped like a console wrapper: lines, but no debug and no child.
      const partial = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as GatewayLogger;
      let refused: unknown;
      try {
        createChatGateway({ runtime, config: {}, logger: partial });
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(ChatError);
      expect((refused as ChatError).code).toBe('CONFIG_ERR_INVALID');
      expect((refused as ChatError).details).toEqual({
        problems: [
          { path: 'logger.debug', message: 'must be a function (GatewayLogger: info, warn, error, debug, child)' },
          { path: 'logger.child', message: 'must be a function (GatewayLogger: info, warn, error, debug, child)' },
        ],
      });
      expect(() => createChatServer({ runtime, config: {}, logger: partial })).toThrow(/logger\.child: must be a function/);
      // pino (the binary's logger) has every method.
      const gateway = createChatGateway({ runtime, config: {}, logger: capturedPino().logger });
      await gateway.close();
    } finally {
      await runtime.close();
    }
  });
});
