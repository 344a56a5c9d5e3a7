import type { Clock } from '../actors/clock';
import type { ConversationOutput } from '../actors/runtime-types';
import type { FrameSender } from './frame-sender';
import type { OutputSink } from './output-route';
import type { ReplayTurns } from './replay-turns';

/**
 * Bytes of frames one step writes (at least one output). By bytes, not records: a record's frame is anything from
 * ~300 bytes to ~200 KB, so a count would make a step of large records megabytes; 64 KiB is one write of the
 * socket's turn batch (ws-connection.ts BATCH_FLUSH_BYTES) and about 1 ms of serialising short records.
 */
export const REPLAY_CHUNK_BYTES = 64 * 1024;

/** What a held live output other than a record is counted as: `typing`, `presence`, `sync_complete` frames are shorter. */
const SMALL_OUTPUT_BYTES = 128;

/** The socket ws upgraded, as far as pacing needs it (net.Socket and tls.TLSSocket have it). */
export interface DrainingStream {
  /** Set once a write left the stream holding its high-water mark or more; cleared by 'drain' (nothing held). */
  readonly writableNeedDrain: boolean;
  readonly writableHighWaterMark: number;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

export interface PacedOutputsOptions {
  readonly sender: FrameSender;
  readonly transport: DrainingStream;
  /** The gateway's share of the event loop for paced deliveries. */
  readonly turns: ReplayTurns;
  readonly clock: Clock;
  /** Bytes of live outputs that may wait behind a paced delivery (server.websocket.high_water_bytes). */
  readonly maxHeldLiveBytes: number;
  /** How long a step may wait for the socket to take what it wrote (server.websocket.replay_stall_ms). */
  readonly stallMs: number;
  /** The frame bytes of a `message` output (serialised once per turn for every recipient: shared-frames.ts). */
  messageBytes(output: ConversationOutput & { type: 'message' }): number;
  /** Translates one output into frames (output-frames.ts); must not throw. */
  deliver(output: ConversationOutput): void;
  isClosing(): boolean;
  /** The reader takes too little: held live bytes past the bound, or a step not taken within stallMs. Must close. */
  onSlowConsumer(details: Record<string, unknown>): void;
}

/**
 * One socket's outputs, written in bounded steps when there are many (docs/protocol.md, Backpressure).
 *
 * What the route held before the connection was ready (a resume's replay, its sync_complete, live outputs of the
 * meantime) used to be written in one go: a 10,000-record resume held the event loop ~100 ms, and a replay larger
 * than the socket buffers plus high_water_bytes closed its own reader with 4008 part way. Now the first
 * REPLAY_CHUNK_BYTES go out at once (a short replay, the usual reconnect, exactly as before) and the rest in steps
 * of that size: each step waits for the socket to have handed the previous one to the kernel ('drain': nothing
 * held by node, the stream's own backpressure signal) and for its turn in the gateway's ReplayTurns, so other work
 * runs in between and a replay goes at the pace its reader takes it, on one connection.
 *
 * While a delivery is paced, live outputs wait behind it, in order: the stream stays the route's (replay,
 * sync_complete, live), with no gap and nothing twice. They are bounded by bytes, like what the slow-consumer guard
 * lets ws hold: past maxHeldLiveBytes the reader is closed as a slow consumer. `closed` and `failed` end the
 * connection at once instead of waiting behind a long replay (the client resumes from what it got). Frames that
 * are no outputs (acks, errors, pongs) are written directly meanwhile; a `message_ack` may then come before its record,
 * which the protocol allows. The slow-consumer guard does not count what the steps wrote (FrameSender.pacedBytes):
 * the server itself paces them. A reader that does not take a whole step (the socket's 'drain': everything written,
 * handed to the kernel) within stallMs is closed with 4008: stopped, or slower than a step per stallMs.
 */
export class PacedOutputs implements OutputSink {
  /** Outputs waiting, from `head` on: what the route held, then from `liveFrom` on live ones held behind it. */
  private queue: ConversationOutput[] = [];
  private head = 0;
  private liveFrom = 0;
  private heldLiveBytes = 0;
  /** From the first step that left anything behind until everything is written and the socket drained. */
  private paced = false;
  private stallTimer: unknown;
  private stopped = false;

  constructor(private readonly options: PacedOutputsOptions) {}

