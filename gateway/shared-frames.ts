import type { ChatMessage } from '../actors/message-types';
import type { ServerFrame } from './protocol/server-frames';
import { messageFrameJson } from './frame-json';
import { encodeEvent } from './sse-sender';
import { FrameWriter } from './frame-writer';
import { encodeTextFrame } from './text-frames';

/**
 * Frames shared by every recipient of a fan-out, serialised once as a complete WebSocket text frame
 * (text-frames.ts) and written as is to each socket: N recipients cost one serialisation.
 *
 * Entries live until the end of the event-loop turn (a setImmediate clears them), not as long as their
 * key: the keys are records, and records live as long as the journal or the resume cache holds them.
 * A cache tied to them (a WeakMap) kept every message's frame alive beside its record: on the throughput
 * benchmark the live heap after a full collection was 164 MB with it and 115 MB without. A fan-out, the
 * broadcasts of one step and a reconnect storm's replays of the same records happen within a turn.
 */
export class SharedFrames {
  /** Writes the `message` frames here and every post's `message_ack` (FrameSender.ack) without a JSON string. */
  readonly writer = new FrameWriter();
  private frames = new Map<object, Buffer>();
  /** Server-Sent Events (sse-sender.ts) of the same keys: other bytes than the WebSocket frames, so a map of their own. */
  private events = new Map<object, Buffer>();
  private clearScheduled = false;

  /** The `message` frame of a record (looked up first: no builder closure per recipient, as this runs per delivery). */
  message(message: ChatMessage): Buffer {
    return this.frames.get(message) ?? this.keepFrame(message, this.writer.message(message));
  }

  /** The frame built for `key` (a broadcast output), built on first use in the turn. */
  bytes(key: object, build: () => ServerFrame): Buffer {
    return this.frames.get(key) ?? this.keep(key, JSON.stringify(build()));
  }

  /**
   * The event-stream bytes for `key` (a record or a broadcast output), encoded on first use in the turn: a room's
   * event streams share one serialisation per record, as its WebSockets do.
   */
  event(key: object, encode: () => Buffer): Buffer {
    return this.events.get(key) ?? this.keepEvent(key, encode());
  }

  /** A record's `message` event (looked up first, as message(): no encoder closure per stream on the per-record path). */
  messageEvent(message: ChatMessage): Buffer {
    return this.events.get(message) ?? this.keepEvent(message, encodeEvent('message', messageFrameJson(message), message.sequence_id));
  }

  private keepEvent(key: object, bytes: Buffer): Buffer {
    this.events.set(key, bytes);
    this.scheduleClear();
    return bytes;
  }

  private keep(key: object, json: string): Buffer {
    return this.keepFrame(key, encodeTextFrame(json));
  }

  private keepFrame(key: object, bytes: Buffer): Buffer {
    this.frames.set(key, bytes);
    this.scheduleClear();
    return bytes;
  }

  private scheduleClear(): void {
    if (!this.clearScheduled) {
      this.clearScheduled = true;
      setImmediate(this.clear);
    }
  }

  private readonly clear = (): void => {
    this.clearScheduled = false;
    this.frames = new Map();
    // Only when used: a gateway without event streams allocates one map per turn, as before they existed.
    if (this.events.size !== 0) this.events = new Map();
  };
}
