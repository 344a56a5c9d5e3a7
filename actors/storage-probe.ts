import { createSystemClock, type Clock } from './clock';
import { settlesWithin } from './settles-within';
import type { ChatStore } from '../storage-providers/chat-store';

/** How long a storage ping may take before the store counts as unreachable (/readyz answers within it). */
export const STORAGE_PING_TIMEOUT_MS = 2_000;

/**
 * Pings the store with a bound. A database that accepts connections but never answers (a network
 * partition, a frozen host or proxy) leaves a ping waiting forever: without the bound /readyz never
 * answered and the periodic probe stopped, so health kept its last verdict. At most one ping is
 * outstanding; checks while it runs wait for the same one, so a stalled store does not tie up one pooled
 * connection per readiness probe. The bound runs on its own clock (the system's unless given), not the
 * runtime's: it measures how long the database takes, and a test clock advanced in one jump would fire it
 * before a ping that answers at once could settle.
 */
export class StorageProbe {
  private inFlight: Promise<boolean> | undefined;

  constructor(
    private readonly store: Pick<ChatStore, 'ping'>,
    private readonly wallClock: Clock = createSystemClock(),
    private readonly timeoutMs = STORAGE_PING_TIMEOUT_MS,
  ) {}

  /** True when the store answered a ping within the bound. */
  async check(): Promise<boolean> {
    const ping = this.inFlight ?? this.startPing();
    return (await settlesWithin(ping, this.timeoutMs, this.wallClock)) && ping;
  }

  private startPing(): Promise<boolean> {
    const ping = this.store.ping().then(
      () => true,
      () => false,
    );
    this.inFlight = ping;
    void ping.then(() => {
      if (this.inFlight === ping) this.inFlight = undefined;
    });
    return ping;
  }
}
