import { errorFrame, type AnsweredFrame } from './error-frames';
import type { PostTarget } from './message-posting';
import { contentProblem } from './content-validation';
import type { ClientDeleteFrame, ClientEditFrame } from './protocol/client-frames';
import type { ChangeAckFrame } from './protocol/server-frames';
import { storableValueProblem } from '../storage-providers/record-rules';

/**
 * A client `edit` frame: content checked as a post's (same limits and codes), then the message budget, then
 * runtime.edit. Taken, it is answered by a `change_ack` on this socket after the `edit` record every member gets,
 * or with `changed: false` when it changed nothing (the same text again sequences no record: without the ack, a
 * client would wait for one forever). Refusals are error frames naming the frame and the message id
 * (docs/protocol.md, Edits and deletes).
 */
export function editMessage(frame: ClientEditFrame, target: PostTarget): void {
  const answered: AnsweredFrame = { reply_to: 'edit', message_id: frame.message_id };
  const problem = contentProblem(frame.content, target.ctx.config.chat.limits.max_message_length);
  if (problem) {
    target.sender.frame(errorFrame('GATEWAY_ERR_CONTENT_INVALID', problem, answered));
    return;
  }
  const unstorable = storableValueProblem(frame.message_id, 'message_id') ?? storableValueProblem(frame.content, 'content');
  if (unstorable) {
    target.sender.frame(errorFrame('GATEWAY_ERR_INVALID_FRAME', unstorable, answered));
    return;
  }
  if (!spendMessageToken(target, answered)) return;
  target.ctx.runtime.edit(target.conversationId, target.userId, frame.message_id, frame.content).then(
    ({ message, changed, recordSequenceId }) => {
      const count = message.metadata.edit_count;
      const editCount = typeof count === 'number' ? count : 0;
      sendChangeAck(target, { reply_to: 'edit', message_id: frame.message_id, changed, recordSequenceId, editCount });
      // The same content again changes nothing, so it is no audit event either.
      if (!changed) return;
      target.ctx.audit.messageEdit?.(target.userId, target.conversationId, {
        messageId: message.message_id,
        sequenceId: message.sequence_id,
        editCount,
      });
    },
    (err: unknown) => target.reportError(err, answered),
  );
}

/**
 * A client `delete` frame: the message budget, then runtime.redact of the sender's own message; a `change_ack` after
 * its `redaction` record answers. A message deleted already changes nothing and sequences nothing, as the same edit
 * again does (the ack says `changed: false`), unless its deletion was never announced (a stop lost the record): then
 * the record that announces it goes first.
 */
export function deleteMessage(frame: ClientDeleteFrame, target: PostTarget): void {
  const answered: AnsweredFrame = { reply_to: 'delete', message_id: frame.message_id };
  const unstorable = storableValueProblem(frame.message_id, 'message_id');
  if (unstorable) {
    target.sender.frame(errorFrame('GATEWAY_ERR_INVALID_FRAME', unstorable, answered));
    return;
  }
  if (!spendMessageToken(target, answered)) return;
  // Own messages only, the owner's too: a message id names one record per sender (the owner redacts others' over HTTP).
  target.ctx.runtime.redact(target.conversationId, { messageIds: [frame.message_id] }, target.userId, { ownMessagesOnly: true }).then(
    // Audited as the HTTP redact is (message.redact, the member as actor); a message already deleted changes nothing.
    ({ redacted, alreadyRedacted, changed, recordSequenceId }) => {
      sendChangeAck(target, { reply_to: 'delete', message_id: frame.message_id, changed, recordSequenceId });
      const count = redacted.length - alreadyRedacted.length;
      if (count > 0) target.ctx.audit.redaction?.(target.userId, target.conversationId, 'success', count);
    },
    (err: unknown) => target.reportError(err, answered),
  );
}

/**
 * Sends a change's ack to this socket only, in the turn the runtime answered. The runtime answers once its record was
 * handed to every subscription, this socket's included, so the ack follows the record on the socket, as a post's
 * message_ack follows its record (unless a replay is being paced to the socket meanwhile: live records then wait
 * behind the replay and the ack does not, as for message_ack; docs/protocol.md). Unlike message_ack it does not wait
 * for the end of the turn: it has no journal write to report.
 */
function sendChangeAck(
  target: PostTarget,
  change: { reply_to: ChangeAckFrame['reply_to']; message_id: string; changed: boolean; recordSequenceId?: number; editCount?: number },
): void {
  const ack: ChangeAckFrame = {
    type: 'change_ack',
    reply_to: change.reply_to,
    message_id: change.message_id,
    changed: change.changed,
    ...(change.changed && change.recordSequenceId !== undefined ? { sequence_id: change.recordSequenceId } : {}),
    ...(change.editCount !== undefined ? { edit_count: change.editCount } : {}),
  };
  target.sender.frame(ack);
}

/** Edits and deletes spend the message budget posts spend (shared with HTTP): false, with the 429 sent, when it is spent. */
function spendMessageToken(target: PostTarget, answered: AnsweredFrame): boolean {
  const decision = target.ctx.rateLimiter.take(target.rateKey);
  if (decision.ok) return true;
  target.rateLimited();
  target.sender.frame(errorFrame('GATEWAY_ERR_RATE_LIMITED', undefined, { ...answered, retry_after_ms: decision.retryAfterMs }));
  return false;
}
