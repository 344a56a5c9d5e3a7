import type { ChatMessage } from '../../actors';
import { MemoryStore } from '../../storage-providers';

/**
 * A memory store that can be taken down: while `down`, journal writes and reservation renewals fail as a lost
 * database connection would, so the runtime goes on sequencing past its reservation (docs/conversations.md).
 */
export class OutageMemoryStore extends MemoryStore {
  down = false;
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (this.down) throw new Error('connection refused');
    return super._appendMessages(conversationId, messages);
  }
  protected override async _setSequenceReservation(conversationId: string, upTo: number): Promise<void> {
    if (this.down) throw new Error('connection refused');
    return super._setSequenceReservation(conversationId, upTo);
  }
}
