import { isUtf8 } from 'node:buffer';
import type { RawData } from 'ws';
import type { DeliveryProgress } from './delivery-progress';
import type { ReplayRequest } from './output-route';
import { errorFrame } from './error-frames';
import { postMessage, type PostTarget } from './message-posting';
import { plainMessageFrame } from './plain-message-frame';
import { deleteMessage, editMessage } from './message-changes';
import { cutText } from './text-cut';
import { CLIENT_FRAME_TYPES, type ClientFrame, type ClientFrameType } from './protocol/client-frames';
import type { FrameValidator } from './protocol/frame-validator';
import { MAX_ECHOED_MESSAGE_ID_LENGTH, type ErrorFrame } from './protocol/server-frames';

/**
 * A client frame decoded and validated, or the error frame to answer it with. Unparseable JSON is
 * `fatal` (a protocol violation: the socket is closed); a frame failing its schema only gets the error.
 * `plain`: a `message` frame read by plainMessageFrame, whose text the content and id rules need not scan.
 */
export type DecodedClientData =
  | { readonly ok: true; readonly frame: ClientFrame; readonly plain: boolean }
  | { readonly ok: false; readonly error: ErrorFrame; readonly fatal: boolean };

/** Parses and validates the payload of one WebSocket message: the common `message` frame at once, else decodeFrameBytes. */
export function decodeClientData(data: RawData, isBinary: boolean, validator: FrameValidator): DecodedClientData {
  const bytes = rawBytes(data, isBinary);
  const plain = plainMessageFrame(bytes);
  if (plain !== undefined) return { ok: true, frame: plain, plain: true };
  return decodeFrameBytes(bytes, validator);
}

/** The full decode of a frame's bytes: UTF-8, JSON, the frame's schema; every refusal is worded here. */
export function decodeFrameBytes(bytes: Buffer, validator: FrameValidator): DecodedClientData {
  // Binary frames are decoded as UTF-8 text too: the protocol is JSON either way. Bytes that are not UTF-8 are
  // refused rather than decoded to U+FFFD, which would post content the client never wrote.
  if (!isUtf8(bytes)) return { ok: false, error: errorFrame('GATEWAY_ERR_MALFORMED_JSON', 'frame is not valid UTF-8'), fatal: true };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, error: errorFrame('GATEWAY_ERR_MALFORMED_JSON'), fatal: true };
  }
  const checked = validator.client(value);
  if (checked.ok) return { ok: true, frame: checked.frame, plain: false };
  // Echo the message_id whenever it is a string, also an invalid one (empty, too long): that is what the client
  // matches its pending send by. Cut to MAX_ECHOED_MESSAGE_ID_LENGTH so a huge id is not reflected back in full.
  const messageId = (value as { message_id?: unknown } | null)?.message_id;
  const replyTo = knownTypeOf(value);
  const extra = {
    ...(replyTo === undefined ? {} : { reply_to: replyTo }),
    ...(typeof messageId === 'string' ? { message_id: cutText(messageId, MAX_ECHOED_MESSAGE_ID_LENGTH) } : {}),
  };
  return { ok: false, error: errorFrame('GATEWAY_ERR_INVALID_FRAME', checked.message, extra), fatal: false };
}

/** The `type` of a frame the schema refused, when it is one of the protocol's (an unknown one is not echoed). */
function knownTypeOf(value: unknown): ClientFrameType | undefined {
  const type = (value as { type?: unknown } | null)?.type;
  return CLIENT_FRAME_TYPES.find((known) => known === type);
}

/** The message of the error frame that refuses a frame sent after `leave` on the same socket. */
export const AFTER_LEAVE = 'this socket sent leave: frames after it are not taken (reconnect and join to post again)';

/**
 * What a socket whose own `leave` is under way does with a frame that came after it: refuses what would change or
 * read the conversation with an error frame (sent before the close that ends the leave), drops typing, and answers
 * ping and ack as usual (undefined). Taken, a message after the leave was sequenced before the leave record or
 * refused without an answer once the socket was closing: the client could not tell which.
 */
