import type { ChatStore } from '../storage-providers/chat-store';
import type { ConversationPage } from './conversation-list';
import type { Participant } from './message-types';

/**
 * A list page with each conversation's current members (GET /chat/conversations, docs/http-api.md). A client
 * naming an untitled conversation by its members otherwise asked GET /chat/conversations/{id} once per entry:
 * 200 reads for one page, the whole per-user read budget (chat.limits.reads_burst). A live conversation's members
 * come from its actor's memory (the same frozen list its sockets share); the others from the store, all
 * conversations of the page at once.
 */
export async function withMembers(
  store: ChatStore,
  live: ReadonlyMap<string, { readonly participants: readonly Participant[] }>,
  page: ConversationPage,
): Promise<ConversationPage> {
  const entries = await Promise.all(
    page.entries.map(async (entry) => {
      const actor = live.get(entry.meta.conversation_id);
      const participants = actor ? actor.participants : await store.getParticipants(entry.meta.conversation_id);
      return { ...entry, participants };
    }),
  );
  return { entries, next: page.next };
}
