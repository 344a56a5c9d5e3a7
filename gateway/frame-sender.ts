import { WebSocket } from 'ws';
import type { ChatMessage } from '../actors/message-types';
import type { DeliveryProgress } from './delivery-progress';
import type { GatewayLogger } from './observability-hooks';
import type { ServerFrame } from './protocol/server-frames';
import type { SharedFrames } from './shared-frames';
import { encodeTextFrame, textFramePayload } from './text-frames';
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
  /** Coalesces this socket's writes per event-loop turn (absent: every frame is its own write). */
  readonly batch?: TurnWriteBatch;
  /**
   * The upgraded socket under `ws`: frames encoded by text-frames.ts are written to it directly, one
   * chunk per frame (absent: every frame goes through ws.send).
   */
  readonly transport?: FrameTransport;
}

/** Where encoded frames are written directly: the TCP or TLS socket ws upgraded. */
export interface FrameTransport {
  write(chunk: Buffer): boolean;
}

/** Buffers are sent as text frames too: the protocol is JSON text either way. */
const TEXT_FRAME = { binary: false } as const;

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
    this.raw(this.options.transport ? encodeTextFrame(json) : json);
  }

  /**
   * Sends the `message` frame of a record, serialised once for every recipient. `soon`: someone else's
   * record, which nothing else of this turn will join (see TurnWriteBatch.hold).
   */
  message(message: ChatMessage, soon = false): void {
    this.raw(this.options.sharedFrames.message(message), soon);
  }

  /** Sends a frame every recipient shares, serialised once for all of them (built only if not cached yet). */
  shared(key: object, build: () => ServerFrame): void {
    if (this.options.isClosing()) return;
    this.raw(this.options.sharedFrames.bytes(key, build));
  }

  /**
   * Every send checks the buffered bytes first. `data`: a JSON string, or a frame encoded by
   * text-frames.ts (what frame(), message() and shared() hand over).
   */
  private raw(data: string | Buffer, soon = false): void {
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
    const { batch } = this.options;
    batch?.hold(soon);
    if (typeof data === 'string') ws.send(data);
    else if (this.options.transport) this.options.transport.write(data);
    else ws.send(textFramePayload(data), TEXT_FRAME);
    batch?.wrote();
  }
}