export function frameAfterLeave(frame: ClientFrame): ErrorFrame | 'drop' | undefined {
  switch (frame.type) {
    case 'message':
    case 'edit':
    case 'delete':
      return errorFrame('CHAT_ERR_NOT_PARTICIPANT', AFTER_LEAVE, { reply_to: frame.type, message_id: frame.message_id });
    case 'sync':
    case 'read':
      return errorFrame('CHAT_ERR_NOT_PARTICIPANT', AFTER_LEAVE, { reply_to: frame.type });
    case 'typing':
    case 'leave':
      return 'drop';
    default:
      return undefined;
  }
}

/** What dispatching client frames needs from its connection, beyond posting. */
export interface FrameDispatchTarget extends PostTarget {
  /** The participant's typing budget, separate from the message budget. */
  readonly typingKey: string;
  readonly progress: DeliveryProgress;
  /** Replaces the subscription with one resuming from `start` (a `sync` frame's last_sequence_id and history). */
  resync(start: ReplayRequest): Promise<void>;
  /** Leaves the conversation, then closes with 1000. */
  leave(): Promise<void>;
  /** From now on the socket takes `read_batch` frames instead of `read` frames (`options`). */
  takeReadBatches(): void;
}

/**
 * Turns one valid client frame into its runtime call or direct answer (docs/protocol.md). `plain`: see
 * DecodedClientData.
 */
export function dispatchClientFrame(frame: ClientFrame, target: FrameDispatchTarget, plain = false): void {
  const { ctx, sender } = target;
  switch (frame.type) {
    case 'message':
      postMessage(frame, target, plain);
      return;
    case 'sync': {
      // A replay may read storage: it costs a token of the participant's message budget.
      const decision = ctx.rateLimiter.take(target.rateKey);
      if (!decision.ok) {
        target.rateLimited();
        sender.frame(errorFrame('GATEWAY_ERR_RATE_LIMITED', undefined, { reply_to: 'sync', retry_after_ms: decision.retryAfterMs }));
        return;
      }
      const { last_sequence_id: afterSequenceId, history, last_message_id, last_sender_id } = frame;
      void target.resync({
        afterSequenceId,
        ...(history === undefined ? {} : { history }),
        // The schema takes both or neither.
        ...(last_message_id === undefined || last_sender_id === undefined
          ? {}
          : { lastRecord: { message_id: last_message_id, sender_id: last_sender_id } }),
      });
      return;
    }
    case 'ack': {
      // Not fatal: acks only feed the slow-consumer log, but the client should learn its counter is wrong.
      const problem = target.progress.acked(frame.sequence_id);
      if (problem !== undefined) sender.frame(errorFrame('GATEWAY_ERR_INVALID_FRAME', problem, { reply_to: 'ack' }));
      return;
    }
    case 'typing':
      // Typing is best effort and fans out to everybody: a start over its own budget is dropped silently.
      if (ctx.typingRelay.admit(target, frame.is_typing)) ctx.runtime.setTyping(target.conversationId, target.userId, frame.is_typing);
      return;
    case 'ping': {
      const serverTime = new Date(ctx.clock.now()).toISOString();
      sender.frame(
        frame.ts === undefined ? { type: 'pong', server_time: serverTime } : { type: 'pong', server_time: serverTime, ts: frame.ts },
      );
      return;
    }
    case 'leave':
      void target.leave();
      return;
    case 'edit':
      editMessage(frame, target);
      return;
    case 'delete':
      deleteMessage(frame, target);
      return;
    case 'options':
      // No answer of its own: from now on the read positions come batched.
      target.takeReadBatches();
      return;
    case 'read':
      // No answer when it is taken: the position rises (a value past the last record is taken as the last), others
      // hear of it at most once per interval (actors/read-positions.ts). A refusal (the conversation restarting after
      // a crash, shutting down, the reader no member) is an error frame naming the frame, as for any other: dropped
      // silently, the client would believe the mark taken and never send it again (its unread count stays wrong).
      markRead(frame.sequence_id, target);
      return;
  }
}

/**
 * A `read` frame's runtime call. Its own function: a closure over `target` in dispatchClientFrame made V8 allocate
 * a context for `target` on every frame dispatched, each `message` frame included.
 */
function markRead(sequenceId: number, target: FrameDispatchTarget): void {
  target.ctx.runtime.markRead(target.conversationId, target.userId, sequenceId).catch((err: unknown) => {
    target.reportError(err, { reply_to: 'read' });
  });
}

function rawBytes(data: RawData, isBinary: boolean): Buffer {
  void isBinary;
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}
