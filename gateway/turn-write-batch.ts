/** The part of a socket that batching needs (net.Socket and tls.TLSSocket both have it). */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
  readonly destroyed: boolean;
}

/**
 * Holds one socket's writes until the current event-loop turn has run its microtasks, then writes them
 * with one system call. One post makes several frames for the same socket in the same turn (the sender's
 * own `message`, its `message_ack`, often the peer's messages of the same read): on loopback each write
 * costs a system call that also runs the receiver's TCP path, the single largest cost per message
 * (docs/benchmarks.md). The flush is a `process.nextTick` queued from the first write, and a tick queued
 * while promises run waits until the microtask queue is empty: every frame the turn produces is in, and
 * nothing waits for timers or I/O. A turn that writes a lot is flushed early at `flushAtBytes`, so the
 * slow-consumer guard (ws.bufferedAmount) keeps measuring what the peer has not read, not what we held.
 *
 * The flush goes to the back of the tick queue once more before it writes, so whatever else the same
 * turn queued goes out first. That is an NLWeb agent's /ask request: node's http client writes it from a
 * tick once the keep-alive socket is assigned, and a post starts its agent turn after delivering. NLWeb
 * then starts working while our frames go out, not after them (the primary path, docs/benchmarks.md).
 */
export class TurnWriteBatch {
  private held = false;

  constructor(
    private readonly stream: CorkableStream,
    private readonly flushAtBytes: number,
  ) {}

  /** Call before each write. */
  hold(): void {
    if (this.held || this.stream.destroyed) return;
    this.held = true;
    this.stream.cork();
    process.nextTick(this.requeueFlush);
  }

  private readonly requeueFlush = (): void => process.nextTick(this.flush);

  /** Call after each write: flushes at once when the turn has written a lot. */
  wrote(): void {
    if (this.held && this.stream.writableLength >= this.flushAtBytes) this.flush();
  }

  /** Writes everything held (idempotent; the queued tick then finds nothing to do). */
  readonly flush = (): void => {
    if (!this.held) return;
    this.held = false;
    // end() and destroy() release corks themselves; uncorking after them is harmless but pointless.
    if (!this.stream.destroyed) this.stream.uncork();
  };
}
