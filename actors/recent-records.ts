import type { ChatMessage } from './message-types';

/**
 * The last `bound` records of a conversation (the resume cache), as an immutable view that appends in
 * O(1): every post used to copy the whole cache (chat.cache.recent_messages entries) to stay immutable.
 *
 * Views share one backing array. Appending to the newest view (whose end is the array's end) pushes
 * onto it; the older views keep seeing exactly their own slice because they remember where it ends.
 * Appending to an older view (a branch: only pure tests do that) copies its slice first. The array is
 * compacted once its dead prefix outgrows the live part, so memory stays O(bound), amortised O(1).
 */
export class RecentRecords {
  private constructor(
    private readonly backing: ChatMessage[],
    private readonly start: number,
    private readonly end: number,
    readonly bound: number,
  ) {}

  static of(records: readonly ChatMessage[], bound: number): RecentRecords {
    const kept = bound <= 0 ? [] : records.slice(Math.max(0, records.length - bound));
    return new RecentRecords(kept, 0, kept.length, Math.max(0, bound));
  }

  get length(): number {
    return this.end - this.start;
  }

  /** The oldest record held, if any. */
  get first(): ChatMessage | undefined {
    return this.length > 0 ? this.backing[this.start] : undefined;
  }

  /**
   * The record with this sequence id, if held. O(1): the cache is normally gap-free, so the id gives the
   * position; a cache restored from a journal with holes is not, and a miss there is only a miss.
   */
  bySequence(sequenceId: number): ChatMessage | undefined {
    const first = this.first;
    if (first === undefined) return undefined;
    const index = sequenceId - first.sequence_id;
    if (index < 0 || index >= this.length) return undefined;
    const record = this.backing[this.start + index];
    return record.sequence_id === sequenceId ? record : undefined;
  }

  append(record: ChatMessage): RecentRecords {
    if (this.bound === 0) return this;
    let backing = this.backing;
    let start = this.start;
    if (this.end !== backing.length) {
      backing = backing.slice(start, this.end);
      start = 0;
    }
    backing.push(record);
    start = Math.max(start, backing.length - this.bound);
    if (start >= this.bound && start * 2 >= backing.length) {
      backing = backing.slice(start);
      start = 0;
    }
    return new RecentRecords(backing, start, backing.length, this.bound);
  }

  toArray(): ChatMessage[] {
    return this.backing.slice(this.start, this.end);
  }

  /** A new view with every record replaced by fn(record) (redaction). */
  map(fn: (m: ChatMessage) => ChatMessage): RecentRecords {
    return RecentRecords.of(this.toArray().map(fn), this.bound);
  }
}
