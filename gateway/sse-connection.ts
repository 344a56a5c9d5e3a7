import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode } from '../actors/errors';
import type { ConversationOutput, Subscription } from '../actors/runtime-types';
import { TOKEN_EXPIRED, type AuthenticatedUser } from './authenticators';
import type { ConnectionContext, GatewayConnection } from './connection-context';
import { watchCredentialExpiry, type CredentialExpiry } from './credential-expiry';
import { DeliveryProgress } from './delivery-progress';
import { closeCodeOf, errorFrame } from './error-frames';
import type { GatewayLogger } from './observability-hooks';
import { forwardOutput, welcomeFrames, type OutputTarget } from './output-frames';
import type { OutputRoute } from './output-route';
import { PacedOutputs } from './paced-outputs';
import { SseSender } from './sse-sender';
import { TurnWriteBatch } from './turn-write-batch';

/** A turn's batched events go out early past this many bytes, as a WebSocket's frames do (ws-connection.ts). */
const BATCH_FLUSH_BYTES = 64 * 1024;

/** The event stream speaks the WebSocket's current frames; it has no protocol_version parameter of its own. */
const SSE_PROTOCOL_VERSION = 1;

/**
 * Codes after which EventSource's own reconnect cannot succeed: the caller is no member, the conversation is gone, it
 * is an AI's id, or its token expired (EventSource asks the same URL again, expired `token=` and all, gets 401 and
 * gives up). The `closed` event says `reconnect: false` for them, and the client should call EventSource.close() (after
 * an expiry, open a new one with a fresh token and last_sequence_id); for the others (shutdown, moved to another
 * server, an internal error) it lets EventSource resume with Last-Event-ID.
 */
const FINAL_CODES: ReadonlySet<ErrorCode> = new Set([
  'CHAT_ERR_NOT_PARTICIPANT',
  'CHAT_ERR_NOT_FOUND',
  'CHAT_ERR_FORBIDDEN',
  'GATEWAY_ERR_UNAUTHENTICATED',
]);

/** The last event of a stream the server ends (docs/protocol.md, Server-Sent Events). */
export interface ClosedEventFrame {
  readonly type: 'closed';
  /** The code (actors/errors.ts) the stream ended with; absent after the reader's own leave. */
  readonly error?: ErrorCode;
  /** The WebSocket close code the same end has on the socket path (1001 shutdown, 4003 removed, ...). */
  readonly close_code: number;
  readonly message: string;
  /** Whether resuming (EventSource's automatic reconnect, with Last-Event-ID) can succeed. */
  readonly reconnect: boolean;
}

/**
 * One `GET /chat/conversations/{id}/events` stream: the WebSocket's receiving half over Server-Sent Events, for
 * networks that block WebSockets. Same subscription (output-route.ts), same frames (output-frames.ts), same pacing
 * of a resume's replay (paced-outputs.ts) and the same backpressure bound as a WsConnection; posting, reading
 * markers and leaving go over the HTTP API. Ends with a `closed` event, or, for a slow consumer, by a reset.
 */
export class SseConnection implements OutputTarget, GatewayConnection {
  /** An event stream cannot ask for batches: it gets a `read` event per member (docs/sse.md). */
  readonly readBatches = false;
  /** An event stream offers no subprotocol: `presence` events, one per member and change. */
  readonly presenceBatches = false;
  readonly userId: string;
  readonly conversationId: string;
  readonly progress: DeliveryProgress;
  readonly sender: SseSender;
  /** Every record after the subscription's start is live: the stream never re-subscribes. */
  readonly liveAfter: number;
  /** The stream has no leave of its own (leaving is POST .../leave, which ends it as `removed`). */
  readonly isLeaving = false;
  /** Resolves when the response has closed (ended, reset, or the reader went away). */
  readonly closed: Promise<void>;

  private closing = false;
  private readonly paced: PacedOutputs;
  private readonly log: GatewayLogger;
  private expiry: CredentialExpiry | undefined;
  private cutTimer: unknown;

  constructor(
    private readonly res: ServerResponse,
    private readonly socket: Socket,
    private readonly ctx: ConnectionContext,
    private readonly user: AuthenticatedUser,
    private readonly subscription: Subscription,
    private readonly route: OutputRoute,
  ) {
    this.userId = user.userId;
    this.conversationId = subscription.conversationId;
    this.liveAfter = subscription.lastSequenceId;
    this.progress = new DeliveryProgress(subscription.lastSequenceId);
    this.log = ctx.logger.child({
      conversation_id: this.conversationId,
      participant_id: this.userId,
      connection_id: subscription.connectionId,
      transport: 'sse',
    });
    const wsConfig = ctx.config.server.websocket;
    this.sender = new SseSender({
      stream: res,
      highWaterBytes: wsConfig.high_water_bytes,
      log: this.log,
      sharedFrames: ctx.sharedFrames,
      lastSentSequenceId: () => this.progress.lastSentSequenceId,
      isClosing: () => this.closing,
      onSlowConsumer: () => this.cut(),
      batch: new TurnWriteBatch(res, BATCH_FLUSH_BYTES, ctx.writeFlusher),
    });
    this.paced = new PacedOutputs({
      sender: this.sender,
      transport: res,
      turns: ctx.replayTurns,
      clock: ctx.clock,
      maxHeldLiveBytes: wsConfig.high_water_bytes,
      stallMs: wsConfig.replay_stall_ms,
      messageBytes: (output) => ctx.sharedFrames.message(output.message).length,
      deliver: this.deliver,
      isClosing: () => this.closing,
      onSlowConsumer: (details) => this.sender.slowConsumer(details),
    });
    this.closed = new Promise((resolve) => {
      res.once('close', () => {
        this.release();
        ctx.onClosed(this);
        resolve();
      });
    });
  }

