import fc from 'fast-check';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { conversationMachine } from '../../actors/conversation-machine';
import type { ConversationInput, ConversationPolicy, Outcome, TurnRequest } from '../../actors/conversation-context';
import type { ConversationEvent, PostFields } from '../../actors/conversation-events';
import type { ChatMessage } from '../../actors/message-types';

const policy: ConversationPolicy = {
  maxParticipants: 6,
  humanContextSize: 3,
  cacheSize: 5,
  dedupWindow: 1000,
  chainLimit: 2,
  multiModeWindowMs: 2000,
  multiModeMaxWaitMs: 10_000,
  singleModeTypingWindowMs: 100,
};
const input: ConversationInput = { conversationId: 'c', settings: {}, policy, lastSequenceId: 0, participants: [], recent: [] };
const PEOPLE = ['h0', 'h1', 'h2', 'bot', 'stranger'];
const participant = (id: string) =>
  id === 'bot'
    ? { participant_id: id, participant_type: 'ai' as const, display_name: id, role: 'member' as const, agent_id: id }
    : { participant_id: id, participant_type: 'human' as const, display_name: id, role: 'member' as const };

type Step =
  | { kind: 'join' | 'leave'; who: number }
  | { kind: 'typing'; who: number; on: boolean }
  | { kind: 'posts'; posts: Array<{ who: number; id: number }> };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('join' as const, 'leave' as const), who: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('typing' as const), who: fc.integer({ min: 0, max: 2 }), on: fc.boolean() }),
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('posts' as const),
      // Small id space: repeats (retries) within and across batches are common.
      posts: fc.array(fc.record({ who: fc.integer({ min: 0, max: 4 }), id: fc.integer({ min: 0, max: 5 }) }), {
        minLength: 1,
        maxLength: 6,
      }),
    }),
  },
);

type Snapshot = SnapshotFrom<typeof conversationMachine>;

/** What one step produced: records, per-post outcomes, agent turns (by job id) and where the machine is. */
interface Effects {
  emitted: ChatMessage[];
  outcomes: Outcome[];
  turns: string[];
}

function turnIds(turns: readonly TurnRequest[]): string[] {
  return turns.map((t) => `${t.jobId}:${t.burst.map((m) => m.sequence_id).join(',')}:${t.recentHumanMessages.length}`);
}

/**
 * Applies one event; `emitted` and `turns` count only where the step runs deliver / dispatchToAgents (a POSTS batch
 * runs both inside its settleBatch action).
 */
function apply(snapshot: Snapshot, event: ConversationEvent, effects: Effects): Snapshot {
  const [next, actions] = transition(conversationMachine, snapshot, event);
  const ran = new Set(actions.map((a) => a.type));
  if (ran.has('deliver') || ran.has('settleBatch')) effects.emitted.push(...next.context.emitted);
  if (ran.has('dispatchToAgents') || ran.has('settleBatch')) effects.turns.push(...turnIds(next.context.turns));
  return next;
}

describe('POSTS batches (pure transitions)', () => {
  it('decide every post exactly as the same POSTs one by one would: records, outcomes, turns and state', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        let batched = initialTransition(conversationMachine, input)[0];
        let single = initialTransition(conversationMachine, input)[0];
        const at = 1000;
        for (const [n, step] of steps.entries()) {
          const a: Effects = { emitted: [], outcomes: [], turns: [] };
          const b: Effects = { emitted: [], outcomes: [], turns: [] };
          if (step.kind === 'posts') {
            const posts: PostFields[] = step.posts.map((p) => ({
              sender_id: PEOPLE[p.who]!,
              message_id: `m${p.id}`,
              content: `text ${p.id}`,
            }));
            batched = apply(batched, { type: 'POSTS', receivedAt: at + n, posts }, a);
            a.outcomes.push(...batched.context.outcomes);
            for (const p of posts) {
              single = apply(single, { type: 'POST', receivedAt: at + n, ...p }, b);
              b.outcomes.push(single.context.outcome);
            }
          } else {
            const who = PEOPLE[step.who]!;
            const event: ConversationEvent =
              step.kind === 'typing'
                ? { type: 'TYPING', participantId: who, isTyping: step.on }
                : step.kind === 'join'
                  ? { type: 'JOIN', requestId: 1, receivedAt: at + n, participant: participant(who) }
                  : { type: 'LEAVE', requestId: 1, receivedAt: at + n, participantId: who };
            batched = apply(batched, event, a);
            single = apply(single, event, b);
          }
          expect(a).toEqual(b);
          expect(batched.value).toEqual(single.value);
          const { lastSequenceId, burst, humanWindow, mode } = single.context;
          expect(batched.context).toMatchObject({ lastSequenceId, burst, humanWindow, mode });
          expect(batched.context.recent.toArray()).toEqual(single.context.recent.toArray());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers each post of a batch: accepted, duplicate of an earlier post in the same batch, refused stranger', () => {
    let [s] = initialTransition(conversationMachine, input);
    [s] = transition(conversationMachine, s, { type: 'JOIN', requestId: 1, receivedAt: 0, participant: participant('h0') });
    [s] = transition(conversationMachine, s, {
      type: 'POSTS',
      receivedAt: 5,
      posts: [
        { sender_id: 'h0', message_id: 'a', content: 'x' },
        { sender_id: 'h0', message_id: 'a', content: 'x' },
        { sender_id: 'stranger', message_id: 'b', content: 'y' },
        { sender_id: 'h0', message_id: 'c', content: 'z' },
      ],
    });
    expect(s.context.outcomes).toEqual([
      { kind: 'accepted', sequenceId: 2 },
      { kind: 'duplicate', sequenceId: 2 },
      expect.objectContaining({ kind: 'rejected', code: 'CHAT_ERR_NOT_PARTICIPANT' }),
      { kind: 'accepted', sequenceId: 3 },
    ]);
    expect(s.context.emitted.map((m) => m.message_id)).toEqual(['a', 'c']);
  });
});
