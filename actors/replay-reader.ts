import type { RecentRecords } from './recent-records';
import type { ChatMessage } from './message-types';
import type { ChatStore } from '../storage-providers/chat-store';

export interface ReplayResult {
  /** Contiguous records from droppedUpTo+1, in order (shorter than asked when not recovered). */
  readonly records: ChatMessage[];
  /**
   * The start of the range the journal no longer holds (a bounded memory store dropped its oldest
   * records): ids after+1..droppedUpTo are gone for good. Equal to `after` when nothing was dropped.
   */
  readonly droppedUpTo: number;
  /** True when every record after droppedUpTo, up to the end of the range, was found. */
  readonly recovered: boolean;
  /** True when the range came from memory without a storage read. */
  readonly fromCache: boolean;
}

const PAGE = 500;

/**
 * Reads a range of a conversation for resume and history: from memory (the actor's cache plus
 * records not yet stored) when it covers the range, otherwise from the journal and then memory.
 */
export class ReplayReader {
  constructor(
    private readonly store: ChatStore,
    private readonly conversationId: string,
  ) {}

  /**
   * Records after `after` up to `upTo` (at most `limit` of them). A journal that no longer holds the
   * start of the range (a bounded memory store dropped its oldest records) answers with its oldest
   * record held: the ids before it are reported in `droppedUpTo`, and everything held after them
   * still comes, once, in order. Any other gap ends the range as not recovered.
   */
  async read(after: number, upTo: number, memory: readonly ChatMessage[], limit = Infinity): Promise<ReplayResult> {
    if (upTo <= after) return { records: [], droppedUpTo: after, recovered: true, fromCache: true };
    const firstInMemory = memory.length > 0 ? memory[0].sequence_id : upTo + 1;
    const records: ChatMessage[] = [];
    let cursor = after;
    let fromCache = true;
    let droppedUpTo = after;
    if (cursor + 1 < firstInMemory) {
      fromCache = false;
      try {
        let more = true;
        let journalEnded = false;
        while (more && cursor < upTo && cursor + 1 < firstInMemory && records.length < limit) {
          const want = Math.min(PAGE, upTo - cursor, limit - records.length);
          const page = await this.store.readMessages(this.conversationId, cursor, want);
          more = page.length === want;
          journalEnded = !more;
          for (const m of page) {
            // Past the range, or not after the cursor (a misbehaving store): stop instead of asking again.
            if (m.sequence_id > upTo || m.sequence_id <= cursor) {
              more = false;
              break;
            }
            if (m.sequence_id !== cursor + 1) {
              // Only the oldest ids can be dropped; a hole further on is not filled from the journal.
              if (records.length > 0) {
                more = false;
                break;
              }
              // The cache may reach further back than a small journal bound: what it holds is not lost.
              droppedUpTo = Math.min(m.sequence_id, firstInMemory) - 1;
              cursor = droppedUpTo;
              if (firstInMemory < m.sequence_id) {
                more = false;
                break;
              }
            }
            records.push(m);
            cursor = m.sequence_id;
          }
        }
        // The journal holds nothing of the range but memory holds its end (a total bound emptied the
        // journal of this conversation): the ids before memory are the dropped ones.
        if (journalEnded && records.length === 0 && firstInMemory <= upTo) cursor = droppedUpTo = firstInMemory - 1;
      } catch {
        // Storage unavailable: fall through to memory and report the range as not recovered.
      }
    }
    for (const m of memory) {
      if (records.length >= limit) break;
      if (m.sequence_id <= cursor) continue;
      if (m.sequence_id !== cursor + 1 || m.sequence_id > upTo) break;
      records.push(m);
      cursor = m.sequence_id;
    }
    return { records, droppedUpTo, recovered: cursor >= upTo, fromCache };
  }
}

/** Records only memory has: unstored ones older than the cache, then the cache (oldest first). */
export function inMemoryRecords(unstored: readonly ChatMessage[], recent: RecentRecords): readonly ChatMessage[] {
  if (unstored.length === 0) return recent.toArray();
  const firstCached = recent.first?.sequence_id ?? Infinity;
  return [...unstored.filter((m) => m.sequence_id < firstCached), ...recent.toArray()];
}
