/**
 * The conversation machine: the only writer of a conversation's sequence counter, participants and
 * mode. It imports no I/O. Its effects are named actions whose implementations the wiring supplies
 * with `machine.provide(...)`:
 *   deliver          hand `context.emitted` to every connection (before persistence)
 *   persist          queue `context.emitted` for the journal (asynchronous, after delivery)
 *   acknowledge      answer the caller of `event.requestId` with `context.outcome`
 *   acknowledgeEach  answer a POSTS batch's caller (`event.requestId`) with `context.outcomes`, one per post
 *   dispatchToAgents start `context.turns` (each agent still decides whether to answer)
 *   forwardTyping    relay a typing indicator (not sequenced)
 *   settleBatch      a POSTS batch's effects, as one action: deliver, persist, acknowledgeEach, dispatchToAgents
 */
import { assign, setup } from 'xstate';
import type { ConversationEvent } from './conversation-events';
import { createInitialContext, type ConversationContext, type ConversationInput } from './conversation-context';
import * as r from './conversation-reducers';
import { acceptPosts, lastAcceptedPost, postWaitsForInputWindow } from './post-batch';
import { otherTypeProblem } from './participant-identity';
import { addProblem, removalProblem } from './membership-changes';

type Ev<T extends ConversationEvent['type']> = Extract<ConversationEvent, { type: T }>;

/**
 * The multi-mode window from now: each human message restarts it, so in a busy room (a message every second or
 * so) the agents would never answer. `multiModeMaxWaitMs` caps the wait at that long after the burst's first
 * message (its timestamp, from the same clock as `receivedAt`). Without a time for now (a machine restarted with a
 * burst waiting) the whole window runs.
 */
function multiModeWait(context: ConversationContext, now: number | undefined): number {
  const { multiModeWindowMs: windowMs, multiModeMaxWaitMs: maxWaitMs } = context.policy;
  const first = context.burst[0];
  if (maxWaitMs === 0 || first === undefined || now === undefined) return windowMs;
  const startedAt = Date.parse(first.timestamp);
  if (Number.isNaN(startedAt)) return windowMs;
  return Math.max(0, Math.min(windowMs, startedAt + maxWaitMs - now));
}

const effect = (): void => undefined;
/**
 * A POSTS batch's actions in every transition (the target state is what the guards decide). Its four effects are
 * one action, settleBatch, because xstate pays per action (arguments, an executor object and a closure each; ~0.3 KB
 * and a share of every step): the POSTS step is every human post's path, one post per step at low load.
 */
const BATCH_EFFECTS = ['acceptPosts', 'settleBatch'] as const;

