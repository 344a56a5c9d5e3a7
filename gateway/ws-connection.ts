import type { WebSocket, RawData } from 'ws';
import { AnswerOrder } from './answer-order';
import { isChatError, type ErrorCode } from '../actors/errors';
import { settlesWithin } from '../actors/settles-within';
import type { ConversationOutput, Subscription } from '../actors/runtime-types';
import { TOKEN_EXPIRED, type AuthenticatedUser } from './authenticators';
import { decodeClientData, dispatchClientFrame, frameAfterLeave, type FrameDispatchTarget } from './client-frame-dispatch';
import type { ConnectionContext } from './connection-context';
import { ConnectionSubscription } from './connection-subscription';
import { watchCredentialExpiry, type CredentialExpiry } from './credential-expiry';
import { DeliveryProgress } from './delivery-progress';
import { closeAfterRuntimeError, errorFrame, reusedOriginalOf, type AnsweredFrame } from './error-frames';
import { FlushingWebSocket } from './flushing-web-socket';
import { FrameSender } from './frame-sender';
import { GracefulClose, type CloseCut, type ResettableStream } from './graceful-close';
import { TOO_MANY_CHANGES } from './membership-routes';
import type { GatewayLogger } from './observability-hooks';
import { forwardOutput, participantListFrame, welcomeFrames, type OutputTarget } from './output-frames';
import type { OutputRoute, ReplayRequest } from './output-route';
import { OrderHold } from './order-hold';
import { refuse } from './message-posting';
import { PacedOutputs, type DrainingStream } from './paced-outputs';
import { rateKeyOf } from './rate-limiter';
import { TurnWriteBatch, type CorkableStream } from './turn-write-batch';
import { TOKEN_EXPIRED_CLOSE_REASON } from './upgrade-rejection';
import { WS_CONNECTION_FEATURES, type ErrorFrame } from './protocol/server-frames';

/** A turn's batched writes go out early past this many bytes (a resync replay can write megabytes). */
const BATCH_FLUSH_BYTES = 64 * 1024;
/** How long a leaving socket waits for the answers to the frames it read before its leave, and for a replay under way (leave). */
const LEAVE_ANSWERS_WAIT_MS = 2000;

