/**
 * The edits and deletes the application asked for that the server has not answered yet (docs/client.md, Editing and
 * deleting). They are kept across disconnects as messages are in the outbox, with rules of their own:
 *
 * - Order: they go on the wire in the order the application made its send(), edit() and delete() calls. A change
 *   waits until every message sent before it has a sequence id (the server refuses an edit of a message it has not
 *   sequenced yet, so one of a message still in the outbox goes after that message's ack), and a message sent after
 *   a change waits until the change is on the wire (outbox.ts asks heldBefore).
 * - Answers: servers since `change_ack` answer each change they take on its socket with one, after its record (if it
 *   made one), also when it changed nothing (the same text again, a deleted message deleted again): that ack settles
 *   the oldest such change on the socket. Older servers send none: an edit is answered by its `edit` record (the
 *   edited message, this user, the same content), a delete by the `redaction` record naming its message; both servers
 *   by a refusal (`error` with reply_to and message_id). An answer also settles the earlier changes of the same
 *   message still waiting for one: the server took them first. A change on the socket settled before its own ack or
 *   refusal (by its record, by the same edit from the user's other tab, with a later change of its message) leaves a
 *   note in the send order, so that answer, when it comes, settles nothing else: a socket's answers come in the
 *   order its changes went, whatever their `changed` or `sequence_id` say (one exception: a refusal made before the
 *   runtime, content or budget, can pass an earlier change of the message still in the runtime; the two answers then
 *   settle each other's change, and both end settled).
 * - Re-sending: a change on the wire when its socket ended goes again after the reconnect, but only once the resume
 *   has replayed the conversation up to the server's head (`connected.last_sequence_id`): a change the server took
 *   is answered by its record in that replay and is not sent again, so an edit never lands a second time after a
 *   later one (this client's or another tab's). Changes made meanwhile wait with it, in order. Re-sending is harmless
 *   anyway: the same edit again, or deleting a deleted message, changes nothing (a server with `change_ack` says so;
 *   an older one answers nothing, and such a change stays kept until the client ends).
 * - Pacing: the server spends a token of the message budget on each, so each waits for one (send-pacer.ts).
 * - The end: when the client ends (close(), gave up, a refusal for good), each change still kept is reported once, an
 *   `error` event with the end's code, its replyTo and messageId, saying whether it had been sent (then it may have
 *   been applied: its answer never came).
 */
import { unrefTimer } from './client-platform';
import { ChatClientError, type ClientClock } from './client-types';
import type { ClientFrame } from './protocol-frames';
import type { SendPacer } from './send-pacer';

export type ChangeFrame = Extract<ClientFrame, { type: 'edit' | 'delete' }>;

interface PendingChange {
  readonly frame: ChangeFrame;
  /** Its place among the application's send(), edit() and delete() calls. */
  readonly order: number;
  /** queued: to be sent (again); sent: on the current socket. */
  state: 'queued' | 'sent';
  /** Went on a socket at least once: the server may have taken it. */
  wasSent: boolean;
}

export interface ChangeQueueDeps {
  readonly clock: ClientClock;
  readonly pacer: Pick<SendPacer, 'waitMs' | 'spend'>;
  /** True while frames may go (connected, not closed, no leave waiting for its answer). */
  canSend(): boolean;
  /** Puts a frame on the current socket; false if there is none or it failed. */
  sendFrame(frame: ClientFrame): boolean;
  /** True while a message the application sent before `order` has no sequence id yet (outbox.ts). */
  messagesBefore(order: number): boolean;
  /** A change went on the wire: messages held behind it may go now. */
  released(): void;
  /** The sequence id of this user's message `messageId`, when this client has seen it (to read redaction records). */
  sequenceOf(messageId: string): number | undefined;
  /**
   * Why the server would close the socket over this frame (over its max_frame_bytes: message-limits.ts), or undefined
   * when it fits or the server's limits are not known yet.
   */
  frameProblem(frame: ChangeFrame): string | undefined;
  /** Reports a change dropped with no answer from the server: the client ended (see the file comment), or too large. */
  emitUnsettled(err: ChatClientError): void;
}

