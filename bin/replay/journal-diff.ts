import { isDeepStrictEqual } from 'node:util';
import { ChatError } from '../../actors/errors';
import type { ChatMessage } from '../../actors/message-types';

/** One field that differs between two records (or two headers), with both values; `undefined`: absent on that side. */
export interface FieldChange {
  readonly field: string;
  readonly old: unknown;
  readonly new: unknown;
}

/**
 * How the record at one sequence id differs between an older and a newer read of a journal:
 * - `added`: only the newer has it (appended since, or a hole of the older filled);
 * - `removed`: only the older has it (the store lost it since, or a bounded store dropped it);
 * - `changed`: the same record (message id and sender) with other content or metadata: an edit, a redaction;
 * - `replaced`: another record under the same id: a history that diverged (ids handed out again after a crash), or
 *   two different conversations.
 */
export type RecordDifference =
  | { readonly change: 'added'; readonly sequence_id: number; readonly new: ChatMessage }
  | { readonly change: 'removed'; readonly sequence_id: number; readonly old: ChatMessage }
  | {
      readonly change: 'changed';
      readonly sequence_id: number;
      readonly old: ChatMessage;
      readonly new: ChatMessage;
      readonly fields: readonly FieldChange[];
    }
  | {
      readonly change: 'replaced';
      readonly sequence_id: number;
      readonly old: ChatMessage;
      readonly new: ChatMessage;
      readonly fields: readonly FieldChange[];
    };

/** Record fields compared one by one; metadata is compared key by key, so an edit names what it set. */
const RECORD_FIELDS = ['message_id', 'sender_id', 'conversation_id', 'sender_type', 'message_type', 'content', 'timestamp'] as const;

/** Which read a record came from, to name it when the journal is out of order. */
export interface DiffSide {
  readonly name: string;
  readonly records: AsyncIterable<ChatMessage>;
}

/**
 * Walks two reads of one journal side by side, in sequence order (as an export and every source give it), and
 * yields each sequence id whose record differs. Holds one record of each side: constant memory, so two exports of
 * a long conversation compare as fast as they read. A side out of sequence order cannot be merged that way and
 * throws CHAT_ERR_INVALID_MESSAGE naming it.
 */
export async function* diffJournals(older: DiffSide, newer: DiffSide): AsyncGenerator<RecordDifference> {
  const a = ordered(older);
  const b = ordered(newer);
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.sequence_id < y.value.sequence_id)) {
      yield { change: 'removed', sequence_id: x.value!.sequence_id, old: x.value! };
      x = await a.next();
    } else if (x.done || y.value.sequence_id < x.value.sequence_id) {
      yield { change: 'added', sequence_id: y.value.sequence_id, new: y.value };
      y = await b.next();
    } else {
      const difference = compareRecords(x.value, y.value);
      if (difference) yield difference;
      x = await a.next();
      y = await b.next();
    }
  }
}

/** The difference between two records of one sequence id, or undefined when they are equal. */
export function compareRecords(old: ChatMessage, now: ChatMessage): RecordDifference | undefined {
  const fields: FieldChange[] = [];
  for (const field of RECORD_FIELDS) if (old[field] !== now[field]) fields.push({ field, old: old[field], new: now[field] });
  const keys = new Set([...Object.keys(old.metadata), ...Object.keys(now.metadata)]);
  for (const key of keys) {
    const before = old.metadata[key];
    const after = now.metadata[key];
    // Deep equality, not JSON text: PostgreSQL's jsonb orders keys its own way, SQLite keeps them as written.
    if (!isDeepStrictEqual(before, after)) fields.push({ field: `metadata.${key}`, old: before, new: after });
  }
  if (fields.length === 0) return undefined;
  // Message ids are unique per sender only (docs/protocol.md): the pair names a record, and another pair another one.
  const replaced = old.message_id !== now.message_id || old.sender_id !== now.sender_id;
  return { change: replaced ? 'replaced' : 'changed', sequence_id: old.sequence_id, old, new: now, fields };
}

async function* ordered(side: DiffSide): AsyncGenerator<ChatMessage> {
  let previous = 0;
  for await (const record of side.records) {
    if (record.sequence_id <= previous) {
      throw new ChatError(
        'CHAT_ERR_INVALID_MESSAGE',
        `${side.name}: #${record.sequence_id} comes after #${previous}: diff reads journals in sequence order, as export writes them (--check says what is wrong with it)`,
      );
    }
    previous = record.sequence_id;
    yield record;
  }
}
