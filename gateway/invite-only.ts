import { ChatError } from '../actors/errors';
import type { Participant } from '../actors/message-types';
import type { ChatRuntime } from '../actors/runtime-types';

/** The conversation setting that closes self-joins (docs/security.md "Invite-only conversations"). */
export const INVITE_ONLY_SETTING = 'invite_only';

/**
 * Refuses a self-join (POST …/join, NLWeb's /chat/{id}/join, a socket's `?join=true`) of a conversation created with
 * `settings.invite_only: true`, unless the caller is a member already: 403 CHAT_ERR_INVITE_ONLY, whose message says
 * how to get in. The gateway's rule, not the runtime's: runtime.join stays the embedder's own policy.
 *
 * Returns the caller's participant when the conversation is invite-only and the caller a member: the caller must then
 * answer with it and NOT call runtime.join. Settings never change after create, but membership does: an owner's
 * removal sequenced between this check and a join would be undone by that join, letting a removed member back into
 * an invite-only conversation. Undefined: an open conversation, where the join goes ahead as always.
 */
export async function assertOpenToSelfJoin(runtime: ChatRuntime, conversationId: string, userId: string): Promise<Participant | undefined> {
  const summary = await runtime.getConversation(conversationId);
  if (summary.settings[INVITE_ONLY_SETTING] !== true) return undefined;
  const member = summary.participants.find((p) => p.participant_id === userId);
  if (member !== undefined) return member;
  throw new ChatError('CHAT_ERR_INVITE_ONLY');
}
