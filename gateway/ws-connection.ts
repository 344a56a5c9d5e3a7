import { WebSocket, type RawData } from 'ws';
import type { Clock } from '../actors/clock';
import { ERROR_CODES, isChatError, type ErrorCode, type ErrorSpec } from '../actors/errors';
import { MESSAGE_TYPES, type ChatMessage, type ConversationMode, type Participant } from '../actors/message-types';
import type { ChatRuntime, ConversationOutput, Subscription } from '../actors/runtime-types';
import type { NlwebChatConfig } from '../config/config-types';
import type { AuthenticatedUser } from './authenticators';
import { contentProblem } from './content-validation';
import type { GatewayAudit, GatewayLogger, GatewayTelemetry } from './observability-hooks';
import type { ClientFrame, ClientMessageFrame } from './protocol/client-frames';
import type { FrameValidator } from './protocol/frame-validator';
import type { ErrorFrame, ServerFrame } from './protocol/server-frames';
import type { RateLimiter } from './rate-limiter';

/** What every connection of one gateway shares. */
export interface ConnectionContext {
  readonly runtime: ChatRuntime;
  readonly config: NlwebChatConfig;
  readonly clock: Clock;
  readonly logger: GatewayLogger;
  readonly telemetry: GatewayTelemetry;
  readonly audit: GatewayAudit;
  readonly validator: FrameValidator;
  readonly rateLimiter: RateLimiter;
  /**
   * Serialised frames shared by all connections, keyed by the record (`message` frames) or by the
   * broadcast output object (`typing`, `participant_list`): N recipients cost one JSON.stringify.
   */
  readonly sharedFrames: WeakMap<object, Buffer>;
  onClosed(connection: WsConnection): void;
}

/**
 * Where a subscription's outputs go. Outputs are buffered until the connection has sent its
 * `connected` frame, and dropped once the subscription is replaced (sync) or the connection closes.
 */
export interface OutputRoute {
  readonly listener: (output: ConversationOutput) => void;
  attach(deliver: (output: ConversationOutput) => void): void;
  detach(): void;
}

export function createOutputRoute(): OutputRoute {
  let buffer: ConversationOutput[] | undefined = [];
  let deliver: ((output: ConversationOutput) => void) | undefined;
  return {
    listener(output) {
      if (buffer) buffer.push(output);
      else deliver?.(output);
    },
    attach(fn) {
      const pending = buffer ?? [];
      buffer = undefined;
      deliver = fn;
      for (const output of pending) fn(output);
    },
    detach() {
      buffer = undefined;
      deliver = undefined;
    },
  };
}

/**
 * Subscribes with an optional resume point. A resume point past the conversation's end (the client
 * remembers records the server no longer has, e.g. after an in-memory journal was lost) would make the
 * runtime skip every record up to it, so the gateway resumes from the conversation's real end instead;
 * the client sees that in `sync_complete` / `connected.last_sequence_id`.
 */
export async function subscribeFrom(
  runtime: ChatRuntime,
  conversationId: string,
  userId: string,
  afterSequenceId: number | undefined,
): Promise<{ subscription: Subscription; route: OutputRoute }> {
  const route = createOutputRoute();
  const options = afterSequenceId === undefined ? {} : { afterSequenceId };
  const subscription = await runtime.subscribe(conversationId, userId, route.listener, options);
  if (afterSequenceId === undefined || afterSequenceId <= subscription.lastSequenceId) return { subscription, route };
  route.detach();
  subscription.close();
  return subscribeFrom(runtime, conversationId, userId, subscription.lastSequenceId);
}

/**
 * Serialises a `message` frame once per record, as UTF-8 bytes, and caches it for every other recipient:
 * ws writes a Buffer as is, where a string would be measured and encoded again for each socket.
 */
export function messageFrameBytes(cache: WeakMap<object, Buffer>, message: ChatMessage): Buffer {
  return sharedFrameBytes(cache, message, () => ({ type: 'message', message }));
}

/** The cached bytes of the frame built for `key` (built and cached on first use). */
export function sharedFrameBytes(cache: WeakMap<object, Buffer>, key: object, build: () => ServerFrame): Buffer {
  let bytes = cache.get(key);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(build()), 'utf8');
    cache.set(key, bytes);
  }
  return bytes;
}

