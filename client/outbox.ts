/**
 * The outbox: messages sent by the application and not yet acknowledged as persisted, with the
 * re-send policy that gives at-least-once delivery. A message keeps its message_id across every
 * re-send, and the runtime dedups by (sender, message_id), so a re-send never creates a second record.
 *
 * Entry states: queued = to be (re-)sent; sent = on the wire, no ack yet; acked = has a sequence id
 * but is not persisted yet (re-sent after a reconnect, in case the server lost it).
 */
import { ChatClientError, type ClientClock, type SendResult } from './client-types';
import { measureMessage, type MessageSizes, type OutgoingMessage } from './message-limits';
import { isSlowDown, type ClientFrame, type ErrorFrame, type MessageAckFrame } from './protocol-frames';
import type { SendPacer } from './send-pacer';

interface OutboxEntry {
  readonly message_id: string;
  readonly content: string;
  readonly metadata?: Record<string, unknown>;
  /** Measured once in add(): every send compares them with the limits of the server it goes to. */
  readonly sizes: MessageSizes;
  /** Its place among the application's send(), edit() and delete() calls (change-queue.ts). */
  readonly order: number;
  state: 'queued' | 'sent' | 'acked';
  sequence_id?: number;
  /** The send() promise is settled once; the entry may live on until `persisted`. */
  settled: boolean;
  resolve(result: SendResult): void;
  reject(err: Error): void;
}

/**
 * Messages on the wire without a message_ack, at most. A 429 shrinks the window to one and every ack widens it by
 * one again (up to this): after a pause the refused message goes alone, and a queue of hundreds is not re-sent
 * whole into a bucket that has room for one (300 queued sends drew 33,930 refusals that way). One per ack, not
 * twice per ack: a window that doubled back to 32 between pauses had ~30 messages on the wire at each 429, all
 * refused behind it (930 refusals for 300 sends on a loaded machine).
 */
const MAX_IN_FLIGHT = 32;
/** The server accepted other content under this message_id: no re-send of it can ever succeed. */
const ID_REUSED = 'CHAT_ERR_MESSAGE_ID_REUSED';
/**
 * Refusals the server makes before it takes a token of the message budget (gateway/message-posting.ts, and the frame
 * schema before it): the token the pacer spent on the message was not spent there.
 */
const REFUSED_BEFORE_BUDGET = new Set(['GATEWAY_ERR_HELD_FOR_ORDER', 'GATEWAY_ERR_CONTENT_INVALID', 'GATEWAY_ERR_INVALID_FRAME']);

/** What the outbox needs from the client around it. */
export interface OutboxDeps {
  readonly clock: ClientClock;
  /** Used when a 429 error frame carries no retry_after_ms. */
  readonly defaultRetryAfterMs: number;
  /** Holds each message until the server's message budget has room for it (send-pacer.ts). */
  readonly pacer: Pick<SendPacer, 'waitMs' | 'spend' | 'refund' | 'serverRefused'>;
  /** True while frames may be sent (connected and not closed). */
  canSend(): boolean;
  /** Puts a frame on the current socket; false if there is none or it failed. */
  sendFrame(frame: ClientFrame): boolean;
  /** Reports an acknowledgement (message_ack or persisted) to the application. */
  emitAck(result: SendResult): void;
  /**
   * Why the server would refuse a message of these sizes (client/message-limits.ts), or undefined: also while the
   * server's limits are not known yet (before the first `connected` frame), as flush() checks again before sending.
   */
  sizeProblem(sizes: MessageSizes): string | undefined;
  /** Its place for the next send(), edit() or delete() call (one counter with change-queue.ts). */
  nextOrder(): number;
  /** True while an edit or delete the application asked for before `order` is not on the wire yet: it goes first. */
  heldBefore(order: number): boolean;
}

