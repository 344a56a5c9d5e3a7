import type { AgentRegistry } from './agents/agent';
import type { Clock } from './clock';
import type { ConversationContext, Outcome } from './conversation-context';
import type { MessageEdit } from './conversation-events';
import { ChatError } from './errors';
import type { ConversationStatus, MachineRequests } from './machine-requests';
import type { Participant } from './message-types';
import type { ParticipantInput } from './runtime-types';

export interface ChangeRequestsParts {
  readonly requests: MachineRequests;
  readonly clock: Clock;
  readonly agents: AgentRegistry;
  /** The machine's context now (the actor's `ctx`). */
  readonly context: () => Pick<ConversationContext, 'participants'>;
  readonly status: () => ConversationStatus;
  /** Throws the code of a conversation that takes no requests now (ConversationActor.assertUsable). */
  readonly assertUsable: () => void;
}

/**
 * The requests that change a conversation other than posts, each answered once its step sequenced the record
 * that announces it, or refused with the step's code: joins and leaves (checked in their steps,
 * membership-changes.ts), and stored edits and redactions.
 *
 * How a stored edit or redaction reaches the conversation's machine (ConversationActor.edit / redact): as a
 * request answered with the sequence id of the record that announces it, or, while the machine is rebuilt after
 * a crash, as an event held for it, answered at once without an id: the change is stored, and refusing it then
 * would leave the cache without it.
 */
export class ChangeRequests {
  // Fields, not the parts object: one object fewer kept per conversation (heap per idle conversation).
  private readonly requests: ChangeRequestsParts['requests'];
  private readonly clock: ChangeRequestsParts['clock'];
  private readonly agents: ChangeRequestsParts['agents'];
  private readonly context: ChangeRequestsParts['context'];
  private readonly status: ChangeRequestsParts['status'];
  private readonly assertUsable: ChangeRequestsParts['assertUsable'];

  constructor(parts: ChangeRequestsParts) {
    this.requests = parts.requests;
    this.clock = parts.clock;
    this.agents = parts.agents;
    this.context = parts.context;
    this.status = parts.status;
    this.assertUsable = parts.assertUsable;
  }

  async join(input: ParticipantInput, addedBy: string | undefined): Promise<Participant> {
    this.assertUsable();
    const agentId = input.agent_id ?? input.participant_id;
    const agentName = input.participant_type === 'ai' ? this.agents.get(agentId)?.displayName : undefined;
    const participant = {
      participant_id: input.participant_id,
      participant_type: input.participant_type,
      display_name: input.display_name ?? agentName ?? input.participant_id,
      role: input.role ?? 'member',
      ...(input.participant_type === 'ai' ? { agent_id: agentId } : {}),
    };
    const outcome = await this.requests.request((requestId, receivedAt) => ({
      type: 'JOIN',
      requestId,
      receivedAt,
      participant,
      ...(addedBy === undefined ? {} : { addedBy }),
    }));
    throwIfRefused(outcome);
    // After a crash inside the join's own step the machine being rebuilt does not have the member yet:
    // the join record is kept (keepCrashedStep), so the member is the one that step made.
    return (
      this.context().participants.get(input.participant_id) ?? Object.freeze({ ...participant, joined_at_sequence: outcome.sequenceId })
    );
  }

  async leave(participantId: string, removedBy: string | undefined): Promise<void> {
    this.assertUsable();
    const outcome = await this.requests.request((requestId, receivedAt) => ({
      type: 'LEAVE',
      requestId,
      receivedAt,
      participantId,
      ...(removedBy === undefined ? {} : { removedBy }),
    }));
    throwIfRefused(outcome);
  }

  async redact(sequenceIds: readonly number[], requestedBy: string, marker: string): Promise<number | undefined> {
    if (sequenceIds.length === 0) return undefined;
    const { requests, clock } = this;
    if (this.status() === 'restarting') {
      requests.send({ type: 'REDACT', receivedAt: clock.now(), sequenceIds, requestedBy, marker });
      return undefined;
    }
    this.assertUsable();
    const outcome = await requests.request((requestId, receivedAt) => ({
      type: 'REDACT',
      requestId,
      receivedAt,
      sequenceIds,
      requestedBy,
      marker,
    }));
    throwIfRefused(outcome);
    return outcome.sequenceId;
  }

  async edit(change: MessageEdit): Promise<number | undefined> {
    const { requests, clock } = this;
    if (this.status() === 'restarting') {
      requests.send({ type: 'EDIT', receivedAt: clock.now(), ...change });
      return undefined;
    }
    this.assertUsable();
    const outcome = await requests.request((requestId, receivedAt) => ({ type: 'EDIT', requestId, receivedAt, ...change }));
    throwIfRefused(outcome);
    return outcome.sequenceId;
  }
}

/** A caller's refusal: its code, or (the machine crashed before taking the request) CHAT_ERR_RESTARTING. */
function throwIfRefused(outcome: Outcome): asserts outcome is Extract<Outcome, { sequenceId: number }> {
  if (outcome.kind === 'rejected') throw new ChatError(outcome.code, outcome.message);
  if (outcome.kind === 'none') throw new ChatError('CHAT_ERR_RESTARTING', undefined, { retryAfterMs: 100 });
}
