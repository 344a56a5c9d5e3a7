import { ChatError } from '../actors/errors';
import type { ChatRuntime } from '../actors/runtime-types';

/** The conversation setting that closes self-joins (docs/security.md "Invite-only conversations"). */
export const INVITE_ONLY_SETTING = 'invite_only';

/**
 * Refuses a self-join (POST …/join, NLWeb's /chat/{id}/join, a socket's `?join=true`) of a conversation created with
 * `settings.invite_only: true`, unless the caller is a member already (joining twice stays harmless): 403
 * CHAT_ERR_INVITE_ONLY, whose message says how to get in. The gateway's rule, not the runtime's: runtime.join stays
 * the embedder's own policy. Settings never change after create, so checking before the join races nothing.
 */
export async function assertOpenToSelfJoin(runtime: ChatRuntime, conversationId: string, userId: string): Promise<void> {
  const summary = await runtime.getConversation(conversationId);
  if (summary.settings[INVITE_ONLY_SETTING] !== true) return;
  if (summary.participants.some((p) => p.participant_id === userId)) return;
  throw new ChatError('CHAT_ERR_INVITE_ONLY');
}