/** The outbox of one client (see the file comment). */
export interface Outbox {
  /** Queues a message and tries to send it; the promise settles on its ack or rejection. */
  add(message_id: string, content: string, metadata: Record<string, unknown> | undefined): Promise<SendResult>;
  /**
   * Sends the queued entries in order, each when the pacer has a token for it, unless sending is paused by a 429
   * (either way a resume is scheduled).
   */
  flush(): void;
  onAck(frame: MessageAckFrame): void;
  /** `persisted` frame: acked entries up to that sequence id are done. */
  onPersisted(upToSequenceId: number): void;
  /**
   * An `error` frame answering one of our `message` frames (answeredFrameType 'message'; the refusal of a sync or a
   * leave is no reason to stop sending): a 429 pauses sending and re-queues it; another error rejects it.
   */
  onErrorFrame(frame: ErrorFrame, err: ChatClientError): void;
  /** The socket went away: whatever was on the wire without an ack goes again. */
  requeueSent(): void;
  /** A new connection: unpersisted messages go again (a duplicate is answered with its original sequence id). */
  requeueAcked(): void;
  /** Cancels a pending resume after a 429 (the socket is gone or the client closed). */
  cancelResume(): void;
  /** Rejects every unsettled send with `err` and empties the outbox. */
  rejectAll(err: Error): void;
  /**
   * True while a message sent before `order` has no sequence id from this connection yet (never acknowledged, or sent
   * again after a reconnect and not acknowledged again): an edit or delete after it waits for that.
   */
  unsequencedBefore(order: number): boolean;
  readonly size: number;
}

