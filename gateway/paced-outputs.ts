import type { Clock } from '../actors/clock';
import type { ConversationOutput, ReplayFeed } from '../actors/runtime-types';
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

/** What pacing needs from a connection's sender: a WebSocket's FrameSender or an event stream's (sse-sender.ts). */
export type PacedSender = Pick<FrameSender, 'bytesWritten' | 'pacedBytes' | 'flushHeld'>;

export interface PacedOutputsOptions {
  readonly sender: PacedSender;
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
  /**
   * Whether a live output ends the connection at once, dropping what waits (a long replay) instead of waiting
   * behind it; `closed` and `failed` when absent. A WebSocket's own leave keeps its `closed` in order (ws-connection.ts).
   */
  endsAtOnce?(output: ConversationOutput): boolean;
  /** The reader takes too little: held live bytes past the bound, or a step not taken within stallMs. Must close. */
  onSlowConsumer(details: Record<string, unknown>): void;
}

/**
 * One socket's outputs, written in bounded steps when there are many (docs/protocol.md, Backpressure).
 *
 * A resume's replay comes from a ReplayFeed, a page at a time: the next page is asked for only when the steps
 * have written the previous one and the socket took it, so a resuming socket holds about one page, not its whole
 * range (a 25,000-record resume used to be read up front and held until written). The first step goes at once (a
 * short replay, the usual reconnect, is written as soon as its one page is read), the rest in steps of
 * REPLAY_CHUNK_BYTES: each step waits for the socket to have handed the previous one to the kernel ('drain':
 * nothing held by node, the stream's own backpressure signal), for the page it needs, and for its turn in the
 * gateway's ReplayTurns, so other work runs in between and a replay goes at the pace its reader takes it, on one
 * connection. Outputs the route held before the connection was ready go the same way, behind the replay.
 *
 * While a delivery is paced, live outputs wait behind it, in order: the stream stays replay, sync_complete, live
 * (the feed ends at the conversation's last id at subscribe, the live outputs start after it), with no gap and
 * nothing twice. They are bounded by bytes, like what the slow-consumer guard lets ws hold: past maxHeldLiveBytes
 * the reader is closed as a slow consumer. `closed` and `failed` end the connection at once instead of waiting
 * behind a long replay (the client resumes from what it got). Frames that are no outputs (acks, errors, pongs)
 * are written directly meanwhile; a `message_ack` may then come before its record, which the protocol allows. The
 * slow-consumer guard does not count what the steps wrote (FrameSender.pacedBytes): the server itself paces them.
 * A reader that does not take a whole step (the socket's 'drain': everything written, handed to the kernel)
 * within stallMs is closed with 4008: stopped, or slower than a step per stallMs. Reading a page is the server's
 * time: no stall timer runs meanwhile.
 */
export class PacedOutputs implements OutputSink {
  /** The replay still to come, until its last page is written; undefined when none. */
  private replay: ReplayFeed | undefined;
  /** The replay's page being written, from `pageHead` on. */
  private page: ConversationOutput[] = [];
  private pageHead = 0;
  /** Outputs waiting behind the replay, from `head` on: what the route held, then live ones; from `liveFrom` on counted. */
  private queue: ConversationOutput[] = [];
  private head = 0;
  private liveFrom = 0;
  private heldLiveBytes = 0;
  /** From the first step that left anything behind until everything is written and the socket drained. */
  private paced = false;
  private stallTimer: unknown;
  private stopped = false;
  /** Callers of whenWritten, waiting for the paced delivery to end (undefined while none waits). */
  private writtenWaiters: Array<() => void> | undefined;

  constructor(private readonly options: PacedOutputsOptions) {}

  /**
   * What the route kept until the connection was ready, in order, and the replay that goes before it (the
   * subscription's ReplayFeed), if any; the route hands its list over. The queue is empty here: unpaced it always
   * is, and a `sync` forgot it before subscribing again. The first step goes now, in the caller's turn; while
   * paced, a step already waits (for the socket or a page) and finds these.
   */
  readonly held = (outputs: ConversationOutput[], replay?: ReplayFeed): void => {
    if (this.stopped) return;
    if (replay !== undefined && !replay.done) this.replay = replay;
    if (outputs.length > 0) {
      if (this.head < this.queue.length) {
        // Not expected (see above); then they go behind what waits, in order, counted as held live outputs.
        for (const output of outputs) this.hold(output);
      } else {
        this.queue = outputs;
        this.head = 0;
        // Behind a replay they may wait as long as it takes: counted like live outputs. Without one they go now.
        this.liveFrom = this.replay === undefined ? outputs.length : 0;
        if (this.replay !== undefined) for (const output of outputs) this.heldLiveBytes += this.sizeOf(output);
      }
    }
    if (!this.paced && (this.replay !== undefined || this.head < this.queue.length)) this.step();
  };

