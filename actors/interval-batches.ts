import { unrefTimer, type Clock } from './clock';

export interface IntervalBatchesDeps<V> {
  readonly clock: Clock;
  /** At most one batch per this many ms. */
  readonly intervalMs: number;
  /** Tells the sockets that asked for batches every key changed since the last batch, each with its latest value. */
  readonly announce: (changes: Readonly<Record<string, V>>) => void;
}

/**
 * A conversation's per-member announcements as one batch per interval, for the sockets that asked for batches
 * (docs/protocol.md): read-position raises (`read_batch`) and presence changes (`presence_batch`). One frame per
 * member and change makes every socket get a frame per member: with 100 members reading, or connecting, at once,
 * 100 frames on each of 100 sockets, 10,000 for the room. One batch per interval for the whole conversation makes
 * that one frame per socket, whatever the room's size. The first change after a quiet interval goes at once (as a
 * single announcement does); later ones wait for the interval's end and go together, each member with its latest.
 */
export class IntervalBatches<V> {
  /** Changed since the last batch, with the latest value of each. Made on the first change. */
  private pending: Map<string, V> | undefined;
  private lastAt: number | undefined;
  private timer: unknown;
  private closed = false;

  constructor(private readonly deps: IntervalBatchesDeps<V>) {}

  changed(key: string, value: V): void {
    if (this.closed) return;
    (this.pending ??= new Map()).set(key, value);
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

  /** Leaves `key` out of the batch waiting for its interval (a member that left: its leave says the rest). */
  forget(key: string): void {
    this.pending?.delete(key);
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