export const conversationMachine = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    input: {} as ConversationInput,
  },
  actions: {
    deliver: effect,
    persist: effect,
    acknowledge: effect,
    acknowledgeEach: effect,
    dispatchToAgents: effect,
    forwardTyping: effect,
    settleBatch: effect,
    acceptPost: assign(({ context, event }) => r.acceptPost(context, event as Ev<'POST'>)),
    acceptPostAndDispatch: assign(({ context, event }) => r.acceptPostAndDispatch(context, event as Ev<'POST'>)),
    acceptPosts: assign(({ context, event }) => acceptPosts(context, (event as Ev<'POSTS'>).posts, (event as Ev<'POSTS'>).receivedAt)),
    markDuplicate: assign(({ context, event }) => r.markDuplicate(context, event as Ev<'POST'>)),
    rejectNotParticipant: assign(({ context }) => r.reject(context, 'CHAT_ERR_NOT_PARTICIPANT')),
    rejectOtherType: assign(({ context, event }) => {
      const joining = (event as Ev<'JOIN'>).participant;
      return r.reject(context, 'CHAT_ERR_FORBIDDEN', otherTypeProblem(context.participants.get(joining.participant_id)!));
    }),
    alreadyMember: assign(({ context, event }) => {
      const p = context.participants.get((event as Ev<'JOIN'>).participant.participant_id)!;
      return { ...context, emitted: [], turns: [], outcome: { kind: 'duplicate', sequenceId: p.joined_at_sequence } as const };
    }),
    rejectFull: assign(({ context }) =>
      r.reject(
        context,
        'CHAT_ERR_PARTICIPANT_LIMIT',
        `conversation has reached its limit of ${context.policy.maxParticipants} participants`,
      ),
    ),
    refuseAdd: assign(({ context, event }) => {
      const problem = addProblem(context, event as Ev<'JOIN'>)!;
      return r.reject(context, problem.code, problem.message);
    }),
    refuseRemoval: assign(({ context, event }) => {
      const problem = removalProblem(context, event as Ev<'LEAVE'>)!;
      return r.reject(context, problem.code, problem.message);
    }),
    acceptJoin: assign(({ context, event }) => r.acceptJoin(context, event as Ev<'JOIN'>)),
    acceptLeave: assign(({ context, event }) => r.acceptLeave(context, event as Ev<'LEAVE'>)),
    setTyping: assign(({ context, event }) => r.setTyping(context, event as Ev<'TYPING'>)),
    dispatchBurst: assign(({ context }) => r.dispatchBurst(context)),
    agentStarted: assign(({ context, event }) => r.agentStarted(context, event as Ev<'AGENT_STARTED'>)),
    agentOutput: assign(({ context, event }) => r.agentOutput(context, event as Ev<'AGENT_OUTPUT'>)),
    agentDone: assign(({ context, event }) => r.agentDone(context, event as Ev<'AGENT_DONE'>)),
    agentFailed: assign(({ context, event }) => r.agentFailed(context, event as Ev<'AGENT_FAILED'>)),
    agentCancelled: assign(({ context, event }) => r.agentCancelled(context, event as Ev<'AGENT_CANCELLED'>)),
    redact: assign(({ context, event }) => r.redact(context, event as Ev<'REDACT'>)),
    edit: assign(({ context, event }) => r.edit(context, event as Ev<'EDIT'>)),
    recoverLost: assign(({ context, event }) => r.recoverLost(context, event as Ev<'RECOVER_LOST'>)),
  },
  guards: {
    isDuplicate: ({ context, event }) => r.findDuplicate(context, event as Ev<'POST'>) !== undefined,
    senderIsNotMember: ({ context, event }) => !context.participants.has((event as Ev<'POST'>).sender_id),
    isMember: ({ context, event }) => context.participants.has((event as Ev<'JOIN'>).participant.participant_id),
    /** A member's id joined again as the other type: a human would otherwise be handed the AI's membership. */
    joinsAsOtherType: ({ context, event }) => {
      const joining = (event as Ev<'JOIN'>).participant;
      const member = context.participants.get(joining.participant_id);
      return member !== undefined && member.participant_type !== joining.participant_type;
    },
    /** Added by someone who is not a member (POST …/participants; membership-changes.ts). */
    addIsRefused: ({ context, event }) => addProblem(context, event as Ev<'JOIN'>) !== undefined,
    /** Removed by someone other than the owner, or a removal of no member (membership-changes.ts). */
    removalIsRefused: ({ context, event }) => removalProblem(context, event as Ev<'LEAVE'>) !== undefined,
    isFull: ({ context }) => context.participants.size >= context.policy.maxParticipants,
    leaverIsMember: ({ context, event }) => context.participants.has((event as Ev<'LEAVE'>).participantId),
    agentIsMember: ({ context, event }) => context.participants.has((event as Ev<'AGENT_OUTPUT'>).participantId),
    /**
     * Multi mode collects a burst of human messages (window restarted by each one); single mode
     * waits only while the client says the human is still typing. Without agents nothing waits.
     */
    waitsForInputWindow: ({ context, event }) => postWaitsForInputWindow(context, (event as Ev<'POST'>).sender_id),
    /** A batch ends as its last accepted post would: waiting (collecting) or not (idle). */
    batchEndsWaiting: ({ context, event }) => {
      // Without agents no post waits: skip the scan of the batch (every post of such a conversation).
      if (!r.hasAgents(context)) return false;
      const last = lastAcceptedPost(context, (event as Ev<'POSTS'>).posts);
      return last !== undefined && postWaitsForInputWindow(context, last.sender_id);
    },
    hasBurst: ({ context }) => context.burst.length > 0,
    batchAcceptsAny: ({ context, event }) => lastAcceptedPost(context, (event as Ev<'POSTS'>).posts) !== undefined,
    /** The leave brings the conversation down to single mode and nobody remaining is typing. */
    leaveEndsWait: ({ context, event }) => r.waitAfterLeave(context, (event as Ev<'LEAVE'>).participantId) === 'dispatch',
    leaveStartsTypingWindow: ({ context, event }) => r.waitAfterLeave(context, (event as Ev<'LEAVE'>).participantId) === 'typing',
    singleModeTypingStarted: ({ context, event }) => context.mode === 'single' && (event as Ev<'TYPING'>).isTyping,
    singleModeTypingStopped: ({ context, event }) => context.mode === 'single' && !(event as Ev<'TYPING'>).isTyping,
  },
  delays: {
    inputWindow: ({ context, event }) =>
      context.mode === 'multi'
        ? multiModeWait(context, (event as { receivedAt?: number }).receivedAt)
        : context.policy.singleModeTypingWindowMs,
  },
}).createMachine({
  id: 'conversation',
  context: ({ input }) => createInitialContext(input),
  initial: 'starting',
  // The states are the root's own children, with no parent state around starting / idle / collecting: xstate walks a
  // step's state nodes several times per event (the state value of each new snapshot, eventless transitions,
  // conflicts), and one level fewer took ~3,000-3,600 instructions (4 %) and ~550 bytes off a POSTS step. The root's
  // transitions are never taken in `closed`: reaching it, a final state of the root, ends the machine.
  on: {
    // POST is handled by the child states (idle / collecting), which decide about the input window.
    JOIN: [
      { guard: 'addIsRefused', actions: ['refuseAdd', 'acknowledge'] },
      { guard: 'joinsAsOtherType', actions: ['rejectOtherType', 'acknowledge'] },
      { guard: 'isMember', actions: ['alreadyMember', 'acknowledge'] },
      { guard: 'isFull', actions: ['rejectFull', 'acknowledge'] },
      { actions: ['acceptJoin', 'deliver', 'persist', 'acknowledge'] },
    ],
    LEAVE: [
      { guard: 'removalIsRefused', actions: ['refuseRemoval', 'acknowledge'] },
      { guard: 'leaverIsMember', actions: ['acceptLeave', 'deliver', 'persist', 'acknowledge'] },
      { actions: ['rejectNotParticipant', 'acknowledge'] },
    ],
    TYPING: { actions: ['setTyping', 'forwardTyping'] },
    AGENT_STARTED: { guard: 'agentIsMember', actions: ['agentStarted', 'deliver', 'persist'] },
    AGENT_OUTPUT: { guard: 'agentIsMember', actions: ['agentOutput', 'deliver', 'persist', 'dispatchToAgents'] },
    AGENT_DONE: { actions: ['agentDone', 'deliver', 'persist', 'dispatchToAgents'] },
    AGENT_FAILED: { actions: ['agentFailed', 'deliver', 'persist'] },
    AGENT_CANCELLED: { actions: ['agentCancelled', 'deliver', 'persist'] },
    REDACT: { actions: ['redact', 'deliver', 'persist', 'acknowledge'] },
    EDIT: { actions: ['edit', 'deliver', 'persist', 'acknowledge'] },
    RECOVER_LOST: { actions: ['recoverLost', 'deliver', 'persist'] },
    CLOSE: { target: '.closed' },
  },
  states: {
    // Passed through once, when the machine starts: a machine restarted with a burst still waiting (the
    // previous one crashed while collecting it) collects it again, with a fresh window.
    starting: { always: [{ guard: 'hasBurst', target: 'collecting' }, { target: 'idle' }] },
    idle: {
      // A human message that does not wait is answered at once (with any burst collected so far).
      on: {
        POST: [
          { guard: 'isDuplicate', actions: ['markDuplicate', 'acknowledge'] },
          { guard: 'senderIsNotMember', actions: ['rejectNotParticipant', 'acknowledge'] },
          { guard: 'waitsForInputWindow', target: 'collecting', actions: ['acceptPost', 'deliver', 'persist', 'acknowledge'] },
          { actions: ['acceptPostAndDispatch', 'deliver', 'persist', 'acknowledge', 'dispatchToAgents'] },
        ],
        POSTS: [{ guard: 'batchEndsWaiting', target: 'collecting', actions: BATCH_EFFECTS }, { actions: BATCH_EFFECTS }],
      },
    },
    collecting: {
      after: { inputWindow: { target: 'idle', actions: ['dispatchBurst', 'dispatchToAgents'] } },
      on: {
        POST: [
          { guard: 'isDuplicate', actions: ['markDuplicate', 'acknowledge'] },
          { guard: 'senderIsNotMember', actions: ['rejectNotParticipant', 'acknowledge'] },
          // Re-entering restarts the window: agents answer the burst, not each line.
          {
            guard: 'waitsForInputWindow',
            target: 'collecting',
            reenter: true,
            actions: ['acceptPost', 'deliver', 'persist', 'acknowledge'],
          },
          {
            target: 'idle',
            actions: ['acceptPostAndDispatch', 'deliver', 'persist', 'acknowledge', 'dispatchToAgents'],
          },
        ],
        POSTS: [
          { guard: 'batchEndsWaiting', target: 'collecting', reenter: true, actions: BATCH_EFFECTS },
          { guard: 'batchAcceptsAny', target: 'idle', actions: BATCH_EFFECTS },
          // Only duplicates and refusals: nothing changes, the window keeps running.
          { actions: BATCH_EFFECTS },
        ],
        // A leave down to single mode re-decides the wait by single-mode rules (waitAfterLeave); any
        // other leave falls through to the active state's LEAVE and the window keeps running.
        LEAVE: [
          // Before the wait is re-decided: a refused removal changes nothing (the active state's LEAVE would
          // refuse it too, but this state's transitions are taken first).
          { guard: 'removalIsRefused', actions: ['refuseRemoval', 'acknowledge'] },
          {
            guard: 'leaveEndsWait',
            target: 'idle',
            actions: ['acceptLeave', 'deliver', 'persist', 'acknowledge', 'dispatchBurst', 'dispatchToAgents'],
          },
          // Re-entering restarts the window, now the single-mode typing window (the mode is single on entry).
          {
            guard: 'leaveStartsTypingWindow',
            target: 'collecting',
            reenter: true,
            actions: ['acceptLeave', 'deliver', 'persist', 'acknowledge'],
          },
        ],
        TYPING: [
          { guard: 'singleModeTypingStarted', target: 'collecting', reenter: true, actions: ['setTyping', 'forwardTyping'] },
          {
            guard: 'singleModeTypingStopped',
            target: 'idle',
            actions: ['setTyping', 'forwardTyping', 'dispatchBurst', 'dispatchToAgents'],
          },
          { actions: ['setTyping', 'forwardTyping'] },
        ],
      },
    },
    closed: { type: 'final' },
  },
});

export type ConversationMachine = typeof conversationMachine;
