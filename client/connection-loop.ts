/**
 * The connection loop of the client: open a socket, give up on it if `connected` does not arrive
 * in time, and after a retriable close open the next one after an exponential backoff with jitter
 * (so a crowd of clients dropped by one server restart does not reconnect in lockstep). Two kinds of
 * attempt go at once instead: one to the owner a refusal named (owner-redirect.ts), and one to the next
 * server of the client's list when the last one is gone (entry-points.ts); the backoff then waits only
 * once every server of the list failed. Fatal closes, exhausted retries and close() end the loop for good.
 *
 * Only a healthy connection starts the count again (backoff exponent, round over the servers, owner follows, retries):
 * one that stayed open `healthyAfterMs` after its `connected` frame. A server that says `connected` and dies at once
 * (a broken store behind every server of a deployment) is a failed attempt like a refused one, so flapping backs off
 * and gives up after maxRetries instead of reconnecting at 0 ms or every second forever.
 *
 * The loop owns only the connection's lifecycle; what a connection carries (delivery, outbox,
 * acks, heartbeat) is reset and resumed through the callbacks in ConnectionLoopDeps.
 */
import { backoffDelay, type BackoffOptions } from './backoff';
import type { ChatSocket } from './chat-socket';
import { isServerGone, type EntryPoints } from './entry-points';
import type { OwnerRedirect } from './owner-redirect';
import type { SubprotocolOffer } from './subprotocol-offer';
import type { UnreachableServers } from './unreachable-servers';
import {
  ChatClientError,
  type ChatClientEvents,
  type ClientClock,
  type ConnectedInfo,
  type ConnectionState,
  type WebSocketConstructor,
} from './client-types';
import { CLOSE_CODES, isRetriableClose, isTokenExpiredClose } from './protocol-frames';
import type { TypedEmitter } from './typed-emitter';

/** What the loop needs from the client around it. */
export interface ConnectionLoopDeps {
  readonly clock: ClientClock;
  /** Returns [0, 1); drives the backoff jitter. */
  readonly random: () => number;
  readonly backoff: BackoffOptions;
  /**
   * Backoff waits without a healthy connection before giving up: with one server, consecutive failed attempts; with
   * several, failed rounds (every server once). Attempts that go at once (the next server, an owner) are not counted.
   */
  readonly maxRetries: number;
  /**
   * How long a connection must stay open after `connected` to count as healthy: only then do the backoff, the round,
   * the owner follows and the retries start again. Judged when the socket ends, up to the last frame from the server
   * when this client dropped it (a server that went silent proved nothing after that frame).
   */
  readonly healthyAfterMs: number;
  readonly connectTimeoutMs: number;
  /**
   * Whether every attempt gets a fresh token (the `token` option is a function): then a close saying the token
   * expired is retried, with the next attempt's new token, instead of ending the client like any other 4001.
   */
  readonly renewsToken: boolean;
  readonly events: TypedEmitter<ChatClientEvents>;
  readonly socket: ChatSocket;
  /** Picks each attempt's subprotocol and learns from its handshake's outcome: one offer per server address. */
  readonly subprotocols: (server: string) => SubprotocolOffer;
  /** Where the next attempt goes: a refusal naming the conversation's server sends it there (owner-redirect.ts). */
  readonly redirect: OwnerRedirect;
  /** The client's servers, the current one the entry point of `redirect`: a gone server is left for the next. */
  readonly entries: EntryPoints;
  /**
   * The servers that could not be reached, which `entries` and `redirect` read: the loop marks an attempt's server when
   * it fails before its server said anything, unmarks it when its socket opens, and clears them at a healthy connection.
   */
  readonly unreachable: UnreachableServers;
  /** The WebSocket class to use (may throw CLIENT_NO_WEBSOCKET). */
  webSocketImpl(): WebSocketConstructor;
  /**
   * The URL of the next attempt and the resume point it asks for (read when the attempt starts). A promise when
   * the URL waits for something (a fresh token): the connect timeout covers the wait, and a rejection fails the
   * attempt like a refused connection (CLIENT_CONNECT_FAILED, then the usual backoff).
   */
  nextAttempt(): Attempt | PromiseLike<Attempt>;
  /** A frame's raw data arrived on the current socket, opened by `attempt`. */
  onData(data: unknown, attempt: Attempt): void;
  /** The current socket ended: drop connection-scoped state (runs before the reconnect decision). */
  onSocketEnded(): void;
  /** The loop ended for good: stop everything and fail what still waits with `err`. */
  onClosed(err: ChatClientError): void;
}

