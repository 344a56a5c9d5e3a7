/**
 * The public types of the reference client (options, events, the ChatClient surface, errors).
 * Kept apart from the implementation so the modules of the client can share them without
 * importing chat-client.ts (which would make the module graph circular); chat-client.ts
 * re-exports all of them, so `nlweb-chat/client` and its users see no change.
 */
import type { BackoffOptions } from './backoff';
import type { EditedEvent, RedactedEvent } from './message-changes';

export type { EditedEvent, RedactedEvent } from './message-changes';
import type { ServerLimits } from './message-limits';
import type { FollowOwnerOption } from './owner-redirect';
import type { ChatMessage, ConversationMode, Participant } from './protocol-frames';
import type { TypedEmitter } from './typed-emitter';

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
/**
 * How the client opens a socket (globalThis.WebSocket, the `ws` class, or a test double). The client
 * passes `[REFUSAL_SUBPROTOCOL, PRESENCE_BATCHES_SUBPROTOCOL]` as `protocols` (an array since presence batches; a
 * string before), or no `protocols` after a handshake with it failed (subprotocol-offer.ts); an implementation that
 * drops it still works, but then sees refused upgrades only as the HTTP status `ws` reports, or (browsers) as close
 * 1006, and gets a `presence` frame per member instead of batches.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Time source and timers; injected in tests (same shape as the runtime's Clock). */
export interface ClientClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of createChatClient; everything but url and conversationId has a default. */
export interface ChatClientOptions {
  /**
   * WebSocket base URL, e.g. ws://127.0.0.1:8000 (http(s):// is turned into ws(s)://); or several, servers of one
   * deployment (one store), to fail over: a server that is gone (refused or dropped connection, failed handshake,
   * shutdown 1001, restart, heartbeat or connect timeout, an upgrade refused for now) is left for the next one at
   * once, and the backoff waits only when every one failed since the last healthy connection or wait. The client
   * stays on whichever server serves it. docs/client.md, "Several servers". RangeError for an empty list, or one with
   * no ws(s):// or http(s):// address.
   */
  readonly url: string | readonly string[];
  /** RangeError if empty (the server would answer its path as unknown: GATEWAY_ERR_NOT_FOUND). */
  readonly conversationId: string;
  /**
   * Bearer token, sent as the `token` query parameter (browsers cannot set headers on WebSockets). A function is
   * called before every connection attempt, reconnects included, so a short-lived token can be replaced by a fresh
   * one; while its promise is pending the attempt waits (within connectTimeoutMs), and a throw or rejection fails
   * that attempt (`error` CLIENT_CONNECT_FAILED, then the usual backoff). With a function, a close saying the token
   * expired (4001 "GATEWAY_ERR_UNAUTHENTICATED token expired": the server ends a socket at its token's exp) is
   * retried with the next token and resumes from the last sequence id; with a string it ends the client, as any 4001.
   */
  readonly token?: string | (() => string | Promise<string>);
  /** Development auth mode only: the user to act as (`user_id` query parameter). */
  readonly userId?: string;
  /** Defaults to globalThis.WebSocket in browsers and the `ws` package in Node. */
  readonly WebSocketImpl?: WebSocketConstructor;
  /**
   * Consecutive failed connection attempts before giving up (default 10; Infinity: never give up): precisely, backoff
   * waits without a healthy connection (healthyAfterMs) in between, so with several urls, failed rounds over all of
   * them. Attempts made at once (the next url of the list, an owner a refusal named) are not counted.
   */
  readonly maxRetries?: number;
  readonly backoff?: BackoffOptions;
  /**
   * How long a connection must stay open after its `connected` frame to count as healthy (default 10000 ms; 0: at
   * `connected`). Only a healthy connection resets the backoff, the round over several urls and the maxRetries count:
   * a server that sends `connected` and closes at once is a failed attempt, so flapping backs off and gives up like
   * failing to connect. A connection this client drops for silence counts up to the server's last frame.
   * RangeError unless a number >= 0.
   */
  readonly healthyAfterMs?: number;
  /**
   * Where to start: the last sequence id the application already has. 0 (default) replays the
   * whole conversation; 'live' starts at the current head (no history).
   */
  readonly lastSequenceId?: number | 'live';
  /**
   * The first connection replays at most the last `history` records (an integer from 1 to 1000, the server's
   * bound): with no lastSequenceId, "the last N messages, then live"; with one, at most the last N after it. The
   * `sync` event that ends that replay says in `hasEarlier` whether older records were left out; read them over
   * HTTP (GET /chat/conversations/{id}/messages?before=<its from>, docs/client.md). Reconnects resume from the last
   * delivered id as always, whatever their number. Ignored with lastSequenceId 'live' (no history at all).
   */
  readonly history?: number;
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
  /**
   * When a server refuses the conversation as live on another server (close 4421) and names that server's
   * address, reconnect there at once (default true; never from wss/https to ws/http). false: retry `url` with
   * backoff; a function: follow the addresses it returns true for (e.g. only your own domain).
   */
  readonly followOwner?: FollowOwnerOption;
  readonly clock?: ClientClock;
  /** Returns [0, 1); drives the backoff jitter. */
  readonly random?: () => number;
  /** Generates message ids (default crypto.randomUUID). */
  readonly generateId?: () => string;
}