  /**
   * Sends the retry hint, `connected` and `participant_list`, then the replay and what came meanwhile. `connected`
   * carries the conversation's last id as its event id when no replay follows: the reader is current up to it, and a
   * reconnect before the first record then resumes from there instead of starting afresh (which would miss records
   * posted meanwhile). With a replay, its records and the `sync_complete` ending it carry the ids.
   */
  start(retryMs: number): void {
    this.sender.field('retry', String(retryMs));
    const [connected, participants] = welcomeFrames(
      this.subscription,
      this.userId,
      SSE_PROTOCOL_VERSION,
      this.ctx.config,
      this.ctx.clock.now(),
    );
    this.sender.frame(connected, this.subscription.replay === undefined ? connected.last_sequence_id : undefined);
    this.sender.frame(participants);
    this.route.attach(this.paced, this.subscription.replay);
    if (this.user.expiresAt !== undefined && !this.closing)
      this.expiry = watchCredentialExpiry(this.ctx.clock, this.user.expiresAt, () => this.credentialExpired());
  }

  /**
   * Heartbeat tick: a `: ping` comment, for proxies' idle timers. It does not find a vanished reader as a pong deadline
   * does: the kernel takes the few bytes, and TCP's retransmission timeout ends the connection (docs/sse.md).
   */
  heartbeat(): void {
    if (!this.closing) this.sender.comment('ping');
  }

  /**
   * Ends the stream with a `closed` event naming `code` (or a plain close code), then the response; the socket is
   * destroyed if the response has not closed within graceMs (a reader that stopped reading never lets it finish).
   */
  end(code: ErrorCode | number, graceMs: number): void {
    if (this.closing) return;
    this.sender.event(closedFrame(code));
    this.closing = true;
    this.release();
    this.sender.flushHeld();
    this.res.end();
    this.cutTimer = this.ctx.clock.setTimeout(() => this.cut(), graceMs);
  }

  /** end() with the heartbeat dead time as the grace, as WsConnection.closeWith. */
  closeWith(code: ErrorCode | number): void {
    this.end(code, this.ctx.config.server.websocket.heartbeat_dead_s * 1000);
  }

  /**
   * Drops the connection at once by a reset (a slow consumer: the kernel then frees what it holds for the reader
   * instead of keeping it behind a FIN). No `closed` event: it would wait behind what the reader does not read.
   */
  private cut(): void {
    this.closing = true;
    this.release();
    if (typeof this.socket.resetAndDestroy === 'function' && !this.socket.destroyed) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  /** Stops delivery and releases the subscription and timers (idempotent). */
  private release(): void {
    this.closing = true;
    this.expiry?.stop();
    this.expiry = undefined;
    if (this.cutTimer !== undefined) this.ctx.clock.clearTimeout(this.cutTimer);
    this.cutTimer = undefined;
    this.paced.stop();
    this.route.detach();
    this.subscription.close();
  }

  /** The token ran out: its authority ends with it, as on a WebSocket (an `error` event, then `closed`). */
  private credentialExpired(): void {
    if (this.closing) return;
    this.sender.frame(
      errorFrame('GATEWAY_ERR_UNAUTHENTICATED', `${TOKEN_EXPIRED}: reconnect with a fresh token, resuming from your last event id`),
    );
    this.closeWith('GATEWAY_ERR_UNAUTHENTICATED');
  }

  /** The subscription listener; must not throw (the runtime would drop the subscription and leave the stream deaf). */
  private readonly deliver = (output: ConversationOutput): void => {
    try {
      forwardOutput(output, this);
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err), output: output.type }, 'could not send an output');
      this.closeWith('GATEWAY_ERR_INTERNAL');
    }
  };
}

/** The `closed` event's frame for an end with `code` (a code of actors/errors.ts, or a plain close code). */
export function closedFrame(code: ErrorCode | number): ClosedEventFrame {
  if (typeof code === 'number') return { type: 'closed', close_code: code, message: '', reconnect: false };
  return {
    type: 'closed',
    error: code,
    close_code: closeCodeOf(code),
    message: ERROR_CODES[code].message,
    reconnect: !FINAL_CODES.has(code),
  };
}
