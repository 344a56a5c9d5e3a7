import type { WebSocket, RawData } from 'ws';
import { isChatError, type ErrorCode } from '../actors/errors';
import type { ConversationOutput, Subscription } from '../actors/runtime-types';
import type { AuthenticatedUser } from './authenticators';
import { decodeClientData, dispatchClientFrame, type FrameDispatchTarget } from './client-frame-dispatch';
import type { ConnectionContext } from './connection-context';
import { DeliveryProgress } from './delivery-progress';
import { ConnectionSubscription } from './connection-subscription';
import { closeAfterRuntimeError, errorFrame } from './error-frames';
import { FrameSender } from './frame-sender';
import { GracefulClose } from './graceful-close';
import type { GatewayLogger } from './observability-hooks';
import { forwardOutput, welcomeFrames, type OutputTarget } from './output-frames';
import type { OutputRoute } from './output-route';
import { rateKeyOf } from './rate-limiter';

/**
 * One upgraded WebSocket of one participant in one conversation. It owns the connection's state and
 * lifecycle (subscription, closing, heartbeat); client-frame-dispatch.ts turns client frames into runtime
 * calls and output-frames.ts turns subscription outputs into frames. A bad frame only ever affects this socket.
 */
export class WsConnection implements FrameDispatchTarget, OutputTarget {
  readonly conversationId: string;
  readonly userId: string;
  /** Resolves when the socket has closed (after the close handshake or termination). */
  readonly closed: Promise<number>;
  /** Last time (clock ms) anything arrived from the client: a frame or a pong. */
  lastSeen: number;
  readonly progress = new DeliveryProgress();
  readonly sender: FrameSender;
  readonly rateKey: string;
  readonly typingKey: string;
  readonly sharedFrames: WeakMap<object, Buffer>;

  private readonly feed: ConnectionSubscription;
  private closing = false;
  private leaving = false;
  private readonly closer: GracefulClose;
  private readonly log: GatewayLogger;

  constructor(
    private readonly ws: WebSocket,
    readonly ctx: ConnectionContext,
    user: AuthenticatedUser,
    subscription: Subscription,
    route: OutputRoute,
  ) {
    this.conversationId = subscription.conversationId;
    this.userId = user.userId;
    this.feed = new ConnectionSubscription(
      { runtime: ctx.runtime, conversationId: this.conversationId, userId: this.userId, isClosing: () => this.closing },
      subscription,
      route,
    );
    this.lastSeen = ctx.clock.now();
    this.rateKey = rateKeyOf(this.conversationId, this.userId);
    this.typingKey = `${this.rateKey}\u0000typing`;
    this.sharedFrames = ctx.sharedFrames;
    this.log = ctx.logger.child({
      conversation_id: this.conversationId,
      participant_id: this.userId,
      connection_id: subscription.connectionId,
    });
    this.sender = new FrameSender({
      ws,
      highWaterBytes: ctx.config.server.websocket.high_water_bytes,
      sharedFrames: ctx.sharedFrames,
      isClosing: () => this.closing,
      onSlowConsumer: (bufferedBytes) => {
        const { lastSentSequenceId, lastAckedSequenceId } = this.progress;
        this.log.warn(
          { buffered_bytes: bufferedBytes, last_sent_sequence_id: lastSentSequenceId, last_acked_sequence_id: lastAckedSequenceId },
          'slow consumer disconnected',
        );
        this.closeWith('GATEWAY_ERR_SLOW_CONSUMER');
      },
    });
    this.closer = new GracefulClose(ws, ctx.clock);
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number) => {
        this.closer.finished();
        this.closing = true;
        this.feed.drop();
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
    for (const frame of welcomeFrames(this.feed.current, this.userId, this.ctx.config, this.ctx.clock.now())) this.sender.frame(frame);
    this.feed.attach(this.deliver);
  }

  get connectionId(): string {
    return this.feed.current.connectionId;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get isLeaving(): boolean {
    return this.leaving;
  }

  get liveAfter(): number {
    return this.feed.liveAfter;
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
    this.feed.drop();
    this.closer.start(code, graceMs);
  }

  /** end() with the heartbeat dead time as the close-handshake grace. */
  closeWith(code: ErrorCode | number): void {
    this.end(code, this.ctx.config.server.websocket.heartbeat_dead_s * 1000);
  }

  /** A `sync` frame: re-subscribe after `lastSequenceId`; a failure is reported and ends the connection. */
  async resync(lastSequenceId: number): Promise<void> {
    this.ctx.telemetry.reconnect?.();
    try {
      await this.feed.replace(lastSequenceId, this.deliver);
    } catch (err) {
      this.reportError(err);
      if (!this.closing) this.closeWith(isChatError(err) && err.spec.close !== undefined ? err.code : 1011);
    }
  }

  /** Leaves the conversation; the `closed: removed` output that follows must then close with 1000. */
  async leave(): Promise<void> {
    this.leaving = true;
    try {
      await this.ctx.runtime.leave(this.conversationId, this.userId);
      this.closeWith(1000);
    } catch (err) {
      this.leaving = false;
      this.reportError(err);
    }
  }

  /** Answers a failed runtime call with an error frame; final errors also close the connection. */
  reportError(err: unknown, messageId?: string): void {
    const extra = messageId === undefined ? {} : { message_id: messageId };
    if (isChatError(err)) {
      this.sender.frame(errorFrame(err.code, err.message, err.retryAfterMs === undefined ? extra : { ...extra, retry_after_ms: err.retryAfterMs }));
      const close = closeAfterRuntimeError(err.code);
      if (close !== undefined) this.closeWith(close);
      return;
    }
    this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'unexpected error handling a frame');
    this.sender.frame(errorFrame('GATEWAY_ERR_INTERNAL', undefined, extra));
  }

  rateLimited(): void {
    this.ctx.telemetry.rateLimited?.();
    this.ctx.audit.rateLimited?.(this.userId, this.conversationId);
  }

  private onData(data: RawData, isBinary: boolean): void {
    this.lastSeen = this.ctx.clock.now();
    if (this.closing) return;
    const decoded = decodeClientData(data, isBinary, this.ctx.validator);
    if (decoded.ok) {
      dispatchClientFrame(decoded.frame, this);
      return;
    }
    this.sender.frame(decoded.error);
    if (decoded.fatal) this.closeWith('GATEWAY_ERR_MALFORMED_JSON');
  }

  /**
   * The subscription listener. It must not throw (the runtime would silently drop the subscription and
   * leave the socket open but deaf), so a failure to translate an output ends this connection instead.
   */
  private readonly deliver = (output: ConversationOutput): void => {
    try {
      forwardOutput(output, this);
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err), output: output.type }, 'could not send an output');
      this.closeWith('GATEWAY_ERR_INTERNAL');
    }
  };
}
