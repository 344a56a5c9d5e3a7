/**
 * Set-up shared by the tests of changes made while a conversation restarts after a crash: bob's message `b1` is
 * stored, then a delivery crash restarts the machine while the store holds the restart's first read, so what the
 * test does next meets a conversation being rebuilt. `store.release()` lets the rebuild go on.
 */
import { MemoryStore } from '../../storage-providers';
import { makeCrashingRuntime } from './crash-helpers';
import { settle } from './runtime-helpers';

/** A store whose conversation lookup (the first read of a restart) can be held. */
export class SlowRestoreStore extends MemoryStore {
  private gate: Promise<void> | undefined;
  private open_: (() => void) | undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open_ = resolve));
  }
  release(): void {
    this.open_?.();
    this.gate = undefined;
  }
  protected override async _getConversation(id: string) {
    if (this.gate) await this.gate;
    return super._getConversation(id);
  }
}

/**
 * Conversation `c` (owner alice, member bob) with bob's `b1` stored, restarting after one crash, its load held. With
 * `claimTtlS`, the store keeps claims and the runtime claims for that long.
 */
export async function restartingAfterBobPosted(options: { claimTtlS?: number } = {}) {
  const store = new SlowRestoreStore({ claims: options.claimTtlS !== undefined });
  const crashing = await makeCrashingRuntime({ store, claimTtlS: options.claimTtlS });
  const { runtime, clock, restarts, failNextDelivery } = crashing;
  try {
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
      autoJoinAgents: false,
    });
    const b1 = await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'oops' });
    await b1.whenPersisted;

    store.hold();
    failNextDelivery();
    await (
      await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'crashes' })
    ).whenPersisted;
    await settle();
    expect(restarts.count).toBe(1);
    return { store, runtime, clock, b1 };
  } catch (err) {
    // The caller's finally never sees a runtime whose set-up failed: close it here.
    store.release();
    await runtime.close();
    throw err;
  }
}