/** Where one connection attempt goes. */
export interface Attempt {
  readonly url: string;
  /** The server address `url` was built on (the current entry point or a followed owner). */
  readonly base: string;
  readonly resumedFrom: number | undefined;
}

/** Why a socket ended: the server's side (or the network), or this client's (e.g. its token() failed). */
type EndCause = 'server' | 'client';

/** The connection lifecycle of one client. */
export interface ConnectionLoop {
  readonly state: ConnectionState;
  /** True between the `connected` frame and the socket's end: frames may be sent. */
  readonly ready: boolean;
  /** Resolves at the next `connected` (at once if open); rejects if the loop ends first. */
  connect(): Promise<ConnectedInfo>;
  /** The `connected` frame arrived: the connection is usable. Returns true if it is a reconnect. */
  markOpen(): boolean;
  /** Publishes the connection's info: the `connected` event and pending connect() calls. */
  announce(info: ConnectedInfo): void;
  /** Ends the current socket from our side and handles it as a close with `code`. */
  drop(code: number, reason: string): void;
  /**
   * Terminal: stops every timer and the socket, and fails whatever still waits with `errorCode` (default
   * CLIENT_CLOSED), the close `code` as its closeCode.
   */
  finish(code: number | undefined, reason: string, errorCode?: string): void;
  /** Waiting out a backoff: makes the scheduled attempt now (true); otherwise nothing happens (false). */
  reconnectNow(): boolean;
}

