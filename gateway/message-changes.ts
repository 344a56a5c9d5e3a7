import { errorFrame, type AnsweredFrame } from './error-frames';
import type { PostTarget } from './message-posting';
import { contentProblem } from './content-validation';
import type { ClientDeleteFrame, ClientEditFrame } from './protocol/client-frames';
import { storableValueProblem } from '../storage-providers/record-rules';

/**
 * A client `edit` frame: content checked as a post's (same limits and codes), then the message budget, then
 * runtime.edit. Taken, it has no answer of its own: the `edit` record that follows on every member's socket is it (and
 * the same edit again changes nothing, so nothing follows). Refusals are error frames naming the frame and the
 * message id (docs/protocol.md, Edits and deletes).
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
    ({ message, changed }) => {
      // The same content again changes nothing, so it is no audit event either.
      if (!changed) return;
      const editCount = message.metadata.edit_count;
      target.ctx.audit.messageEdit?.(target.userId, target.conversationId, {
        messageId: message.message_id,
        sequenceId: message.sequence_id,
        editCount: typeof editCount === 'number' ? editCount : 0,
      });
    },
    (err: unknown) => target.reportError(err, answered),
  );
}

/**
 * A client `delete` frame: the message budget, then runtime.redact of the sender's own message; its `redaction` record
 * answers. A message deleted already changes nothing and sends nothing, as the same edit again does, unless its
 * deletion was never announced (a stop lost the record): then the record that announces it follows.
 */
export function deleteMessage(frame: ClientDeleteFrame, target: PostTarget): void {
  const answered: AnsweredFrame = { reply_to: 'delete', message_id: frame.message_id };
  const unstorable = storableValueProblem(frame.message_id, 'message_id');
  if (unstorable) {
    target.sender.frame(errorFrame('GATEWAY_ERR_INVALID_FRAME', unstorable, answered));
    return;
  }
  if (!spendMessageToken(target, answered)) return;
  target.ctx.runtime.redact(target.conversationId, { messageIds: [frame.message_id] }, target.userId).then(
    // Audited as the HTTP redact is (message.redact, the member as actor); a message already deleted changes nothing.
    ({ redacted, alreadyRedacted }) => {
      const count = redacted.length - alreadyRedacted.length;
      if (count > 0) target.ctx.audit.redaction?.(target.userId, target.conversationId, 'success', count);
    },
    (err: unknown) => target.reportError(err, answered),
  );
}

/** Edits and deletes spend the message budget posts spend (shared with HTTP): false, with the 429 sent, when it is spent. */
function spendMessageToken(target: PostTarget, answered: AnsweredFrame): boolean {
  const decision = target.ctx.rateLimiter.take(target.rateKey);
  if (decision.ok) return true;
  target.rateLimited();
  target.sender.frame(errorFrame('GATEWAY_ERR_RATE_LIMITED', undefined, { ...answered, retry_after_ms: decision.retryAfterMs }));
  return false;
}
