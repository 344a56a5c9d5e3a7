import type { RecentRecords } from './recent-records';
import type { ChatMessage } from './message-types';
import type { ChatStore } from '../storage-providers/chat-store';

export interface ReplayResult {
  /** Contiguous records from after+1, in order (shorter than asked when not recovered). */
  readonly records: ChatMessage[];
  /** True when every record of the range was found. */
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

  async read(after: number, upTo: number, memory: readonly ChatMessage[]): Promise<ReplayResult> {
    if (upTo <= after) return { records: [], recovered: true, fromCache: true };
    const firstInMemory = memory.length > 0 ? memory[0].sequence_id : upTo + 1;
    const records: ChatMessage[] = [];
    let cursor = after;
    let fromCache = true;
    if (cursor + 1 < firstInMemory) {
      fromCache = false;
      try {
        while (cursor < upTo && cursor + 1 < firstInMemory) {
          const want = Math.min(PAGE, upTo - cursor);
          const page = await this.store.readMessages(this.conversationId, cursor, want);
          for (const m of page) {
            if (m.sequence_id !== cursor + 1 || m.sequence_id > upTo) break;
            records.push(m);
            cursor = m.sequence_id;
          }
          if (page.length < want) break;
        }
      } catch {
        // Storage unavailable: fall through to memory and report the range as not recovered.
      }
    }
    for (const m of memory) {
      if (m.sequence_id <= cursor) continue;
      if (m.sequence_id !== cursor + 1 || m.sequence_id > upTo) break;
      records.push(m);
      cursor = m.sequence_id;
    }
    return { records, recovered: cursor >= upTo, fromCache };
  }
}

/** Records only memory has: unstored ones older than the cache, then the cache (oldest first). */
export function inMemoryRecords(unstored: readonly ChatMessage[], recent: RecentRecords): readonly ChatMessage[] {
  if (unstored.length === 0) return recent.toArray();
  const firstCached = recent.first?.sequence_id ?? Infinity;
  return [...unstored.filter((m) => m.sequence_id < firstCached), ...recent.toArray()];
}