/** Creates an idle loop; nothing happens until connect(). */
export function createConnectionLoop(deps: ConnectionLoopDeps): ConnectionLoop {
  const { clock, events, socket } = deps;
  let state: ConnectionState = 'idle';
  let ready = false;
  let everConnected = false;
  /** Attempts scheduled since the last healthy connection: what `reconnecting` numbers, and the give-up reason counts */
  let attempts = 0;
  /** Backoff waits since the last healthy connection: the exponent of the next, and what maxRetries bounds. */
  let waits = 0;
  /** When the current connection's `connected` frame arrived; undefined without one. */
  let openedAt: number | undefined;
  /** When the last frame of the current socket arrived: how long a connection this client dropped proved alive. */
  let lastFrameAt = 0;
  let reconnectTimer: unknown;
  let connectTimer: unknown;
  /** What the current connection's `connected` frame said (connect() on an open client returns it). */
  let lastInfo: ConnectedInfo | undefined;
  let connectWaiters: { resolve(info: ConnectedInfo): void; reject(err: Error): void }[] = [];
  /** Numbers the attempts, so the late URL of one given up on (connect timeout, close()) opens nothing. */
  let attemptSeq = 0;

  const clear = (h: unknown): undefined => {
    if (h !== undefined) clock.clearTimeout(h);
    return undefined;
  };

  function openSocket(): void {
    const Impl = deps.webSocketImpl();
    state = everConnected ? 'reconnecting' : 'connecting';
    const attempt = ++attemptSeq;
    let next: Attempt | PromiseLike<Attempt>;
    try {
      next = deps.nextAttempt();
    } catch (err) {
      attemptFailed(err);
      return;
    }
    if (!isPromiseLike(next)) {
      openAttempt(Impl, next);
      return;
    }
    const current = (): boolean => attempt === attemptSeq && state !== 'closed';
    connectTimer = clear(connectTimer);
    connectTimer = clock.setTimeout(() => {
      connectTimer = undefined;
      if (!current()) return;
      attemptSeq += 1;
      // Still waiting for the token: the server was never asked.
      onSocketGone(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'connect timeout', 'client');
    }, deps.connectTimeoutMs);
    next.then(
      (ready) => {
        if (current()) openAttempt(Impl, ready);
      },
      (err: unknown) => {
        if (current()) attemptFailed(err);
      },
    );
  }

  /** The attempt failed before it had a socket: reported, then handled like a refused connection. */
  function attemptFailed(err: unknown): void {
    const error =
      err instanceof ChatClientError ? err : new ChatClientError('CLIENT_CONNECT_FAILED', String((err as Error)?.message ?? err));
    events.emit('error', error);
    onSocketGone(CLOSE_CODES.ABNORMAL, error.message, 'client');
  }

  function openAttempt(Impl: WebSocketConstructor, attempt: Attempt): void {
    const offer = deps.subprotocols(attempt.base);
    const protocols = offer.next();
    let opened = false;
    let ws: ReturnType<typeof socket.open>;
    try {
      ws = socket.open(Impl, attempt.url, protocols, {
        onOpen() {
          opened = true;
          deps.unreachable.reached(attempt.base);
          offer.completed(protocols);
        },
        onData: (data) => {
          lastFrameAt = clock.now();
          deps.onData(data, attempt);
        },
        onClose(code, reason) {
          // Only a close of the socket itself says the handshake failed; our own drops (connect timeout) teach the
          // offer nothing.
          if (!opened) handshakeFailed(attempt, code, () => offer.failed(protocols));
          onSocketGone(code, reason);
        },
      });
    } catch (err) {
      events.emit('error', new ChatClientError('CLIENT_CONNECT_FAILED', String((err as Error)?.message ?? err)));
      // An address its WebSocket constructor refuses is as unreachable as a closed port (marked again at each try).
      deps.unreachable.add(attempt.base);
      onSocketGone(CLOSE_CODES.ABNORMAL, 'constructor failed');
      return;
    }
    connectTimer = clear(connectTimer);
    connectTimer = clock.setTimeout(() => {
      connectTimer = undefined;
      if (socket.current !== ws || ready) return;
      // No handshake in all that time (a host gone without a reset: packets dropped) is a server not reached; one that
      // opened and then said nothing is a server that answered, slowly.
      if (!opened) deps.unreachable.add(attempt.base);
      drop(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'connect timeout');
    }, deps.connectTimeoutMs);
  }

  /**
   * The socket of `attempt` closed before its handshake completed. At a followed owner that more likely means the
   * server is gone (killed, unreachable from here) than a proxy stripping the subprotocol: it is marked unreachable
   * whatever the close, so it is not followed again, and the offer stays as it was. At a server of the list a bare
   * 1006 (refused, reset, a handshake that broke) marks it too, so a refusal from another server does not send the
   * client back to it; a coded refusal of the upgrade (an HTTP status) came from a server that answers. There the
   * offer learns as well (`offerFailed`): a proxy in front of that one address may strip the subprotocol.
   */
  function handshakeFailed(attempt: Attempt, code: number, offerFailed: () => void): void {
    const atOwner = deps.redirect.following;
    if (atOwner || code === CLOSE_CODES.ABNORMAL) deps.unreachable.add(attempt.base);
    if (!atOwner) offerFailed();
  }

  function drop(code: number, reason: string): void {
    if (!socket.current) return;
    // Only application codes (4xxx) may be sent by a client; others go out as a normal close.
    socket.close(code >= 4000 && code < 5000 ? code : 1000, reason);
    // Our side ends it (mostly: the server went silent), so the server was last seen alive at its last frame.
    onSocketGone(code, reason, 'server', lastFrameAt);
  }

  /** `aliveUntil`: the last moment the server was known to serve this socket (default: now, it closed it). */
  function onSocketGone(code: number, reason: string, cause: EndCause = 'server', aliveUntil = clock.now()): void {
    socket.detach();
    ready = false;
    connectTimer = clear(connectTimer);
    settleConnection(aliveUntil);
    deps.onSocketEnded();
    if (state === 'closed') return;
    const retriable = isRetriableClose(code) || (deps.renewsToken && isTokenExpiredClose(code, reason));
    const next = retriable ? planNextAttempt(code, reason, cause) : undefined;
    events.emit('disconnected', { code, reason, willReconnect: next !== undefined });
    // Refused for good: the application gets the server's reason (its error code) rather than only CLIENT_CLOSED.
    if (!retriable) return finish(code, `fatal close ${code}${reason ? `: ${reason}` : ''}`, reasonErrorCode(reason));
    if (next === undefined) return finish(code, `gave up after ${attempts} failed attempts`);
    if (next.ownerAddress !== undefined) events.emit('redirected', { ownerAddress: next.ownerAddress });
    attempts += 1;
    state = 'reconnecting';
    events.emit('reconnecting', { attempt: attempts, delayMs: next.delayMs, url: deps.redirect.base });
    reconnectTimer = clock.setTimeout(() => {
      reconnectTimer = undefined;
      if (state !== 'closed') openSocket();
    }, next.delayMs);
  }

  /**
   * The socket that ended had a connection: it counts as healthy when it stayed open long enough, and then what was
   * counted against the attempts before it starts again. A shorter one was just another failed attempt.
   */
  function settleConnection(aliveUntil: number): void {
    if (openedAt === undefined) return;
    const healthy = aliveUntil - openedAt >= deps.healthyAfterMs;
    openedAt = undefined;
    if (!healthy) return;
    attempts = 0;
    waits = 0;
    deps.entries.newRound();
    deps.redirect.onConnected();
    deps.unreachable.clear();
  }

  /** Where (redirect.base, once this returns) and when the attempt after a retriable close goes; undefined: give up. */
  function planNextAttempt(code: number, reason: string, cause: EndCause): { delayMs: number; ownerAddress?: string } | undefined {
    // Read before onClose changes it: did the socket that ended go to a followed owner, or to the entry point?
    const atOwner = deps.redirect.following;
    // A refusal that names the conversation's server is followed at once: waiting would not change the answer
    // of this server, and the named one is expected to accept.
    const ownerAddress = deps.redirect.onClose(code, reason);
    if (ownerAddress !== undefined) return { delayMs: 0, ownerAddress };
    // The server of the list is gone: the next one at once, until every one has failed in this round. A followed
    // owner that is gone sends the attempt back to the entry point with backoff instead: its claim on the conversation
    // has to expire before another server takes it, and the entry point names whoever holds it then.
    if (!atOwner && cause === 'server' && isServerGone(code, reason) && deps.entries.moveOn()) return { delayMs: 0 };
    if (waits >= deps.maxRetries) return undefined;
    const delayMs = backoffDelay(waits, deps.random, deps.backoff);
    waits += 1;
    deps.entries.newRound();
    return { delayMs };
  }

  function finish(code: number | undefined, reason: string, errorCode = 'CLIENT_CLOSED'): void {
    if (state === 'closed') return;
    state = 'closed';
    ready = false;
    reconnectTimer = clear(reconnectTimer);
    connectTimer = clear(connectTimer);
    socket.close(1000, 'client closed');
    const err = new ChatClientError(errorCode, `client closed: ${reason}`, code !== undefined ? { closeCode: code, status: code } : {});
    deps.onClosed(err);
    const waiters = connectWaiters;
    connectWaiters = [];
    for (const w of waiters) w.reject(err);
    events.emit('closed', code !== undefined ? { code, reason } : { reason });
  }

  return {
    get state() {
      return state;
    },
    get ready() {
      return ready;
    },
    connect() {
      if (state === 'closed') return Promise.reject(new ChatClientError('CLIENT_CLOSED', 'client is closed'));
      if (ready && lastInfo) return Promise.resolve(lastInfo);
      const p = new Promise<ConnectedInfo>((resolve, reject) => connectWaiters.push({ resolve, reject }));
      if (state === 'idle') openSocket();
      return p;
    },
    markOpen() {
      connectTimer = clear(connectTimer);
      ready = true;
      state = 'open';
      // Nothing is reset yet: that waits for the connection to prove healthy (settleConnection).
      openedAt = clock.now();
      lastFrameAt = openedAt;
      return everConnected;
    },
    announce(info) {
      everConnected = true;
      lastInfo = info;
      events.emit('connected', info);
      const waiters = connectWaiters;
      connectWaiters = [];
      for (const w of waiters) w.resolve(info);
    },
    drop,
    finish,
    reconnectNow() {
      // Only the wait is cut short: the attempt was already counted when it was scheduled, and one in flight
      // (no timer) is left alone so a user's repeated clicks never open two sockets.
      if (state !== 'reconnecting' || reconnectTimer === undefined) return false;
      reconnectTimer = clear(reconnectTimer);
      openSocket();
      return true;
    },
  };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

/** The error code a close reason starts with: the server's closes carry one (docs/protocol.md, Close codes). */
function reasonErrorCode(reason: string): string | undefined {
  return /^([A-Z]+_ERR_[A-Z_]+)(?:\s|$)/.exec(reason)?.[1];
}
