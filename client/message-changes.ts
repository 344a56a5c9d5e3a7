import { unrefTimer } from './client-platform';
import { ChatClientError, type ClientClock } from './client-types';
import type { ChatMessage, ClientFrame } from './protocol-frames';
import type { SendPacer } from './send-pacer';

/** A member's edit of its own message, as the `edit` record tells it (docs/protocol.md, Edits and deletes). */
export interface EditedEvent {
  /** The sequence id of the message that changed (an earlier record: replace its content with `content`). */
  readonly sequenceId: number;
  readonly messageId: string;
  /** Who edited it: its sender. */
  readonly senderId: string;
  readonly content: string;
  readonly editedAt: string;
  /** This edit's number for that message: 1, 2, ... */
  readonly editCount: number;
  /** The `edit` record itself (also delivered as a `message` event just before). */
  readonly record: ChatMessage;
}

/** A `redaction` record: the records whose content is now `[redacted]` (deleted by their sender, or by the owner). */
export interface RedactedEvent {
  readonly sequenceIds: readonly number[];
  /** The member who deleted them, the owner, or "runtime". */
  readonly requestedBy: string;
  /** The `redaction` record itself (also delivered as a `message` event just before). */
  readonly record: ChatMessage;
}

export interface MessageChangesOptions {
  readonly clock: ClientClock;
  /** The server spends a token of the message budget on every edit and delete, as on a message (send-pacer.ts). */
  readonly pacer: Pick<SendPacer, 'waitMs' | 'spend'>;
  isReady(): boolean;
  sendFrame(frame: ClientFrame): void;
  emitEdited(event: EditedEvent): void;
  emitRedacted(event: RedactedEvent): void;
  /** An edit or delete that was waiting for a token when its socket ended: not sent (CLIENT_NOT_CONNECTED). */
  emitNotSent(err: ChatClientError): void;
}

type ChangeFrame = Extract<ClientFrame, { type: 'edit' | 'delete' }>;

/**
 * Edits and deletes of the user's own messages (`edit` and `delete` frames), and the `edited` / `redacted` events
 * that turn the delivered `edit` and `redaction` records into changes of records the application already shows.
 * Taken only while connected (nothing is queued across a disconnect: an edit made offline would reach the server
 * after a resume that may already show a later one); the answer is the record, a refusal an `error` event with the
 * messageId. The server spends the message budget on them, so they go out paced as messages are: one taken while the
 * budget is empty waits on this connection for its token (one timer), and is reported not sent if the socket ends first.
 */
export function createMessageChanges(options: MessageChangesOptions) {
  /** Taken, waiting for a token of the message budget, in the order asked. */
  const waiting: ChangeFrame[] = [];
  let timer: unknown;

  function pump(): void {
    while (waiting.length > 0 && options.isReady()) {
      const wait = options.pacer.waitMs();
      if (wait > 0) {
        if (timer === undefined)
          timer = unrefTimer(
            options.clock.setTimeout(() => {
              timer = undefined;
              pump();
            }, wait),
          );
        return;
      }
      options.sendFrame(waiting.shift()!);
      options.pacer.spend();
    }
  }

  const take = (frame: ChangeFrame): boolean => {
    if (!options.isReady()) return false;
    waiting.push(frame);
    pump();
    return true;
  };
  return {
    edit(messageId: string, content: string): boolean {
      requireString(messageId, 'messageId');
      requireString(content, 'content');
      return take({ type: 'edit', message_id: messageId, content });
    },
    delete(messageId: string): boolean {
      requireString(messageId, 'messageId');
      return take({ type: 'delete', message_id: messageId });
    },
    /**
     * The socket ended (`report`: what still waited for a token was never sent, and is said so) or the client closed
     * (nothing more is said after close()): the waiting changes and their timer go.
     */
    onSocketGone(report: boolean): void {
      if (timer !== undefined) options.clock.clearTimeout(timer);
      timer = undefined;
      const dropped = waiting.splice(0);
      if (!report) return;
      for (const frame of dropped) {
        options.emitNotSent(
          new ChatClientError(
            'CLIENT_NOT_CONNECTED',
            `${frame.type} not sent: the connection ended while it waited for the message budget`,
            {
              messageId: frame.message_id,
              replyTo: frame.type,
            },
          ),
        );
      }
    },
    /** Every delivered record, in order: `edit` and `redaction` records (from the server) become the events. */
    onRecord(record: ChatMessage): void {
      if (record.sender_type !== 'system') return;
      const md = record.metadata;
      if (record.message_type === 'edit') {
        const {
          edited_sequence_id: sequenceId,
          edited_message_id: messageId,
          sender_id: senderId,
          edited_at: editedAt,
          edit_count: editCount,
        } = md;
        if (typeof sequenceId !== 'number' || typeof messageId !== 'string' || typeof senderId !== 'string') return;
        options.emitEdited({
          sequenceId,
          messageId,
          senderId,
          content: record.content,
          editedAt: typeof editedAt === 'string' ? editedAt : record.timestamp,
          editCount: typeof editCount === 'number' ? editCount : 1,
          record,
        });
      } else if (record.message_type === 'redaction') {
        const ids = md.redacted_sequence_ids;
        if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number')) return;
        options.emitRedacted({
          sequenceIds: ids as number[],
          requestedBy: typeof md.requested_by === 'string' ? md.requested_by : 'runtime',
          record,
        });
      }
    },
  };
}

function requireString(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}