/** idle before connect(); connecting/reconnecting until `connected`; closed is terminal. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What the server's `connected` frame told this connection. */
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
  /** The server address this connection went to: one of `url`, or an owner a 4421 refusal named. */
  readonly url: string;
  /**
   * The protocol version this connection speaks, as its `connected` frame said (docs/protocol.md, Protocol versions);
   * 1 for a server older than the field, which spoke 1 without saying so. The client speaks 1 and names no version,
   * so a server answers 1; another value means a server that changed its default, which the application may report.
   */
  readonly protocolVersion: number;
  /**
   * The sizes past which this server refuses a message: what send() checks before sending (CLIENT_MESSAGE_TOO_LARGE),
   * given to the application so it can say "at most N characters" or cut a paste before it is sent. As this
   * connection's `connected` frame announced them; DEFAULT_SERVER_LIMITS for a server older than the field. A
   * reconnect may reach a server with other limits: each `connected` event carries that connection's. With them, the
   * message budget the client paces its sends by (rateLimitPerSecond, rateLimitBurst), absent from older servers.
   */
  readonly limits: ServerLimits;
}

/** An error reported by the server (error frame) or by the client itself. */
export class ChatClientError extends Error {
  /**
   * The server's stable code (e.g. CHAT_ERR_QUEUE_FULL) or a CLIENT_* code. When the client ends on a close the
   * server refused for good (4001, 4003, 4004, ...), the error code the close reason carries (e.g.
   * CHAT_ERR_NOT_PARTICIPANT); CLIENT_CLOSED when it ended otherwise (close(), a confirmed leave(), gave up after
   * maxRetries). CLIENT_NOT_CONNECTED: leave() before connect().
   */
  readonly code: string;
  /** The WebSocket close code the client ended on (CLIENT_CLOSED and refusal errors; absent after close()). */
  readonly closeCode?: number;
  /**
   * Numeric code of the error frame (429, 400, ...); on the error the client ends with, the close code again
   * (kept for compatibility: read closeCode).
   */
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly messageId?: string;
  /** The type of our frame the server's error answers (its `reply_to`: `message`, `edit`, `delete`, `leave` ...). */
  readonly replyTo?: string;
  /** CHAT_ERR_MESSAGE_ID_REUSED: the sequence id of the record the server first accepted under messageId. */
  readonly sequenceId?: number;
  constructor(
    code: string,
    message: string,
    extra: { status?: number; closeCode?: number; retryAfterMs?: number; messageId?: string; sequenceId?: number; replyTo?: string } = {},
  ) {
    super(message);
    this.name = 'ChatClientError';
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.closeCode !== undefined) this.closeCode = extra.closeCode;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
    if (extra.messageId !== undefined) this.messageId = extra.messageId;
    if (extra.replyTo !== undefined) this.replyTo = extra.replyTo;
    if (extra.sequenceId !== undefined) this.sequenceId = extra.sequenceId;
  }
}

