import { ChatError, isChatError } from './errors';
import type { ChatMessage } from './message-types';
import type { ChatStore, ContentReplacement, RedactionResult, RedactionTarget } from '../storage-providers/chat-store';
import type { ConversationClaim } from '../storage-providers/conversation-claims';

/** What a change of stored records needs of its conversation (ConversationActor). */
export interface FencedConversation {
  /** The runtime's claim on the conversation: the writes carry it, as journal appends do. */
  readonly claim: ConversationClaim;
  /** Another runtime claimed the conversation (ConversationActor.moveAway): it stops here. */
  moveAway(reason?: unknown): void;
}

/**
 * The store writes of an edit, delete or redaction (message-edits.ts), fenced by the conversation's claim. The change
 * waits for a current claim before it writes (ConversationActor.whenClaimCurrent), but a pause between that check and
 * the write let a runtime whose claim had been taken over rewrite the new holder's records: the holder's cache kept
 * replaying them as they were and no record told anyone. The store now refuses such a write (STORAGE_ERR_FENCED,
 * nothing changed), and the conversation moves away as it does when a journal append is fenced; the change is refused
 * CHAT_ERR_CLOSED from a moved-away conversation, which the runtime asks again (moved-away.ts, againIfMoved), so its
 * caller gets the holder's answer (CHAT_ERR_OWNED_ELSEWHERE naming it).
 */
export class FencedChanges {
  constructor(
    private readonly store: ChatStore,
    private readonly conversationId: string,
    private readonly conversation: FencedConversation,
  ) {}

  /** `upTo`: the last sequence id the redaction covers (ChatStore.redactMessages). */
  redact(target: RedactionTarget, upTo: number): Promise<RedactionResult> {
    return this.fenced(() => this.store.redactMessages(this.conversationId, target, this.conversation.claim, upTo));
  }

  replace(sequenceId: number, replacement: ContentReplacement): Promise<ChatMessage | undefined> {
    return this.fenced(() => this.store.replaceMessageContent(this.conversationId, sequenceId, replacement, this.conversation.claim));
  }

  private async fenced<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (!isChatError(err, 'STORAGE_ERR_FENCED')) throw err;
      this.conversation.moveAway(err);
      throw new ChatError('CHAT_ERR_CLOSED', 'the conversation moved to another runtime; the store refused this write', { cause: err });
    }
  }
}
