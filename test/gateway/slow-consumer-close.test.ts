import type { Socket } from 'node:net';
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ConfigInput } from '../../config/config-types';
import { closeAll, invalidFrames, startHarness, track } from './harness';
import { fillHistory, nextServerSocket, rawSocket, replayWaiting, stallWatch, warnings } from './slow-readers';
import { TestClient } from './ws-test-client';

/**
 * A slow consumer's close ends soon: its 4008 close frame waits behind everything the reader has not read, so the
 * server resets the socket server.websocket.slow_consumer_close_grace_ms after sending it (on the gateway's clock,
 * a manual one here) instead of leaving it, and its buffers, to ws's own 30 s close timeout. Real server on port 0,
 * real ws clients that stop reading (their socket paused). Both tests fail on the gateway before the grace (the
 * socket still open after it).
 */
afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const GRACE_MS = 1500;
const STALL_MS = 5000;
const LIMITS: ConfigInput = {
  chat: {
    storage: { memory: { max_records_per_conversation: 0 } },
    limits: { max_message_length: 100_000, queue_size: 100_000, rate_limit_burst: 1_000_000, rate_limit_per_second: 100_000 },
  },
};

/**
 * Advances the clock to just before the grace ends and then to it: the socket goes at the end, not before, and by a
 * reset (an RST makes the kernel drop the megabytes queued for the reader; with a FIN it keeps them in FIN-WAIT-1).
 */
function expectResetAfterGrace(clock: ManualClock, serverSide: Socket, graceMs = GRACE_MS): void {
  let resets = 0;
  const reset = serverSide.resetAndDestroy.bind(serverSide);
  serverSide.resetAndDestroy = () => {
    resets++;
    return reset();
  };
  expect(serverSide.destroyed).toBe(false);
  clock.advance(graceMs - 1);
  expect(serverSide.destroyed).toBe(false);
  clock.advance(1);
  expect(serverSide.destroyed).toBe(true);
  expect(resets).toBe(1);
}

function expectContiguous(ids: readonly number[]): void {
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => (ids[0] ?? 0) + i));
}

describe('a slow consumer', () => {
  test('that stops reading live records is closed with 4008 and its socket reset slow_consumer_close_grace_ms later', async () => {
    const warned = warnings();
    const clock = createManualClock(Date.now());
    const h = await startHarness(
      { ...LIMITS, server: { websocket: { high_water_bytes: 1024, max_frame_bytes: 200_000, slow_consumer_close_grace_ms: GRACE_MS } } },
      { logger: warned.logger, clock },
    );
    const conv = await h.createConversation('alice', ['bob']);
    const poster = await h.connect(conv, 'alice');
    const serverSide = nextServerSocket(h);
    const slow = await h.connect(conv, 'bob');
    const bobOnServer = await serverSide;
    rawSocket(slow.ws).pause();

    const content = 'x'.repeat(64 * 1024);
    let n = 0;
    while (warned.lines.length === 0) {
      for (let i = 0; i < 10; i++) poster.send({ type: 'message', message_id: `p${n++}`, content });
      await poster.waitFor('message_ack', (a) => a.message_id === `p${n - 1}`);
      expect(n).toBeLessThan(20_000);
    }
    expect(warned.lines.map((l) => l.msg)).toEqual(['slow consumer disconnected']);
    const lastPosted = (await poster.waitFor('message_ack', (a) => a.message_id === `p${n - 1}`)).sequence_id;
    const closedOnServer = new Promise((resolve) => bobOnServer.once('close', resolve));
    expectResetAfterGrace(clock, bobOnServer);
    await closedOnServer;
    expect(h.server.gateway.connectionCount()).toBe(1);

    // The close frame was behind what bob never read: he gets what his own kernel buffer held, then the end without
    // it (1006), and resumes from his last record.
    rawSocket(slow.ws).resume();
    expect((await slow.closed).code).toBe(1006);
    const seen = slow.sequenceIds();
    const resumed = await h.connect(conv, 'bob', { last_sequence_id: String(slow.lastSequenceId()) });
    await resumed.waitForSequence(lastPosted);
    expectContiguous([...seen, ...resumed.sequenceIds()]);
  });

  test('whose replay stalls is closed with 4008 and its socket reset after the same grace', async () => {
    const warned = warnings();
    const watch = stallWatch(STALL_MS);
    const { clock } = watch;
    const h = await startHarness(
      { ...LIMITS, server: { websocket: { replay_stall_ms: STALL_MS, slow_consumer_close_grace_ms: GRACE_MS } } },
      { logger: warned.logger, clock },
    );
    const conv = await h.createConversation('alice', ['bob']);
    await fillHistory(h, conv, 8000);
    const serverSide = nextServerSocket(h);
    const bob = track(new TestClient(h.wsUrl(conv, 'bob', { last_sequence_id: '0' })));
    bob.ws.once('open', () => rawSocket(bob.ws).pause());
    const bobOnServer = await serverSide;
    await bob.opened;
    await replayWaiting(watch, warned);

    clock.advance(STALL_MS);
    expect(warned.lines.map((l) => l.msg)).toEqual(['slow consumer disconnected']);
    expectResetAfterGrace(clock, bobOnServer);
    rawSocket(bob.ws).resume();
    expect((await bob.closed).code).toBe(1006);
    expectContiguous(bob.sequenceIds());
  });
});

describe('a silent peer', () => {
  test('that answers no ping is closed with 4000 and its socket reset heartbeat_dead_s later, not terminated', async () => {
    // A peer that does not answer pings reads nothing either: terminating left what the kernel held for it queued
    // behind a FIN, as for a slow consumer. Heartbeat every 1 s, dead after 3 s, on the gateway's manual clock.
    const clock = createManualClock(Date.now());
    const h = await startHarness({ server: { websocket: { heartbeat_interval_s: 1, heartbeat_dead_s: 3 } } }, { clock });
    const conv = await h.createConversation('alice', ['bob']);
    const serverSide = nextServerSocket(h);
    const bob = await h.connect(conv, 'bob');
    const bobOnServer = await serverSide;
    rawSocket(bob.ws).pause();
    const closedOnServer = new Promise((resolve) => bobOnServer.once('close', resolve));
    // The ticks at 1, 2 and 3 s ping him; the one at 4 s finds more than 3 s of silence and sends the close frame.
    for (let i = 0; i < 4; i++) clock.advance(1000);
    expect(bobOnServer.destroyed).toBe(false);
    expectResetAfterGrace(clock, bobOnServer, 3000);
    await closedOnServer;
    expect(h.server.gateway.connectionCount()).toBe(0);
    rawSocket(bob.ws).resume();
    // The close frame may have reached his kernel before the reset: 4000 or, without it, 1006.
    expect([4000, 1006]).toContain((await bob.closed).code);
  });
});
