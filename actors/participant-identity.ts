import { ChatError, type ChatErrorDetails } from './errors';
import type { Participant, ParticipantType } from './message-types';

/**
 * One id, one participant type per conversation. The runtime takes a sender's type from its membership, so a
 * human under an AI member's id would be sequenced as that AI (its posts read as agent answers, offered to the
 * other agents at once, with a chain depth), and an AI under a human's id would speak for that human.
 */

/** Why a human caller may not act under the id of an AI member (the gateway's refusal, CHAT_ERR_FORBIDDEN). */
export function actsAsAiProblem(participantId: string): string {
  return `${participantId} is an AI participant of this conversation; humans cannot act as it`;
}

/** Why a join under a member's id as the other participant type is refused (CHAT_ERR_FORBIDDEN). */
export function otherTypeProblem(member: Participant): string {
  return member.participant_type === 'ai'
    ? actsAsAiProblem(member.participant_id)
    : `${member.participant_id} is a human participant of this conversation; an AI participant cannot take its id`;
}

/** The member under `participantId` when it is an AI participant (a human caller must not act as it), else undefined. */
export function aiMember(participants: readonly Participant[], participantId: string): Participant | undefined {
  for (const p of participants) if (p.participant_id === participantId) return p.participant_type === 'ai' ? p : undefined;
  return undefined;
}

/**
 * A creation's member list names each id as one participant type: the creator (a human) or a human participant
 * also named as an AI participant (or the reverse) is refused with CHAT_ERR_PARTICIPANT_ID_CONFLICT naming the id.
 * Keeping the first and dropping the other, as repeated ids are, would silently lose the agent the caller asked for.
 */
export function assertOneTypePerId(members: readonly { participant_id: string; participant_type: ParticipantType }[]): void {
  const typeOf = new Map<string, ParticipantType>();
  for (const { participant_id: id, participant_type: type } of members) {
    const earlier = typeOf.get(id);
    if (earlier === undefined) typeOf.set(id, type);
    else if (earlier !== type) {
      throw new ChatError(
        'CHAT_ERR_PARTICIPANT_ID_CONFLICT',
        `participant id ${JSON.stringify(id)} is named both as a human and as an AI participant; one id is one participant of one type`,
        { details: { participant_id: id } satisfies ChatErrorDetails['CHAT_ERR_PARTICIPANT_ID_CONFLICT'] },
      );
    }
  }
}
