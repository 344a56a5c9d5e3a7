/**
 * Servers this client could not reach: an attempt's connection was refused or reset, or its handshake failed or timed
 * out, before the server said anything (connection-loop.ts). Shared by the list of servers (entry-points.ts), which
 * does not leave a server that answers for one known unreachable, and the owner redirect (owner-redirect.ts), which
 * does not follow a refusal naming one. Without it a client whose server was killed went back to the dead one once
 * per backoff round while another server of its list answered (test/client/owner-killed-failover.test.ts).
 *
 * A mark ends when a socket to that server opens, when a healthy connection ends (the client starts afresh, as for
 * the rest of its counts), or after UNREACHABLE_FOR_MS: a killed server may come back and claim its conversations
 * again, and then the others name it; it must not stay unvisited until the client gives up.
 */
import { serverKey } from './server-key';

/**
 * How long a server stays marked: twice the default claim TTL (chat.ownership.claim_ttl_s, 15 s), so the takeover of
 * a killed server's conversations is over before it is tried again; after that, one attempt per this long.
 */
export const UNREACHABLE_FOR_MS = 30_000;

export interface UnreachableServers {
  /** An attempt at `address` failed before its server answered. */
  add(address: string): void;
  /** A socket to `address` opened: it is reachable. */
  reached(address: string): void;
  /** Whether `address` failed to connect within the last UNREACHABLE_FOR_MS, with no socket opened to it since. */
  has(address: string): boolean;
  /** A healthy connection ended: every server gets a new chance. */
  clear(): void;
}

/** `now`: the client's clock (ms). */
export function createUnreachableServers(now: () => number, forMs = UNREACHABLE_FOR_MS): UnreachableServers {
  /** serverKey -> when its last failed attempt ended. */
  const failedAt = new Map<string, number>();
  return {
    add(address) {
      failedAt.set(serverKey(address), now());
    },
    reached(address) {
      failedAt.delete(serverKey(address));
    },
    has(address) {
      const key = serverKey(address);
      const at = failedAt.get(key);
      if (at === undefined) return false;
      if (now() - at < forMs) return true;
      failedAt.delete(key);
      return false;
    },
    clear() {
      failedAt.clear();
    },
  };
}
