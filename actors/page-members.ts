import type { ChatStore } from '../storage-providers/chat-store';
import type { ConversationPage } from './conversation-list';
import type { Participant } from './message-types';

/**
 * A list page with each conversation's current members (GET /chat/conversations, docs/http-api.md). A client
 * naming an untitled conversation by its members otherwise asked GET /chat/conversations/{id} once per entry:
 * 200 reads for one page, the whole per-user read budget (chat.limits.reads_burst). A live conversation's members
 * come from its actor's memory (the same frozen list its sockets share); the others from the store in one call
 * (PostgreSQL: one query for the page).
 */
export async function withMembers(
  store: ChatStore,
  live: ReadonlyMap<string, { readonly participants: readonly Participant[] }>,
  page: ConversationPage,
): Promise<ConversationPage> {
  const stored = await store.getParticipantsOf(page.entries.map((e) => e.meta.conversation_id).filter((id) => !live.has(id)));
  const entries = page.entries.map((entry) => {
    const id = entry.meta.conversation_id;
    return { ...entry, participants: live.get(id)?.participants ?? stored.get(id) ?? [] };
  });
  return { entries, next: page.next };
}
