import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type express from 'express';
import { WebSocketServer } from 'ws';
import { createSystemClock, type Clock } from '../actors/clock';
import { ChatError, isChatError, type ErrorCode } from '../actors/errors';
import type { ChatRuntime, Subscription } from '../actors/runtime-types';
import type { ConfigInput, NlwebChatConfig } from '../config/config-types';
import { resolveConfig } from '../config/load-config';
import { runtimeMissing } from './server-config-checks';
import { authenticateCaller, createAuthenticatorFromConfig, type Authenticator } from './authenticators';
import type { ConnectionContext, GatewayConnection } from './connection-context';
import { FlushingWebSocket } from './flushing-web-socket';
import { startHeartbeat } from './heartbeat';
import { createHttpApp } from './http-app';
import { isSecureRequest } from './net-utils';
import { subscribeAsHuman, type OutputRoute, type ReplayRequest } from './output-route';
import { createNoopLogger, type GatewayAudit, type GatewayLogger, type GatewayTelemetry } from './observability-hooks';
import { createFrameValidator } from './protocol/frame-validator';
import { MAX_REPLAY_HISTORY } from './protocol/client-frames';
import { createRateLimiter } from './rate-limiter';
import { spendMembershipChange } from './membership-routes';
import { createOwnerForwarder, type OwnerForwarder } from './owner-forwarding';
import { ownerAddressOf } from './http-error-answer';
import { requestedProtocolVersion } from './protocol-version';
import { resumeIdentityOf } from './resume-identity';
import {
  createUpgradeRefuser,
  offersSubprotocol,
  PRESENCE_BATCHES_SUBPROTOCOL,
  selectSubprotocol,
  type UpgradeRefuser,
} from './upgrade-rejection';
import { TurnWriteFlusher, type CorkableStream } from './turn-write-batch';
import { TypingRelay } from './typing-relay';
import { WsConnection } from './ws-connection';
import { plainIntegerIn } from './query-integers';
import { SharedFrames } from './shared-frames';
import { ReplayTurns } from './replay-turns';
import { createOriginPolicy } from './origin-policy';
import { ConnectionQuota } from './connection-quota';
import { QueryNames } from './query-names';
import { passedLogger } from './passed-logger';
import { createEventStreamHandler } from './sse-route';

export interface ChatGatewayOptions {
  readonly runtime: ChatRuntime;
  /** A validated config (loadConfig) or a partial object validated here with every default applied, as the runtime takes. */
  readonly config: NlwebChatConfig | ConfigInput;
  /** Defaults to the mode of config.server.auth (JWT HS256 or dev). */
  readonly authenticate?: Authenticator;
  readonly logger?: GatewayLogger;
  readonly telemetry?: GatewayTelemetry;
  /** Security events of the WebSocket path (observability's AuditLog fits). */
  readonly audit?: GatewayAudit;
  /** Time for heartbeats and rate limits (default: the system clock). */
  readonly clock?: Clock;
  /** Honour `X-Forwarded-Proto: https` for require_tls (only behind a trusted TLS-terminating proxy). */
  readonly trustForwardedProto?: boolean;
  /**
   * Origins of other sites' pages (e.g. "https://app.example.com", "*" for any) that may open WebSockets and call
   * the HTTP API, with CORS (origin-policy.ts). Default: `server.allowed_origins` (empty: only the server's own
   * pages). Requests without an Origin header (non-browser clients) always pass.
   */
  readonly allowedOrigins?: readonly string[];
}

export interface ChatGateway {
  /** The HTTP API (mount it or use it as the request handler). */
  readonly app: express.Express;
  /**
   * Handles an HTTP upgrade: authenticates, subscribes, then completes the WebSocket handshake. A refusal
   * is a plain HTTP answer, or a close code for clients offering REFUSAL_SUBPROTOCOL (upgrade-rejection.ts).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Routes the server's 'upgrade' events to handleUpgrade. */
  attach(server: HttpServer | HttpsServer): void;
  /** Open WebSocket connections and event streams (GET /chat/conversations/{id}/events). */
  connectionCount(): number;
  /** WebSocket connections piped to the servers holding their conversations (`chat.ownership.forward`). */
  forwardedConnectionCount(): number;
  /**
   * Closes every socket with 1001, forwarded ones too, ends every event stream with its `closed` event, stops the
   * heartbeat; resolves when every socket and stream has closed.
   */
  close(): Promise<void>;
}

