import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { createNoopLogger, type GatewayLogger } from '../../gateway';
import { closeAll, invalidFrames, startHarness, track } from './harness';
import { refusedStatus, TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/** A logger that calls `onWarn` with every warning message. */
function warnSpy(onWarn: (msg: string) => void): GatewayLogger {
  const noop = createNoopLogger();
  const logger: GatewayLogger = { ...noop, warn: (_obj, msg) => onWarn(msg ?? ''), child: () => logger };
  return logger;
}

describe('gateway connection health', () => {
  test('heartbeat: a client that never pongs is closed with 4000, one that pongs stays', async () => {
    // Dead time is 10 intervals so a busy CI machine cannot make the healthy client look dead.
    const h = await startHarness({ server: { websocket: { heartbeat_interval_s: 0.05, heartbeat_dead_s: 0.5 } } });
    const conv = await h.createConversation('alice', ['bob']);
    const silent = track(new TestClient(h.wsUrl(conv, 'alice'), { autoPong: false }));
    let silentPings = 0;
    silent.ws.on('ping', () => silentPings++);
    const healthy = await h.connect(conv, 'bob');
    await silent.opened;
    const closed = await silent.closed;
    expect(closed).toEqual({ code: 4000, reason: 'GATEWAY_ERR_HEARTBEAT_TIMEOUT' });
    expect(silentPings).toBeGreaterThan(0);

    // The healthy client keeps answering pings for longer than the dead time, and stays connected.
    let pingsAfter = 0;
    await new Promise<void>((resolve) => {
      healthy.ws.on('ping', () => {
        if (++pingsAfter === 15) resolve();
      });
    });
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    expect(h.server.gateway.connectionCount()).toBe(1);
    healthy.send({ type: 'ping' });
    await healthy.waitFor('pong');
  });

  test('a consumer that stops reading is closed with 4008 past the high-water mark, then resumes without a gap', async () => {
    let detected!: () => void;
    const slowDetected = new Promise<void>((resolve) => {
      detected = resolve;
    });
    const logger = warnSpy((msg) => {
      if (msg.includes('slow consumer')) detected();
    });
    const h = await startHarness(
      {
        server: { websocket: { high_water_bytes: 1024, max_frame_bytes: 200_000 } },
        chat: { limits: { max_message_length: 100_000, rate_limit_burst: 1_000_000, rate_limit_per_second: 100_000, queue_size: 100_000 } },
      },
      { logger },
    );
    const conv = await h.createConversation('alice', ['bob']);
    const poster = await h.connect(conv, 'alice');
    const slow = await h.connect(conv, 'bob');
    rawSocket(slow.ws).pause();

    let isDetected = false;
    void slowDetected.then(() => {
      isDetected = true;
    });
    const content = 'x'.repeat(64 * 1024);
    let n = 0;
    while (!isDetected) {
      // Batches of 10, each batch awaited, until the server reports the slow consumer.
      for (let i = 0; i < 10; i++) poster.send({ type: 'message', message_id: `p${n++}`, content });
      await poster.waitFor('message_ack', (a) => a.message_id === `p${n - 1}`);
      expect(n).toBeLessThan(20_000);
    }
    const lastPosted = (await poster.waitFor('message_ack', (a) => a.message_id === `p${n - 1}`)).sequence_id;
    rawSocket(slow.ws).resume();
    expect(await slow.closed).toEqual({ code: 4008, reason: 'GATEWAY_ERR_SLOW_CONSUMER' });
    const seen = slow.sequenceIds();
    expect(seen[seen.length - 1]).toBeLessThan(lastPosted);

    const resumed = await h.connect(conv, 'bob', { last_sequence_id: String(slow.lastSequenceId()) });
    await resumed.waitForSequence(lastPosted);
    const all = [...seen, ...resumed.sequenceIds()];
    for (let i = 1; i < all.length; i++) expect(all[i]).toBe(all[i - 1] + 1);
  });

  test('gateway.close() closes every socket with 1001 and refuses new upgrades', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    expect(h.server.gateway.connectionCount()).toBe(2);
    await h.server.gateway.close();
    expect(await alice.closed).toEqual({ code: 1001, reason: 'GATEWAY_ERR_SHUTTING_DOWN' });
    expect((await bob.closed).code).toBe(1001);
    expect(h.server.gateway.connectionCount()).toBe(0);
    expect(await refusedStatus(h.wsUrl(conv, 'alice'))).toBe(503);
  });

  test('runtime shutdown closes subscribed sockets with 1001', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    await h.runtime.close({ deadlineMs: 1000 });
    expect(await alice.closed).toEqual({ code: 1001, reason: 'GATEWAY_ERR_SHUTTING_DOWN' });
  });

  test("leaving over HTTP closes that participant's other sockets with 4003, not the others", async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bobPhone = await h.connect(conv, 'bob');
    const bobLaptop = await h.connect(conv, 'bob');
    expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
    expect(await bobPhone.closed).toEqual({ code: 4003, reason: 'CHAT_ERR_NOT_PARTICIPANT' });
    expect((await bobLaptop.closed).code).toBe(4003);
    await alice.waitFor('participant_update', (f) => f.action === 'leave');
    alice.send({ type: 'ping' });
    await alice.waitFor('pong');
  });

  test('typing is relayed to the others, acks are recorded, ping answers pong', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    alice.send({ type: 'typing', is_typing: true });
    expect(await bob.waitFor('typing')).toEqual({ type: 'typing', participant_id: 'alice', is_typing: true });
    alice.send({ type: 'message', message_id: 'm1', content: 'hello' });
    const msg = await bob.waitFor('message', (f) => f.message.message_id === 'm1');
    bob.send({ type: 'ack', sequence_id: msg.message.sequence_id });
    bob.send({ type: 'ping', ts: 42 });
    const pong = await bob.waitFor('pong');
    expect(pong.ts).toBe(42);
    expect(Date.parse(pong.server_time)).toBeGreaterThan(0);
    // Alice never sees her own typing indicator; her post is acknowledged again once it is durable.
    const durable = await alice.waitFor('message_ack', (a) => a.message_id === 'm1' && a.persisted);
    expect(durable.sequence_id).toBe(msg.message.sequence_id);
    expect(alice.frames.some((f) => f.type === 'typing')).toBe(false);
  });
});
