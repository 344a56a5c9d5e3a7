import { createManualClock } from '../../actors/clock';
import type { ConversationContext, ConversationInput } from '../../actors/conversation-context';
import type { ConversationEvent } from '../../actors/conversation-events';
import { SharedConversationMachine, type ConversationEffects } from '../../actors/shared-conversation-machine';
import { policy } from './machine-fixtures';

const alice = { participant_id: 'alice', participant_type: 'human' as const, display_name: 'alice', role: 'member' as const };
const inputFor = (conversationId: string): ConversationInput => ({
  conversationId,
  settings: {},
  policy,
  lastSequenceId: 0,
  participants: [],
  recent: [],
});

/** Effects that remember what they were handed, by effect name. */
function recordingEffects() {
  const calls: { effect: string; conversationId?: string; sequenceIds?: number[] }[] = [];
  const note = (effect: string, context?: ConversationContext) =>
    calls.push({ effect, conversationId: context?.conversationId, sequenceIds: context?.emitted.map((r) => r.sequence_id) });
  const effects: ConversationEffects = {
    deliver: (context) => note('deliver', context),
    persist: (context) => note('persist', context),
    acknowledge: (context) => note('acknowledge', context),
    acknowledgeEach: (context) => note('acknowledgeEach', context),
    dispatchToAgents: (context) => note('dispatchToAgents', context),
    forwardTyping: () => note('forwardTyping'),
  };
  return { calls, effects };
}

const join = (requestId: number): ConversationEvent => ({ type: 'JOIN', requestId, receivedAt: 0, participant: alice });
const post = (id: string): ConversationEvent => ({
  type: 'POST',
  requestId: 2,
  receivedAt: 1,
  sender_id: 'alice',
  message_id: id,
  content: id,
});

describe('SharedConversationMachine', () => {
  it('runs every conversation on one definition, each actor reaching only its own effects', () => {
    const shared = new SharedConversationMachine();
    const clock = createManualClock();
    const errors: unknown[] = [];
    const a = recordingEffects();
    const b = recordingEffects();
    const actorA = shared.start(inputFor('conv-a'), clock, a.effects, (err) => errors.push(err));
    const actorB = shared.start(inputFor('conv-b'), clock, b.effects, (err) => errors.push(err));
    // One definition: the machine (state nodes, formatted transitions) is not rebuilt per conversation.
    expect(actorA.logic).toBe(actorB.logic);

    actorA.send(join(1));
    actorA.send(post('a1'));
    actorB.send(join(1));

    expect(errors).toEqual([]);
    expect(a.calls.filter((c) => c.effect === 'deliver')).toEqual([
      { effect: 'deliver', conversationId: 'conv-a', sequenceIds: [1] },
      { effect: 'deliver', conversationId: 'conv-a', sequenceIds: [2] },
    ]);
    expect(b.calls.filter((c) => c.effect === 'deliver')).toEqual([{ effect: 'deliver', conversationId: 'conv-b', sequenceIds: [1] }]);
    expect(a.calls.every((c) => c.conversationId === undefined || c.conversationId === 'conv-a')).toBe(true);
    expect(b.calls.every((c) => c.conversationId === undefined || c.conversationId === 'conv-b')).toBe(true);
    actorA.stop();
    actorB.stop();
  });

  it("runs a POSTS batch's effects in the order of the other sequencing steps: deliver, persist, then the answers and agents", () => {
    const shared = new SharedConversationMachine();
    const errors: unknown[] = [];
    const { calls, effects } = recordingEffects();
    const actor = shared.start(inputFor('c'), createManualClock(), effects, (err) => errors.push(err));
    actor.send(join(1));
    calls.length = 0;
    actor.send({ type: 'POSTS', requestId: 2, receivedAt: 1, posts: [{ sender_id: 'alice', message_id: 'p1', content: 'hi' }] });
    expect(errors).toEqual([]);
    // One settleBatch action: each effect once, deliver first (the step is noted for the supervisor before anything else).
    expect(calls).toEqual(
      ['deliver', 'persist', 'acknowledgeEach', 'dispatchToAgents'].map((effect) => ({ effect, conversationId: 'c', sequenceIds: [2] })),
    );
    actor.stop();
  });

  it('keeps runtimes apart: an actor of one runtime is unknown to another', () => {
    const one = new SharedConversationMachine();
    const other = new SharedConversationMachine();
    const clock = createManualClock();
    const errors: unknown[] = [];
    const { effects } = recordingEffects();
    const actor = one.start(inputFor('c'), clock, effects, (err) => errors.push(err));
    const foreign = other.start(inputFor('c'), clock, recordingEffects().effects, () => undefined);
    expect(actor.logic).not.toBe(foreign.logic);
    actor.send(join(1));
    expect(errors).toEqual([]);
    actor.stop();
    foreign.stop();
  });
});
