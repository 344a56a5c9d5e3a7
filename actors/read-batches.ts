import { unrefTimer, type Clock } from './clock';

export interface ReadBatchesDeps {
  readonly clock: Clock;
  /** At most one batch per this many ms (chat.read_positions.announce_interval_ms, the per-member bound's interval). */
  readonly intervalMs: number;
  /** Tells the sockets that asked for batches every position raised since the last batch (member id -> position). */
  readonly announce: (positions: Readonly<Record<string, number>>) => void;
}

/**
 * A conversation's read-position raises as one `read_batch` per interval, for the sockets that asked for batches
 * (docs/protocol.md, Read positions). The per-member bound (read-positions.ts) gives each socket one `read` frame per
 * member per interval: with 100 members reading at once, 100 frames a second on every socket, 10,000 a second for the
 * room. One batch per interval for the whole conversation makes that one frame per socket, whatever the room's size.
 * The first raise after a quiet interval goes at once (as a member's first `read` does); later ones wait for the
 * interval's end and go together, each member with its latest position.
 */
export class ReadBatches {
  /** Raised since the last batch, with the latest position of each. Made on the first raise. */
  private pending: Map<string, number> | undefined;
  private lastAt: number | undefined;
  private timer: unknown;
  private closed = false;

  constructor(private readonly deps: ReadBatchesDeps) {}

  raised(participantId: string, sequenceId: number): void {
    if (this.closed) return;
    (this.pending ??= new Map()).set(participantId, sequenceId);
    const now = this.deps.clock.now();
    if (this.lastAt === undefined || now - this.lastAt >= this.deps.intervalMs) return this.send(now);
    if (this.timer !== undefined) return;
    // A background timer, as presence's grace: an announcement nobody may be left to hear must not keep the process alive.
    this.timer = unrefTimer(
      this.deps.clock.setTimeout(
        () => {
          this.timer = undefined;
          if (!this.closed) this.send(this.deps.clock.now());
        },
        this.lastAt + this.deps.intervalMs - now,
      ),
    );
  }

  /** The conversation stops: no timer stays behind and nothing more is announced. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private send(now: number): void {
    const pending = this.pending;
    if (pending === undefined || pending.size === 0) return;
    this.pending = undefined;
    this.lastAt = now;
    this.deps.announce(Object.freeze(Object.fromEntries(pending)));
  }
}