  /** A live output: written at once, unless a paced delivery is under way. */
  readonly live = (output: ConversationOutput): void => {
    if (this.stopped) return;
    if (!this.paced) {
      this.options.deliver(output);
      return;
    }
    if (this.options.endsAtOnce === undefined ? output.type === 'closed' || output.type === 'failed' : this.options.endsAtOnce(output)) {
      this.forget();
      this.options.deliver(output);
      return;
    }
    const size = this.sizeOf(output);
    if (this.heldLiveBytes + size > this.options.maxHeldLiveBytes) {
      this.options.onSlowConsumer({ held_live_bytes: this.heldLiveBytes + size, held_outputs: this.waiting() });
      return;
    }
    this.hold(output);
  };

  /**
   * Drops what waits, the rest of the replay included (a `sync` replaces the subscription): a step under way, or
   * a page being read, carries on with what comes next.
   */
  forget(): void {
    this.replay = undefined;
    this.page = [];
    this.pageHead = 0;
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
    this.wakeWrittenWaiters();
  }

  /**
   * Resolves once nothing waits to be written: the replay and the outputs behind it are in the socket (or the
   * connection stopped). A socket that leaves closes after its replay, not in its middle (ws-connection.ts leave).
   */
  whenWritten(): Promise<void> {
    if (!this.paced || this.stopped) return Promise.resolve();
    return new Promise((resolve) => (this.writtenWaiters ??= []).push(resolve));
  }

  private wakeWrittenWaiters(): void {
    const waiters = this.writtenWaiters;
    this.writtenWaiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve();
  }

  /**
   * Writes one chunk, then waits for the socket, or for the replay's next page, and the next turn; or ends pacing.
   * Returns the bytes written.
   */
  private readonly step = (): number => {
    const { sender, transport } = this.options;
    if (this.stopped || this.options.isClosing()) return 0;
    const before = sender.bytesWritten;
    // What the previous step left in the socket (under its high-water mark: it drained, or never needed to) and
    // this step's frames are the server's pace, not the reader's.
    sender.pacedBytes = transport.writableHighWaterMark + REPLAY_CHUNK_BYTES;
    this.paced = true;
    for (let output = this.next(); output !== undefined; output = this.next()) {
      this.options.deliver(output);
      if (this.stopped || this.options.isClosing()) return sender.bytesWritten - before;
      if (sender.bytesWritten - before >= REPLAY_CHUNK_BYTES) break;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.liveFrom = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) this.compact();
    const written = sender.bytesWritten - before;
    // Into the socket now: whether it needs draining is known only once it has them.
    sender.flushHeld();
    if (this.waiting() === 0 && !transport.writableNeedDrain) {
      this.paced = false;
      sender.pacedBytes = 0;
      if (this.writtenWaiters !== undefined) this.wakeWrittenWaiters();
      return written;
    }
    sender.pacedBytes = transport.writableHighWaterMark + Math.max(written, REPLAY_CHUNK_BYTES);
    if (transport.writableNeedDrain) {
      transport.once('drain', this.drained);
      this.stallTimer = this.options.clock.setTimeout(this.stalled, this.options.stallMs);
    } else if (this.replay !== undefined && this.pageHead === this.page.length) {
      // The page is written and the socket took it: only now is the next one read.
      this.readPage(this.replay);
    } else {
      this.options.turns.schedule(this.step);
    }
    return written;
  };

  /** The next output to write: the replay's, then (the replay done) what waits behind it; undefined for none now. */
  private next(): ConversationOutput | undefined {
    if (this.replay !== undefined) {
      if (this.pageHead < this.page.length) return this.page[this.pageHead++];
      if (!this.replay.done) return undefined;
      this.replay = undefined;
      this.page = [];
      this.pageHead = 0;
    }
    if (this.head === this.queue.length) return undefined;
    const output = this.queue[this.head]!;
    // Counted again as it leaves: the same bytes it was counted with (a record's frame is the turn's shared one).
    if (this.head >= this.liveFrom) this.heldLiveBytes -= this.sizeOf(output);
    this.head++;
    return output;
  }

  /** Reads the replay's next page, then steps on. The one wait of the moment: no drain or step is pending. */
  private readPage(replay: ReplayFeed): void {
    void replay.next().then((outputs) => {
      if (this.stopped) return;
      // A sync replaced the replay meanwhile: its page goes, the step writes what replaced it.
      if (this.replay === replay) {
        this.page = outputs;
        this.pageHead = 0;
      }
      this.options.turns.schedule(this.step);
    });
  }

  private readonly drained = (): void => {
    this.clearStallTimer();
    if (!this.stopped) this.options.turns.schedule(this.step);
  };

  private readonly stalled = (): void => {
    this.stallTimer = undefined;
    this.options.transport.removeListener('drain', this.drained);
    if (this.stopped) return;
    this.options.onSlowConsumer({ replay_stalled_ms: this.options.stallMs, held_outputs: this.waiting() });
  };

  private clearStallTimer(): void {
    if (this.stallTimer !== undefined) this.options.clock.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** Holds a live output behind what waits, counted against maxHeldLiveBytes. */
  private hold(output: ConversationOutput): void {
    this.heldLiveBytes += this.sizeOf(output);
    this.queue.push(output);
  }

  /** Outputs waiting to be written, the replay's page in hand included (a replay still to come counts one). */
  private waiting(): number {
    const replayLeft = this.replay === undefined ? 0 : Math.max(1, this.page.length - this.pageHead);
    return replayLeft + this.queue.length - this.head;
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
