import { MESSAGE_TYPES, type ChatMessage } from '../../actors/message-types';

/**
 * What one participant saw: every record from their join record up to and including their leave
 * record, for each membership period (join, leave and rejoin make two periods). O(1) state, so it
 * filters a stream of any length.
 */
export interface ParticipantView {
  /** True when the record belongs to the participant's view. Call once per record, in order. */
  accept(record: ChatMessage): boolean;
  /** How many membership periods were seen (0: the participant never joined). */
  readonly periods: number;
  /** Whether the participant is a member after the last record seen. */
  readonly isMember: boolean;
}

export function createParticipantView(participantId: string): ParticipantView {
  let member = false;
  let periods = 0;
  return {
    accept(record) {
      // Membership records are system records; a human post typed 'join' is just a message.
      const own = record.sender_id === participantId && record.sender_type === 'system';
      if (own && record.message_type === MESSAGE_TYPES.join && !member) {
        member = true;
        periods += 1;
        return true;
      }
      if (own && record.message_type === MESSAGE_TYPES.leave && member) {
        member = false;
        return true;
      }
      return member;
    },
    get periods() {
      return periods;
    },
    get isMember() {
      return member;
    },
  };
}
