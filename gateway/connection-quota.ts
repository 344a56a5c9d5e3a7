/**
 * How many WebSockets each user holds on this gateway, bounded by `server.websocket.max_connections_per_user`.
 * Every socket costs memory and a copy of each record of its conversation, so without a bound one user (one token,
 * or anyone in dev mode) could open thousands and make the server deliver every message thousands of times. A
 * slot is taken before the upgrade is decided, so upgrades racing each other cannot pass the bound together.
 * The gateway keeps a second one keyed by the peer's address for upgrades still authenticating
 * (`server.websocket.max_authenticating_per_address`).
 */
export class ConnectionQuota {
  private readonly held = new Map<string, number>();

  /** `perUser` 0: no bound. */
  constructor(readonly perUser: number) {}

  /** Takes a slot for `userId`; false (and nothing taken) when it holds `perUser` already. */
  take(userId: string): boolean {
    const held = this.held.get(userId) ?? 0;
    if (this.perUser > 0 && held >= this.perUser) return false;
    this.held.set(userId, held + 1);
    return true;
  }

  /** Gives back one slot taken by `take`. */
  give(userId: string): void {
    const held = this.held.get(userId) ?? 0;
    if (held <= 1) this.held.delete(userId);
    else this.held.set(userId, held - 1);
  }
}