/**
 * A change sent on the current socket that a record settled before its own answer came (its record, another tab's
 * same edit, or a later change's record settling it with its message): the answer still to come there (a
 * `change_ack` or a refusal) is its own, and settles nothing else.
 */
interface SettledEarly {
  readonly type: ChangeFrame['type'];
  readonly messageId: string;
  /** Its place in the send order, which is the order the socket's answers come in. */
  readonly order: number;
}

/**
 * Notes kept per socket, at most: an older server sends no acks, so nothing ever takes them back; past this the oldest
 * goes (its ack, if one came that late, would settle the next change of that message early).
 */
const MAX_SETTLED_NOTES = 256;

/** The queue of one client (see the file comment). */
export function createChangeQueue(deps: ChangeQueueDeps) {
  const pending: PendingChange[] = [];
  /** Changes of the current socket records settled, whose answers (from a server that acks) are still to come. */
  let settledEarly: SettledEarly[] = [];
  let timer: unknown;
  /** A change may have been taken on the socket that ended: nothing goes before the resume has replayed up to `replayTo`. */
  let awaitingReplay = false;
  /** The server's head when this connection was made, while awaitingReplay; undefined before the `connected` frame. */
  let replayTo: number | undefined;

  function cancelTimer(): void {
    if (timer !== undefined) deps.clock.clearTimeout(timer);
    timer = undefined;
  }

  function pump(): void {
    while (timer === undefined && !awaitingReplay && deps.canSend()) {
      const next = pending.find((c) => c.state === 'queued');
      if (next === undefined || deps.messagesBefore(next.order)) return;
      // Sent, a frame over max_frame_bytes makes the server close with 1009, which ends the client with everything
      // else it keeps: refused here instead, as the outbox refuses an oversize message (CLIENT_MESSAGE_TOO_LARGE).
      const problem = deps.frameProblem(next.frame);
      if (problem !== undefined) {
        pending.splice(pending.indexOf(next), 1);
        const { type, message_id: messageId } = next.frame;
        deps.emitUnsettled(
          new ChatClientError('CLIENT_MESSAGE_TOO_LARGE', `${type} of ${messageId} not sent: ${problem}`, { messageId, replyTo: type }),
        );
        deps.released();
        continue;
      }
      const wait = deps.pacer.waitMs();
      if (wait > 0) {
        timer = unrefTimer(
          deps.clock.setTimeout(() => {
            timer = undefined;
            pump();
          }, wait),
        );
        return;
      }
      if (!deps.sendFrame(next.frame)) return;
      deps.pacer.spend();
      next.state = 'sent';
      next.wasSent = true;
      deps.released();
    }
  }

  function onCursor(cursor: number | undefined): void {
    if (!awaitingReplay || replayTo === undefined || cursor === undefined || cursor < replayTo) return;
    awaitingReplay = false;
    replayTo = undefined;
    pump();
  }

  /**
   * Removes `change` and the changes of the same message sent before it: the server took those first. `byRecord`:
   * a record settles `change`, not its own answer. Each change on this socket settled before its own answer is noted,
   * so that answer, when it comes, settles nothing else (answerOf).
   */
  function settle(change: PendingChange, byRecord: boolean): void {
    const at = pending.indexOf(change);
    for (let i = at; i >= 0; i--) {
      const c = pending[i];
      if (c !== change && !(c.wasSent && c.frame.message_id === change.frame.message_id)) continue;
      pending.splice(i, 1);
      if (c.state === 'sent' && (byRecord || c !== change)) {
        settledEarly.push({ type: c.frame.type, messageId: c.frame.message_id, order: c.order });
        if (settledEarly.length > MAX_SETTLED_NOTES) settledEarly.shift();
      }
    }
    // One answered by the replay, still queued to go again, held the messages sent after it.
    deps.released();
  }

  /**
   * The change an answer (`change_ack` or refusal) of `type` on `messageId` is for: the server answers a socket's
   * changes in the order they were sent (see the file comment), so it is the oldest one sent there, whether still pending (returned) or
   * settled early by a record (its note is taken back; undefined).
   */
  function answerOf(type: ChangeFrame['type'], messageId: string | undefined): PendingChange | undefined {
    const change = pending.find((c) => c.state === 'sent' && c.frame.type === type && c.frame.message_id === messageId);
    const noted = settledEarly.findIndex((n) => n.type === type && n.messageId === messageId);
    if (noted >= 0 && (change === undefined || settledEarly[noted]!.order < change.order)) {
      settledEarly.splice(noted, 1);
      return undefined;
    }
    return change;
  }

  return {
    add(frame: ChangeFrame, order: number): void {
      pending.push({ frame, order, state: 'queued', wasSent: false });
      pump();
    },
    pump,
    /** True while a change the application asked for before `order` is not on the wire yet. */
    heldBefore(order: number): boolean {
      return pending.some((c) => c.state === 'queued' && c.order < order);
    },
    /** The socket ended: what was on it goes again, after the next connection's replay. */
    onSocketGone(): void {
      cancelTimer();
      settledEarly = [];
      for (const c of pending) c.state = 'queued';
      awaitingReplay = pending.some((c) => c.wasSent);
      replayTo = undefined;
    },
    /** A connection: `head` is the server's last sequence id, `cursor` where this client's delivery stands. */
    onConnected(head: number, cursor: number | undefined): void {
      if (awaitingReplay) replayTo = head;
      onCursor(cursor);
      pump();
    },
    /** The delivery cursor moved (a record delivered, a range the server no longer has skipped). */
    onCursor,
    /** This user's `edit` record for `messageId` (from any of its sockets), with its new content. */
    onEdited(messageId: string, content: string): void {
      const change = pending.find(
        (c) => c.wasSent && c.frame.type === 'edit' && c.frame.message_id === messageId && c.frame.content === content,
      );
      if (change) settle(change, true);
    },
    /**
     * A `redaction` record this user asked for, naming `sequenceIds`: it answers the delete of a message among them
     * (and settles the edits of it sent before, moot now). A delete of a message this client has not seen (sequence
     * id unknown) is taken to be the oldest one sent: the server answers them in order.
     */
    onRedacted(sequenceIds: readonly number[]): void {
      const ids = new Set(sequenceIds);
      const deletes = pending.filter((c) => c.wasSent && c.frame.type === 'delete');
      const named = deletes.find((c) => {
        const seq = deps.sequenceOf(c.frame.message_id);
        return seq !== undefined && ids.has(seq);
      });
      const change = named ?? deletes.find((c) => deps.sequenceOf(c.frame.message_id) === undefined);
      if (change) settle(change, true);
    },
    /**
     * A `change_ack` for this socket's `type` of `messageId`, changed or not: it answers the oldest such change sent on
     * the socket (answerOf), which is settled unless a record settled it already.
     */
    onAcked(type: ChangeFrame['type'], messageId: string): void {
      const change = answerOf(type, messageId);
      if (change) settle(change, false);
    },
    /** An `error` frame refusing an `edit` or `delete` of `messageId`: it answers the oldest such change sent on this socket (answerOf). */
    onRefused(type: ChangeFrame['type'], messageId: string | undefined): void {
      const change = answerOf(type, messageId);
      if (change) pending.splice(pending.indexOf(change), 1);
    },
    /** The client ended with `err`: every change still kept is reported once, and nothing more goes. */
    onClosed(err: ChatClientError): void {
      cancelTimer();
      settledEarly = [];
      awaitingReplay = false;
      for (const c of pending.splice(0)) {
        const fate = c.wasSent ? 'unconfirmed (sent, no answer came: it may have been applied)' : 'not sent';
        deps.emitUnsettled(
          new ChatClientError(err.code, `${c.frame.type} of ${c.frame.message_id} ${fate}: ${err.message}`, {
            ...(err.closeCode !== undefined ? { closeCode: err.closeCode } : {}),
            ...(err.status !== undefined ? { status: err.status } : {}),
            messageId: c.frame.message_id,
            replyTo: c.frame.type,
          }),
        );
      }
    },
    get size(): number {
      return pending.length;
    },
  };
}

export type ChangeQueue = ReturnType<typeof createChangeQueue>;
