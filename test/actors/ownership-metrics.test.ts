import { createChatRuntime, createCounterIds, createManualClock, type ManualClock } from '../../actors';
import type { ChatRuntime } from '../../actors/runtime-types';
import { createChatTelemetry } from '../../observability/chat-telemetry';
import { METRICS } from '../../observability/telemetry-names';
import { MemoryStore } from '../../storage-providers';
import { createTestMeterProvider, type Collected } from '../observability/metric-collector';
import { collector, settle } from './runtime-helpers';

/**
 * The runtime's ownership metrics: the claims it holds (nlweb_chat.ownership.claims) and the conversations another
 * runtime took from it (nlweb_chat.ownership.moves{reason}), which are not passivations: the conversation goes on
 * elsewhere, where nlweb_chat.actor.passivations counted it as an idle actor stopped.
 */
const TTL_S = 15;

describe('ownership metrics of a runtime', () => {
  const opened: ChatRuntime[] = [];
  afterEach(async () => {
    for (const r of opened.splice(0)) await r.close();
  });

  async function server(name: string, store: MemoryStore, clock: ManualClock) {
    const { meterProvider, collect } = createTestMeterProvider();
    const runtime = await createChatRuntime({
      config: {
        observability: { log_level: 'silent' },
        chat: { ownership: { instance_id: name, claim_ttl_s: TTL_S }, supervision: { idle_timeout_s: 60 } },
      },
      storage: store,
      clock,
      ids: createCounterIds(name),
      telemetry: createChatTelemetry({ meterProvider }),
    });
    opened.push(runtime);
    return { runtime, collect };
  }

  function ownership(c: Collected) {
    return {
      claims: c.value(METRICS.ownershipClaims.name),
      fenced: c.value(METRICS.ownershipMoves.name, { reason: 'fenced' }),
      renewal: c.value(METRICS.ownershipMoves.name, { reason: 'renewal' }),
      passivations: c.value(METRICS.actorPassivations.name),
      lapses: c.value(METRICS.ownershipClaimLapses.name),
    };
  }

  /** `a` holds conversation c with alice subscribed; `b` runs on its own clock, which also drives the store. */
  async function pair() {
    const clockA = createManualClock();
    const clockB = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clockB.now() });
    const a = await server('a', store, clockA);
    const b = await server('b', store, clockB);
    await a.runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const aliceOnA = collector();
    await a.runtime.subscribe('c', 'alice', aliceOnA.listener);
    return { a, b, clockA, clockB, aliceOnA };
  }

  test('a write fenced by the new holder counts a move, reason fenced, and no passivation; the claim goes with it', async () => {
    const { a, b, clockB, aliceOnA } = await pair();
    expect(ownership(await a.collect())).toEqual({ claims: 1, fenced: 0, renewal: 0, passivations: 0, lapses: 0 });
    clockB.advance(TTL_S * 1000);
    await b.runtime.post('c', { sender_id: 'alice', message_id: 'b1', content: 'from b' });
    await a.runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'late write of a' });
    await settle();
    expect(aliceOnA.outputs).toContainEqual({ type: 'closed', reason: 'moved' });
    expect(ownership(await a.collect())).toEqual({ claims: 0, fenced: 1, renewal: 0, passivations: 0, lapses: 0 });
    expect(ownership(await b.collect())).toEqual({ claims: 1, fenced: 0, renewal: 0, passivations: 0, lapses: 0 });
  });

  test('a renewal that finds the claim taken counts a move, reason renewal', async () => {
    const { a, b, clockA, clockB, aliceOnA } = await pair();
    clockB.advance(TTL_S * 1000);
    await b.runtime.post('c', { sender_id: 'alice', message_id: 'b1', content: 'from b' });
    clockA.advance((TTL_S * 1000) / 3);
    await settle();
    expect(aliceOnA.outputs).toContainEqual({ type: 'closed', reason: 'moved' });
    expect(ownership(await a.collect())).toEqual({ claims: 0, fenced: 0, renewal: 1, passivations: 0, lapses: 0 });
  });

  test('work held on a claim past its validity by the runtime clock counts a lapse (the renewal it asked for), not a move', async () => {
    const { a, clockA, aliceOnA } = await pair();
    // A renewal at a third of the TTL, then a pause of two TTLs (no timer runs: jump), and a post as the process wakes.
    clockA.advance((TTL_S * 1000) / 3);
    await settle();
    clockA.jump(2 * TTL_S * 1000);
    const posted = await a.runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'after the pause' });
    expect(aliceOnA.messages.map((m) => m.content)).toContain('after the pause');
    expect(posted.sequence_id).toBeGreaterThan(0);
    expect(ownership(await a.collect())).toEqual({ claims: 1, fenced: 0, renewal: 0, passivations: 0, lapses: 1 });
  });

  test('an idle conversation passivated is a passivation, not a move, and its claim is given back', async () => {
    const clock = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clock.now() });
    const a = await server('a', store, clock);
    await a.runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    expect(ownership(await a.collect())).toMatchObject({ claims: 1, passivations: 0 });
    clock.advance(60_000);
    await settle();
    expect(ownership(await a.collect())).toEqual({ claims: 0, fenced: 0, renewal: 0, passivations: 1, lapses: 0 });
  });
});
