import type { RecentRecords } from './recent-records';
import type { ChatMessage } from './message-types';
import type { HistoryPage } from './runtime-types';
import type { ChatStore } from '../storage-providers/chat-store';

export interface ReplayResult {
  /**
   * Records from droppedUpTo+1, in order, without holes (shorter than asked when not recovered). Only a
   * history page (readPage) may start further on, past a hole in the journal.
   */
  readonly records: ChatMessage[];
  /**
   * Ids after+1..droppedUpTo are gone for good because the store dropped them on purpose (a bounded
   * memory store, ChatStore.droppedUpTo). Equal to `after` when nothing was dropped.
   */
  readonly droppedUpTo: number;
  /** True when every record after droppedUpTo, up to the end of the range, was found. */
  readonly recovered: boolean;
  /** True when the range came from memory without a storage read. */
  readonly fromCache: boolean;
  /**
   * Every id up to this one is accounted for: returned, dropped, or (a history page only) passed over as a
   * hole. The last record's id, or past it when the range ends in a hole (see readPage).
   */
  readonly coveredUpTo: number;
}

const PAGE = 500;

/**
 * What a read does with a hole at its start (ids neither held nor dropped by the store: damage):
 * a resume stops there (not recovered), a history page passes over it to the next held record.
 */
type AtAHole = 'stop' | 'pass';

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
   * Records after `after` up to `upTo` (at most `limit` of them), for a resume. When the journal no
   * longer holds the start of the range and the store says it dropped those ids (a bounded memory
   * store), they are reported in `droppedUpTo` and everything held after them still comes, once, in
   * order. Any other gap (a hole: the store does not say it dropped those ids) ends the range as not
   * recovered.
   */
  read(after: number, upTo: number, memory: readonly ChatMessage[], limit = Infinity): Promise<ReplayResult> {
    return this.collect(after, upTo, memory, limit, 'stop');
  }

  /**
   * A history page: the same, except that a hole at the page's start is passed over: the page starts
   * at the next held record without counting the hole as dropped, so the reader sees the gap in the ids
   * (and the replay CLI reports it as sequence_gap) instead of taking it for a trimmed history. A hole at
   * the end of the range (the journal read to its end, memory holds nothing after it) is passed over too:
   * nextAfter is `upTo`, so a reader paging on it stops instead of asking for those ids for ever.
   */
  async readPage(after: number, upTo: number, memory: readonly ChatMessage[], limit: number): Promise<HistoryPage> {
    const read = await this.collect(after, upTo, memory, limit, 'pass');
    return { messages: read.records, droppedUpTo: read.droppedUpTo, nextAfter: read.coveredUpTo };
  }

  private async collect(
    after: number,
    upTo: number,
    memory: readonly ChatMessage[],
    limit: number,
    atAHole: AtAHole,
  ): Promise<ReplayResult> {
    if (upTo <= after) return { records: [], droppedUpTo: after, recovered: true, fromCache: true, coveredUpTo: after };
    // Memory normally runs to upTo; when it ends before (a conversation restored from a journal that lost its
    // end), the ids after it come from the journal like those before it.
    const firstInMemory = firstAfter(memory, after) ?? upTo + 1;
    const records: ChatMessage[] = [];
    let cursor = after;
    let fromCache = true;
    let droppedUpTo = after;
    let startChecked = false;
    /** The cursor at which a read found the journal's end (it returned fewer than asked, all of them taken). */
    let journalEndsAt: number | undefined;
    let readFailed = false;
    /** Ids after the cursor before `firstHeld` are missing: as far as the store dropped them, a trim; past that, a hole. */
    const startAt = async (firstHeld: number): Promise<void> => {
      startChecked = true;
      const dropped = await this.store.droppedUpTo(this.conversationId);
      droppedUpTo = cursor = Math.max(cursor, Math.min(dropped, firstHeld - 1));
      if (atAHole === 'pass') cursor = firstHeld - 1;
    };
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
          let taken = 0;
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
              await startAt(Math.min(m.sequence_id, firstInMemory));
              // A hole this read stops at, or the rest comes from memory.
              if (m.sequence_id !== cursor + 1) {
                more = false;
                break;
              }
            }
            records.push(m);
            cursor = m.sequence_id;
            taken++;
          }
          if (journalEnded && taken === page.length) journalEndsAt = cursor;
        }
        // The journal holds nothing of the range (a total bound emptied the journal of this conversation):
        // the ids before memory, or all of them when memory holds none (a conversation loaded after the trim), are missing.
        if (journalEnded && !startChecked && records.length === 0) await startAt(Math.min(firstInMemory, upTo + 1));
      } catch {
        // Storage unavailable: fall through to memory and report the range as not recovered.
        readFailed = true;
      }
    }
    for (const m of memory) {
      if (records.length >= limit) break;
      if (m.sequence_id <= cursor) continue;
      if (m.sequence_id !== cursor + 1 || m.sequence_id > upTo) break;
      records.push(m);
      cursor = m.sequence_id;
    }
    const recovered = cursor >= upTo;
    // A hole at the end: the journal was read to its end, memory holds nothing after the cursor, yet ids up to
    // upTo were sequenced. No store will hand them out, so a page passes over them (a reader sees them missing);
    // a resume does not. A failed read proves nothing: the page then stays where it got to.
    const holeAtEnd =
      atAHole === 'pass' &&
      !recovered &&
      !readFailed &&
      journalEndsAt !== undefined &&
      records.length < limit &&
      firstAfter(memory, cursor) === undefined;
    return { records, droppedUpTo, recovered, fromCache, coveredUpTo: holeAtEnd ? upTo : cursor };
  }
}

/** The id of the first record of `memory` (oldest first) after `after`, if any. */
function firstAfter(memory: readonly ChatMessage[], after: number): number | undefined {
  for (const m of memory) if (m.sequence_id > after) return m.sequence_id;
  return undefined;
}

/** Records only memory has: unstored ones older than the cache, then the cache (oldest first). */
export function inMemoryRecords(unstored: readonly ChatMessage[], recent: RecentRecords): readonly ChatMessage[] {
  if (unstored.length === 0) return recent.toArray();
  const firstCached = recent.first?.sequence_id ?? Infinity;
  return [...unstored.filter((m) => m.sequence_id < firstCached), ...recent.toArray()];
}