/** Builds an `error` frame for a code of actors/errors.ts. */
export function errorFrame(code: ErrorCode, message?: string, extra: { retry_after_ms?: number; message_id?: string } = {}): ErrorFrame {
  const frame: { -readonly [K in keyof ErrorFrame]: ErrorFrame[K] } = {
    type: 'error',
    error: code,
    code: ERROR_CODES[code].frame,
    message: message ?? ERROR_CODES[code].message,
  };
  if (extra.retry_after_ms !== undefined) frame.retry_after_ms = Math.max(0, Math.ceil(extra.retry_after_ms));
  if (extra.message_id !== undefined) frame.message_id = extra.message_id;
  return frame;
}

/** Close code for a code of actors/errors.ts that ends a connection. */
export function closeCodeOf(code: ErrorCode): number {
  const spec: ErrorSpec = ERROR_CODES[code];
  return spec.close ?? 1011;
}

/**
 * One upgraded WebSocket of one participant in one conversation: translates client frames into
 * runtime calls and subscription outputs into frames. A bad frame only ever affects this socket.
 */
export class WsConnection {
  readonly conversationId: string;
  readonly userId: string;
  /** Resolves when the socket has closed (after the close handshake or termination). */
  readonly closed: Promise<number>;
  /** Last time (clock ms) anything arrived from the client: a frame or a pong. */
  lastSeen: number;
  /** Highest sequence id sent in a `message` frame. */
  lastSentSequenceId = 0;
  /** Highest sequence id the client acknowledged with an `ack` frame (cumulative). */
  lastAckedSequenceId = 0;

