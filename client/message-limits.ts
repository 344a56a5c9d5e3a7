/**
 * The sizes past which the server refuses a client's message, and the check the outbox makes before a message goes
 * on the wire. One frame over the server's server.websocket.max_frame_bytes makes it close the socket with 1009,
 * which ends the client (a frame that large would only be refused again), with every other unacknowledged send:
 * the client refuses that one message itself instead, CLIENT_MESSAGE_TOO_LARGE, and keeps the connection.
 */
import type { ConnectedFrame } from './protocol-frames';
import type { MessageBudget } from './send-pacer';

/** The server's limits, as its `connected` frame announces them (docs/protocol.md). */
export interface ServerLimits {
  /** Longest frame the server reads, in UTF-8 bytes (server.websocket.max_frame_bytes). */
  readonly maxFrameBytes: number;
  /** Longest `content`, in UTF-16 code units as String.length counts (chat.limits.max_message_length). */
  readonly maxMessageLength: number;
  /** Longest `metadata` as JSON, in UTF-8 bytes; 0: bounded only by the frame (chat.limits.max_metadata_bytes). */
  readonly maxMetadataBytes: number;
  /**
   * The participant's message budget (chat.limits.rate_limit_per_second / rate_limit_burst): messages a second, and at
   * once, before the server refuses with GATEWAY_ERR_RATE_LIMITED; the client paces its sends by it (send-pacer.ts).
   * Both absent when the server announced none (older than the fields): nothing is paced.
   */
  readonly rateLimitPerSecond?: number;
  readonly rateLimitBurst?: number;
}

/**
 * The server's own defaults (config/config-schema.ts), assumed for a server whose `connected` frame has no `limits`
 * (one older than the field): most run with these, and a guess too high would let one message end the client.
 */
export const DEFAULT_SERVER_LIMITS: ServerLimits = { maxFrameBytes: 65_536, maxMessageLength: 10_000, maxMetadataBytes: 8192 };

/** The limits a `connected` frame announces; the defaults for any it does not (or announces as no number). */
export function limitsOfConnected(frame: ConnectedFrame): ServerLimits {
  const announced = frame.limits;
  const pick = (value: unknown, fallback: number): number => (typeof value === 'number' && value >= 0 ? value : fallback);
  return {
    maxFrameBytes: pick(announced?.max_frame_bytes, DEFAULT_SERVER_LIMITS.maxFrameBytes),
    maxMessageLength: pick(announced?.max_message_length, DEFAULT_SERVER_LIMITS.maxMessageLength),
    maxMetadataBytes: pick(announced?.max_metadata_bytes, DEFAULT_SERVER_LIMITS.maxMetadataBytes),
    ...budgetOf(announced?.rate_limit_per_second, announced?.rate_limit_burst),
  };
}

/** The announced message budget, as a pair or not at all: a guess would pace a client below what its server allows. */
function budgetOf(perSecond: unknown, burst: unknown): Pick<ServerLimits, 'rateLimitPerSecond' | 'rateLimitBurst'> {
  if (typeof perSecond !== 'number' || !(perSecond > 0) || typeof burst !== 'number' || !(burst >= 1)) return {};
  return { rateLimitPerSecond: perSecond, rateLimitBurst: burst };
}

/** The message budget the pacer keeps to, or undefined when the server announced none. */
export function messageBudgetOf(limits: ServerLimits): MessageBudget | undefined {
  const { rateLimitPerSecond: perSecond, rateLimitBurst: burst } = limits;
  return perSecond !== undefined && burst !== undefined ? { perSecond, burst } : undefined;
}

/** What a `message` frame carries that the limits bound. */
export interface OutgoingMessage {
  readonly type: 'message';
  readonly message_id: string;
  readonly content: string;
  readonly metadata?: Record<string, unknown>;
}

/**
 * A message's sizes as the limits bound them. They depend on the message alone, so the outbox measures each message
 * once, when it is queued, and compares the numbers with each server's limits (sizesProblem) on every send.
 */
export interface MessageSizes {
  /** `content` in UTF-16 code units, as String.length counts. */
  readonly contentLength: number;
  /** `metadata` as JSON, in UTF-8 bytes; undefined without metadata. */
  readonly metadataBytes?: number;
  /**
   * The whole frame as the socket sends it (chat-socket.ts: JSON text, UTF-8 on the wire); the server's WebSocket
   * refuses a payload longer than max_frame_bytes, one exactly that long it reads.
   */
  readonly frameBytes: number;
}

/** Measures a message frame (see MessageSizes). */
export function measureMessage(frame: OutgoingMessage): MessageSizes {
  return {
    contentLength: frame.content.length,
    ...(frame.metadata !== undefined ? { metadataBytes: utf8Length(JSON.stringify(frame.metadata)) } : {}),
    frameBytes: utf8Length(JSON.stringify(frame)),
  };
}

/** Why the server would refuse a message of these sizes (or close the socket over it), or undefined if it fits. */
export function sizesProblem(sizes: MessageSizes, limits: ServerLimits): string | undefined {
  if (sizes.contentLength > limits.maxMessageLength) {
    return `content is ${sizes.contentLength} characters, over the server's max_message_length (${limits.maxMessageLength})`;
  }
  if (sizes.metadataBytes !== undefined && limits.maxMetadataBytes > 0 && sizes.metadataBytes > limits.maxMetadataBytes) {
    return `metadata is ${sizes.metadataBytes} bytes as JSON, over the server's max_metadata_bytes (${limits.maxMetadataBytes})`;
  }
  if (sizes.frameBytes > limits.maxFrameBytes) {
    return `the message frame is ${sizes.frameBytes} bytes, over the server's max_frame_bytes (${limits.maxFrameBytes})`;
  }
  return undefined;
}

/** Why the server would refuse this message for its size (or close the socket over it), or undefined if it fits. */
export function messageSizeProblem(frame: OutgoingMessage, limits: ServerLimits): string | undefined {
  return sizesProblem(measureMessage(frame), limits);
}

/**
 * Why the server would close the socket over this frame (an `edit`, a `delete`): over its max_frame_bytes, or
 * undefined if it fits. An edit's content over max_message_length in a frame that fits is the server's to refuse
 * (GATEWAY_ERR_CONTENT_INVALID, the connection kept): only the frame's size would end the connection.
 */
export function frameBytesProblem(frame: { readonly type: string }, limits: ServerLimits): string | undefined {
  const bytes = utf8Length(JSON.stringify(frame));
  if (bytes <= limits.maxFrameBytes) return undefined;
  return `the ${frame.type} frame is ${bytes} bytes, over the server's max_frame_bytes (${limits.maxFrameBytes})`;
}

/** UTF-8 length of a string, counted rather than encoded (no copy of a large message per check). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4; // a surrogate pair: one code point of four bytes
      i++;
    } else bytes += 3; // the rest of the BMP; a lone surrogate is sent as U+FFFD, three bytes too
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
