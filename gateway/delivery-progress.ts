import type { PostResult } from '../actors/runtime-types';
import type { MessageAckFrame } from './protocol/server-frames';

/**
 * How far one connection has got: the highest sequence id sent to it in a `message` frame and the highest
 * it acknowledged with an `ack` frame (acks are cumulative). Logged when a slow consumer is dropped.
 */
export class DeliveryProgress {
  /** Highest sequence id sent in a `message` frame. */
  lastSentSequenceId = 0;
  /** Highest sequence id the client acknowledged with an `ack` frame (cumulative). */
  lastAckedSequenceId = 0;

  /** Records a `message` frame written to the socket. */
  sent(sequenceId: number): void {
    if (sequenceId > this.lastSentSequenceId) this.lastSentSequenceId = sequenceId;
  }

  /** Records a client `ack`; an older ack than one already seen changes nothing. */
  acked(sequenceId: number): void {
    if (sequenceId > this.lastAckedSequenceId) this.lastAckedSequenceId = sequenceId;
  }
}

/**
 * Answers a post with `message_ack`, and when the record was not yet in the journal, with a second
 * `message_ack` carrying `persisted: true` once it is. The sender is the only party that needs durability
 * news, so the runtime's `persisted` outputs are not forwarded to anyone (see output-frames.ts).
 */
export function sendMessageAcks(result: PostResult, messageId: string, send: (frame: MessageAckFrame) => void): void {
  const ack = { type: 'message_ack', message_id: messageId, sequence_id: result.sequence_id, duplicate: result.duplicate } as const;
  send({ ...ack, persisted: result.persisted });
  if (!result.persisted) {
    result.whenPersisted.then(
      () => send({ ...ack, persisted: true }),
      () => undefined, // only rejects at shutdown; the connection closes with 1001 then
    );
  }
}
