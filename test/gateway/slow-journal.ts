import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';

/** A memory journal whose writes wait until released (storage slower than one event-loop turn). */
export class SlowJournal extends MemoryStore {
  private release: () => void = () => undefined;
  private gate: Promise<void> | undefined;
  private writeWaiters: Array<() => void> = [];

  /** Writes from now on wait for releaseWrites(). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }

  releaseWrites(): void {
    this.gate = undefined;
    this.release();
  }

  /** Resolves once the next write has reached the journal. */
  nextWrite(): Promise<void> {
    return new Promise((resolve) => this.writeWaiters.push(resolve));
  }

  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (this.gate) await this.gate;
    await super._appendMessages(conversationId, messages);
    for (const resolve of this.writeWaiters.splice(0)) resolve();
  }
}
