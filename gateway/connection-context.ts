import type { TurnWriteFlusher } from './turn-write-batch';
import type { Clock } from '../actors/clock';
import type { ChatRuntime } from '../actors/runtime-types';
import type { NlwebChatConfig } from '../config/config-types';
import type { GatewayAudit, GatewayLogger, GatewayTelemetry } from './observability-hooks';
import type { FrameValidator } from './protocol/frame-validator';
import type { RateLimiter } from './rate-limiter';
import type { TypingRelay } from './typing-relay';
import type { ErrorCode } from '../actors/errors';
import type { HeartbeatTarget } from './heartbeat';
import type { SharedFrames } from './shared-frames';
import type { ReplayTurns } from './replay-turns';

/** What every connection of one gateway shares (built once by createChatGateway). */
export interface ConnectionContext {
  readonly runtime: ChatRuntime;
  readonly config: NlwebChatConfig;
  readonly clock: Clock;
  readonly logger: GatewayLogger;
  readonly telemetry: GatewayTelemetry;
  readonly audit: GatewayAudit;
  readonly validator: FrameValidator;
  readonly rateLimiter: RateLimiter;
  /** Which `typing` frames reach the others: their own budget per participant (typing-relay.ts, chat-gateway.ts). */
  readonly typingRelay: TypingRelay;
  /** Joins and leaves per user, shared with the HTTP routes (chat.limits.membership_changes_per_second). */
  readonly membershipLimiter: RateLimiter;
  /**
   * Serialised frames shared by all connections within a turn, keyed by the record (`message` frames) or
   * by the broadcast output object (`typing`, `presence`): N recipients cost one JSON.stringify.
   */
  readonly sharedFrames: SharedFrames;
  /** Flushes every socket's batched writes once per event-loop turn (turn-write-batch.ts). */
  readonly writeFlusher: TurnWriteFlusher;
  /** Shares the event loop between the sockets' paced deliveries (resume replays), a bounded amount per turn. */
  readonly replayTurns: ReplayTurns;
  onClosed(connection: GatewayConnection): void;
}

/**
 * A live connection the gateway counts, visits with its heartbeat and ends on shutdown: a WebSocket (ws-connection.ts)
 * or an event stream (sse-connection.ts).
 */
export interface GatewayConnection extends HeartbeatTarget {
  readonly userId: string;
  /** Resolves once the connection has closed. */
  readonly closed: Promise<unknown>;
  /** Ends it with the code's close (a `closed` event on a stream), cut after graceMs if the peer does not finish. */
  end(code: ErrorCode, graceMs: number): void;
}
