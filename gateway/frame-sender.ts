import { WebSocket } from 'ws';
import type { ChatMessage } from '../actors/message-types';
import type { DeliveryProgress } from './delivery-progress';
import type { GatewayLogger } from './observability-hooks';
import type { ServerFrame } from './protocol/server-frames';
import type { SharedFrames } from './shared-frames';
import { encodeTextFrame } from './text-frames';
import type { TurnWriteBatch } from './turn-write-batch';

/** What a FrameSender needs from its connection. */
export interface FrameSenderOptions {
  readonly ws: WebSocket;
  /** Bytes ws may hold unsent before the peer counts as a slow consumer (server.websocket.high_water_bytes). */
  readonly highWaterBytes: number;
  /** The gateway-wide serialise-once cache (see shared-frames.ts). */
  readonly sharedFrames: SharedFrames;
  /** The connection's logger and progress: a dropped slow consumer is logged with how far it got. */
  readonly log: GatewayLogger;
  readonly progress: DeliveryProgress;
  /** A closing connection sends nothing more. */
  isClosing(): boolean;
  /** Called instead of sending once the buffered bytes pass the high-water mark; it must close the connection. */
  onSlowConsumer(): void;
  /**
   * Writes this socket's frames, coalesced per event-loop turn, straight to the socket ws upgraded
   * (frames encoded by text-frames.ts; ws itself still writes pings and the close handshake to it).
   */
  readonly batch: TurnWriteBatch;
}

/**
 * Writes server frames to one socket behind the backpressure guard: a consumer past the high-water mark
 * is closed, never buffered for without bound (docs/protocol.md, GATEWAY_ERR_SLOW_CONSUMER).
 */
export class FrameSender {
  /** Bytes of frames handed to the socket's batch so far (a paced delivery measures its steps by it). */
  bytesWritten = 0;
  /**
   * Buffered bytes the guard does not count: what a paced delivery (paced-outputs.ts) may have in the socket. The
   * server paces those itself, waiting for the socket to take each step; they say nothing about the reader. 0 else.
   */
  pacedBytes = 0;

  constructor(private readonly options: FrameSenderOptions) {}

  /** Serialises and sends a frame meant for this socket only. */
  frame(frame: ServerFrame): void {
    if (this.options.isClosing()) return;
    this.json(JSON.stringify(frame));
  }

  /** Sends a post's `message_ack` (encoded by the gateway's FrameWriter, without a JSON string). */
  ack(messageId: string, sequenceId: number, duplicate: boolean, persisted: boolean): void {
    if (this.options.isClosing()) return;
    this.raw(this.options.sharedFrames.writer.ack(messageId, sequenceId, duplicate, persisted));
  }

  /** Sends a frame already serialised (frame-json.ts) for this socket only. */
  json(json: string): void {
    if (this.options.isClosing()) return;
    this.raw(encodeTextFrame(json));
  }

  /**
   * Sends the `message` frame of a record, serialised once for every recipient. `soon`: someone else's
   * record, which nothing else of this turn will join (see TurnWriteBatch.write).
   */
  message(message: ChatMessage, soon = false): void {
    this.raw(this.options.sharedFrames.message(message), soon);
  }

  /** Sends a frame every recipient shares, serialised once for all of them (built only if not cached yet). */
  shared(key: object, build: () => ServerFrame): void {
    if (this.options.isClosing()) return;
    this.raw(this.options.sharedFrames.bytes(key, build));
  }

  /** Writes what this socket holds for the turn now (TurnWriteBatch.flush; nothing held: nothing written). */
  flushHeld(): void {
    this.options.batch.flush();
  }

  /** Logs how far a reader got, then has its connection closed as a slow consumer (4008). */
  slowConsumer(details: Record<string, unknown>): void {
    const { lastSentSequenceId, lastAckedSequenceId } = this.options.progress;
    this.options.log.warn(
      { ...details, last_sent_sequence_id: lastSentSequenceId, last_acked_sequence_id: lastAckedSequenceId },
      'slow consumer disconnected',
    );
    this.options.onSlowConsumer();
  }

  /** Every send checks the buffered bytes first. `frame`: encoded by text-frames.ts. */
  private raw(frame: Buffer, soon = false): void {
    const { ws } = this.options;
    if (this.options.isClosing() || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.options.highWaterBytes + this.pacedBytes) {
      this.slowConsumer({ buffered_bytes: ws.bufferedAmount });
      return;
    }
    this.bytesWritten += frame.length;
    this.options.batch.write(frame, soon);
  }
}