const WS_PATH = /^\/chat\/ws\/([^/?#]+)\/?$/;
/** What the socket URL's query may name besides authentication's (docs/protocol.md, Connecting). */
const WS_QUERY_NAMES = ['last_sequence_id', 'last_message_id', 'last_sender_id', 'history', 'join', 'protocol_version'];
/** How long a shutdown close handshake may take before the socket is terminated. */
const SHUTDOWN_GRACE_MS = 1000;
/** How long a peer refused on the subprotocol path may take to answer the close frame. */
const REFUSAL_GRACE_MS = 1000;
/** How long connecting to a conversation's server may take before a forwarded upgrade is refused after all. */
const FORWARD_CONNECT_TIMEOUT_MS = 3000;
/**
 * A participant's `typing` budget, for starts (`true`; capped by the message budget when that is smaller): a client
 * says it when typing starts and again every few seconds while it goes on, so 1 per second with a burst of 3 is
 * more than a person typing needs; starts past it are dropped. The stop of a relayed start is free (typing-relay.ts),
 * so what reaches the conversation is at most 2 frames a second, 6 at once; what it shows the others is coalesced
 * (actors/typing-display.ts; docs/protocol.md, Typing).
 */
export const TYPING_STARTS_PER_SECOND = 1;
export const TYPING_STARTS_BURST = 3;

/**
 * The gateway: translates WebSocket frames and HTTP requests into ChatRuntime calls and runtime
 * outputs into frames. It never touches storage. See docs/protocol.md and docs/http-api.md.
 */
export function createChatGateway(options: ChatGatewayOptions): ChatGateway {
  const { runtime } = options;
  if (typeof (runtime as Partial<ChatRuntime> | undefined)?.subscribe !== 'function') throw runtimeMissing(runtime);
  const config = resolveConfig(options.config);
  const logger = passedLogger(options.logger) ?? createNoopLogger();
  const telemetry = options.telemetry ?? {};
  const audit = options.audit ?? {};
  const clock = options.clock ?? createSystemClock();
  const authenticate = options.authenticate ?? createAuthenticatorFromConfig(config);
  const trustForwardedProto = options.trustForwardedProto ?? false;
  const queryNames = new QueryNames(config.server.auth.query_parameters);
  const originPolicy = createOriginPolicy(options.allowedOrigins ?? config.server.allowed_origins);
  const wsConfig = config.server.websocket;
  const devAuthentication = config.server.auth.mode === 'dev' && options.authenticate === undefined;
  // Forwarding to a conversation's holder (chat.ownership.forward) does not add X-Forwarded-For under dev
  // authentication: the holder's dev mode refuses proxied requests, and this server's dev mode has already checked
  // the caller by the same rules before it learns the conversation is held elsewhere.
  const forwardClientAddress = !devAuthentication;
  if (devAuthentication) {
    logger.warn({ mode: 'dev' }, 'development authentication is ON: callers name themselves with ?user_id= (loopback only)');
  }

  // WebSockets and event streams alike: one heartbeat, one per-user bound, one count, one shutdown.
  const connections = new Set<GatewayConnection>();
  const quota = new ConnectionQuota(wsConfig.max_connections_per_user);
  // Upgrades still authenticating, keyed by the TCP peer's address: the per-user quota cannot bound upgrades that
  // never authenticate. Only until authentication ends: an authenticated socket counts for its user, and counting
  // open sockets by address would cap a whole server behind a reverse proxy, a NAT'd office, or the sockets another
  // node forwards (owner-forwarding.ts), which all share one address.
  const authenticating = new ConnectionQuota(wsConfig.max_authenticating_per_address);
  let closing = false;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: wsConfig.max_frame_bytes,
    clientTracking: false,
    perMessageDeflate: false,
    // ws would close a text frame that is not UTF-8 with 1007 and no reason, before the gateway sees it; the
    // gateway checks text and binary frames alike (client-frame-dispatch.ts), answering with the documented
    // error frame and close reason.
    skipUTF8Validation: true,
    handleProtocols: selectSubprotocol,
    WebSocket: FlushingWebSocket,
  });
  const refuser = createUpgradeRefuser({ clock, graceMs: REFUSAL_GRACE_MS, logger });
  const ownership = config.chat.ownership;
  const forwarder = ownership.forward
    ? createOwnerForwarder({
        selfName: ownership.address || 'unnamed',
        connectTimeoutMs: FORWARD_CONNECT_TIMEOUT_MS,
        forwardClientAddress,
        logger,
        telemetry,
        clock,
        closeGraceMs: SHUTDOWN_GRACE_MS,
      })
    : undefined;
  const rateLimiter = createRateLimiter({
    perSecond: config.chat.limits.rate_limit_per_second,
    burst: config.chat.limits.rate_limit_burst,
    clock,
  });
  // Typing fans out to every socket of the conversation and says only "typing or not", a state that changes
  // a few times per message: its own small budget, not the message budget. With the message budget (20/s, burst
  // 40) 97 people of a full room could make the server send each socket ~4,000 typing frames in a second.
  const typingRelay = new TypingRelay(
    createRateLimiter({
      perSecond: Math.min(TYPING_STARTS_PER_SECOND, config.chat.limits.rate_limit_per_second),
      burst: Math.min(TYPING_STARTS_BURST, config.chat.limits.rate_limit_burst),
      clock,
    }),
    clock,
    (conversationId, participantId) => runtime.isTyping(conversationId, participantId),
  );
  // Creating a conversation writes storage and starts an actor: its own, much smaller budget per user.
  const creationLimiter = createRateLimiter({
    perSecond: config.chat.limits.conversations_per_minute / 60,
    burst: config.chat.limits.conversations_burst,
    clock,
  });
  // Reads get a budget of their own, per user over every conversation, more generous than posts': a post writes
  // storage and fans out to every socket of its room, a read costs one store query at most; and a page load or a
  // reader paging back through a long history sends several at once, which the message budget would cut short.
  const readLimiter = createRateLimiter({
    perSecond: config.chat.limits.reads_per_second,
    burst: config.chat.limits.reads_burst,
    clock,
  });
  // Joins and leaves: each writes a record and tells every socket of the room; per user over every conversation.
  const membershipLimiter = createRateLimiter({
    perSecond: config.chat.limits.membership_changes_per_second,
    burst: config.chat.limits.membership_changes_burst,
    clock,
  });
  const ctx: ConnectionContext = {
    runtime,
    config,
    clock,
    logger,
    telemetry,
    audit,
    validator: createFrameValidator(),
    rateLimiter,
    typingRelay,
    membershipLimiter,
    sharedFrames: new SharedFrames(),
    writeFlusher: new TurnWriteFlusher(),
    replayTurns: new ReplayTurns(),
    onClosed: (c) => {
      connections.delete(c);
      quota.give(c.userId);
    },
  };

  const heartbeat = startHeartbeat({
    clock,
    intervalMs: wsConfig.heartbeat_interval_s * 1000,
    deadMs: wsConfig.heartbeat_dead_s * 1000,
    connections,
    afterTick: () => {
      rateLimiter.sweep();
      typingRelay.sweep();
      creationLimiter.sweep();
      readLimiter.sweep();
      membershipLimiter.sweep();
    },
  });

  const app = createHttpApp({
    eventStream: createEventStreamHandler({ ctx, quota, connections, isClosing: () => closing }),
    runtime,
    config,
    authenticate,
    rateLimiter,
    creationLimiter,
    readLimiter,
    membershipLimiter,
    logger,
    telemetry,
    trustForwardedProto,
    originPolicy,
    forwardClientAddress,
    connectionCount: () => connections.size,
    forwardedConnectionCount: () => forwarder?.active ?? 0,
    isClosing: () => closing,
    now: () => clock.now(),
  });

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Errors on a socket we have not upgraded yet must not crash the process.
    socket.on('error', destroySocket);
    const refuse = refusalFor(refuser, req, socket, head, telemetry);
    if (socket.destroyed) return;
    const address = remoteAddressOf(socket);
    if (!authenticating.take(address)) {
      audit.rateLimited?.('anonymous', address);
      return refuse(
        'GATEWAY_ERR_TOO_MANY_CONNECTIONS',
        `${address} has ${wsConfig.max_authenticating_per_address} WebSocket upgrades waiting for authentication, the most one address may (server.websocket.max_authenticating_per_address)`,
      );
    }
    const authenticated = slotUntilAuthenticated(authenticating, socket, address);
    void upgrade(req, socket, head, refuse, authenticated).catch((err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'websocket upgrade failed');
      refuse('GATEWAY_ERR_INTERNAL');
    });
  }

  /** Every refusal is decided here, before anything is completed; only its form depends on the client (`refuse`). */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, refuse: Refusal, authenticated: () => void): Promise<void> {
    if (closing) return refuse('GATEWAY_ERR_SHUTTING_DOWN');
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const match = WS_PATH.exec(url.pathname);
    if (!match) {
      // Before authentication, so anonymous: one throttled line per 10 s however many paths a scanner tries.
      audit.notFound?.('anonymous', url.pathname, 'ws upgrade to an unknown path');
      return refuse('GATEWAY_ERR_NOT_FOUND');
    }
    let conversationId: string;
    try {
      conversationId = decodeURIComponent(match[1]);
    } catch {
      return refuse('GATEWAY_ERR_BAD_REQUEST', 'invalid conversation id');
    }
    if (config.server.tls.require_tls && !isSecureRequest(req, trustForwardedProto)) return refuse('GATEWAY_ERR_TLS_REQUIRED');
    if (originPolicy.judge(req) === 'refused') {
      audit.forbidden?.('anonymous', url.pathname, 'ws connect from a foreign origin');
      return refuse('GATEWAY_ERR_ORIGIN_NOT_ALLOWED', `origin ${req.headers.origin} is not in server.allowed_origins`);
    }

    // Before authentication reads it: a repeated token or user_id would otherwise act as the first one.
    const repeatedAuthName = queryNames.repeatedAuthName(req.url ?? '');
    if (repeatedAuthName !== undefined) return refuse('GATEWAY_ERR_BAD_REQUEST', repeatedAuthName);
    const user = await authenticateCaller(authenticate, req, logger);
    authenticated();
    if (user instanceof ChatError) {
      audit.authFailure?.('anonymous', url.pathname, 'GATEWAY_ERR_UNAUTHENTICATED');
      return refuse(user);
    }

    const unknownName = queryNames.problem(req.url ?? '', WS_QUERY_NAMES);
    if (unknownName !== undefined) return refuse('GATEWAY_ERR_BAD_REQUEST', unknownName);
    // First of the socket's own parameters: under another version the others might mean something else.
    const protocolVersion = requestedProtocolVersion(url.searchParams.get('protocol_version'));
    if (protocolVersion instanceof ChatError) return refuse(protocolVersion);
    const resume = url.searchParams.get('last_sequence_id');
    const afterSequenceId = resume === null ? undefined : plainIntegerIn(resume, 0, Number.MAX_SAFE_INTEGER);
    if (resume !== null && afterSequenceId === undefined) {
      return refuse('GATEWAY_ERR_BAD_REQUEST', 'last_sequence_id must be a non-negative integer');
    }
    if (resume !== null) telemetry.reconnect?.();
    // The last N records, then live (docs/protocol.md, Connecting): the runtime starts the replay after
    // max(last_sequence_id, head - N). Further back is for HTTP pages (GET .../messages?before=).
    const history = url.searchParams.get('history');
    const historyCount = history === null ? undefined : plainIntegerIn(history, 1, MAX_REPLAY_HISTORY);
    if (history !== null && historyCount === undefined) {
      return refuse('GATEWAY_ERR_BAD_REQUEST', `history must be an integer from 1 to ${MAX_REPLAY_HISTORY}`);
    }
    // The client's record at last_sequence_id (both or neither): a resume whose records diverged from the journal
    // is reset where they did (docs/protocol.md, Resume without gaps).
    const lastRecord = resumeIdentityOf(
      url.searchParams.get('last_message_id') ?? undefined,
      url.searchParams.get('last_sender_id') ?? undefined,
      resume !== null,
    );
    if (lastRecord instanceof ChatError) return refuse(lastRecord);
    const start: ReplayRequest = {
      ...(afterSequenceId === undefined ? {} : { afterSequenceId }),
      ...(historyCount === undefined ? {} : { history: historyCount }),
      ...(lastRecord === undefined ? {} : { lastRecord }),
    };
    // Any other value (join=1, join=yes) used to be taken as false, refused later as "not a participant":
    // the client could not tell its typo from a missing membership.
    const join = url.searchParams.get('join');
    if (join !== null && join !== 'true' && join !== 'false') {
      return refuse('GATEWAY_ERR_BAD_REQUEST', 'join must be true or false');
    }

    // The slot is given back on every path below that does not end in an accepted connection, and by onClosed.
    if (!quota.take(user.userId)) {
      audit.rateLimited?.(user.userId, conversationId, 'ws connect');
      return refuse(
        'GATEWAY_ERR_TOO_MANY_CONNECTIONS',
        `${user.userId} has ${quota.perUser} WebSockets open, the most one user may (server.websocket.max_connections_per_user)`,
      );
    }

    // Subscribe before completing the handshake, so not-found / not-a-participant are refused before
    // anything is completed and no record can slip between the `connected` frame and the first live message.
    let subscribed: { subscription: Subscription; route: OutputRoute };
    try {
      // A join here spends the user's membership budget, as the HTTP join does (membership-routes.ts).
      const beforeJoin = (): void => spendMembershipChange(membershipLimiter, user.userId, telemetry);
      subscribed = await subscribeAsHuman(runtime, conversationId, user, start, join === 'true' && { beforeJoin });
    } catch (err) {
      quota.give(user.userId);
      if (!isChatError(err)) throw err;
      if (err.code === 'CHAT_ERR_NOT_PARTICIPANT') audit.forbidden?.(user.userId, conversationId, 'ws connect');
      if (err.code === 'CHAT_ERR_NOT_FOUND') audit.notFound?.(user.userId, conversationId, 'ws connect');
      if (err.code === 'GATEWAY_ERR_RATE_LIMITED') audit.rateLimited?.(user.userId, conversationId, 'ws connect join=true');
      if (err.code === 'CHAT_ERR_INVITE_ONLY') audit.forbidden?.(user.userId, conversationId, 'ws connect join=true');
      // The caller's id is an AI participant's (output-route.ts): refused as 403 / close 4003, like a non-member.
      if (err.code === 'CHAT_ERR_FORBIDDEN') audit.forbidden?.(user.userId, conversationId, 'ws connect as an AI participant');
      if (err.code === 'CHAT_ERR_PARTICIPANT_LIMIT')
        audit.participantLimit?.(user.userId, conversationId, config.chat.limits.max_participants);
      // Held by another server: piped there when configured to (owner-forwarding.ts), else refused.
      if (forwarder !== undefined && !closing) return forwardOrRefuse(forwarder, req, socket, head, conversationId, err, refuse);
      return refuse(err);
    }

    if (closing || socket.destroyed || !socket.writable) {
      quota.give(user.userId);
      subscribed.route.detach();
      subscribed.subscription.close();
      if (!socket.destroyed) refuse('GATEWAY_ERR_SHUTTING_DOWN');
      return;
    }
    const { subscription, route } = subscribed;
    let upgraded = false;
    // ws aborts invalid handshakes (bad key/version) without calling back: release the subscription then.
    const userId = user.userId;
    socket.once('close', () => {
      if (!upgraded) {
        quota.give(userId);
        route.detach();
        subscription.close();
      }
    });
    const authedUser = user;
    // Read here, not in the callback: a closure naming `req` would keep the request alive with the connection
    // (test/gateway/connection-retention.test.ts).
    const presenceBatches = offersSubprotocol(req, PRESENCE_BATCHES_SUBPROTOCOL);
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      const connection = new WsConnection(ws, ctx, authedUser, subscription, route, socket as Duplex & CorkableStream, {
        protocolVersion,
        presenceBatches,
      });
      connections.add(connection);
      if (closing) {
        connection.end('GATEWAY_ERR_SHUTTING_DOWN', SHUTDOWN_GRACE_MS);
        return;
      }
      connection.start();
    });
  }

  return {
    app,
    handleUpgrade,
    attach(server) {
      server.on('upgrade', handleUpgrade);
    },
    connectionCount: () => connections.size,
    forwardedConnectionCount: () => forwarder?.active ?? 0,
    async close() {
      closing = true;
      heartbeat.stop();
      refuser.terminateAll();
      // Closed 1001 like the sockets below, through their holders; they were cut (1006 to their clients) before.
      const forwardedClosed = forwarder?.closeAll();
      const all = [...connections];
      for (const c of all) c.end('GATEWAY_ERR_SHUTTING_DOWN', SHUTDOWN_GRACE_MS);
      await Promise.all([...all.map((c) => c.closed), forwardedClosed]);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The TCP peer's address of an upgrade ('unknown' when the socket has none, e.g. a test's stream). */
function remoteAddressOf(socket: Duplex): string {
  return (socket as Duplex & { remoteAddress?: string }).remoteAddress ?? 'unknown';
}

/**
 * Holds the address slot of an upgrade until authentication has answered (the returned function) or the TCP
 * connection ended before that (a refusal before authentication, a client giving up), whichever comes first, once.
 * Out here for the reason refusalFor is: a listener made in handleUpgrade would share its context, and with it the
 * request, for as long as the connection lives.
 */
function slotUntilAuthenticated(quota: ConnectionQuota, socket: Duplex, address: string): () => void {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    quota.give(address);
    socket.off('close', release);
  };
  socket.once('close', release);
  return release;
}

