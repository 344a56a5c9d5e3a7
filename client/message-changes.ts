import { createChangeQueue, type ChangeQueueDeps } from './change-queue';
import type { ChangeAckFrame, ChatMessage } from './protocol-frames';

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

export interface MessageChangesOptions extends Omit<ChangeQueueDeps, 'sequenceOf'> {
  /** True once the client has ended: edit() and delete() take nothing more. */
  isClosed(): boolean;
  /** Its place for the next send(), edit() or delete() call (one counter with the outbox). */
  nextOrder(): number;
  /** This client's participant id (the `connected` frame's), once known: its own records and changes. */
  ownId(): string | undefined;
  emitEdited(event: EditedEvent): void;
  emitRedacted(event: RedactedEvent): void;
}

/**
 * How many of this user's messages (message id -> sequence id) and edited messages (-> edit count shown) are
 * remembered: enough for the changes a session makes; one forgotten only costs a delete settled by order or an
 * `edited` event repeated.
 */
const REMEMBERED = 10_000;

/**
 * Edits and deletes of the user's own messages (`edit` and `delete` frames), and the `edited` / `redacted` events
 * that turn the delivered `edit` and `redaction` records into changes of records the application already shows.
 * Taken whenever the client is not closed and kept until answered, across disconnects (change-queue.ts); the answer
 * is the server's `change_ack` or the record (servers before the ack), a refusal an `error` event with the messageId.
 *
 * An `edited` event fires once per edit of a message: not for an `edit` record whose edit the application was already
 * shown, by an earlier `edited` event or by the message's own record arriving edited (a resume from before the
 * message replays the stored record, already at its last edit, and then every `edit` record of it: firing those
 * would show older texts again before the last).
 */
export function createMessageChanges(options: MessageChangesOptions) {
  /** This user's messages seen: message id -> sequence id (a `redaction` record names sequence ids only). */
  const ownSequences = new Map<string, number>();
  /** The highest edit count shown per edited message (keyed by messageKey). */
  const editsShown = new Map<string, number>();
  const queue = createChangeQueue({ ...options, sequenceOf: (messageId) => ownSequences.get(messageId) });

  function remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > REMEMBERED) map.delete(map.keys().next().value as string);
  }

  /** A message by its sequence id, sender and id: after a journal loss another message may have the same sequence id. */
  const messageKey = (sequenceId: number, senderId: string, messageId: string): string =>
    `${sequenceId}\u0000${senderId}\u0000${messageId}`;

  /** Records the edit count `count` of a message as shown; false if one as high was shown already. */
  function newEdit(key: string, count: number): boolean {
    if ((editsShown.get(key) ?? 0) >= count) return false;
    remember(editsShown, key, count);
    return true;
  }

  function onEditRecord(record: ChatMessage): void {
    const md = record.metadata;
    const {
      edited_sequence_id: sequenceId,
      edited_message_id: messageId,
      sender_id: senderId,
      edited_at: editedAt,
      edit_count: count,
    } = md;
    if (typeof sequenceId !== 'number' || typeof messageId !== 'string' || typeof senderId !== 'string') return;
    if (senderId === options.ownId()) queue.onEdited(messageId, record.content);
    const editCount = typeof count === 'number' ? count : 1;
    if (!newEdit(messageKey(sequenceId, senderId, messageId), editCount)) return;
    options.emitEdited({
      sequenceId,
      messageId,
      senderId,
      content: record.content,
      editedAt: typeof editedAt === 'string' ? editedAt : record.timestamp,
      editCount,
      record,
    });
  }

  function onRedactionRecord(record: ChatMessage): void {
    const md = record.metadata;
    const ids = md.redacted_sequence_ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number')) return;
    const requestedBy = typeof md.requested_by === 'string' ? md.requested_by : 'runtime';
    if (requestedBy === options.ownId()) queue.onRedacted(ids as number[]);
    options.emitRedacted({ sequenceIds: ids as number[], requestedBy, record });
  }

  const take = (frame: Parameters<typeof queue.add>[0]): boolean => {
    if (options.isClosed()) return false;
    queue.add(frame, options.nextOrder());
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
    /** Sends what may go now (a message before a change got its sequence id, a refusal came). */
    pump: () => queue.pump(),
    heldBefore: (order: number) => queue.heldBefore(order),
    onSocketGone: () => queue.onSocketGone(),
    onConnected: (head: number, cursor: number | undefined) => queue.onConnected(head, cursor),
    onCursor: (cursor: number | undefined) => queue.onCursor(cursor),
    onRefused: (type: 'edit' | 'delete', messageId: string | undefined) => queue.onRefused(type, messageId),
    /** A `change_ack` (servers before it send none: records and refusals answer alone). */
    onAcked: (frame: ChangeAckFrame) => queue.onAcked(frame.reply_to, frame.message_id),
    onClosed: (err: Parameters<typeof queue.onClosed>[0]) => queue.onClosed(err),
    /** Edits and deletes not answered yet. */
    get size(): number {
      return queue.size;
    },
    /** Every delivered record, in order: `edit` and `redaction` records (from the server) become the events. */
    onRecord(record: ChatMessage): void {
      if (record.sender_type !== 'system') {
        const own = options.ownId();
        if (own !== undefined && record.sender_id === own) remember(ownSequences, record.message_id, record.sequence_id);
        // A stored message that arrives edited (a resume, a cursor moved back) shows its edits up to this count.
        const count = record.metadata.edit_count;
        if (typeof count === 'number') newEdit(messageKey(record.sequence_id, record.sender_id, record.message_id), count);
      } else if (record.message_type === 'edit') onEditRecord(record);
      else if (record.message_type === 'redaction') onRedactionRecord(record);
      queue.onCursor(record.sequence_id);
    },
  };
}

function requireString(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}
