import type { PostResult } from '../actors/runtime-types';
import type { AnswerOrder } from './answer-order';

/**
 * How far one connection has got: the highest sequence id sent to it in a `message` frame and the highest
 * it acknowledged with an `ack` frame (acks are cumulative). Logged when a slow consumer is dropped.
 */
export class DeliveryProgress {
  /** Highest sequence id sent in a `message` frame. */
  lastSentSequenceId = 0;
  /** Highest sequence id the client acknowledged with an `ack` frame (cumulative). */
  lastAckedSequenceId = 0;

  constructor(
    /** The conversation's last sequence id when the connection opened: the client may hold records up to it. */
    private readonly lastAtConnect = 0,
  ) {}

  /** Records a `message` frame written to the socket. */
  sent(sequenceId: number): void {
    if (sequenceId > this.lastSentSequenceId) this.lastSentSequenceId = sequenceId;
  }

  /**
   * Records a client `ack`; an older ack than one already seen changes nothing. An ack past every record the
   * client can hold (the conversation's last id at connect, or a later one sent here) is not recorded: the
   * returned problem says so (a client acking from another conversation's numbering, or a counter gone wrong).
   */
  acked(sequenceId: number): string | undefined {
    const heldUpTo = Math.max(this.lastAtConnect, this.lastSentSequenceId);
    if (sequenceId > heldUpTo) return `ack ${sequenceId} is past the last record this connection has seen (${heldUpTo})`;
    if (sequenceId > this.lastAckedSequenceId) this.lastAckedSequenceId = sequenceId;
    return undefined;
  }
}

/**
 * Answers a post with `message_ack`. When the journal write finishes before the current turn's microtasks
 * run out (memory and SQLite journals do: the journal writer starts from a microtask), one ack with
 * `persisted: true` is sent; otherwise an ack with `persisted: false` goes out then and a second with
 * `persisted: true` follows when the record is stored. That halves the frames per post on the common path
 * without delaying the sender's sequence id past the turn (its own `message` frame carries it at once
 * anyway). The end of the turn is a process.nextTick (AnswerOrder.answerAtEndOfTurn): queued from a promise
 * callback, as it is here (after the awaited post), it runs once the microtask queue is empty, in time to share
 * the sender's batched write (turn-write-batch.ts).
 * The first ack keeps the frame order of the socket's answers (`order`, `ticket`: answer-order.ts): if an earlier
 * frame is still unanswered it waits for that answer. The second ack is not ordered against other answers: it goes
 * out when the record is stored, after its first (docs/protocol.md, Answers in frame order).
 * The sender is the only party that needs durability news, so the runtime's `persisted` outputs are not
 * forwarded to anyone (see output-frames.ts).
 */
export function sendMessageAcks(
  result: PostResult,
  messageId: string,
  /** Sends one `message_ack` frame: the connection's FrameSender. */
  sender: AckSender,
  order: AnswerOrder,
  ticket: number,
): void {
  order.answerAtEndOfTurn(ticket, sendAcks, result, messageId, sender);
}

/** What message acks are written with (FrameSender.ack). */
export interface AckSender {
  ack(messageId: string, sequenceId: number, duplicate: boolean, persisted: boolean): void;
}

function sendAcks(result: PostResult, messageId: string, sender: AckSender): void {
  if (result.persisted) {
    sender.ack(messageId, result.sequence_id, result.duplicate, true);
    return;
  }
  sender.ack(messageId, result.sequence_id, result.duplicate, false);
  // whenPersisted never rejects; it stays pending if the runtime closes first (the socket closes with 1001).
  void result.whenPersisted.then(() => sender.ack(messageId, result.sequence_id, result.duplicate, true));
}
