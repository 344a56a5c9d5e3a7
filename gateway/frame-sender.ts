import { WebSocket } from 'ws';
import type { ServerFrame } from './protocol/server-frames';
import { sharedFrameBytes } from './shared-frames';

/** What a FrameSender needs from its connection. */
export interface FrameSenderOptions {
  readonly ws: WebSocket;
  /** Bytes ws may hold unsent before the peer counts as a slow consumer (server.websocket.high_water_bytes). */
  readonly highWaterBytes: number;
  /** The gateway-wide serialise-once cache (see shared-frames.ts). */
  readonly sharedFrames: WeakMap<object, Buffer>;
  /** A closing connection sends nothing more. */
  isClosing(): boolean;
  /** Called instead of sending once the buffered bytes pass the high-water mark; it must close the connection. */
  onSlowConsumer(bufferedBytes: number): void;
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
    this.raw(JSON.stringify(frame));
  }

  /** Sends a frame every recipient shares, serialised once for all of them (built only if not cached yet). */
  shared(key: object, build: () => ServerFrame): void {
    if (this.options.isClosing()) return;
    this.raw(sharedFrameBytes(this.options.sharedFrames, key, build));
  }

  /** Every send checks the buffered bytes first. */
  raw(data: string | Buffer): void {
    const { ws } = this.options;
    if (this.options.isClosing() || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.options.highWaterBytes) {
      this.options.onSlowConsumer(ws.bufferedAmount);
      return;
    }
    if (typeof data === 'string') ws.send(data);
    else ws.send(data, TEXT_FRAME);
  }
}
