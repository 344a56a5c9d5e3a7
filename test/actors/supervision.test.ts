import type { ChatRuntime } from '../../actors/runtime-types';
import { createEchoAgent, isChatError, type Agent } from '../../actors';
import { makeRuntime, collector, decliningAgent, settle } from './runtime-helpers';
import { MemoryStore } from '../../storage-providers';
import { STORAGE_PROBE_MS } from '../../actors/chat-runtime';
import { createNoopTelemetry } from '../../observability/chat-telemetry';

/**
 * Telemetry whose delivery metric throws for the next `crashNext(n)` deliveries: each crashes the machine of the
 * conversation whose step was handing records out (a fault outside the runtime's isolation). Restarts are counted.
 */
function crashingTelemetry() {
  const telemetry = createNoopTelemetry();
  let armed = 0;
  const restarts = { count: 0 };
  telemetry.messagesOut = () => {
    if (armed === 0) return;
    armed--;
    throw new Error('metric exporter failed');
  };
  telemetry.actorRestart = () => void restarts.count++;
  return { telemetry, restarts, crashNext: (n = 1) => (armed = n) };
}

describe('supervision', () => {
  it('restarts a crashed conversation from its journal with sequence ids and participants intact, without touching others', async () => {
    const { telemetry, restarts, crashNext } = crashingTelemetry();
    const { runtime } = await makeRuntime({ telemetry, config: { chat: { supervision: { max_restarts: 3 } } } });
    const bob = { participant_id: 'bob', participant_type: 'human' as const };
    await runtime.createConversation({ conversation_id: 'bad', created_by: 'alice', participants: [bob] });
    await runtime.createConversation({ conversation_id: 'good', created_by: 'carol' });
    const alice = collector();
    const carol = collector();
    await runtime.subscribe('bad', 'alice', alice.listener);
    await runtime.subscribe('good', 'carol', carol.listener);
    await runtime.post('bad', { sender_id: 'alice', message_id: 'm1', content: 'before' });
    // The step handing out 'boom' crashes after sequencing it: the post is kept (keepCrashedStep).
    crashNext();
    const boom = await runtime.post('bad', { sender_id: 'alice', message_id: 'm2', content: 'boom' });
    await settle();
    expect(restarts.count).toBe(1);
    await runtime.post('good', { sender_id: 'carol', message_id: 'g1', content: 'unaffected' });
    const after = await runtime.post('bad', { sender_id: 'bob', message_id: 'm3', content: 'after' });
    expect(after.sequence_id).toBe(boom.sequence_id + 1);
    expect((await runtime.getConversation('bad')).participants.map((p) => p.participant_id).sort()).toEqual(['alice', 'bob']);
    // the connection survived the restart and saw one gap-free stream
    const seqs = alice.messages.map((m) => m.sequence_id);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
    expect(alice.messages.map((m) => m.content).slice(-3)).toEqual(['before', 'boom', 'after']);
    expect(carol.messages.map((m) => m.content)).toContain('unaffected');
    expect(restarts.count).toBe(1);
    expect(runtime.health().failed_conversations).toEqual([]);
    await runtime.close();
  });

  it('marks a conversation failed after max_restarts crashes within the window and says so', async () => {
    const { telemetry, restarts, crashNext } = crashingTelemetry();
    const { runtime } = await makeRuntime({ telemetry, config: { chat: { supervision: { max_restarts: 2, restart_window_s: 60 } } } });
    await runtime.createConversation({ conversation_id: 'bad', created_by: 'alice' });
    await runtime.createConversation({ conversation_id: 'good', created_by: 'alice' });
    const alice = collector();
    await runtime.subscribe('bad', 'alice', alice.listener);
    for (let i = 0; i < 3; i++) {
      crashNext();
      await runtime.post('bad', { sender_id: 'alice', message_id: `b${i}`, content: 'boom' });
      await settle();
    }
    expect(restarts.count).toBe(2);
    expect(alice.outputs.some((o) => o.type === 'failed')).toBe(true);
    const refused = await runtime.post('bad', { sender_id: 'alice', message_id: 'x', content: 'hello' }).catch((e: unknown) => e);
    expect(isChatError(refused, 'CHAT_ERR_CONVERSATION_FAILED')).toBe(true);
    expect(runtime.health()).toMatchObject({ status: 'degraded', failed_conversations: ['bad'] });
    await expect(runtime.post('good', { sender_id: 'alice', message_id: 'g', content: 'fine' })).resolves.toMatchObject({
      duplicate: false,
    });
    await runtime.close();
  });
});

/**
 * Conversation 'c' (alice, bob and the AI `agentId`, so multi mode) in a runtime whose input window (5 s) outlasts
 * its idle timeout (1 s): passivating while messages wait would drop their agent turn.
 */
async function windowOutlastingIdleTimeout(agent: Agent, agentId: string) {
  const made = await makeRuntime({
    agents: [agent],
    config: { chat: { supervision: { idle_timeout_s: 1 }, input: { multi_mode_window_ms: 5000 } } },
  });
  await made.runtime.createConversation({
    conversation_id: 'c',
    created_by: 'alice',
    participants: [
      { participant_id: 'bob', participant_type: 'human' },
      { participant_id: agentId, participant_type: 'ai' },
    ],
  });
  return made;
}