/** The server's acknowledgement of one sent message. */
export interface SendResult {
  readonly message_id: string;
  readonly sequence_id: number;
  readonly persisted: boolean;
  readonly duplicate: boolean;
}

/** Event name -> payload of ChatClient.events. */
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
  /** A human member came online or went offline (also for each difference a connect's participant list brings). */
  presence: { readonly participantId: string; readonly online: boolean };
  /**
   * A member's read position rose: it has read everything up to `sequenceId` (this user's own included, from its other
   * tabs). Also for each position a connect's participant list raises. Positions never go down, except after a
   * journal loss: the list then lowers those the server clamped to its end (readPositions). docs/client.md.
   */
  read: { readonly participantId: string; readonly sequenceId: number };
  /**
   * A member edited its message: replace the content of record `sequenceId` (delivered earlier, or on a history page)
   * with `content` and show it edited. After the `message` event of the `edit` record; once per edit (none for an edit
   * the message's own record already showed, arriving edited in a resume). docs/client.md.
   */
  edited: EditedEvent;
  /** Records whose content is now `[redacted]` (deleted by their sender, or redacted by the owner). After the `message` event of the `redaction` record. */
  redacted: RedactedEvent;
  /**
   * Server error frames and client-side problems: what the application may have to act on. Not the refusals the
   * client retries by itself (`throttled`).
   */
  error: ChatClientError;
  /**
   * A 429 `error` frame (GATEWAY_ERR_RATE_LIMITED, GATEWAY_ERR_HELD_FOR_ORDER, CHAT_ERR_QUEUE_FULL) answering one of
   * our messages (messageId) or syncs: the client waits retryAfterMs and sends it again by itself; nothing to do.
   * Also a `read` refused with retryAfterMs (CHAT_ERR_RESTARTING): the latest mark goes again after the wait.
   * Where the client gives up instead (a refused leave()), the refusal is an `error`.
   */
  throttled: ChatClientError;
  /**
   * Replay finished (after a reconnect or a `sync`); recovered false = part of the range is gone. `hasEarlier` only
   * ends a replay bounded by the `history` option: true when records before `from` (after the resume point) were left
   * out, to be read over HTTP with `before=<from>` if the application wants them.
   */
  sync: { readonly from: number; readonly to: number; readonly recovered: boolean; readonly hasEarlier?: boolean };
  /**
   * The records this client delivered after `after` (up to `lastSequenceId`) are not the conversation's: its
   * history diverged from the server's journal (ids handed out again after a server crash during a storage outage;
   * docs/client.md, Resume). Remove them from the view: the `message` events that follow, from `after + 1`, are the
   * conversation's records in their place. Comes before that replay, from servers that check resumes (the client
   * names its last record on every resume).
   */
  reset: { readonly after: number; readonly lastSequenceId: number };
  /** A message of ours was acknowledged. */
  ack: SendResult;
  disconnected: { readonly code: number; readonly reason: string; readonly willReconnect: boolean };
  /**
   * Before each scheduled attempt: its number since the last healthy connection, its delay, and the server address it
   * goes to (the next of several urls after a server went away, an owner a refusal named, or the same one).
   */
  reconnecting: { readonly attempt: number; readonly delayMs: number; readonly url: string };
  /** The next attempt goes to the server a 4421 refusal named (followOwner); later closes return to `url`. */
  redirected: { readonly ownerAddress: string };
  /** Terminal: fatal close, retries exhausted, or close() called. */
  closed: { readonly code?: number; readonly reason: string };
}

