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
  constructor(private readonly options: FrameSenderOptions) {}

  /** Serialises and sends a frame meant for this socket only. */
  frame(frame: ServerFrame): void {
    if (this.options.isClosing()) return;
    this.json(JSON.stringify(frame));
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

  /** Every send checks the buffered bytes first. `frame`: encoded by text-frames.ts. */
  private raw(frame: Buffer, soon = false): void {
    const { ws } = this.options;
    if (this.options.isClosing() || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.options.highWaterBytes) {
      const { lastSentSequenceId, lastAckedSequenceId } = this.options.progress;
      this.options.log.warn(
        { buffered_bytes: ws.bufferedAmount, last_sent_sequence_id: lastSentSequenceId, last_acked_sequence_id: lastAckedSequenceId },
        'slow consumer disconnected',
      );
      this.options.onSlowConsumer();
      return;
    }
    this.options.batch.write(frame, soon);
  }
}
