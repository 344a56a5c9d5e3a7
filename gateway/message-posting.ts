import { isChatError } from '../actors/errors';
import { reservedMetadataProblem } from '../actors/reserved-metadata';
import { metadataSizeProblem } from './metadata-size';
import type { ConnectionContext } from './connection-context';
import { contentProblem, plainContentProblem } from './content-validation';
import { sendMessageAcks } from './delivery-progress';
import { errorFrame, type AnsweredFrame } from './error-frames';
import type { ErrorFrame } from './protocol/server-frames';
import type { FrameSender } from './frame-sender';
import { storableValueProblem } from '../storage-providers/record-rules';
import type { AnswerOrder } from './answer-order';
import type { OrderHold } from './order-hold';
import type { ClientMessageFrame } from './protocol/client-frames';

/** What posting a `message` frame needs from its connection. */
export interface PostTarget {
  readonly ctx: ConnectionContext;
  readonly conversationId: string;
  readonly userId: string;
  /** The participant's rate-limit bucket (shared with HTTP posts). */
  readonly rateKey: string;
  /** Keeps the connection's messages in order behind one refused with a 429 (order-hold.ts). */
  readonly orderHold: OrderHold;
  /** Keeps the answers to the connection's `message` frames in the frames' order (answer-order.ts). */
  readonly answerOrder: AnswerOrder;
  readonly sender: FrameSender;
  /** Records a rate-limit refusal in telemetry and the audit stream. */
  rateLimited(): void;
  /** Answers a failed runtime call with an error frame naming the frame it answers (and closes when the error is final). */
  reportError(err: unknown, answered: AnsweredFrame): void;
}

/**
 * A client `message` frame: content and metadata checks, then the rate limit, then runtime.post. Refusals are error
 * frames naming the message_id, so the client can match them to its pending send; the socket stays open.
 * Every answer, ack or refusal, goes out in the order the frames came in (answer-order.ts), whenever it was decided.
 * The outcome arrives through one `then` (not an async function): this runs for every message. `plain`: the frame's
 * text is printable ASCII without escapes (plain-message-frame.ts), so only the content's emptiness and length are
 * left to check.
 */
export function postMessage(frame: ClientMessageFrame, target: PostTarget, plain = false): void {
  const { ctx, orderHold, answerOrder } = target;
  const messageId = frame.message_id;
  const ticket = answerOrder.take();
  // Only after a 429 is there anything to check (and a clock to read).
  if (orderHold.active) {
    const now = ctx.clock.now();
    const blocker = orderHold.blocker(messageId, now);
    if (blocker !== undefined) {
      const message = `message "${blocker}" was refused first on this connection: re-send it before later messages`;
      refuse(
        target,
        ticket,
        errorFrame('GATEWAY_ERR_HELD_FOR_ORDER', message, { ...answeringMessage(messageId), retry_after_ms: orderHold.remainingMs(now) }),
      );
      return;
    }
  }
  const maxLength = ctx.config.chat.limits.max_message_length;
  const problem = plain ? plainContentProblem(frame.content, maxLength) : contentProblem(frame.content, maxLength);
  if (problem) {
    // Refused for good: the client drops it, so it no longer holds anything up.
    orderHold.release(messageId);
    refuse(target, ticket, errorFrame('GATEWAY_ERR_CONTENT_INVALID', problem, answeringMessage(messageId)));
    return;
  }
  // A frame the schema lets through but the protocol does not: metadata keys reserved for agent answers, or text
  // no store keeps as sent (record-rules.ts storableValueProblem).
  const reserved =
    reservedMetadataProblem(frame.metadata) ??
    (plain ? undefined : storableValueProblem(messageId, 'message_id')) ??
    storableValueProblem(frame.metadata, 'metadata') ??
    metadataSizeProblem(frame.metadata, ctx.config.chat.limits.max_metadata_bytes);
  if (reserved) {
    orderHold.release(messageId);
    refuse(target, ticket, errorFrame('GATEWAY_ERR_INVALID_FRAME', reserved, answeringMessage(messageId)));
    return;
  }
  const decision = ctx.rateLimiter.take(target.rateKey);
  if (!decision.ok) {
    target.rateLimited();
    orderHold.refused(messageId, decision.retryAfterMs, ctx.clock.now());
    refuse(
      target,
      ticket,
      errorFrame('GATEWAY_ERR_RATE_LIMITED', undefined, { ...answeringMessage(messageId), retry_after_ms: decision.retryAfterMs }),
    );
    return;
  }
  if (orderHold.active) orderHold.release(messageId);
  const input = { sender_id: target.userId, message_id: messageId, content: frame.content, metadata: frame.metadata };
  ctx.runtime.post(target.conversationId, input).then(
    (result) => sendMessageAcks(result, messageId, target.sender, answerOrder, ticket),
    (err: unknown) => {
      // A full mailbox is a 429 too. Its answer comes a microtask later, but the frames read in the meantime
      // were posted after this one, to the same full mailbox: nothing could overtake it there.
      if (isChatError(err) && err.code === 'CHAT_ERR_QUEUE_FULL') orderHold.refused(messageId, err.retryAfterMs ?? 0, ctx.clock.now());
      answerOrder.answer(ticket, () => target.reportError(err, answeringMessage(messageId)));
    },
  );
}

/** Sends a refusal of the frame holding `ticket` in its turn (answer-order.ts). */
export function refuse(target: Pick<PostTarget, 'sender' | 'answerOrder'>, ticket: number, error: ErrorFrame): void {
  target.answerOrder.answer(ticket, () => target.sender.frame(error));
}

/** What every error answering a `message` frame carries: its type and its id (built only when there is an error). */
function answeringMessage(messageId: string): AnsweredFrame {
  return { reply_to: 'message', message_id: messageId };
}