/** What an upgrade asked of its socket, besides its subscription (chat-gateway.ts reads it off the request). */
export interface WsConnectionOptions {
  /** The protocol version it speaks (protocol-version.ts). */
  readonly protocolVersion: number;
  /** It offered PRESENCE_BATCHES_SUBPROTOCOL. */
  readonly presenceBatches: boolean;
}

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
  /** Highest sequence ids sent and acknowledged (logged when a slow consumer is dropped). */
  readonly progress: DeliveryProgress;
  /** Every frame to this socket goes through it (backpressure guard, serialise-once cache). */
  readonly sender: FrameSender;
  /** The participant's message budget, shared with its other connections and HTTP posts. */
  readonly rateKey: string;
  readonly orderHold = new OrderHold();
  /** Answers to `message` frames go out in the frames' order (answer-order.ts). */
  readonly answerOrder = new AnswerOrder();
  /** The participant's typing budget: typing must not eat the message budget. */
  readonly typingKey: string;
  /** Set by the socket's `options` frame: the room's read positions as `read_batch` frames (output-frames.ts). */
  private batchedReads = false;
  /** Offered the presence-batches subprotocol at the upgrade (upgrade-rejection.ts): `presence_batch` frames only. */
  readonly presenceBatches: boolean;
  /** The WebSocket protocol version this socket speaks (protocol-version.ts), told in its `connected` frame. */
  private readonly protocolVersion: number;
  /** A `read_batch` came while this socket took `read` frames (see takeReadBatches). */
  private passedReadBatch = false;

  private readonly feed: ConnectionSubscription;
  /** The subscription's outputs, written in bounded steps when many come at once (a resume's replay). */
  private readonly paced: PacedOutputs;
  private closing = false;
  private leaving = false;
  /** The latest `sync`'s re-subscription while it is under way: a `leave` read after it waits for it (leave()). */
  private resyncing: Promise<void> | undefined;
  private readonly closer: GracefulClose;
  private readonly log: GatewayLogger;
  /** When the credential the socket was accepted with ends (AuthenticatedUser.expiresAt), if it does. */
  private readonly expiresAt: number | undefined;
  private expiry: CredentialExpiry | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly ctx: ConnectionContext,
    user: AuthenticatedUser,
    subscription: Subscription,
    route: OutputRoute,
    /** The upgraded TCP/TLS socket under `ws`: frames are written to it, batched per event-loop turn. */
    transport: CorkableStream & DrainingStream & ResettableStream,
    /** What the upgrade asked for: the protocol version it speaks and whether it offered presence batches. */
    options: WsConnectionOptions,
  ) {
    this.protocolVersion = options.protocolVersion;
    this.presenceBatches = options.presenceBatches;
    this.conversationId = subscription.conversationId;
    this.progress = new DeliveryProgress(subscription.lastSequenceId);
    this.userId = user.userId;
    this.expiresAt = user.expiresAt;
    this.feed = new ConnectionSubscription(
      { runtime: ctx.runtime, conversationId: this.conversationId, userId: this.userId, isClosing: () => this.closing },
      subscription,
      route,
    );
    this.lastSeen = ctx.clock.now();
    this.rateKey = rateKeyOf(this.conversationId, this.userId);
    this.typingKey = `${this.rateKey}\u0000typing`;
    this.log = ctx.logger.child({
      conversation_id: this.conversationId,
      participant_id: this.userId,
      connection_id: subscription.connectionId,
    });
    const batch = new TurnWriteBatch(transport, BATCH_FLUSH_BYTES, ctx.writeFlusher);
    this.sender = new FrameSender({
      ws,
      highWaterBytes: ctx.config.server.websocket.high_water_bytes,
      sharedFrames: ctx.sharedFrames,
      log: this.log,
      progress: this.progress,
      isClosing: () => this.closing,
      // The close frame waits behind what the reader has not read (megabytes, ws's and the kernel's): a short grace
      // for a reader that still reads to get it, then a reset, which drops those buffers at once.
      onSlowConsumer: () =>
        this.end('GATEWAY_ERR_SLOW_CONSUMER', ctx.config.server.websocket.slow_consumer_close_grace_ms, undefined, 'reset'),
      batch,
    });
    this.paced = new PacedOutputs({
      sender: this.sender,
      transport,
      turns: ctx.replayTurns,
      clock: ctx.clock,
      maxHeldLiveBytes: ctx.config.server.websocket.high_water_bytes,
      stallMs: ctx.config.server.websocket.replay_stall_ms,
      messageBytes: (output) => ctx.sharedFrames.message(output.message).length,
      deliver: this.deliver,
      isClosing: () => this.closing,
      // This socket's own leave ends it once what it read before is answered and written (leave()), not at once.
      endsAtOnce: (output) => output.type === 'failed' || (output.type === 'closed' && !(output.reason === 'removed' && this.leaving)),
      onSlowConsumer: (details) => this.sender.slowConsumer(details),
    });
    // ws's own close frames (answering a client's close, a protocol error) go after this turn's held frames.
    if (ws instanceof FlushingWebSocket) ws.beforeClose = batch.flush;
    this.closer = new GracefulClose(ws, ctx.clock, transport);
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number) => {
        this.closer.finished();
        this.expiry?.stop();
        this.closing = true;
        this.paced.stop();
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

  /** Sends `connected` and `participant_list`, then everything the subscription buffered meanwhile (paced-outputs.ts). */
  start(): void {
    const now = this.ctx.clock.now();
    for (const frame of welcomeFrames(this.feed.current, this.userId, this.protocolVersion, this.ctx.config, now, WS_CONNECTION_FEATURES))
      this.sender.frame(frame);
    this.feed.attach(this.paced);
    // Armed once the welcome is out: a token that ran out meanwhile still gets its error frame and close.
    if (this.expiresAt !== undefined && !this.closing)
      this.expiry = watchCredentialExpiry(this.ctx.clock, this.expiresAt, () => this.credentialExpired());
  }

  /** The runtime's id of the current subscription (changes with every sync). */
  get connectionId(): string {
    return this.feed.current.connectionId;
  }

  /** True from the first close step on: nothing more is sent or dispatched. */
  get isClosing(): boolean {
    return this.closing;
  }

  get readBatches(): boolean {
    return this.batchedReads;
  }

  takeReadBatches(): void {
    if (this.batchedReads || this.closing) return;
    this.batchedReads = true;
    if (!this.passedReadBatch) return;
    // Every position now, at once: a raise that went out in a batch before this frame came (passed over here) and
    // whose member's own `read` is still held for its interval (dropped from now on) would reach this socket in
    // neither form until that member reads again. Only then: the usual opt-in, right after `connected`, costs no frame.
    this.passedReadBatch = false;
    // Behind a `sync` read before this frame: after its subscription is made, then as an output, not a frame, so that
    // it waits behind the replay (positions of records the socket has not been sent yet would otherwise come first).
    if (this.resyncing === undefined) this.sendReadPositions();
    else void this.resyncsSettled().then(this.sendReadPositions);
  }

  /** The room's read positions as they are now, as one `read_batch` output of this socket (takeReadBatches). */
  private readonly sendReadPositions = (): void => {
    if (this.closing) return;
    const positions = this.feed.current.readPositions;
    if (Object.keys(positions).length > 0) this.paced.live({ type: 'read_batch', positions });
  };

  /** True while this connection's own `leave` frame is being processed. */
  get isLeaving(): boolean {
    return this.leaving;
  }

  /** Sequence id up to which history was replayed; later join/leave/mode records also get update frames. */
  get liveAfter(): number {
    return this.feed.liveAfter;
  }

  /** Heartbeat tick: terminate when silent past the dead time, otherwise ping. */
  heartbeat(now: number, deadMs: number): void {
    if (this.closing) return;
    if (now - this.lastSeen > deadMs) {
      this.log.info({ silent_ms: now - this.lastSeen }, 'heartbeat timeout');
      // Reset, not terminate, if the close handshake does not finish: a peer that answers no ping reads nothing
      // either, and a FIN would leave what is queued for it in the kernel (FIN-WAIT-1), as for a slow consumer.
      this.end('GATEWAY_ERR_HEARTBEAT_TIMEOUT', deadMs, undefined, 'reset');
      return;
    }
    try {
      this.ws.ping();
    } catch {
      // A socket that is already closing cannot be pinged; its close event cleans up.
    }
  }

  /**
   * Closes with the close code of `code` (or a plain close code) and terminates the socket (`cut`: or resets it) if
   * the close handshake does not finish within graceMs (a dead or stalled peer never answers it).
   */
  end(code: ErrorCode | number, graceMs: number, reason?: string, cut: CloseCut = 'terminate'): void {
    if (this.closing) return;
    this.closing = true;
    this.expiry?.stop();
    this.paced.stop();
    this.feed.drop();
    // The close frame goes out after this turn's held frames (an error frame): FlushingWebSocket.close flushes.
    this.closer.start(code, graceMs, reason, cut);
  }

  /** end() with the heartbeat dead time as the close-handshake grace. */
  closeWith(code: ErrorCode | number, reason?: string): void {
    this.end(code, this.ctx.config.server.websocket.heartbeat_dead_s * 1000, reason);
  }

  /**
   * A `sync` frame: re-subscribe from `start` (its last_sequence_id and history), answered by the participant list,
   * the replay and `sync_complete`; a failure is reported and ends the connection.
   */
  resync(start: ReplayRequest): Promise<void> {
    const resyncing = this.subscribeAgain(start);
    this.resyncing = resyncing;
    void resyncing.then(() => {
      if (this.resyncing === resyncing) this.resyncing = undefined;
    });
    return resyncing;
  }

  /**
   * Resolves once no `sync` re-subscription is under way: a later `sync` read meanwhile included (the one that
   * was under way when asked may be superseded and settle first, before the latest one's replay is routed).
   */
  private async resyncsSettled(): Promise<void> {
    while (this.resyncing !== undefined) await this.resyncing;
  }

  private async subscribeAgain(start: ReplayRequest): Promise<void> {
    this.ctx.telemetry.reconnect?.();
    try {
      // What the old subscription's outputs left waiting stops with its route (replace detaches it now, in this turn).
      this.paced.forget();
      await this.feed.replace(start, this.paced, (sub) => this.sender.frame(participantListFrame(sub)));
    } catch (err) {
      this.reportError(err, { reply_to: 'sync' });
      if (!this.closing) this.closeWith(isChatError(err) && err.spec.close !== undefined ? err.code : 1011);
    }
  }

  /**
   * Leaves the conversation; the `closed: removed` output that follows must then close with 1000. A `leave` while
   * this one is under way is answered by the same close: it changes nothing, so it spends no membership change.
   */
  async leave(): Promise<void> {
    if (this.leaving) return;
    // The user's membership budget, shared with the HTTP leave routes: refused, the socket stays a member's.
    const decision = this.ctx.membershipLimiter.take(this.userId);
    if (!decision.ok) {
      this.rateLimited();
      this.sender.frame(
        errorFrame('GATEWAY_ERR_RATE_LIMITED', TOO_MANY_CHANGES, { reply_to: 'leave', retry_after_ms: decision.retryAfterMs }),
      );
      return;
    }
    this.leaving = true;
    try {
      // A `sync` read before the leave subscribes before it (the runtime's subscribe does not queue behind the
      // leave the way a post does): the leave record then comes after the sync's replay, with no gap before it.
      await this.resyncsSettled();
      await this.ctx.runtime.leave(this.conversationId, this.userId);
      // Frames read before the leave may still have answers on their way (an ack goes at the end of its turn, a
      // refusal waits for it), and a sync's replay may still be written, its leave record behind it: they go out
      // before the close, as the protocol says, unless that takes too long.
      const written = Promise.all([this.answerOrder.whenAnswered(), this.paced.whenWritten()]);
      await settlesWithin(written, LEAVE_ANSWERS_WAIT_MS, this.ctx.clock);
      this.closeWith(1000);
    } catch (err) {
      this.leaving = false;
      this.reportError(err, { reply_to: 'leave' });
    }
  }

  /** Answers a failed runtime call with an error frame naming the frame it answers; final errors also close the connection. */
  reportError(err: unknown, answered: AnsweredFrame): void {
    if (isChatError(err)) {
      const original = reusedOriginalOf(err);
      this.sender.frame(
        errorFrame(err.code, err.message, {
          ...answered,
          ...(err.retryAfterMs === undefined ? {} : { retry_after_ms: err.retryAfterMs }),
          ...(original === undefined ? {} : { sequence_id: original }),
        }),
      );
      const close = closeAfterRuntimeError(err.code);
      if (close !== undefined) this.closeWith(close);
      return;
    }
    this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'unexpected error handling a frame');
    this.sender.frame(errorFrame('GATEWAY_ERR_INTERNAL', undefined, answered));
  }

  /** Records a rate-limit refusal in telemetry and the audit stream. */
  rateLimited(): void {
    this.ctx.telemetry.rateLimited?.();
    this.ctx.audit.rateLimited?.(this.userId, this.conversationId);
  }

  /**
   * The token the socket was accepted with has expired: its authority ends with it (a stolen or revoked token must
   * not keep a socket reading for ever). An `error` frame says why, then close 4001 with TOKEN_EXPIRED_CLOSE_REASON,
   * which a client holding a way to get a fresh token takes as "reconnect", not "refused" (docs/protocol.md).
   * Nothing accepted is lost: frames already sent stay sent, and a post whose ack the close cut off is re-sent
   * after the resume and answered as a duplicate.
   */
  private credentialExpired(): void {
    if (this.closing) return;
    this.log.info({ expired_at: new Date(this.expiresAt ?? 0).toISOString() }, 'token expired: closing the websocket');
    this.sender.frame(
      errorFrame('GATEWAY_ERR_UNAUTHENTICATED', `${TOKEN_EXPIRED}: reconnect with a fresh token, resuming from your last sequence id`),
    );
    this.closeWith('GATEWAY_ERR_UNAUTHENTICATED', TOKEN_EXPIRED_CLOSE_REASON);
  }

  private onData(data: RawData, isBinary: boolean): void {
    this.lastSeen = this.ctx.clock.now();
    if (this.closing) return;
    const decoded = decodeClientData(data, isBinary, this.ctx.validator);
    if (decoded.ok) {
      const afterLeave = this.leaving ? frameAfterLeave(decoded.frame) : undefined;
      if (afterLeave === undefined) dispatchClientFrame(decoded.frame, this, decoded.plain);
      else if (afterLeave !== 'drop') this.sendError(afterLeave);
      return;
    }
    this.sendError(decoded.error);
    if (decoded.fatal) this.closeWith('GATEWAY_ERR_MALFORMED_JSON');
  }

  /** An error frame answering a client frame; one answering a `message` frame waits for the answers before it. */
  private sendError(error: ErrorFrame): void {
    if (error.reply_to === 'message') refuse(this, this.answerOrder.take(), error);
    else this.sender.frame(error);
  }

  /**
   * The subscription listener. It must not throw (the runtime would silently drop the subscription and
   * leave the socket open but deaf), so a failure to translate an output ends this connection instead.
   */
  private readonly deliver = (output: ConversationOutput): void => {
    // Passed over before the socket asked for batches: takeReadBatches then sends the positions as they are.
    if (output.type === 'read_batch' && !this.batchedReads) this.passedReadBatch = true;
    try {
      forwardOutput(output, this);
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err), output: output.type }, 'could not send an output');
      this.closeWith('GATEWAY_ERR_INTERNAL');
    }
  };
}
