import type { ChatMessage } from '../../actors';
import type { ManualClock } from '../../actors/clock';
import { MemoryStore } from '../../storage-providers';
import type { RealStack } from './real-server';

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

/** A server "killed" mid-test: its stack, and the manual clock of its runtime. */
export interface CrashedServer {
  readonly stack: RealStack;
  readonly clock: ManualClock;
}

/**
 * Frees what a crashed server left (its runtime was never closed, as after a kill -9): its listener, if the test
 * failed before stopping it, then its runtime, whose close deadline only its manual clock moves.
 */
export async function freeCrashedServer(crashed: CrashedServer): Promise<void> {
  await crashed.stack.stopServer().catch(() => undefined);
  let closed = false;
  const closing = crashed.stack.runtime.close({ deadlineMs: 50 }).finally(() => (closed = true));
  for (let i = 0; i < 100 && !closed; i++) {
    crashed.clock.advance(100);
    for (let t = 0; t < 5; t++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await closing;
}
