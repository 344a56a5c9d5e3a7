/**
 * The reference nlweb-chat WebSocket client for browsers and Node (no Node-only API here: the
 * `ws` package is loaded lazily, only when running under Node without an injected WebSocket).
 *
 * Guarantees it adds on top of the protocol (docs/client.md):
 * - reconnects on retriable closes with exponential backoff + jitter (1 s, 2 s, 4 s ... 30 s),
 *   up to `maxRetries` consecutive failures, and resumes from the last delivered sequence id;
 * - delivers messages to the application exactly once and strictly in sequence order (dedup by
 *   sequence id, out-of-order frames buffered, a `sync` asked for on a gap);
 * - at-least-once sending: a message stays in the outbox and is re-sent with the SAME message_id
 *   after every reconnect until the server acknowledges it as persisted (the runtime dedups by
 *   (sender, message_id), so the re-send never creates a second record);
 * - honours `retry_after_ms` of 429 error frames before re-sending.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import {
  CLOSE_CODES,
  isRetriableClose,
  parseServerFrame,
  type ChatMessage,
  type ClientFrame,
  type ConversationMode,
  type ErrorFrame,
  type MessageAckFrame,
  type Participant,
  type ServerFrame,
} from './protocol-frames';
import { createTypedEmitter, type TypedEmitter } from './typed-emitter';

/** The subset of the WHATWG WebSocket API the client uses (browsers' WebSocket and `ws` both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Time source and timers; injected in tests (same shape as the runtime's Clock). */
export interface ClientClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ChatClientOptions {
  /** WebSocket base URL, e.g. ws://127.0.0.1:8000 (http(s):// is turned into ws(s)://). */
  readonly url: string;
  readonly conversationId: string;
  /** Bearer token, sent as the `token` query parameter (browsers cannot set headers on WebSockets). */
  readonly token?: string;
  /** Development auth mode only: the user to act as (`user_id` query parameter). */
  readonly userId?: string;
  /** Defaults to globalThis.WebSocket in browsers and the `ws` package in Node. */
  readonly WebSocketImpl?: WebSocketConstructor;
  /** Consecutive failed connection attempts before giving up (chat.context.ws_max_retries, default 10). */
  readonly maxRetries?: number;
  readonly backoff?: BackoffOptions;
  /**
   * Where to start: the last sequence id the application already has. 0 (default) replays the
   * whole conversation; 'live' starts at the current head (no history).
   */
  readonly lastSequenceId?: number | 'live';
  /** Cumulative `ack` frames are sent at most this often (default 200 ms)... */
  readonly ackIntervalMs?: number;
  /** ...or at once after this many newly delivered messages (default 50). */
  readonly ackEvery?: number;
  /** An attempt that has not received `connected` by then is dropped and retried (default 15000 ms). */
  readonly connectTimeoutMs?: number;
  /** Application ping every N ms; a connection silent for 2N ms is dropped and resumed (0 = off; default 25000). */
  readonly pingIntervalMs?: number;
  /** Used when a 429 error frame carries no retry_after_ms (default 1000 ms). */
  readonly defaultRetryAfterMs?: number;
  readonly clock?: ClientClock;
  /** Returns [0, 1); drives the backoff jitter. */
  readonly random?: () => number;
  /** Generates message ids (default crypto.randomUUID). */
  readonly generateId?: () => string;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectedInfo {
  readonly conversationId: string;
  readonly participantId: string;
  readonly mode: ConversationMode;
  readonly inputTimeout?: number;
  /** The server's head when the connection was made. */
  readonly serverLastSequenceId: number;
  /** The resume point this connection asked for (undefined = live). */
  readonly resumedFrom?: number;
  /** True for every connection after the first. */
  readonly reconnect: boolean;
}

/** An error reported by the server (error frame) or by the client itself. */
export class ChatClientError extends Error {
  /** The server's stable code (e.g. CHAT_ERR_QUEUE_FULL) or a CLIENT_* code. */
  readonly code: string;
  /** Numeric code of the error frame (429, 400, ...) or the close code. */
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly messageId?: string;
  constructor(code: string, message: string, extra: { status?: number; retryAfterMs?: number; messageId?: string } = {}) {
    super(message);
    this.name = 'ChatClientError';
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
    if (extra.messageId !== undefined) this.messageId = extra.messageId;
  }
}

export interface SendResult {
  readonly message_id: string;
  readonly sequence_id: number;
  readonly persisted: boolean;
  readonly duplicate: boolean;
}

export interface ChatClientEvents {
  connected: ConnectedInfo;
  /** Every record, exactly once, in sequence order. */
  message: ChatMessage;
  participants: {
    readonly participants: readonly Participant[];
    readonly change?: { readonly action: 'join' | 'leave'; readonly participant: Participant };
  };
  mode: { readonly mode: ConversationMode };
  typing: { readonly participantId: string; readonly isTyping: boolean };
  /** Server error frames (also the 429s the client handles by itself) and client-side problems. */
  error: ChatClientError;
  /** Replay finished (after a reconnect or a `sync`); recovered false = part of the range is gone. */
  sync: { readonly from: number; readonly to: number; readonly recovered: boolean };
  /** A message of ours was acknowledged. */
  ack: SendResult;
  disconnected: { readonly code: number; readonly reason: string; readonly willReconnect: boolean };
  reconnecting: { readonly attempt: number; readonly delayMs: number };
  /** Terminal: fatal close, retries exhausted, or close() called. */
  closed: { readonly code?: number; readonly reason: string };
}

export interface ChatClient {
  readonly events: TypedEmitter<ChatClientEvents>;
  /** Shorthand for events.on. */
  on: TypedEmitter<ChatClientEvents>['on'];
  /** Starts connecting; resolves at the first `connected` frame, rejects if the client closes first. */
  connect(): Promise<ConnectedInfo>;
  /**
   * Queues a message (sent now when connected, else after the next connect) and resolves when the
   * server acknowledges it with a sequence id. Rejects on a non-retriable error frame for it or
   * when the client closes before an acknowledgement.
   */
  send(content: string, metadata?: Record<string, unknown>): Promise<SendResult>;
  setTyping(isTyping: boolean): void;
  /** Asks the server to replay everything after the last delivered sequence id. */
  sync(): void;
  /** Sends `leave` (the server removes this participant) and closes. */
  leave(): void;
  /** Stops everything: socket, timers, reconnects; pending sends reject with CLIENT_CLOSED. */
  close(): void;
  readonly state: ConnectionState;
  /** Highest sequence id delivered to the application (undefined before any, in 'live' mode). */
  readonly lastSequenceId: number | undefined;
  readonly participants: readonly Participant[];
  readonly mode: ConversationMode | undefined;
  /** Messages sent but not yet acknowledged as persisted. */
  readonly pendingCount: number;
  /** Frames the client dropped as duplicates (sequence id already delivered). */
  readonly duplicatesDropped: number;
}

interface OutboxEntry {
  readonly message_id: string;
  readonly content: string;
  readonly metadata?: Record<string, unknown>;
  /** queued: to be (re-)sent; sent: on the wire, no ack; acked: has a sequence id, not persisted yet. */
  state: 'queued' | 'sent' | 'acked';
  sequence_id?: number;
  settled: boolean;
  resolve(result: SendResult): void;
  reject(err: Error): void;
}

const OPEN = 1;
const RATE_LIMIT_ERRORS = new Set(['CHAT_ERR_QUEUE_FULL', 'GATEWAY_ERR_RATE_LIMITED']);

function defaultClock(): ClientClock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

/** Background timers (ack, ping) must not keep a Node process alive; browsers have no unref. */
function unrefTimer(handle: unknown): unknown {
  const h = handle as { unref?: () => void } | null;
  if (h && typeof h === 'object' && typeof h.unref === 'function') h.unref();
  return handle;
}

function defaultGenerateId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  // randomUUID only exists in secure contexts; getRandomValues exists everywhere.
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function defaultWebSocketImpl(): WebSocketConstructor {
  const g = globalThis as { WebSocket?: unknown; process?: { versions?: { node?: string } } };
  const isNode = typeof g.process?.versions?.node === 'string';
  if (!isNode && typeof g.WebSocket === 'function') return g.WebSocket as WebSocketConstructor;
  // Node: load `ws` only now, so a browser build never references it at load time.
  if (typeof require === 'function') {
    return require('ws') as WebSocketConstructor;
  }
  if (typeof g.WebSocket === 'function') return g.WebSocket as WebSocketConstructor;
  throw new ChatClientError('CLIENT_NO_WEBSOCKET', 'no WebSocket implementation: pass WebSocketImpl');
}

/** Builds `<base>/chat/ws/<id>?...` from the options and the resume point. */
export function buildChatSocketUrl(
  base: string,
  conversationId: string,
  params: { token?: string; userId?: string; lastSequenceId?: number },
): string {
  const root = base.replace(/^http/, 'ws').replace(/\/+$/, '');
  const q: string[] = [];
  if (params.token !== undefined) q.push(`token=${encodeURIComponent(params.token)}`);
  if (params.userId !== undefined) q.push(`user_id=${encodeURIComponent(params.userId)}`);
  if (params.lastSequenceId !== undefined) q.push(`last_sequence_id=${params.lastSequenceId}`);
  return `${root}/chat/ws/${encodeURIComponent(conversationId)}${q.length ? `?${q.join('&')}` : ''}`;
}

/** Creates a client; nothing happens until connect(). */
export function createChatClient(options: ChatClientOptions): ChatClient {
  const clock = options.clock ?? defaultClock();
  const random = options.random ?? Math.random;
  const generateId = options.generateId ?? defaultGenerateId;
  const maxRetries = options.maxRetries ?? 10;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const ackIntervalMs = options.ackIntervalMs ?? 200;
  const ackEvery = Math.max(1, options.ackEvery ?? 50);
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const pingIntervalMs = options.pingIntervalMs ?? 25_000;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000;
  const events = createTypedEmitter<ChatClientEvents>();

  let state: ConnectionState = 'idle';
  let socket: WebSocketLike | undefined;
  /** True between the `connected` frame and the socket's end: frames may be sent. */
  let ready = false;
  let everConnected = false;
  let failures = 0;
  let lastSeq: number | undefined = options.lastSequenceId === 'live' ? undefined : (options.lastSequenceId ?? 0);
  let lastAckSent = lastSeq ?? 0;
  /** Out-of-order records waiting for the gap before them to fill. */
  const buffer = new Map<number, ChatMessage>();
  let syncInFlight = false;
  /** Set by sync_complete{recovered:false}: the next gap cannot be filled, so skip it. */
  let skipNextGap = false;
  let duplicatesDropped = 0;
  const outbox = new Map<string, OutboxEntry>();
  const participants = new Map<string, Participant>();
  let mode: ConversationMode | undefined;
  /** Sending is paused until this time after a 429. */
  let pausedUntil = 0;

  let reconnectTimer: unknown;
  let connectTimer: unknown;
  let ackTimer: unknown;
  let pingTimer: unknown;
  let resumeTimer: unknown;
  let lastFrameAt = 0;

  /** What the current connection's `connected` frame said (connect() on an open client returns it). */
  let lastInfo: ConnectedInfo | undefined;
  let connectWaiters: { resolve(info: ConnectedInfo): void; reject(err: Error): void }[] = [];

  const clear = (h: unknown): undefined => {
    if (h !== undefined) clock.clearTimeout(h);
    return undefined;
  };

  function sendFrame(frame: ClientFrame): boolean {
    if (!socket || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  function openSocket(): void {
    const Impl = options.WebSocketImpl ?? defaultWebSocketImpl();
    state = everConnected ? 'reconnecting' : 'connecting';
    const resumedFrom = lastSeq;
    const url = buildChatSocketUrl(options.url, options.conversationId, {
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.userId !== undefined ? { userId: options.userId } : {}),
      ...(lastSeq !== undefined ? { lastSequenceId: lastSeq } : {}),
    });
    let ws: WebSocketLike;
    try {
      ws = new Impl(url);
    } catch (err) {
      events.emit('error', new ChatClientError('CLIENT_CONNECT_FAILED', String((err as Error)?.message ?? err)));
      onSocketGone(CLOSE_CODES.ABNORMAL, 'constructor failed');
      return;
    }
    socket = ws;
    let errorText = '';
    ws.onopen = () => undefined;
    ws.onerror = (ev: { message?: string; error?: { message?: string } }) => {
      // `ws` reports a refused upgrade ("Unexpected server response: 401") only here.
      errorText = ev?.message ?? ev?.error?.message ?? '';
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (socket !== ws) return;
      lastFrameAt = clock.now();
      const frame = parseServerFrame(ev.data);
      if (frame) handleFrame(frame, resumedFrom);
    };
    ws.onclose = (ev: { code?: number; reason?: string }) => {
      if (socket !== ws) return;
      let code = ev?.code ?? CLOSE_CODES.ABNORMAL;
      const m = /Unexpected server response: (\d+)/.exec(errorText);
      // An HTTP refusal of the upgrade maps onto the close code the server would have used.
      if (m) code = httpStatusToClose(Number(m[1]));
      onSocketGone(code, ev?.reason || errorText || '');
    };
    connectTimer = clear(connectTimer);
    connectTimer = clock.setTimeout(() => {
      connectTimer = undefined;
      if (socket === ws && !ready) dropSocket(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'connect timeout');
    }, connectTimeoutMs);
  }

  function httpStatusToClose(status: number): number {
    switch (status) {
      case 400:
        // A malformed request (e.g. a bad last_sequence_id) would be refused again.
        return CLOSE_CODES.POLICY;
      case 401:
        return CLOSE_CODES.UNAUTHENTICATED;
      case 403:
        return CLOSE_CODES.NOT_PARTICIPANT;
      case 404:
        return CLOSE_CODES.NOT_FOUND;
      case 409:
        return CLOSE_CODES.PARTICIPANT_LIMIT;
      case 426:
        return CLOSE_CODES.TLS_REQUIRED;
      default:
        return CLOSE_CODES.TRY_AGAIN_LATER;
    }
  }

  /** Ends the current socket from our side and handles it as a close with `code`. */
  function dropSocket(code: number, reason: string): void {
    const ws = socket;
    if (!ws) return;
    detach(ws);
    try {
      ws.close(code >= 4000 && code < 5000 ? code : 1000, reason);
    } catch {
      /* closing a CONNECTING socket throws in some implementations */
    }
    onSocketGone(code, reason);
  }

  function detach(ws: WebSocketLike): void {
    // No-ops rather than null: `ws` emits 'error' when a CONNECTING socket is closed, and an
    // EventEmitter 'error' without a listener would throw.
    const noop = (): void => undefined;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = noop;
    if (socket === ws) socket = undefined;
  }

  function onSocketGone(code: number, reason: string): void {
    if (socket) detach(socket);
    socket = undefined;
    ready = false;
    syncInFlight = false;
    buffer.clear();
    connectTimer = clear(connectTimer);
    pingTimer = clear(pingTimer);
    ackTimer = clear(ackTimer);
    resumeTimer = clear(resumeTimer);
    if (state === 'closed') return;
    // Whatever was on the wire without an ack goes again after the reconnect (same message_id).
    for (const e of outbox.values()) if (e.state === 'sent') e.state = 'queued';
    const retriable = isRetriableClose(code);
    const willReconnect = retriable && failures < maxRetries;
    events.emit('disconnected', { code, reason, willReconnect });
    if (!retriable) return finish(code, `fatal close ${code}${reason ? `: ${reason}` : ''}`);
    if (!willReconnect) return finish(code, `gave up after ${failures} failed attempts`);
    const delayMs = backoffDelay(failures, random, backoff);
    failures += 1;
    state = 'reconnecting';
    events.emit('reconnecting', { attempt: failures, delayMs });
    reconnectTimer = clock.setTimeout(() => {
      reconnectTimer = undefined;
      if (state !== 'closed') openSocket();
    }, delayMs);
  }

  function finish(code: number | undefined, reason: string): void {
    if (state === 'closed') return;
    state = 'closed';
    ready = false;
    reconnectTimer = clear(reconnectTimer);
    connectTimer = clear(connectTimer);
    ackTimer = clear(ackTimer);
    pingTimer = clear(pingTimer);
    resumeTimer = clear(resumeTimer);
    if (socket) {
      const ws = socket;
      detach(ws);
      try {
        ws.close(1000, 'client closed');
      } catch {
        /* ignore */
      }
    }
    const err = new ChatClientError('CLIENT_CLOSED', `client closed: ${reason}`, code !== undefined ? { status: code } : {});
    for (const e of outbox.values()) if (!e.settled) settleReject(e, err);
    outbox.clear();
    const waiters = connectWaiters;
    connectWaiters = [];
    for (const w of waiters) w.reject(err);
    events.emit('closed', code !== undefined ? { code, reason } : { reason });
  }

  function handleFrame(frame: ServerFrame, resumedFrom: number | undefined): void {
    switch (frame.type) {
      case 'connected':
        return onConnected(frame, resumedFrom);
      case 'message':
        return onMessage(frame.message);
      case 'message_ack':
        return onAck(frame);
      case 'persisted':
        for (const [id, e] of outbox) {
          if (e.state !== 'acked' || e.sequence_id === undefined || e.sequence_id > frame.up_to_sequence_id) continue;
          outbox.delete(id);
          events.emit('ack', { message_id: id, sequence_id: e.sequence_id, persisted: true, duplicate: false });
        }
        return;
      case 'participant_list':
        participants.clear();
        for (const p of frame.participants ?? []) participants.set(p.participant_id, p);
        if (frame.mode) setMode(frame.mode);
        events.emit('participants', { participants: [...participants.values()] });
        return;
      case 'participant_update':
        if (frame.action === 'leave') participants.delete(frame.participant.participant_id);
        else participants.set(frame.participant.participant_id, frame.participant);
        events.emit('participants', {
          participants: [...participants.values()],
          change: { action: frame.action, participant: frame.participant },
        });
        return;
      case 'mode_change':
        return setMode(frame.mode);
      case 'typing':
        events.emit('typing', { participantId: frame.participant_id, isTyping: frame.is_typing });
        return;
      case 'sync_complete':
        return onSyncComplete(frame.from, frame.to, frame.recovered);
      case 'error':
        return onErrorFrame(frame);
      case 'pong':
        return;
      default:
        return;
    }
  }

  function setMode(next: ConversationMode): void {
    if (next === mode) return;
    mode = next;
    events.emit('mode', { mode: next });
  }

  function onConnected(frame: Extract<ServerFrame, { type: 'connected' }>, resumedFrom: number | undefined): void {
    connectTimer = clear(connectTimer);
    ready = true;
    state = 'open';
    failures = 0;
    if (lastSeq === undefined) {
      // 'live' start: everything after the head at subscribe time follows on this connection.
      lastSeq = frame.last_sequence_id;
      lastAckSent = lastSeq;
    } else if (frame.last_sequence_id < lastSeq) {
      // We remember records the server no longer has (e.g. a journal lost in a restart): the server
      // resumes from its real end, so our cursor must move back or every new record looks like a dup.
      events.emit(
        'error',
        new ChatClientError(
          'CLIENT_CURSOR_RESET',
          `server's last sequence id ${frame.last_sequence_id} is below ours (${lastSeq}); resuming from the server's`,
        ),
      );
      lastSeq = frame.last_sequence_id;
      lastAckSent = lastSeq;
    }
    if (frame.mode) setMode(frame.mode);
    const info: ConnectedInfo = {
      conversationId: frame.conversation_id,
      participantId: frame.participant_id,
      mode: frame.mode,
      ...(frame.input_timeout !== undefined ? { inputTimeout: frame.input_timeout } : {}),
      serverLastSequenceId: frame.last_sequence_id,
      ...(resumedFrom !== undefined ? { resumedFrom } : {}),
      reconnect: everConnected,
    };
    everConnected = true;
    lastInfo = info;
    schedulePing();
    events.emit('connected', info);
    const waiters = connectWaiters;
    connectWaiters = [];
    for (const w of waiters) w.resolve(info);
    // Unpersisted messages go again: the runtime answers a duplicate with its original sequence id.
    for (const e of outbox.values()) if (e.state === 'acked') e.state = 'queued';
    flushOutbox();
  }

  function onMessage(message: ChatMessage): void {
    const seq = message.sequence_id;
    if (typeof seq !== 'number') return;
    if (lastSeq !== undefined && seq <= lastSeq) {
      duplicatesDropped += 1;
      return;
    }
    const expected = (lastSeq ?? 0) + 1;
    if (seq !== expected) {
      if (buffer.has(seq)) duplicatesDropped += 1;
      buffer.set(seq, message);
      if (skipNextGap) {
        skipNextGap = false;
        lastSeq = Math.min(...buffer.keys()) - 1;
        drain();
      } else requestSync();
      return;
    }
    deliver(message);
    drain();
  }

  function deliver(message: ChatMessage): void {
    lastSeq = message.sequence_id;
    events.emit('message', message);
    scheduleAck();
  }

  function drain(): void {
    for (;;) {
      const next = buffer.get((lastSeq ?? 0) + 1);
      if (!next) break;
      buffer.delete(next.sequence_id);
      deliver(next);
    }
    // Anything at or below lastSeq left in the buffer is a duplicate.
    for (const seq of [...buffer.keys()]) if (seq <= (lastSeq ?? 0)) buffer.delete(seq);
  }

  function requestSync(): void {
    if (syncInFlight || !ready) return;
    syncInFlight = sendFrame({ type: 'sync', last_sequence_id: lastSeq ?? 0 });
  }

  function onSyncComplete(from: number, to: number, recovered: boolean): void {
    syncInFlight = false;
    if (!recovered) {
      // Part of the range is gone for good: deliver what we have instead of waiting forever.
      if (buffer.size > 0) {
        lastSeq = Math.min(...buffer.keys()) - 1;
        drain();
      } else skipNextGap = true;
    } else if (buffer.size > 0) {
      // Still a hole after a complete replay: ask again (bounded by the server's answers).
      requestSync();
    }
    events.emit('sync', { from, to, recovered });
  }

  function scheduleAck(): void {
    if ((lastSeq ?? 0) - lastAckSent >= ackEvery) return sendAck();
    if (ackTimer === undefined)
      ackTimer = unrefTimer(
        clock.setTimeout(() => {
          ackTimer = undefined;
          sendAck();
        }, ackIntervalMs),
      );
  }

  function sendAck(): void {
    ackTimer = clear(ackTimer);
    if (lastSeq === undefined || lastSeq <= lastAckSent) return;
    if (sendFrame({ type: 'ack', sequence_id: lastSeq })) lastAckSent = lastSeq;
  }

  function schedulePing(): void {
    if (pingIntervalMs <= 0) return;
    pingTimer = clear(pingTimer);
    lastFrameAt = clock.now();
    const tick = (): void => {
      pingTimer = undefined;
      if (!ready) return;
      if (clock.now() - lastFrameAt >= 2 * pingIntervalMs) {
        dropSocket(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'no frame from the server within two ping intervals');
        return;
      }
      sendFrame({ type: 'ping' });
      pingTimer = unrefTimer(clock.setTimeout(tick, pingIntervalMs));
    };
    pingTimer = unrefTimer(clock.setTimeout(tick, pingIntervalMs));
  }

  function onAck(frame: MessageAckFrame): void {
    const entry = outbox.get(frame.message_id);
    if (!entry) return;
    entry.sequence_id = frame.sequence_id;
    const result: SendResult = {
      message_id: frame.message_id,
      sequence_id: frame.sequence_id,
      persisted: frame.persisted === true,
      duplicate: frame.duplicate === true,
    };
    if (!entry.settled) {
      entry.settled = true;
      entry.resolve(result);
    }
    if (result.persisted) outbox.delete(frame.message_id);
    else entry.state = 'acked';
    events.emit('ack', result);
  }

  function onErrorFrame(frame: ErrorFrame): void {
    const err = new ChatClientError(frame.error ?? 'UNKNOWN', frame.message ?? frame.error ?? 'error', {
      ...(typeof frame.code === 'number' ? { status: frame.code } : {}),
      ...(typeof frame.retry_after_ms === 'number' ? { retryAfterMs: frame.retry_after_ms } : {}),
      ...(typeof frame.message_id === 'string' ? { messageId: frame.message_id } : {}),
    });
    const entry = frame.message_id !== undefined ? outbox.get(frame.message_id) : undefined;
    const rateLimited = frame.code === 429 || RATE_LIMIT_ERRORS.has(frame.error);
    if (rateLimited) {
      // Back off, then re-send with the same id (a message that did get through is deduplicated).
      const wait = typeof frame.retry_after_ms === 'number' ? frame.retry_after_ms : defaultRetryAfterMs;
      pausedUntil = Math.max(pausedUntil, clock.now() + wait);
      if (entry) {
        if (entry.state === 'sent') entry.state = 'queued';
      } else for (const e of outbox.values()) if (e.state === 'sent') e.state = 'queued';
      scheduleResume();
    } else if (entry && !entry.settled) {
      outbox.delete(entry.message_id);
      settleReject(entry, err);
    }
    events.emit('error', err);
  }

  function settleReject(entry: OutboxEntry, err: Error): void {
    entry.settled = true;
    entry.reject(err);
  }

  function scheduleResume(): void {
    resumeTimer = clear(resumeTimer);
    const wait = pausedUntil - clock.now();
    resumeTimer = clock.setTimeout(
      () => {
        resumeTimer = undefined;
        flushOutbox();
      },
      Math.max(0, wait),
    );
  }

  function flushOutbox(): void {
    if (!ready || state === 'closed') return;
    if (clock.now() < pausedUntil) {
      if (resumeTimer === undefined) scheduleResume();
      return;
    }
    for (const e of outbox.values()) {
      if (e.state !== 'queued') continue;
      const frame: ClientFrame = { type: 'message', message_id: e.message_id, content: e.content };
      if (e.metadata !== undefined) frame.metadata = e.metadata;
      if (!sendFrame(frame)) return;
      e.state = 'sent';
    }
  }

  const client: ChatClient = {
    events,
    on: (event, listener) => events.on(event, listener),
    connect() {
      if (state === 'closed') return Promise.reject(new ChatClientError('CLIENT_CLOSED', 'client is closed'));
      if (ready && lastInfo) return Promise.resolve(lastInfo);
      const p = new Promise<ConnectedInfo>((resolve, reject) => connectWaiters.push({ resolve, reject }));
      if (state === 'idle') openSocket();
      return p;
    },
    send(content, metadata) {
      if (state === 'closed') return Promise.reject(new ChatClientError('CLIENT_CLOSED', 'client is closed'));
      const message_id = generateId();
      return new Promise<SendResult>((resolve, reject) => {
        outbox.set(message_id, {
          message_id,
          content,
          ...(metadata !== undefined ? { metadata } : {}),
          state: 'queued',
          settled: false,
          resolve,
          reject,
        });
        flushOutbox();
      });
    },
    setTyping(isTyping) {
      if (ready) sendFrame({ type: 'typing', is_typing: isTyping });
    },
    sync() {
      syncInFlight = false;
      requestSync();
    },
    leave() {
      if (ready) sendFrame({ type: 'leave' });
      finish(undefined, 'left the conversation');
    },
    close() {
      finish(undefined, 'close() called');
    },
    get state() {
      return state;
    },
    get lastSequenceId() {
      return lastSeq;
    },
    get participants() {
      return [...participants.values()];
    },
    get mode() {
      return mode;
    },
    get pendingCount() {
      return outbox.size;
    },
    get duplicatesDropped() {
      return duplicatesDropped;
    },
  };
  return client;
}
