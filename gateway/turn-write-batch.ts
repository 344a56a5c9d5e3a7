/** The part of a socket that batching needs (net.Socket and tls.TLSSocket both have it). */
export interface CorkableStream {
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

/** Past this many held bytes a flush hands the frames over corked instead of copying them into one Buffer. */
const CONCAT_MAX_BYTES = 16 * 1024;

/**
 * Holds one socket's frames until the current event-loop turn has run its microtasks, then writes them
 * with one system call. One post makes several frames for the same socket in the same turn (the sender's
 * own `message`, its `message_ack`, often the peer's messages of the same read): on loopback each write
 * costs a system call that also runs the receiver's TCP path, the single largest cost per message
 * (docs/benchmarks.md). The flush is a `process.nextTick` queued from the first write (by TurnWriteFlusher,
 * one for every socket of the turn), and a tick queued while promises run waits until the microtask
 * queue is empty: every frame the turn produces is in, and
 * nothing waits for timers or I/O. A turn that writes a lot is flushed early at `flushAtBytes`, so the
 * slow-consumer guard (ws.bufferedAmount) keeps measuring what the peer has not read, not what we held.
 *
 * The frames are held here, not by corking the socket: a corked write costs the stream a buffered-request
 * object and the uncork a writev with its own arrays, while most flushes carry one frame (a message to a
 * peer) or two small ones (an echo and its ack), which go out as one plain write (two are copied into one
 * Buffer, cheaper than writev for a few hundred bytes). Whoever else writes to the socket (ws's pings and
 * close frames) must call flush() first to keep the order: flushing-web-socket.ts does before every close
 * frame, ours (ws-connection.ts end()) and those ws writes by itself (answering a client's close).
 *
 * The flush goes to the back of the tick queue once more before it writes, so whatever else the same
 * turn queued goes out first. That is an NLWeb agent's /ask request: node's http client writes it from a
 * tick once the keep-alive socket is assigned, and a post starts its agent turn after delivering. NLWeb
 * then starts working while our frames go out, not after them (the primary path, docs/benchmarks.md).
 */
export class TurnWriteBatch {
  /** Frames held this turn, in write order. */
  private frames: Buffer[] = [];
  private heldBytes = 0;
  private flushSoonQueued = false;

  constructor(
    private readonly stream: CorkableStream,
    private readonly flushAtBytes: number,
    /** Flushes every socket held in a turn from one tick (a fan-out to 100 sockets queues one, not 100). */
    private readonly flusher: TurnWriteFlusher,
  ) {}

  /**
   * Writes one encoded frame, held until the end of the turn (or written through, see TurnWriteFlusher).
   * `soon`: the frame is someone else's message. The actor step that made it delivered all its records at
   * once and only the sender gets a message_ack later, so usually nothing more comes for this socket in
   * the turn: it is flushed right after the step, in a microtask, instead of at the end of the turn after
   * the journal write and the acks. The other humans of a conversation see a message sooner and a step's
   * burst still goes out in one write; a frame that does come later in the turn is held again until its end.
   * Sooner still: the step's last record says so (`endsDelivery`) and output-frames.ts flushes right then,
   * inside the step, without `soon` (the microtask stays for outputs that do not say so, e.g. a replay).
   */
  write(frame: Buffer, soon = false): void {
    if (this.stream.destroyed) return;
    if (this.frames.length === 0 && !this.flusher.admit(this)) {
      this.stream.write(frame);
      return;
    }
    this.frames.push(frame);
    this.heldBytes += frame.length;
    if (this.heldBytes >= this.flushAtBytes) {
      this.flush();
      return;
    }
    if (soon && !this.flushSoonQueued) {
      this.flushSoonQueued = true;
      queueMicrotask(this.flushSoon);
    }
  }

  private readonly flushSoon = (): void => {
    this.flushSoonQueued = false;
    this.flush();
  };

  /** Writes everything held (idempotent; the queued tick then finds nothing to do). */
  readonly flush = (): void => {
    const frames = this.frames;
    const count = frames.length;
    if (count === 0) return;
    const bytes = this.heldBytes;
    this.heldBytes = 0;
    // end() and destroy() drop what is written after them: nothing to hand over then.
    if (this.stream.destroyed) {
      frames.length = 0;
      return;
    }
    if (count === 1 || bytes <= CONCAT_MAX_BYTES) {
      // The list is reused turn after turn; it is emptied before the write, which never calls back in.
      const chunk = count === 1 ? frames[0]! : Buffer.concat(frames, bytes);
      frames.length = 0;
      this.stream.write(chunk);
      return;
    }
    this.frames = [];
    this.stream.cork();
    for (const frame of frames) this.stream.write(frame);
    this.stream.uncork();
  };
}

/**
 * The gateway's one flush per turn: the sockets held in the turn, flushed in the order they were first
 * written, from a tick queued once when the first was held and sent to the back of the tick queue once
 * more (see TurnWriteBatch for why).
 *
 * Holding pays off when a socket gets several frames in a turn (a sender's echo and ack, a burst between
 * two people). A turn that writes to many sockets is a broadcast to a big room, one frame each: holding
 * would only make the last member wait for the rest of the turn. So past `fanOutSockets` held sockets the
 * turn flushes what it holds and writes through for the rest of the turn.
 */
export class TurnWriteFlusher {
  private held: TurnWriteBatch[] = [];
  private scheduled = false;
  private writingThrough = false;

  constructor(private readonly fanOutSockets = 8) {}

  /** Whether `batch` may hold its writes this turn (false: write through). */
  admit(batch: TurnWriteBatch): boolean {
    if (this.writingThrough) return false;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.requeue);
    }
    if (this.held.length >= this.fanOutSockets) {
      this.writingThrough = true;
      this.flushHeld();
      return false;
    }
    this.held.push(batch);
    return true;
  }

  private readonly requeue = (): void => process.nextTick(this.endTurn);

  private readonly endTurn = (): void => {
    this.scheduled = false;
    this.writingThrough = false;
    this.flushHeld();
  };

  private flushHeld(): void {
    const batches = this.held;
    this.held = [];
    // A batch flushed early and held again is listed twice; its second flush finds nothing to do.
    for (const batch of batches) batch.flush();
  }
}
