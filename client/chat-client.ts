/**
 * The reference nlweb-chat WebSocket client for browsers and Node (no Node-only API here: the
 * `ws` package is loaded lazily, only when running under Node without an injected WebSocket).
 *
 * Guarantees it adds on top of the protocol (docs/client.md):
 * - reconnects on retriable closes with exponential backoff + jitter (1 s, 2 s, 4 s ... 30 s),
 *   up to `maxRetries` consecutive failures (a connection that closes within `healthyAfterMs` is one), and resumes
 *   from the last delivered sequence id; given several server urls, leaves one that is gone for the next at once, and
 *   backs off once all failed (entry-points.ts);
 * - delivers messages to the application exactly once and strictly in sequence order (dedup by
 *   sequence id, out-of-order frames buffered, a `sync` asked for on a gap: delivery-buffer.ts);
 * - at-least-once sending: a message stays in the outbox and is re-sent with the SAME message_id
 *   after every reconnect until the server acknowledges it as persisted (outbox.ts);
 * - paces its messages and syncs to the message budget the server announces, and honours `retry_after_ms` of 429
 *   error frames before re-sending (those refusals are `throttled` events, not `error`s: send-pacer.ts, outbox.ts);
 * - edits and deletes are kept until answered, across disconnects, in the order of the application's calls among its
 *   messages, and re-sent after a reconnect only if the resume did not replay their records (change-queue.ts);
 * - leave() settles on the server's answer: its close after removing the member, or its refusal (leave-request.ts).
 *
 * This file wires the modules together and dispatches server frames; the connection lifecycle is
 * connection-loop.ts and the state each guarantee needs lives in its own module.
 */
import { createAckThrottle } from './ack-throttle';
import { DEFAULT_BACKOFF } from './backoff';
import { createConnectionLoop, type Attempt } from './connection-loop';
import { createEntryPoints, entryPointList } from './entry-points';
import { checkConversationId } from './conversation-id-option';
import { checkResumeOptions } from './resume-options';
import { defaultClock, defaultGenerateId, defaultWebSocketImpl } from './client-platform';
import { ChatClientError, type ChatClient, type ChatClientEvents, type ChatClientOptions, type ConnectedInfo } from './client-types';
import { createChatSocket } from './chat-socket';
import { buildChatSocketUrl } from './chat-socket-url';
import { createDeliveryBuffer } from './delivery-buffer';
import { createHeartbeat } from './heartbeat';
import { createLeaveRequest, refusedLeave } from './leave-request';
import { frameBytesProblem, limitsOfConnected, messageBudgetOf, sizesProblem, type ServerLimits } from './message-limits';
import { createMessageChanges } from './message-changes';
import { createOutbox } from './outbox';
import { createSendPacer } from './send-pacer';
import { createOwnerRedirect } from './owner-redirect';
import { createUnreachableServers } from './unreachable-servers';
import {
  answeredFrameType,
  CLOSE_CODES,
  isSlowDown,
  parseServerFrame,
  PRESENCE_BATCHES_SUBPROTOCOL,
  REFUSAL_SUBPROTOCOL,
  type ConnectedFrame,
  type ErrorFrame,
  type ResetFrame,
  type ServerFrame,
} from './protocol-frames';
import { createReadMarks } from './read-marks';
import { createRoster } from './roster';
import { subprotocolOffers } from './subprotocol-offer';
import { createTypedEmitter } from './typed-emitter';

// The public types and buildChatSocketUrl used to be declared here; importers of this file keep them.
export * from './client-types';
export { buildChatSocketUrl } from './chat-socket-url';
export type { FollowOwnerOption } from './owner-redirect';