  private subscription: Subscription;
  private route: OutputRoute;
  /** Sequence id up to which history was replayed; later join/leave/mode records also get update frames. */
  private liveAfter: number;
  private closing = false;
  private leaving = false;
  /** Bumped by every sync frame: only the newest re-subscription takes over. */
  private syncGeneration = 0;
  private terminateTimer: unknown;
  private readonly log: GatewayLogger;
  private readonly rateKey: string;
  private readonly typingKey: string;
  private readonly highWater: number;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: ConnectionContext,
    user: AuthenticatedUser,
    subscription: Subscription,
    route: OutputRoute,
  ) {
    this.conversationId = subscription.conversationId;
    this.userId = user.userId;
    this.subscription = subscription;
    this.route = route;
    this.liveAfter = subscription.lastSequenceId;
    this.lastSeen = ctx.clock.now();
    this.rateKey = rateKeyOf(this.conversationId, this.userId);
    this.typingKey = `${this.rateKey}\u0000typing`;
    this.highWater = ctx.config.server.websocket.high_water_bytes;
    this.log = ctx.logger.child({
      conversation_id: this.conversationId,
      participant_id: this.userId,
      connection_id: subscription.connectionId,
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number) => {
        if (this.terminateTimer !== undefined) ctx.clock.clearTimeout(this.terminateTimer);
        this.terminateTimer = undefined;
        this.closing = true;
        this.dropSubscription();
        ctx.onClosed(this);
        resolve(code);
      });
    });
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'websocket error'));
    ws.on('pong', () => {
      this.lastSeen = ctx.clock.now();
    });
    ws.on('message', (data, isBinary) => this.onData(data, isBinary));
  }

  /** Sends `connected` and `participant_list`, then everything the subscription buffered meanwhile. */
  start(): void {
    const sub = this.subscription;
    const input = this.ctx.config.chat.input;
    this.sendFrame({
      type: 'connected',
      conversation_id: this.conversationId,
      participant_id: this.userId,
      mode: sub.mode,
      input_timeout: sub.mode === 'multi' ? input.multi_mode_window_ms : input.single_mode_typing_window_ms,
      last_sequence_id: sub.lastSequenceId,
      connection_id: sub.connectionId,
      server_time: new Date(this.ctx.clock.now()).toISOString(),
    });
    this.sendFrame({ type: 'participant_list', participants: sub.participants, mode: sub.mode });
    this.route.attach(this.deliver);
  }

  /**
   * The subscription listener. It must not throw (the runtime would silently drop the subscription and
   * leave the socket open but deaf), so a failure to translate an output ends this connection instead.
   */
  private readonly deliver = (output: ConversationOutput): void => {
    try {
      this.onOutput(output);
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err), output: output.type }, 'could not send an output');
      this.end('GATEWAY_ERR_INTERNAL', this.graceMs());
    }
  };

  get connectionId(): string {
    return this.subscription.connectionId;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Heartbeat tick: terminate when silent past the dead time, otherwise ping. */
  heartbeat(now: number, deadMs: number): void {
    if (this.closing) return;
    if (now - this.lastSeen > deadMs) {
      this.log.info({ silent_ms: now - this.lastSeen }, 'heartbeat timeout');
      this.end('GATEWAY_ERR_HEARTBEAT_TIMEOUT', deadMs);
      return;
    }
    try {
      this.ws.ping();
    } catch {
      // A socket that is already closing cannot be pinged; its close event cleans up.
    }
  }

  /**
   * Closes with the close code of `code` (or a plain close code) and terminates the socket if the
   * close handshake does not finish within graceMs (a dead or stalled peer never answers it).
   */
  end(code: ErrorCode | number, graceMs: number): void {
    if (this.closing) return;
    this.closing = true;
    this.dropSubscription();
    const closeCode = typeof code === 'number' ? code : closeCodeOf(code);
    const reason = typeof code === 'number' ? '' : code;
    try {
      this.ws.close(closeCode, reason);
    } catch {
      this.ws.terminate();
    }
    this.terminateTimer = this.ctx.clock.setTimeout(() => {
      this.terminateTimer = undefined;
      this.ws.terminate();
    }, graceMs);
  }

  private dropSubscription(): void {
    this.route.detach();
    this.subscription.close();
  }

  // ---- client → server ------------------------------------------------------------------------

  private onData(data: RawData, isBinary: boolean): void {
    this.lastSeen = this.ctx.clock.now();
    if (this.closing) return;
    let value: unknown;
    try {
      // Binary frames are decoded as UTF-8 text too: the protocol is JSON either way.
      value = JSON.parse(rawToString(data, isBinary));
    } catch {
      this.sendFrame(errorFrame('GATEWAY_ERR_MALFORMED_JSON'));
      this.end('GATEWAY_ERR_MALFORMED_JSON', this.graceMs());
      return;
    }
    const checked = this.ctx.validator.client(value);
    if (!checked.ok) {
      const messageId = (value as { message_id?: unknown } | null)?.message_id;
      this.sendFrame(
        errorFrame(
          'GATEWAY_ERR_INVALID_FRAME',
          checked.message,
          typeof messageId === 'string' && messageId.length > 0 && messageId.length <= 128 ? { message_id: messageId } : {},
        ),
      );
      return;
    }
    this.onFrame(checked.frame);
  }

  private onFrame(frame: ClientFrame): void {
    switch (frame.type) {
      case 'message':
        void this.post(frame);
        return;
      case 'sync': {
        // A replay may read storage: it costs a token of the participant's message budget.
        const decision = this.ctx.rateLimiter.take(this.rateKey);
        if (!decision.ok) {
          this.rateLimited();
          this.sendFrame(errorFrame('GATEWAY_ERR_RATE_LIMITED', undefined, { retry_after_ms: decision.retryAfterMs }));
          return;
        }
        void this.resync(frame.last_sequence_id);
        return;
      }
      case 'ack':
        if (frame.sequence_id > this.lastAckedSequenceId) this.lastAckedSequenceId = frame.sequence_id;
        return;
      case 'typing':
        // Typing is best effort and fans out to everybody: over its own budget it is dropped silently.
        if (this.ctx.rateLimiter.take(this.typingKey).ok) this.ctx.runtime.setTyping(this.conversationId, this.userId, frame.is_typing);
        return;
      case 'ping':
        this.sendFrame(
          frame.ts === undefined
            ? { type: 'pong', server_time: new Date(this.ctx.clock.now()).toISOString() }
            : { type: 'pong', server_time: new Date(this.ctx.clock.now()).toISOString(), ts: frame.ts },
        );
        return;
      case 'leave':
        void this.leave();
        return;
    }
  }

  private async post(frame: ClientMessageFrame): Promise<void> {
    const messageId = frame.message_id;
    const problem = contentProblem(frame.content, this.ctx.config.chat.limits.max_message_length);
    if (problem) {
      this.sendFrame(errorFrame('GATEWAY_ERR_CONTENT_INVALID', problem, { message_id: messageId }));
      return;
    }
    const decision = this.ctx.rateLimiter.take(this.rateKey);
    if (!decision.ok) {
      this.rateLimited();
      this.sendFrame(errorFrame('GATEWAY_ERR_RATE_LIMITED', undefined, { message_id: messageId, retry_after_ms: decision.retryAfterMs }));
      return;
    }
    try {
      const result = await this.ctx.runtime.post(this.conversationId, {
        sender_id: this.userId,
        message_id: messageId,
        content: frame.content,
        ...(frame.metadata === undefined ? {} : { metadata: frame.metadata }),
      });
      const ack = { type: 'message_ack', message_id: messageId, sequence_id: result.sequence_id, duplicate: result.duplicate } as const;
      this.sendFrame({ ...ack, persisted: result.persisted });
      if (!result.persisted) {
        result.whenPersisted.then(
          () => this.sendFrame({ ...ack, persisted: true }),
          () => undefined, // only rejects at shutdown; the connection closes with 1001 then
        );
      }
    } catch (err) {
      this.sendError(err, messageId);
    }
  }

  /**
   * Replaces the subscription with one resuming after `lastSequenceId`. The old route is dropped at
   * once, so after the sync the client receives exactly the records after its resume point, in order.
   */
  private async resync(lastSequenceId: number): Promise<void> {
    this.ctx.telemetry.reconnect?.();
    // Outputs of the old subscription stop at once; the new one replays from the requested point.
    this.route.detach();
    const generation = ++this.syncGeneration;
    try {
      const { subscription, route } = await subscribeFrom(this.ctx.runtime, this.conversationId, this.userId, lastSequenceId);
      if (this.closing || generation !== this.syncGeneration) {
        route.detach();
        subscription.close();
        return;
      }
      const previous = this.subscription;
      this.subscription = subscription;
      this.route = route;
      previous.close();
      this.liveAfter = subscription.lastSequenceId;
      route.attach(this.deliver);
    } catch (err) {
      if (this.closing || generation !== this.syncGeneration) return;
      this.failWith(err);
    }
  }

  private async leave(): Promise<void> {
    this.leaving = true;
    try {
      await this.ctx.runtime.leave(this.conversationId, this.userId);
      this.end(1000, this.graceMs());
    } catch (err) {
      this.leaving = false;
      this.sendError(err);
    }
  }

  // ---- server → client ------------------------------------------------------------------------

  private onOutput(output: ConversationOutput): void {
    switch (output.type) {
      case 'message': {
        const message = output.message;
        this.sendRaw(messageFrameBytes(this.ctx.sharedFrames, message));
        if (message.sequence_id > this.lastSentSequenceId) this.lastSentSequenceId = message.sequence_id;
        if (message.sequence_id > this.liveAfter) this.sendUpdates(message);
        return;
      }
      case 'persisted':
        // Not forwarded: it would be N frames per journal batch, and the only party that needs durability
        // news, the sender, gets a message_ack with persisted: true per post (see post()).
        return;
      // Broadcast outputs reach every connection as the same object: serialise once for all of them.
      case 'typing':
        if (output.participant_id !== this.userId) {
          this.sendShared(output, () => ({ type: 'typing', participant_id: output.participant_id, is_typing: output.is_typing }));
        }
        return;
      case 'participants':
        this.sendShared(output, () => ({ type: 'participant_list', participants: output.participants, mode: output.mode }));
        return;
      case 'sync_complete':
        this.sendFrame({ type: 'sync_complete', from: output.from, to: output.to, recovered: output.recovered });
        return;
      case 'failed':
        this.sendFrame(errorFrame('CHAT_ERR_CONVERSATION_FAILED', output.reason.slice(0, 500)));
        this.end('CHAT_ERR_CONVERSATION_FAILED', this.graceMs());
        return;
      case 'closed':
        if (output.reason === 'removed') {
          // Our own leave ends with 1000; being removed otherwise (left from another connection) is final.
          this.end(this.leaving ? 1000 : 'CHAT_ERR_NOT_PARTICIPANT', this.graceMs());
        } else if (output.reason === 'deleted') {
          this.end('CHAT_ERR_NOT_FOUND', this.graceMs());
        } else {
          // Shutdown: the client reconnects (with backoff) and resumes.
          this.end('GATEWAY_ERR_SHUTTING_DOWN', this.graceMs());
        }
        return;
    }
  }

  /** Live join/leave/mode records also produce the dedicated update frames. */
  private sendUpdates(message: ChatMessage): void {
    const meta = message.metadata as { participant?: Participant; participant_count?: number; mode?: ConversationMode };
    if ((message.message_type === MESSAGE_TYPES.join || message.message_type === MESSAGE_TYPES.leave) && meta.participant) {
      this.sendFrame({
        type: 'participant_update',
        action: message.message_type === MESSAGE_TYPES.join ? 'join' : 'leave',
        participant: meta.participant,
        participant_count: typeof meta.participant_count === 'number' ? meta.participant_count : 0,
      });
    } else if (message.message_type === MESSAGE_TYPES.modeChange && (meta.mode === 'single' || meta.mode === 'multi')) {
      this.sendFrame({ type: 'mode_change', mode: meta.mode, sequence_id: message.sequence_id });
    }
  }

  private sendError(err: unknown, messageId?: string): void {
    const extra = messageId === undefined ? {} : { message_id: messageId };
    if (isChatError(err)) {
      this.sendFrame(
        errorFrame(err.code, err.message, err.retryAfterMs === undefined ? extra : { ...extra, retry_after_ms: err.retryAfterMs }),
      );
      if (err.code === 'CHAT_ERR_NOT_PARTICIPANT' || err.code === 'CHAT_ERR_NOT_FOUND' || err.code === 'CHAT_ERR_CONVERSATION_FAILED') {
        this.end(err.code, this.graceMs());
      } else if (err.code === 'CHAT_ERR_CLOSED') {
        this.end(1001, this.graceMs());
      }
      return;
    }
    this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'unexpected error handling a frame');
    this.sendFrame(errorFrame('GATEWAY_ERR_INTERNAL', undefined, extra));
  }

  private failWith(err: unknown): void {
    this.sendError(err);
    if (!this.closing) this.end(isChatError(err) && err.spec.close !== undefined ? err.code : 1011, this.graceMs());
  }

  private rateLimited(): void {
    this.ctx.telemetry.rateLimited?.();
    this.ctx.audit.rateLimited?.(this.userId, this.conversationId);
  }

  private sendShared(key: object, build: () => ServerFrame): void {
    if (this.closing) return;
    this.sendRaw(sharedFrameBytes(this.ctx.sharedFrames, key, build));
  }

  private sendFrame(frame: ServerFrame): void {
    if (this.closing) return;
    this.sendRaw(JSON.stringify(frame));
  }

  /** Every send checks the buffered bytes first: a consumer past the high-water mark is closed, never buffered for. */
  private sendRaw(data: string | Buffer): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.highWater) {
      this.log.warn(
        {
          buffered_bytes: this.ws.bufferedAmount,
          last_sent_sequence_id: this.lastSentSequenceId,
          last_acked_sequence_id: this.lastAckedSequenceId,
        },
        'slow consumer disconnected',
      );
      this.end('GATEWAY_ERR_SLOW_CONSUMER', this.graceMs());
      return;
    }
    // Buffers are sent as text frames too: the protocol is JSON text either way.
    if (typeof data === 'string') this.ws.send(data);
    else this.ws.send(data, TEXT_FRAME);
  }

  private graceMs(): number {
    return this.ctx.config.server.websocket.heartbeat_dead_s * 1000;
  }
}

const TEXT_FRAME = { binary: false } as const;

/** Rate-limit bucket key: one bucket per participant per conversation. */
export function rateKeyOf(conversationId: string, userId: string): string {
  return `${conversationId}\u0000${userId}`;
}

function rawToString(data: RawData, isBinary: boolean): string {
  void isBinary;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
