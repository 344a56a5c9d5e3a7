/**
 * Who may change someone else's membership (docs/security.md "Adding and removing members"). Pure: the machine's
 * guards call these with its context, so the check and the change happen in one step (a remover who left, or a
 * target who left, between the request and its step is judged by the state the step sees).
 */
import type { ConversationContext } from './conversation-context';
import type { ConversationEvent } from './conversation-events';
import type { ErrorCode } from './errors';

type Join = Extract<ConversationEvent, { type: 'JOIN' }>;
type Leave = Extract<ConversationEvent, { type: 'LEAVE' }>;

/** Why a join must be refused for who added the participant, or undefined (a self-join, or a member adding). */
export function addProblem(ctx: ConversationContext, e: Join): { code: ErrorCode; message: string } | undefined {
  if (e.addedBy === undefined || ctx.participants.has(e.addedBy)) return undefined;
  return { code: 'CHAT_ERR_NOT_PARTICIPANT', message: 'only a member of this conversation may add participants' };
}

/**
 * Why a removal must be refused, or undefined (a leave of one's own, or the owner removing a member). A non-member
 * remover is told it is not a participant before anything about the target, and so is a member who is not the
 * owner: neither learns whether the target is a member.
 */
export function removalProblem(ctx: ConversationContext, e: Leave): { code: ErrorCode; message: string } | undefined {
  const by = e.removedBy;
  if (by === undefined || by === e.participantId) return undefined;
  const remover = ctx.participants.get(by);
  if (remover === undefined) return { code: 'CHAT_ERR_NOT_PARTICIPANT', message: 'not a participant of this conversation' };
  if (remover.role !== 'owner') return { code: 'CHAT_ERR_FORBIDDEN', message: 'only the owner may remove another member' };
  if (!ctx.participants.has(e.participantId)) {
    return { code: 'CHAT_ERR_PARTICIPANT_NOT_FOUND', message: `${e.participantId} is not a participant of this conversation` };
  }
  return undefined;
}
