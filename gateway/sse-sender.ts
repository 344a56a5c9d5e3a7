import type { ChatMessage } from '../actors/message-types';
import type { GatewayLogger } from './observability-hooks';
import type { OutputFrameSender } from './output-frames';
import type { PacedSender } from './paced-outputs';
import type { ServerFrame } from './protocol/server-frames';
import type { SharedFrames } from './shared-frames';
import type { TurnWriteBatch } from './turn-write-batch';

/** The response an event stream writes to, as the backpressure guard reads it (http.ServerResponse has it). */
export interface BufferedStream {
  /** Bytes node holds unsent for the peer: the response's and its socket's. */
  readonly writableLength: number;
}

/** What an SseSender needs from its stream. */
export interface SseSenderOptions {
  readonly stream: BufferedStream;
  /** Bytes the stream may hold unsent before the reader counts as a slow consumer (server.websocket.high_water_bytes). */
  readonly highWaterBytes: number;
  readonly log: GatewayLogger;
  /** The gateway-wide serialise-once cache (shared-frames.ts): a record's event is encoded once per turn. */
  readonly sharedFrames: SharedFrames;
  /** Highest sequence id sent, logged when a slow consumer is dropped. */
  lastSentSequenceId(): number;
  /** A closing stream sends nothing more. */
  isClosing(): boolean;
  /** Called instead of writing once the held bytes pass the high-water mark; it must end the stream. */
  onSlowConsumer(): void;
  /** Writes the stream's events, coalesced per event-loop turn, as a WebSocket's frames are (turn-write-batch.ts). */
  readonly batch: TurnWriteBatch;
}

/**
 * One Server-Sent Event: `event: <type>`, one `data:` line holding the frame's JSON (JSON.stringify escapes every
 * line break, so one line always suffices), and `id:` for what moves the reader's position (eventIdOf).
 */
export function encodeEvent(type: string, json: string, id?: number): Buffer {
  return Buffer.from(`${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${json}\n\n`);
}

/**
 * The position a frame brings its reader to, or undefined when it moves none. Records carry their sequence id; a
 * `sync_complete` its `to` (the replay is complete up to there, records skipped as lost or unreadable included); a
 * `reset` its `after`, back before the records it takes away: EventSource would otherwise resume, after a drop that
 * came before the replay's records, from the old position, and never get the records that replace them. The
 * others (presence, typing, read, participant_update, ...) say nothing about it: an id on them would let
 * EventSource's reconnect skip a record still to come, or go back before one already had.
 */
export function eventIdOf(frame: ServerFrame): number | undefined {
  if (frame.type === 'sync_complete') return frame.to;
  return frame.type === 'reset' ? frame.after : undefined;
}

/**
 * Writes the WebSocket's frames to an event stream (docs/protocol.md, Server-Sent Events), behind the same
 * backpressure guard as FrameSender: a reader past the high-water mark is dropped, never buffered for without bound;
 * it resumes with Last-Event-ID.
 */
export class SseSender implements OutputFrameSender, PacedSender {
  /** Bytes handed to the batch so far (a paced replay measures its steps by it). */
  bytesWritten = 0;
  /** Held bytes the guard does not count while a paced replay writes (FrameSender.pacedBytes). */
  pacedBytes = 0;

  constructor(private readonly options: SseSenderOptions) {}

  /** A record's `message` event, with its sequence id as the event id, encoded once per turn for every stream. */
  message(message: ChatMessage): void {
    if (this.options.isClosing()) return;
    this.raw(this.options.sharedFrames.messageEvent(message));
  }

  /** A frame as an event named by its type; `id` overrides eventIdOf (the `connected` of a stream with no replay). */
  frame(frame: ServerFrame, id: number | undefined = eventIdOf(frame)): void {
    this.event(frame, id);
  }

  /** Any frame of the stream's own (its last, `closed`) as an event named by its type. */
  event(frame: { readonly type: string }, id?: number): void {
    if (this.options.isClosing()) return;
    this.raw(encodeEvent(frame.type, JSON.stringify(frame), id));
  }

  /** A broadcast frame (typing, presence, read), encoded once per turn for every stream (none carries an id). */
  shared(key: object, build: () => ServerFrame): void {
    if (this.options.isClosing()) return;
    this.raw(
      this.options.sharedFrames.event(key, () => {
        const frame = build();
        return encodeEvent(frame.type, JSON.stringify(frame));
      }),
    );
  }

  /** A comment line (`: ping`), which EventSource ignores: keeps proxies from timing the stream out. */
  comment(text: string): void {
    if (this.options.isClosing()) return;
    this.raw(Buffer.from(`: ${text}\n\n`));
  }

  /** A field line of its own (`retry: <ms>`). */
  field(name: string, value: string): void {
    if (this.options.isClosing()) return;
    this.raw(Buffer.from(`${name}: ${value}\n\n`));
  }

  /** Writes what the stream holds for the turn now. */
  flushHeld(): void {
    this.options.batch.flush();
  }

  /** Logs how far the reader got, then has the stream dropped as a slow consumer. */
  slowConsumer(details: Record<string, unknown>): void {
    this.options.log.warn({ ...details, last_sent_sequence_id: this.options.lastSentSequenceId() }, 'slow consumer disconnected');
    this.options.onSlowConsumer();
  }

  private raw(bytes: Buffer): void {
    const held = this.options.stream.writableLength;
    if (held > this.options.highWaterBytes + this.pacedBytes) {
      this.slowConsumer({ buffered_bytes: held, transport: 'sse' });
      return;
    }
    this.bytesWritten += bytes.length;
    this.options.batch.write(bytes);
  }
}
