import type { ChatMessage } from '../actors/message-types';

/**
 * One conversation's records in the memory store, optionally bounded. Sequence ids are contiguous;
 * `dropped` counts the oldest ones no longer held, so record `s` sits at `records[s - 1 - dropped]`
 * and reads, the last id and appends stay index arithmetic after a trim.
 *
 * The (sender, message_id) index is keyed by sender and then message id: the message id string is the
 * record's own (no joined key string per record), and a trimmed record's entry is deleted without
 * building a string.
 *
 * With a `measure` function (the store's byte bound) it keeps each record's estimated heap bytes in a
 * parallel array and their sum, so trimming by bytes needs no second walk over the records.
 */
export class MemoryJournal {
  private records: ChatMessage[] = [];
  /** records[i]'s estimated bytes (empty without `measure`). */
  private sizes: number[] = [];
  private bytesHeld = 0;
  /** How many of the oldest records were dropped: the sequence id of the last one dropped. */
  private dropped = 0;
  private readonly bySender = new Map<string, Map<string, number>>();

  constructor(private readonly measure?: (m: ChatMessage) => number) {}

  /** Records held now. */
  get size(): number {
    return this.records.length;
  }

  /** Estimated heap bytes of the records held (0 without `measure`). */
  get bytes(): number {
    return this.bytesHeld;
  }

  /** Sequence id of the last record dropped (0 when none): ids up to it are gone on purpose. */
  get droppedUpTo(): number {
    return this.dropped;
  }

  /** Sequence id of the last record appended (0 when none). Unchanged by trimming. */
  get lastSequenceId(): number {
    return this.dropped + this.records.length;
  }

  find(senderId: string, messageId: string): number | undefined {
    return this.bySender.get(senderId)?.get(messageId);
  }

  /** Appends records already validated (contiguous after lastSequenceId, keys unused). */
  append(records: readonly ChatMessage[]): void {
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      this.records.push(r);
      let ids = this.bySender.get(r.sender_id);
      if (!ids) this.bySender.set(r.sender_id, (ids = new Map()));
      ids.set(r.message_id, r.sequence_id);
    }
    const measure = this.measure;
    if (measure) {
      for (let i = 0; i < records.length; i++) {
        const size = measure(records[i]);
        this.sizes.push(size);
        this.bytesHeld += size;
      }
    }
  }

  /**
   * Records with sequence_id > after, at most `limit`. When the oldest of them were dropped the result
   * starts at the oldest record held: its first sequence id is then above after + 1, which is how a
   * reader learns that range is gone.
   */
  read(after: number, limit: number): ChatMessage[] {
    const start = Math.max(0, after - this.dropped);
    return this.records.slice(start, start + limit);
  }

  latest(limit: number): ChatMessage[] {
    return this.records.slice(Math.max(0, this.records.length - limit));
  }

  /** Replaces every held record for which `replace` returns a new one; returns their sequence ids. */
  replaceWhere(replace: (m: ChatMessage) => ChatMessage | undefined): number[] {
    const changed: number[] = [];
    const records = this.records;
    for (let i = 0; i < records.length; i++) {
      const next = replace(records[i]);
      if (next === undefined) continue;
      records[i] = next;
      if (this.measure) {
        const size = this.measure(next);
        this.bytesHeld += size - this.sizes[i];
        this.sizes[i] = size;
      }
      changed.push(next.sequence_id);
    }
    return changed;
  }

  /**
   * Replaces record `sequenceId` with what `replace` returns for it (undefined: left as it is); returns the new
   * record, or undefined when it is not held (never appended, or dropped) or was left alone.
   */
  replaceOne(sequenceId: number, replace: (m: ChatMessage) => ChatMessage | undefined): ChatMessage | undefined {
    const i = sequenceId - 1 - this.dropped;
    if (i < 0 || i >= this.records.length) return undefined;
    const next = replace(this.records[i]);
    if (next === undefined) return undefined;
    this.records[i] = next;
    if (this.measure) {
      const size = this.measure(next);
      this.bytesHeld += size - this.sizes[i];
      this.sizes[i] = size;
    }
    return next;
  }

  /**
   * Drops the `count` oldest records and their index entries in one move (copyWithin and a length
   * change, no array allocated), so a caller that trims in bulk pays O(held) once per many appends.
   */
  dropOldest(count: number): number {
    const n = Math.min(count, this.records.length);
    if (n <= 0) return 0;
    const records = this.records;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      const ids = this.bySender.get(r.sender_id);
      // Only if it still names this record: a key is unique within the conversation, so it does.
      if (ids?.get(r.message_id) === r.sequence_id) {
        ids.delete(r.message_id);
        if (ids.size === 0) this.bySender.delete(r.sender_id);
      }
    }
    records.copyWithin(0, n);
    records.length -= n;
    if (this.measure) {
      const sizes = this.sizes;
      for (let i = 0; i < n; i++) this.bytesHeld -= sizes[i];
      sizes.copyWithin(0, n);
      sizes.length -= n;
    }
    this.dropped += n;
    return n;
  }

  /** How many of the oldest records hold at least `bytes` (all held records when they hold less). */
  oldestHolding(bytes: number): number {
    let sum = 0;
    let n = 0;
    while (n < this.sizes.length && sum < bytes) sum += this.sizes[n++];
    return n;
  }
}