/** A socket's error listener for its whole life: a plain function, so it keeps nothing else alive. */
function destroySocket(this: Duplex): void {
  this.destroy();
}

/**
 * Forwards an upgrade refused as held by another server to that server, or refuses it as before. Out here for
 * the reason refusalFor is: a closure made inside upgrade() would put `refuse`, and with it the request, into
 * the context every accepted connection's listeners keep alive.
 */
function forwardOrRefuse(
  forwarder: OwnerForwarder,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  conversationId: string,
  err: ChatError,
  refuse: Refusal,
): void {
  const owner = ownerAddressOf(err);
  if (owner === undefined || !forwarder.mayForward(req)) return refuse(err);
  // The pipe lives as long as the WebSocket it carries: the holder's heartbeat, not server.idle_timeout_s, decides.
  (socket as Duplex & { setTimeout?(ms: number): void }).setTimeout?.(0);
  forwarder.forward(req, socket, head, { conversationId, ownerAddress: owner }, () => refuse(err));
}

/** Refuses one upgrade with an error code (and optional message), or with the runtime's error as it is. */
type Refusal = (code: ErrorCode | ChatError, message?: string) => void;

/**
 * One upgrade's refusal, built out here rather than as a closure in handleUpgrade or upgrade: closures
 * of one function share its context, and a socket listener made there lives as long as the connection,
 * so a closure capturing the request kept every connection's IncomingMessage and head buffer alive
 * (+1.25 KiB heap per idle connection in perf/gateway-bench.ts). Only short-lived closures hold it.
 */
function refusalFor(refuser: UpgradeRefuser, req: IncomingMessage, socket: Duplex, head: Buffer, telemetry: GatewayTelemetry): Refusal {
  return (code, message) => {
    const err = typeof code === 'string' ? new ChatError(code, message) : code;
    // Held by another server, and not forwarded there (forwarding off, already forwarded once, or the holder unreachable).
    if (err.code === 'CHAT_ERR_OWNED_ELSEWHERE') telemetry.ownershipRefused?.('websocket');
    refuser.refuse(req, socket, head, err);
  };
}