  /**
   * What the route kept until the connection was ready, in order; the route hands its list over (a 25,000-record
   * replay is not copied). The queue is empty here: unpaced it always is, and a `sync` forgot it before subscribing
   * again. The first step goes now, in the caller's turn; while paced, a step already waits and finds these.
   */
  readonly held = (outputs: ConversationOutput[]): void => {
    if (this.stopped || outputs.length === 0) return;
    if (this.head < this.queue.length) {
      // Not expected (see above); then they go behind what waits, in order, counted as held live outputs.
      for (const output of outputs) {
        this.heldLiveBytes += this.sizeOf(output);
        this.queue.push(output);
      }
      return;
    }
    this.queue = outputs;
    this.head = 0;
    this.liveFrom = outputs.length;
    if (!this.paced) this.step();
  };

  /** A live output: written at once, unless a paced delivery is under way. */
  readonly live = (output: ConversationOutput): void => {
    if (this.stopped) return;
    if (!this.paced) {
      this.options.deliver(output);
      return;
    }
    if (output.type === 'closed' || output.type === 'failed') {
      this.forget();
      this.options.deliver(output);
      return;
    }
    const size = this.sizeOf(output);
    if (this.heldLiveBytes + size > this.options.maxHeldLiveBytes) {
      this.options.onSlowConsumer({ held_live_bytes: this.heldLiveBytes + size, held_outputs: this.queue.length - this.head });
      return;
    }
    this.heldLiveBytes += size;
    this.queue.push(output);
  };

  /** Drops what waits (a `sync` replaces the subscription): a step under way carries on with what comes next. */
  forget(): void {
    this.queue = [];
    this.head = 0;
    this.liveFrom = 0;
    this.heldLiveBytes = 0;
  }

  /** The connection is closing: nothing more is written, the waits end. */
  stop(): void {
    this.stopped = true;
    this.forget();
    this.options.transport.removeListener('drain', this.drained);
    this.clearStallTimer();
  }

  /** Writes one chunk, then waits for the socket and the next turn, or ends pacing. Returns the bytes written. */
  private readonly step = (): number => {
    const { sender, transport } = this.options;
    if (this.stopped || this.options.isClosing()) return 0;
    const before = sender.bytesWritten;
    // What the previous step left in the socket (under its high-water mark: it drained, or never needed to) and
    // this step's frames are the server's pace, not the reader's.
    sender.pacedBytes = transport.writableHighWaterMark + REPLAY_CHUNK_BYTES;
    this.paced = true;
    while (this.head < this.queue.length) {
      const output = this.queue[this.head]!;
      // Counted again as it leaves: the same bytes it was counted with (a record's frame is the turn's shared one).
      if (this.head >= this.liveFrom) this.heldLiveBytes -= this.sizeOf(output);
      this.head++;
      this.options.deliver(output);
      if (this.stopped || this.options.isClosing()) return sender.bytesWritten - before;
      if (sender.bytesWritten - before >= REPLAY_CHUNK_BYTES) break;
    }
    if (this.head === this.queue.length) this.forget();
    else if (this.head > 1024 && this.head * 2 > this.queue.length) this.compact();
    const written = sender.bytesWritten - before;
    // Into the socket now: whether it needs draining is known only once it has them.
    sender.flushHeld();
    if (this.queue.length === 0 && !transport.writableNeedDrain) {
      this.paced = false;
      sender.pacedBytes = 0;
      return written;
    }
    sender.pacedBytes = transport.writableHighWaterMark + Math.max(written, REPLAY_CHUNK_BYTES);
    if (transport.writableNeedDrain) {
      transport.once('drain', this.drained);
      this.stallTimer = this.options.clock.setTimeout(this.stalled, this.options.stallMs);
    } else {
      this.options.turns.schedule(this.step);
    }
    return written;
  };

  private readonly drained = (): void => {
    this.clearStallTimer();
    if (!this.stopped) this.options.turns.schedule(this.step);
  };

  private readonly stalled = (): void => {
    this.stallTimer = undefined;
    this.options.transport.removeListener('drain', this.drained);
    if (this.stopped) return;
    this.options.onSlowConsumer({ replay_stalled_ms: this.options.stallMs, held_outputs: this.queue.length - this.head });
  };

  private clearStallTimer(): void {
    if (this.stallTimer !== undefined) this.options.clock.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** What a held live output counts against maxHeldLiveBytes. */
  private sizeOf(output: ConversationOutput): number {
    return output.type === 'message' ? this.options.messageBytes(output) : SMALL_OUTPUT_BYTES;
  }

  /** Drops the outputs already written from the front of a long queue (their records can go). */
  private compact(): void {
    this.queue = this.queue.slice(this.head);
    this.liveFrom = Math.max(0, this.liveFrom - this.head);
    this.head = 0;
  }
}
