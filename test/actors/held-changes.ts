import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers/memory-store';
import type { ContentReplacement, RedactionResult, RedactionTarget } from '../../storage-providers/chat-store';

/**
 * A memory store whose record-changing writes (a redaction, a member's edit or delete), once held, wait in the store
 * until released: a change that is slow to write while posts go on. Each write reads the journal only once it goes
 * on, as a slow database statement would see what was committed before it ran.
 */
export class HeldChanges extends MemoryStore {
  private held: Promise<void> | undefined;
  private release_: (() => void) | undefined;
  private entered_: (() => void) | undefined;
  /** Resolves once a change waits in the store (after hold()). */
  entered: Promise<void> = Promise.resolve();

  hold(): void {
    this.held = new Promise((resolve) => (this.release_ = resolve));
    this.entered = new Promise((resolve) => (this.entered_ = resolve));
  }

  release(): void {
    this.held = undefined;
    this.release_?.();
  }

  protected override async _redactMessages(
    conversationId: string,
    target: RedactionTarget,
    fenceEpoch?: number,
    upTo?: number,
  ): Promise<RedactionResult> {
    await this.waitWhileHeld();
    return super._redactMessages(conversationId, target, fenceEpoch, upTo);
  }

  protected override async _replaceMessageContent(
    conversationId: string,
    sequenceId: number,
    replacement: ContentReplacement,
    fenceEpoch?: number,
  ): Promise<ChatMessage | undefined> {
    await this.waitWhileHeld();
    return super._replaceMessageContent(conversationId, sequenceId, replacement, fenceEpoch);
  }

  private async waitWhileHeld(): Promise<void> {
    const held = this.held;
    if (held === undefined) return;
    this.entered_?.();
    await held;
  }
}