/** Creates a client; nothing happens until connect(). */
export function createChatClient(options: ChatClientOptions): ChatClient {
  // First: a url option that names no server is the caller's mistake, thrown before anything is made.
  const urls = entryPointList(options.url);
  const healthyAfterMs = healthyAfterMsOption(options.healthyAfterMs);
  checkConversationId(options.conversationId);
  checkResumeOptions(options.lastSequenceId, options.history);
  const clock = options.clock ?? defaultClock();
  /** Servers found unreachable: read by the list of servers and the owner redirect, marked by the connection loop. */
  const unreachable = createUnreachableServers(() => clock.now());
  const entries = createEntryPoints(urls, unreachable);
  const generateId = options.generateId ?? defaultGenerateId;
  const events = createTypedEmitter<ChatClientEvents>();
  const socket = createChatSocket();

  const initialSeq = options.lastSequenceId === 'live' ? undefined : (options.lastSequenceId ?? 0);
  /** The `history` bound, asked for until a connection is made (then every reconnect resumes from the cursor). */
  let historyPending = initialSeq === undefined ? undefined : options.history;
  const acks = createAckThrottle({
    clock,
    intervalMs: options.ackIntervalMs ?? 200,
    every: Math.max(1, options.ackEvery ?? 50),
    initialAcked: initialSeq ?? 0,
    lastSequenceId: () => delivery.lastSequenceId,
    sendAck: (sequence_id) => socket.send({ type: 'ack', sequence_id }),
  });
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000;
  /**
   * Sends at the message budget the server announced, so it does not refuse them (one per client, across sockets):
   * messages, syncs, edits and deletes, the frames the server spends that budget on.
   */
  const pacer = createSendPacer(clock);
  /**
   * The last record delivered, named on every resume (URL and `sync`) so the server can tell whether our history is
   * still the conversation's (a `reset` frame when it is not). Only while it is the record at the cursor: a cursor
   * moved without a record (a skipped range, a reset, a 'live' start) names none.
   */
  let lastRecord: { sequence_id: number; message_id: string; sender_id: string } | undefined;
  const recordAt = (sequenceId: number | undefined): { message_id: string; sender_id: string } | undefined =>
    lastRecord !== undefined && lastRecord.sequence_id === sequenceId ? lastRecord : undefined;
  const delivery = createDeliveryBuffer({
    clock,
    defaultRetryAfterMs,
    initialSequenceId: initialSeq,
    deliver(message) {
      lastRecord = { sequence_id: message.sequence_id, message_id: message.message_id, sender_id: message.sender_id };
      events.emit('message', message);
      changes.onRecord(message);
      acks.schedule();
    },
    isReady: () => loop.ready,
    sendSync: (last_sequence_id) => {
      const named = recordAt(last_sequence_id);
      return socket.send({
        type: 'sync',
        last_sequence_id,
        ...(named === undefined ? {} : { last_message_id: named.message_id, last_sender_id: named.sender_id }),
      });
    },
    pacer,
  });
  /**
   * The limits of the server last connected to; undefined before the first `connected` frame. Sends made before it
   * are queued and checked when they are flushed, right after that frame, rather than against assumed defaults:
   * nothing can be sent earlier anyway, and a server configured above or below the defaults is then neither
   * refused messages it would take nor sent ones that would end the client.
   */
  let serverLimits: ServerLimits | undefined;
  /** Numbers the application's send(), edit() and delete() calls: they go on the wire in this order. */
  let calls = 0;
  const nextOrder = (): number => ++calls;
  // Messages sent after leave() wait for its answer: refused, they go; accepted, they reject with the client's end.
  // Edits and deletes too.
  const canSend = (): boolean => loop.ready && loop.state !== 'closed' && !leave.inFlight;
  const outbox = createOutbox({
    clock,
    defaultRetryAfterMs,
    pacer,
    canSend,
    sendFrame: (frame) => socket.send(frame),
    emitAck: (result) => events.emit('ack', result),
    sizeProblem: (sizes) => (serverLimits === undefined ? undefined : sizesProblem(sizes, serverLimits)),
    nextOrder,
    heldBefore: (order) => changes.heldBefore(order),
  });
  const heartbeat = createHeartbeat({
    clock,
    intervalMs: options.pingIntervalMs ?? 25_000,
    isReady: () => loop.ready,
    sendPing: () => socket.send({ type: 'ping' }),
    onSilence: () => loop.drop(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'no frame from the server within two ping intervals'),
  });
  const changes = createMessageChanges({
    clock,
    pacer,
    canSend,
    isClosed: () => loop.state === 'closed',
    sendFrame: (frame) => socket.send(frame),
    messagesBefore: (order) => outbox.unsequencedBefore(order),
    frameProblem: (frame) => (serverLimits === undefined ? undefined : frameBytesProblem(frame, serverLimits)),
    released: () => outbox.flush(),
    nextOrder,
    ownId: () => ownId,
    emitEdited: (event) => events.emit('edited', event),
    emitRedacted: (event) => events.emit('redacted', event),
    emitUnsettled: (err) => events.emit('error', err),
  });
  const leave = createLeaveRequest({
    sendLeave: () => socket.send({ type: 'leave' }),
    resumeSending: () => {
      outbox.flush();
      changes.pump();
    },
  });
  const roster = createRoster({
    emitParticipants: (payload) => events.emit('participants', payload),
    emitMode: (payload) => events.emit('mode', payload),
    emitPresence: (payload) => events.emit('presence', payload),
    emitRead: (payload) => events.emit('read', payload),
  });
  /** Who this client is in the conversation (the `connected` frame's participant_id), for its own read position. */
  let ownId: string | undefined;
  const reads = createReadMarks({
    clock,
    isReady: () => loop.ready,
    sendRead: (sequenceId) => socket.send({ type: 'read', sequence_id: sequenceId }),
  });

  const redirect = createOwnerRedirect(() => entries.current, options.followOwner, unreachable);
  const loop = createConnectionLoop({
    clock,
    random: options.random ?? Math.random,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    maxRetries: options.maxRetries ?? 10,
    healthyAfterMs,
    connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
    renewsToken: typeof options.token === 'function',
    events,
    socket,
    subprotocols: subprotocolOffers([REFUSAL_SUBPROTOCOL, PRESENCE_BATCHES_SUBPROTOCOL]),
    redirect,
    entries,
    unreachable,
    webSocketImpl: () => options.WebSocketImpl ?? defaultWebSocketImpl(),
    nextAttempt() {
      const attempt = (token: string | undefined): Attempt => {
        const resumedFrom = delivery.lastSequenceId;
        const base = redirect.base;
        const url = buildChatSocketUrl(base, options.conversationId, {
          ...(token !== undefined ? { token } : {}),
          ...(options.userId !== undefined ? { userId: options.userId } : {}),
          ...(resumedFrom !== undefined ? { lastSequenceId: resumedFrom } : {}),
          ...(recordAt(resumedFrom) !== undefined ? { lastRecord: recordAt(resumedFrom) } : {}),
          ...(historyPending !== undefined ? { history: historyPending } : {}),
        });
        return { url, base, resumedFrom };
      };
      const { token } = options;
      if (typeof token !== 'function') return attempt(token);
      // A fresh token for every attempt (docs/client.md): a string at once, a promise when the app must fetch one.
      const failed = (err: unknown): never => {
        throw new ChatClientError('CLIENT_CONNECT_FAILED', `token() failed: ${err instanceof Error ? err.message : String(err)}`);
      };
      let fresh: string | Promise<string>;
      try {
        fresh = token();
      } catch (err) {
        return failed(err);
      }
      return typeof fresh === 'string' ? attempt(fresh) : Promise.resolve(fresh).then(attempt, failed);
    },
    onData(data, attempt) {
      // Any frame, even one we cannot parse, proves the connection alive.
      heartbeat.noteFrame();
      const frame = parseServerFrame(data);
      if (frame) handleFrame(frame, attempt);
    },
    onSocketEnded() {
      // Held records and an in-flight sync die with the socket: the resume replays them.
      delivery.onSocketGone();
      leave.onSocketEnded();
      heartbeat.stop();
      acks.stop();
      outbox.cancelResume();
      reads.onSocketGone();
      // Kept: what was on the wire goes again after the next connection's replay, unless that answers it.
      changes.onSocketGone();
      // Whatever was on the wire without an ack goes again after the reconnect (same message_id).
      if (loop.state !== 'closed') outbox.requeueSent();
    },
    onClosed(err) {
      leave.onClientEnded(err);
      // A sync's retry timer goes too (close() does not end the socket through onSocketEnded).
      delivery.onSocketGone();
      acks.stop();
      heartbeat.stop();
      outbox.cancelResume();
      reads.onSocketGone();
      changes.onClosed(err);
      outbox.rejectAll(err);
    },
  });

  function handleFrame(frame: ServerFrame, attempt: Attempt): void {
    switch (frame.type) {
      case 'connected':
        return onConnected(frame, attempt);
      case 'message':
        return delivery.onMessage(frame.message);
      case 'message_ack':
        outbox.onAck(frame);
        // An edit or delete waiting for this message's sequence id may go.
        return changes.pump();
      case 'change_ack':
        // After its record, if it made one: changed or not, the edit or delete is answered.
        return changes.onAcked(frame);
      case 'persisted':
        return outbox.onPersisted(frame.up_to_sequence_id);
      case 'participant_list':
        roster.onList(frame);
        // A mark the last connection did not deliver (or made while disconnected) is said again.
        reads.onWelcome(frame.read_positions, ownId);
        return;
      case 'read':
        return roster.onRead(frame);
      case 'read_batch':
        for (const [participantId, sequenceId] of Object.entries(frame.positions))
          roster.onRead({ type: 'read', participant_id: participantId, sequence_id: sequenceId });
        return;
      case 'participant_update':
        return roster.onUpdate(frame);
      case 'mode_change':
        return roster.setMode(frame.mode);
      case 'typing':
        events.emit('typing', { participantId: frame.participant_id, isTyping: frame.is_typing });
        return;
      case 'presence':
        return roster.onPresence(frame);
      case 'presence_batch':
        for (const [participantId, online] of Object.entries(frame.changes))
          roster.onPresence({ type: 'presence', participant_id: participantId, online });
        return;
      case 'sync_complete':
        delivery.onSyncComplete(frame.recovered, frame.to);
        // A range the server no longer has moves the cursor without a record.
        changes.onCursor(delivery.lastSequenceId);
        events.emit('sync', {
          from: frame.from,
          to: frame.to,
          recovered: frame.recovered,
          ...(typeof frame.has_earlier === 'boolean' ? { hasEarlier: frame.has_earlier } : {}),
        });
        return;
      case 'reset':
        return onReset(frame);
      case 'error':
        return onErrorFrame(frame);
      default:
        return;
    }
  }

  function onConnected(frame: ConnectedFrame, { resumedFrom, base }: Attempt): void {
    // Before markOpen and the `connected` event: a send() from its listener is checked against this server's limits.
    serverLimits = limitsOfConnected(frame);
    ownId = frame.participant_id;
    reads.onConnected(frame.last_sequence_id);
    pacer.setBudget(messageBudgetOf(serverLimits));
    const reconnect = loop.markOpen();
    // One frame per interval for the room's read positions instead of one per reader (100 a second in a room of 100
    // all reading); asked for only where offered: an older server would answer the unknown frame with an error.
    if (frame.features?.includes('read_batches')) socket.send({ type: 'options', read_batches: true });
    const lastSeq = delivery.lastSequenceId;
    // Before this connection's participant list: after a journal loss its read positions may be lower than ours.
    roster.onConnected(frame.last_sequence_id, lastSeq !== undefined && frame.last_sequence_id < lastSeq);
    if (lastSeq === undefined) {
      // 'live' start: everything after the head at subscribe time follows on this connection.
      delivery.setCursor(frame.last_sequence_id);
      acks.reset(frame.last_sequence_id);
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
      delivery.setCursor(frame.last_sequence_id);
      acks.reset(frame.last_sequence_id);
    }
    if (historyPending !== undefined) {
      // The server replays after max(our resume point, its head - history) (docs/protocol.md): the records before
      // that are not coming, so the cursor moves there, or the first replayed record would look like a gap.
      const cut = frame.last_sequence_id - historyPending;
      historyPending = undefined;
      if (cut > (delivery.lastSequenceId ?? 0)) {
        delivery.setCursor(cut);
        acks.reset(cut);
      }
    }
    if (frame.mode) roster.setMode(frame.mode);
    const info: ConnectedInfo = {
      conversationId: frame.conversation_id,
      participantId: frame.participant_id,
      mode: frame.mode,
      ...(frame.input_timeout !== undefined ? { inputTimeout: frame.input_timeout } : {}),
      serverLastSequenceId: frame.last_sequence_id,
      ...(resumedFrom !== undefined ? { resumedFrom } : {}),
      reconnect,
      url: base,
      protocolVersion: protocolVersionOf(frame),
      // A copy: an application changing what it was given must not change what the outbox checks.
      limits: { ...serverLimits },
    };
    heartbeat.start();
    loop.announce(info);
    // Unpersisted messages go again: the runtime answers a duplicate with its original sequence id.
    outbox.requeueAcked();
    outbox.flush();
    // Edits and deletes: at once, or after the replay if one may have been taken on the socket that ended.
    changes.onConnected(frame.last_sequence_id, delivery.lastSequenceId);
    // After the flush: messages sent before leave() go before it.
    leave.onReady();
  }

  /**
   * Our records after `after` are not the conversation's (the server checked the record we named on resume): the
   * cursor moves back there and the application drops them; the replay that follows brings the server's.
   */
  function onReset(frame: ResetFrame): void {
    const after = frame.after;
    const cursor = delivery.lastSequenceId;
    if (typeof after !== 'number' || cursor === undefined || after >= cursor) return;
    lastRecord = undefined;
    delivery.setCursor(after);
    acks.reset(after);
    events.emit('reset', {
      after,
      lastSequenceId: typeof frame.last_sequence_id === 'number' ? Math.max(cursor, frame.last_sequence_id) : cursor,
    });
  }

  function onErrorFrame(frame: ErrorFrame): void {
    const err = new ChatClientError(frame.error ?? 'UNKNOWN', frame.message ?? frame.error ?? 'error', {
      ...(typeof frame.code === 'number' ? { status: frame.code } : {}),
      ...(typeof frame.retry_after_ms === 'number' ? { retryAfterMs: frame.retry_after_ms } : {}),
      ...(typeof frame.message_id === 'string' ? { messageId: frame.message_id } : {}),
      ...(typeof frame.sequence_id === 'number' ? { sequenceId: frame.sequence_id } : {}),
      ...(typeof frame.reply_to === 'string' ? { replyTo: frame.reply_to } : {}),
    });
    // Each refusal goes to what sent the frame it answers: a refused sync or leave (429s too) pauses no send.
    const answered = answeredFrameType(frame);
    switch (answered) {
      case 'message':
        outbox.onErrorFrame(frame, err);
        // A refused message no longer holds the edits and deletes after it.
        changes.pump();
        break;
      case 'sync':
        // The server's bucket is emptier than ours (another socket or an HTTP post of the user spent it): follow it.
        if (frame.error === 'GATEWAY_ERR_RATE_LIMITED' && err.retryAfterMs !== undefined) pacer.serverRefused(err.retryAfterMs);
        delivery.onSyncRefused(err.retryAfterMs);
        break;
      case 'leave':
        leave.onErrorFrame(frame, err);
        break;
      case 'edit':
      case 'delete':
        changes.onRefused(answered, frame.message_id);
        // Not retried (the application decides), but the budget is followed as for a message: a 429 brings the
        // bucket down to the server's, a refusal before the budget check (content, frame) gives its token back.
        if (frame.error === 'GATEWAY_ERR_RATE_LIMITED' && err.retryAfterMs !== undefined) pacer.serverRefused(err.retryAfterMs);
        else if (frame.error === 'GATEWAY_ERR_CONTENT_INVALID' || frame.error === 'GATEWAY_ERR_INVALID_FRAME') pacer.refund();
        break;
      case 'read':
        // A mark refused with a wait (the conversation restarting) is said again after it; one without is final.
        if (err.retryAfterMs !== undefined) reads.onRefused(err.retryAfterMs);
        break;
      default:
        break;
    }
    // A "slow down" for a message or a sync is the client's own business: it asks again after the wait, by itself.
    // The application is told, but not as an `error` it would have to handle. A refused leave is the application's.
    // So is a read refused with a wait: the client sends the mark again by itself.
    const retried =
      (isSlowDown(frame) && (answered === 'message' || answered === 'sync')) || (answered === 'read' && err.retryAfterMs !== undefined);
    events.emit(retried ? 'throttled' : 'error', err);
  }

  return {
    events,
    on: (event, listener) => events.on(event, listener),
    connect: () => loop.connect(),
    send(content, metadata) {
      if (loop.state === 'closed') return Promise.reject(new ChatClientError('CLIENT_CLOSED', 'client is closed'));
      return outbox.add(generateId(), content, metadata);
    },
    setTyping(isTyping) {
      if (loop.ready) socket.send({ type: 'typing', is_typing: isTyping });
    },
    markRead(sequenceId) {
      reads.mark(sequenceId);
    },
    edit: (messageId, content) => changes.edit(messageId, content),
    delete: (messageId) => changes.delete(messageId),
    sync() {
      delivery.forgetSync();
      delivery.requestSync();
    },
    leave() {
      if (loop.state === 'closed' || loop.state === 'idle') return refusedLeave(loop.state);
      // While (re)connecting it waits for the next connection; the server's 1000 close then ends the client.
      return leave.start(loop.ready);
    },
    close() {
      loop.finish(undefined, 'close() called');
    },
    reconnectNow: () => loop.reconnectNow(),
    get state() {
      return loop.state;
    },
    get lastSequenceId() {
      return delivery.lastSequenceId;
    },
    get participants() {
      return roster.participants;
    },
    get online() {
      return roster.online;
    },
    get readPositions() {
      return roster.readPositions;
    },
    get mode() {
      return roster.mode;
    },
    get pendingCount() {
      return outbox.size;
    },
    get duplicatesDropped() {
      return delivery.duplicatesDropped;
    },
  };
}

/**
 * The `connected` frame's protocol_version, or 1 from a server older than the field (it spoke 1: docs/protocol.md).
 * A value that is not a positive integer is taken as absent rather than handed on: the application compares it.
 */
function protocolVersionOf(frame: ConnectedFrame): number {
  const v = frame.protocol_version;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : 1;
}

/** 10 s: far longer than a server that says `connected` and dies takes to close, far shorter than a working session. */
const DEFAULT_HEALTHY_AFTER_MS = 10_000;

function healthyAfterMsOption(value: number | undefined): number {
  if (value === undefined) return DEFAULT_HEALTHY_AFTER_MS;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new RangeError(`healthyAfterMs: ${value} is not a number >= 0`);
  return value;
}
