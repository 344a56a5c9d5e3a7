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

/** The refusal of a member who is not the owner adding an AI under another id than its agent's. */
export const AI_ID_RULE =
  "a member who is not the owner may add an AI participant only under its agent's own id (participant_id = agent_id); only the owner may choose another id";

/**
 * Why a join must be refused for who added the participant, or undefined (a self-join, or a member adding). An AI
 * added by a member who is not the owner must carry its agent's id: any other id could be a human's (say `dave`),
 * who would then be refused on every route of the conversation (his id an AI's) until the owner removed it.
 */
export function addProblem(ctx: ConversationContext, e: Join): { code: ErrorCode; message: string } | undefined {
  if (e.addedBy === undefined) return undefined;
  const adder = ctx.participants.get(e.addedBy);
  if (adder === undefined) {
    return { code: 'CHAT_ERR_NOT_PARTICIPANT', message: 'only a member of this conversation may add participants' };
  }
  const p = e.participant;
  if (adder.role !== 'owner' && p.participant_type === 'ai' && p.agent_id !== p.participant_id) {
    return { code: 'CHAT_ERR_FORBIDDEN', message: AI_ID_RULE };
  }
  return undefined;
}

/**
 * Why a display name chosen for an added AI must be refused, or undefined. A member who is not the owner adds an
 * agent under the name the operator configured for it (the default when none is sent): a name of its own choosing
 * (another member's, say) would let it speak as someone else. Checked before the step from the table of members:
 * no one becomes owner after create, so anyone seen here as not the owner is not the owner in the step either.
 * `adderRole` is undefined for a caller not a member yet, who is held to the rule too: its own join may be queued
 * ahead of this add (behind the sequence lease), so the step would see it a member and let any name through.
 */
export function addedAiNameProblem(
  input: { readonly participant_id: string; readonly participant_type: string; readonly agent_id?: string; readonly display_name?: string },
  adderRole: 'owner' | 'member' | undefined,
  configuredName: string | undefined,
): string | undefined {
  if (adderRole === 'owner' || input.participant_type !== 'ai' || input.display_name === undefined) return undefined;
  // Another id than the agent's is refused in the JOIN step (addProblem), whose message says that rule first.
  if ((input.agent_id ?? input.participant_id) !== input.participant_id) return undefined;
  if (input.display_name === configuredName) return undefined;
  return `a member who is not the owner adds an AI participant under its agent's configured name (${configuredName ?? 'none'}); omit display_name or ask the owner`;
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