describe('passivation', () => {
  it('stops an idle conversation after idle_timeout_s and rebuilds it from storage on next use', async () => {
    const { runtime, clock } = await makeRuntime({ agents: [], config: { chat: { supervision: { idle_timeout_s: 30 } } } });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const first = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hi' });
    await first.whenPersisted;
    await settle();
    expect(runtime.health().conversations).toBe(1);
    clock.advance(30_000);
    expect(runtime.health().conversations).toBe(0);
    const retry = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hi' });
    expect(retry).toMatchObject({ duplicate: true, sequence_id: first.sequence_id });
    const next = await runtime.post('c', { sender_id: 'bob', message_id: 'm2', content: 'yo' });
    expect(next.sequence_id).toBe(first.sequence_id + 1);
    expect((await runtime.getConversation('c')).mode).toBe('multi');
    await runtime.close();
  });

  it('keeps a conversation whose messages wait for the input window alive until their agent turn has run', async () => {
    // An idle timeout shorter than the input window: passivating then would drop the waiting messages' turn.
    const { runtime, clock, store } = await windowOutlastingIdleTimeout(createEchoAgent(), 'echo');
    const posted = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'anyone there?' });
    await posted.whenPersisted;
    await settle();
    clock.advance(1000);
    await settle();
    expect(runtime.health().conversations).toBe(1);
    clock.advance(4000);
    await settle();
    const answers = (await store.readMessages('c', 0, 100)).filter((m) => m.sender_id === 'echo' && m.message_type !== 'join');
    expect(answers.map((m) => m.content)).toEqual(['echo: anyone there?']);
    // Its work done, it passivates as any idle conversation does.
    clock.advance(1000);
    await settle();
    expect(runtime.health().conversations).toBe(0);
    await runtime.close();
  });

  it('passivates after the input window even when no agent takes the turn (nothing is written to call it back)', async () => {
    const { runtime, clock } = await windowOutlastingIdleTimeout(decliningAgent('shy'), 'shy');
    await (
      await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hello?' })
    ).whenPersisted;
    await settle();
    clock.advance(4999);
    await settle();
    expect(runtime.health().conversations).toBe(1);
    clock.advance(1001);
    await settle();
    expect(runtime.health().conversations).toBe(0);
    await runtime.close();
  });

  it.each([
    ['a read of its metadata', (runtime: ChatRuntime) => runtime.getConversation('c')],
    ['a history page', (runtime: ChatRuntime) => runtime.readHistoryPage('c', 0, 10)],
    ['a read position', (runtime: ChatRuntime) => runtime.markRead('c', 'bob', 1)],
    // subscribe stops the idle clock itself (a subscription keeps the conversation): one refused opens none to close.
    ['a refused subscription', (runtime: ChatRuntime) => runtime.subscribe('c', 'mallory', () => undefined).catch(() => undefined)],
  ])('passivates idle_timeout_s after %s, which only restarts the idle clock', async (_what, use) => {
    // Every use cancelled the idle timer and only a stored record or a closed subscription armed it again: a client
    // without a socket (HTTP reads, POST /read) kept the conversation in memory for good (still live 60 s on).
    const { runtime, clock } = await makeRuntime({ agents: [], config: { chat: { supervision: { idle_timeout_s: 30 } } } });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    await (
      await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hi' })
    ).whenPersisted;
    await settle();
    clock.advance(20_000);
    await use(runtime);
    await settle();
    clock.advance(29_999);
    await settle();
    expect(runtime.health().conversations).toBe(1);
    clock.advance(1);
    await settle();
    expect(runtime.health().conversations).toBe(0);
    await runtime.close();
  });

  it('keeps a conversation with a connection alive', async () => {
    const { runtime, clock } = await makeRuntime({ agents: [], config: { chat: { supervision: { idle_timeout_s: 30 } } } });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const sub = await runtime.subscribe('c', 'alice', () => undefined);
    await settle();
    clock.advance(60_000);
    expect(runtime.health().conversations).toBe(1);
    sub.close();
    await settle();
    clock.advance(30_000);
    expect(runtime.health().conversations).toBe(0);
    await runtime.close();
  });
});

describe('storage probe', () => {
  it('reports storage disconnected and the runtime unhealthy when the store stops answering, and recovers', async () => {
    class FlakyStore extends MemoryStore {
      down = false;
      protected override async _ping(): Promise<void> {
        if (this.down) throw new Error('connection refused');
      }
    }
    const store = new FlakyStore();
    const { runtime, clock } = await makeRuntime({ store, agents: [] });
    expect(runtime.health().storage).toBe('connected');
    store.down = true;
    clock.advance(STORAGE_PROBE_MS);
    await settle();
    expect(runtime.health()).toMatchObject({ status: 'unhealthy', storage: 'disconnected' });
    store.down = false;
    await expect(runtime.checkStorage()).resolves.toBe(true);
    expect(runtime.health()).toMatchObject({ status: 'healthy', storage: 'connected' });
    await runtime.close();
  });
});
