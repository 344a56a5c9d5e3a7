import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';

/** A MemoryStore whose journal reads finish a turn later: a replay past the cache waits for each of its pages. */
export class NextTurnReads extends MemoryStore {
  protected override async _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    await new Promise((resolve) => setImmediate(resolve));
    return super._readMessages(conversationId, afterSequenceId, limit);
  }
}