/** Creates an empty outbox. */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { clock } = deps;
  const entries = new Map<string, OutboxEntry>();
  /** Sending is paused until this time after a 429. */
  let pausedUntil = 0;
  /** The longest wait a 429 asked for: a pause that seems longer than that means the clock was set back. */
  let longestPauseMs = 0;
  /** How many entries may be 'sent' at once (see MAX_IN_FLIGHT). */
  let window = MAX_IN_FLIGHT;
  let resumeTimer: unknown;

  function settleReject(entry: OutboxEntry, err: Error): void {
    entry.settled = true;
    entry.reject(err);
  }

  function messageFrame(e: Pick<OutboxEntry, 'message_id' | 'content' | 'metadata'>): OutgoingMessage {
    return { type: 'message', message_id: e.message_id, content: e.content, ...(e.metadata !== undefined ? { metadata: e.metadata } : {}) };
  }

  function tooLargeError(messageId: string, problem: string): ChatClientError {
    return new ChatClientError('CLIENT_MESSAGE_TOO_LARGE', `not sent: ${problem}`, { messageId });
  }

  function cancelResume(): void {
    if (resumeTimer !== undefined) clock.clearTimeout(resumeTimer);
    resumeTimer = undefined;
  }

  function resumeIn(ms: number): void {
    cancelResume();
    resumeTimer = clock.setTimeout(
      () => {
        resumeTimer = undefined;
        flush();
      },
      Math.max(0, ms),
    );
  }

  function scheduleResume(): void {
    resumeIn(pausedUntil - clock.now());
  }

  function flush(): void {
    if (!deps.canSend()) return;
    const now = clock.now();
    // The default clock is Date.now: set back by an hour during a pause, the pause would last an hour more. A
    // remaining pause longer than any the server asked for can only be that: it is over (a re-send that is still too
    // early is simply refused again, with a new wait).
    if (pausedUntil - now > longestPauseMs) pausedUntil = now;
    if (now < pausedUntil) {
      if (resumeTimer === undefined) scheduleResume();
      return;
    }
    let inFlight = 0;
    for (const e of entries.values()) if (e.state === 'sent') inFlight++;
    for (const e of entries.values()) {
      if (inFlight >= window) return;
      if (e.state !== 'queued') continue;
      // An edit or delete asked for before this message goes before it (entries are in call order: so do the rest).
      if (deps.heldBefore(e.order)) return;
      // Checked on every send (the sizes add() measured, against this server's limits), not only in add(): a message
      // queued before the first `connected` frame meets the limits here, and a reconnect may reach a server with
      // smaller ones. Sent, it would close this socket (1009) and end the client; refused, only this message fails.
      // An acknowledged one (a re-send for durability) has no promise left to reject: it is dropped, having been
      // sequenced by a server that took it.
      const problem = deps.sizeProblem(e.sizes);
      if (problem !== undefined) {
        entries.delete(e.message_id);
        if (!e.settled) settleReject(e, tooLargeError(e.message_id, problem));
        continue;
      }
      // The rest wait in order for the next token; a resume already pending (an earlier wait) keeps its time.
      const wait = deps.pacer.waitMs();
      if (wait > 0) {
        if (resumeTimer === undefined) resumeIn(wait);
        return;
      }
      // Stop at the first failure: the rest stay queued for the next connection, in order.
      if (!deps.sendFrame(messageFrame(e))) return;
      deps.pacer.spend();
      e.state = 'sent';
      inFlight++;
    }
  }

  return {
    add(message_id, content, metadata) {
      return new Promise<SendResult>((resolve, reject) => {
        // A copy as it goes on the wire (a throw here rejects the send): the server refuses a re-send whose
        // metadata differs from what it accepted (CHAT_ERR_MESSAGE_ID_REUSED), and the application may change
        // its object after send() returned.
        const sent = metadata === undefined ? undefined : (JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>);
        // Refused at once when the server's limits are known: nothing is queued, the connection is untouched.
        const order = deps.nextOrder();
        const sizes = measureMessage(messageFrame({ message_id, content, ...(sent !== undefined ? { metadata: sent } : {}) }));
        const problem = deps.sizeProblem(sizes);
        if (problem !== undefined) {
          reject(tooLargeError(message_id, problem));
          return;
        }
        entries.set(message_id, {
          message_id,
          content,
          ...(sent !== undefined ? { metadata: sent } : {}),
          sizes,
          order,
          state: 'queued',
          settled: false,
          resolve,
          reject,
        });
        flush();
      });
    },
    flush,
    onAck(frame) {
      const entry = entries.get(frame.message_id);
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
      const wasInFlight = entry.state === 'sent';
      if (result.persisted) entries.delete(frame.message_id);
      else entry.state = 'acked';
      deps.emitAck(result);
      if (wasInFlight) {
        window = Math.min(MAX_IN_FLIGHT, window + 1);
        flush();
      }
    },
    onPersisted(upTo) {
      for (const [id, e] of entries) {
        if (e.state !== 'acked' || e.sequence_id === undefined || e.sequence_id > upTo) continue;
        entries.delete(id);
        deps.emitAck({ message_id: id, sequence_id: e.sequence_id, persisted: true, duplicate: false });
      }
    },
    onErrorFrame(frame, err) {
      const entry = frame.message_id !== undefined ? entries.get(frame.message_id) : undefined;
      // Sent on this socket, so a token was spent on it here; the server's bucket still has it.
      const refunded = entry?.state === 'sent' && REFUSED_BEFORE_BUDGET.has(frame.error);
      if (refunded) deps.pacer.refund();
      if (isSlowDown(frame)) {
        // Back off, then re-send with the same id (a message that did get through is deduplicated).
        const wait = typeof frame.retry_after_ms === 'number' ? frame.retry_after_ms : deps.defaultRetryAfterMs;
        // The server's bucket is emptier than ours (another socket or an HTTP post of the user spent it): follow it.
        // A held message's wait is the hold's, a full mailbox's the actor's: neither says anything of the bucket.
        if (frame.error === 'GATEWAY_ERR_RATE_LIMITED' && typeof frame.retry_after_ms === 'number') deps.pacer.serverRefused(wait);
        pausedUntil = Math.max(pausedUntil, clock.now() + wait);
        longestPauseMs = Math.max(longestPauseMs, wait);
        window = 1;
        // Only the refused message goes back: the server refuses each later one of this socket by its own id
        // (GATEWAY_ERR_HELD_FOR_ORDER) until it is back, and answers every other one.
        if (entry?.state === 'sent') entry.state = 'queued';
        scheduleResume();
      } else if (entry && !entry.settled) {
        entries.delete(entry.message_id);
        settleReject(entry, err);
      } else if (entry && frame.error === ID_REUSED) {
        // An acknowledged message's re-send, refused: kept, it would go again (and be refused) after every reconnect.
        entries.delete(entry.message_id);
      }
      // What waited for that token goes now (a held message's refusal pauses instead, above).
      if (refunded && !isSlowDown(frame)) flush();
    },
    requeueSent() {
      for (const e of entries.values()) if (e.state === 'sent') e.state = 'queued';
    },
    requeueAcked() {
      for (const e of entries.values()) if (e.state === 'acked') e.state = 'queued';
    },
    cancelResume,
    rejectAll(err) {
      for (const e of entries.values()) if (!e.settled) settleReject(e, err);
      entries.clear();
    },
    unsequencedBefore(order) {
      // Only an ack on this connection counts: a message acknowledged before the socket ended (not persisted) is sent
      // again after the reconnect, and until that is acknowledged its old sequence id may name nothing on this server
      // (a failover, a crash before the write), so an edit of it going first would be refused as of no such message.
      for (const e of entries.values()) if (e.order < order && e.state !== 'acked') return true;
      return false;
    },
    get size() {
      return entries.size;
    },
  };
}
