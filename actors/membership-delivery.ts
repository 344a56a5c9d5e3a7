import type { AgentJobs } from './agent-jobs';
import type { ConnectionSet } from './conversation-connections';
import type { ConversationContext } from './conversation-context';
import { MESSAGE_TYPES, type ChatMessage, type Participant } from './message-types';
import type { Presence } from './presence';
import type { ReadPositions } from './read-positions';

/** Records that change who is in the conversation (connections get a fresh participant list). */
export const MEMBERSHIP_TYPES: ReadonlySet<string> = new Set([MESSAGE_TYPES.join, MESSAGE_TYPES.leave, MESSAGE_TYPES.modeChange]);

export interface MembershipDeliveryParts {
  readonly connections: ConnectionSet;
  readonly presence: Presence;
  readonly reads: ReadPositions;
  readonly jobs: AgentJobs;
  /** Ends one connection (the actor's unsubscribe: presence, telemetry, idle check). */
  readonly unsubscribe: (connectionId: string) => void;
}

/**
 * What a conversation's connections are told when its membership changes, and the members list they share.
 * Off the common post's path: the actor's deliver() calls in only for a step with a join, leave or mode change.
 */
export class MembershipDelivery {
  /** The members list of the current membership state (see `listOf`). */
  private membersList: { readonly of: ReadonlyMap<string, Participant>; readonly list: readonly Participant[] } | undefined;

  // Fields, not the parts object: one object fewer kept per conversation (heap per idle conversation).
  private readonly connections: MembershipDeliveryParts['connections'];
  private readonly presence: MembershipDeliveryParts['presence'];
  private readonly reads: MembershipDeliveryParts['reads'];
  private readonly jobs: MembershipDeliveryParts['jobs'];
  private readonly unsubscribe: MembershipDeliveryParts['unsubscribe'];

  constructor(parts: MembershipDeliveryParts) {
    this.connections = parts.connections;
    this.presence = parts.presence;
    this.reads = parts.reads;
    this.jobs = parts.jobs;
    this.unsubscribe = parts.unsubscribe;
  }

  /**
   * The members as a list: one frozen array per membership state (the machine replaces its participants
   * map on every join or leave), shared by every subscription and participant broadcast made meanwhile.
   * A copy per subscription made each connection of a room keep an array of the whole room: O(members)
   * bytes per connection, 0.8 KB each in a room of 100.
   */
  listOf(members: ReadonlyMap<string, Participant>): readonly Participant[] {
    if (this.membersList?.of !== members) this.membersList = { of: members, list: Object.freeze([...members.values()]) };
    return this.membersList.list;
  }

  /**
   * A delivered step with membership records. `state`: the membership after them. A join or leave and the mode
   * change it causes come in one step: one participant list for the step. Then each leaver's connections end.
   */
  delivered(records: readonly ChatMessage[], state: Pick<ConversationContext, 'participants' | 'mode'>): void {
    const { connections, presence, reads, jobs } = this;
    // A leaver is gone from presence before the list, with no offline announcement, and no read position of its is
    // announced any more: its leave says it.
    for (const m of records) {
      if (m.message_type !== MESSAGE_TYPES.leave) continue;
      presence.forget(m.sender_id);
      reads.forget(m.sender_id);
    }
    connections.broadcast({
      type: 'participants',
      participants: this.listOf(state.participants),
      mode: state.mode,
      online: presence.online,
    });
    for (const m of records) {
      if (m.message_type !== MESSAGE_TYPES.leave) continue;
      // A member who left gets the leave record, then its connections end; its agent jobs stop.
      for (const c of [...connections.values()]) {
        if (c.participantId !== m.sender_id) continue;
        connections.closeForLeave(c);
        this.unsubscribe(c.id);
      }
      jobs.cancelParticipant(m.sender_id, 'participant left');
    }
  }
}
