import type { ChatMessage, ClientFrame } from './protocol-frames';

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
  isReady(): boolean;
  sendFrame(frame: ClientFrame): void;
  emitEdited(event: EditedEvent): void;
  emitRedacted(event: RedactedEvent): void;
}

/**
 * Edits and deletes of the user's own messages (`edit` and `delete` frames), and the `edited` / `redacted` events
 * that turn the delivered `edit` and `redaction` records into changes of records the application already shows.
 * Sent only while connected (nothing is queued: an edit made offline would reach the server after a resume that
 * may already show a later one); the answer is the record, a refusal an `error` event with the messageId.
 */
export function createMessageChanges(options: MessageChangesOptions) {
  const sendIfReady = (frame: ClientFrame): boolean => {
    if (!options.isReady()) return false;
    options.sendFrame(frame);
    return true;
  };
  return {
    edit(messageId: string, content: string): boolean {
      requireString(messageId, 'messageId');
      requireString(content, 'content');
      return sendIfReady({ type: 'edit', message_id: messageId, content });
    },
    delete(messageId: string): boolean {
      requireString(messageId, 'messageId');
      return sendIfReady({ type: 'delete', message_id: messageId });
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