/** The handle createChatClient returns. */
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
  /**
   * This user has read everything up to `sequenceId` (e.g. the last record the page shows): a `read` frame when it is
   * above what was marked before (one position per user, shared by its tabs; the server never lowers it but to clamp
   * it to the conversation's end after a journal loss). Call it for
   * every record shown if that is simplest: the server tells the others at most once a second per member. A mark made
   * while disconnected is sent once connected; one the server refuses with retry_after_ms, after that wait. RangeError
   * for a value that is not an integer >= 0.
   */
  markRead(sequenceId: number): void;
  /**
   * Replaces the content of this user's own message `messageId` (docs/client.md, Editing and deleting): an `edit`
   * frame, taken in every state but closed (returns true; false and nothing sent once the client has ended). Kept until
   * the server answers, across disconnects, and sent in the order of the application's send(), edit() and delete()
   * calls (an edit of a message still in the outbox goes after that message's ack), paced by the message budget; one
   * unanswered when its connection ended goes again after the reconnect unless the resume replays its record. Taken,
   * every member (this client too) gets the `edited` event; refused, an `error` event with `replyTo: 'edit'` and the
   * messageId (CHAT_ERR_FORBIDDEN: not this user's text message, or deleted; GATEWAY_ERR_CONTENT_INVALID;
   * GATEWAY_ERR_RATE_LIMITED ...). Still kept when the client ends: an `error` event with the code it ended with
   * (CLIENT_CLOSED ...), `replyTo` and the messageId. TypeError for an empty messageId or content.
   */
  edit(messageId: string, content: string): boolean;
  /** Deletes this user's own message `messageId`, kept and sent as edit() is: the `redacted` event, or an `error` with `replyTo: 'delete'`. */
  delete(messageId: string): boolean;
  /** Asks the server to replay everything after the last delivered sequence id. */
  sync(): void;
  /**
   * Asks the server to remove this participant (docs/client.md, Leaving). Resolves once the server confirmed it (its
   * close 1000 after removing the member, or a 4003 CHAT_ERR_NOT_PARTICIPANT: no member any more); the client is then
   * closed and never reconnects. Rejects with the server's refusal (GATEWAY_ERR_RATE_LIMITED with retryAfterMs past
   * the membership budget, or another error frame answering the leave): the client stays connected, a member's.
   * While (re)connecting the leave waits for the next connection; a socket lost before the answer is reconnected to
   * find out (a refused reconnect, 4003, resolves; an accepted one sends the leave again). Rejects CLIENT_NOT_CONNECTED
   * before connect(), and with the error the client ended with if it ends otherwise first (CLIENT_CLOSED after close()).
   */
  leave(): Promise<void>;
  /** Stops everything: socket, timers, reconnects; pending sends reject with CLIENT_CLOSED. */
  close(): void;
  /**
   * While waiting out a reconnect backoff (state 'reconnecting', no attempt in flight): makes that attempt now and
   * returns true, e.g. for a "retry now" button or the browser's `online` event. Otherwise does nothing, false.
   */
  reconnectNow(): boolean;
  readonly state: ConnectionState;
  /** Highest sequence id delivered to the application (undefined before any, in 'live' mode). */
  readonly lastSequenceId: number | undefined;
  readonly participants: readonly Participant[];
  /**
   * Ids of the human members online (this user included once connected), as of the last frame: while the client
   * is disconnected it is what was known then, brought up to date by the next connect's participant list.
   */
  readonly online: readonly string[];
  /**
   * Participant id -> the sequence id each member has read up to ("seen by"), as of the last frame (empty before the
   * first connect, and from servers without read positions). Kept up to date by `read` events; current members only
   * (a leaver drops out, as from `online`). Only rising, but after a journal loss (a connect naming a last id below
   * ours): that connection's participant list lowers the positions the server clamped to its end.
   */
  readonly readPositions: ReadonlyMap<string, number>;
  readonly mode: ConversationMode | undefined;
  /** Messages sent but not yet acknowledged as persisted. */
  readonly pendingCount: number;
  /** Frames the client dropped as duplicates (sequence id already delivered). */
  readonly duplicatesDropped: number;
}
