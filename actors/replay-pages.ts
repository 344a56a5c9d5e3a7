import { recordHeapBytes } from '../storage-providers/record-heap-size';
import type { ChatMessage } from './message-types';
import type { ReplayReader, ReplayResult } from './replay-reader';
import { hasEarlier, type ReplayStart } from './replay-start';
import type { ConversationOutput, ReplayFeed } from './runtime-types';

/**
 * Records one page of a replay reads at most (one storage read of that many ids, or a slice of memory). About 64 KiB
 * of frames for records of ~250 bytes: what a resuming socket has in hand at a time, whatever the history's length.
 */
export const REPLAY_PAGE_RECORDS = 256;

/**
 * A page also ends once its records reach this many bytes (recordHeapBytes, the memory store's estimate), with at
 * least one record. Records near the limits are large: 10,000 characters and 8 KiB of metadata is ≈ 19 KB, an agent's
 * piece may carry 100,000 characters (chat.limits.max_agent_output_length) and metadata without a bound, so 256 of
 * them were 5 to 25 MB held per resuming socket until it took them.
 */
export const REPLAY_PAGE_BYTES = 256 * 1024;

/** How large a page may be: records and bytes. */
export interface ReplayPageBounds {
  readonly records: number;
  readonly bytes: number;
}

const DEFAULT_BOUNDS: ReplayPageBounds = { records: REPLAY_PAGE_RECORDS, bytes: REPLAY_PAGE_BYTES };

/** What a replay reads from, owned by its conversation. */
export interface ReplaySource {
  readonly reader: ReplayReader;
  /** The records only memory has (unstored ones and the resume cache), oldest first, as of now. */
  memory(): readonly ChatMessage[];
  /** The subscription was closed: stop reading. */
  isClosed(): boolean;
  /** The replay ended (telemetry): every id came or was dropped on purpose (`recovered`), none read from storage (`fromCache`). */
  ended(recovered: boolean, fromCache: boolean): void;
}

/**
 * Reads a resume's range (start.after, upTo] a page at a time, each page when asked for: the range is not read up
 * front (a 25,000-record resume held 25,000 records per socket, read in the upgrade's turn). Every page reads from
 * where the previous one ended, with a fresh look at memory taken before its storage read: a record is always in
 * the journal, in the persistence queue or in the cache, and leaves memory only once stored, so a record stored
 * between two pages is found in the journal and one not yet stored in memory, never neither and never twice (the
 * cursor skips anything at or before it). The range ends at the conversation's last id at subscribe; later records
 * reach the subscription live, so the seam stays exact however long the replay takes.
 *
 * The answers are those of a range read at once (docs/protocol.md, Resume): ids the store dropped on purpose get a
 * `sync_complete { recovered: false }` naming them before the records after them (a bounded memory journal may drop
 * more while a slow reader replays: each such range is named where it is found), and a hole in the journal or a
 * failed read ends the replay there with the final `sync_complete { recovered: false }`.
 */
export class ReplayPages implements ReplayFeed {
  /** Every id up to this one was handed out or named as dropped. */
  private cursor: number;
  /** The final frame's `from`: the first id replayed after the last dropped range named, if any. */
  private from: number;
  private first = true;
  private finished = false;
  private reading = false;
  private fromCache = true;
  private dropped = false;
  /** The first page's droppedUpTo (has_earlier is about the start of the range). */
  private droppedAtStart: number;
  /**
   * Records the next read asks for: as many as the bytes bound holds at the last page's average record size (at most
   * bounds.records, at least one). A page cut by bytes leaves the rest of its read unused (the next page reads it
   * again), so large records are not read 256 at a time only to be dropped; small ones are still read 256 at a time.
   * The first read asks for bounds.records: its records' sizes are not known yet.
   */
  private readLimit: number;

  constructor(
    private readonly source: ReplaySource,
    private readonly start: ReplayStart,
    private readonly upTo: number,
    private readonly bounds: ReplayPageBounds = DEFAULT_BOUNDS,
    /** Handed out first, before the first page's records (a diverged resume's `reset`). */
    private reset?: ConversationOutput,
  ) {
    this.cursor = start.after;
    this.from = start.after + 1;
    this.droppedAtStart = start.after;
    this.readLimit = bounds.records;
  }

  get done(): boolean {
    return this.finished || this.source.isClosed();
  }

  async next(): Promise<ConversationOutput[]> {
    if (this.done || this.reading) return [];
    this.reading = true;
    try {
      // Memory first, then the journal: see the class comment.
      const memory = this.source.memory();
      const asked = this.readLimit;
      const page = await this.source.reader.read(this.cursor, this.upTo, memory, asked);
      if (this.source.isClosed()) return [];
      const reset = this.reset;
      this.reset = undefined;
      return reset === undefined ? this.outputsOf(page, asked) : [reset, ...this.outputsOf(page, asked)];
    } catch {
      // Not expected (the reader answers a failed storage read as not recovered); the replay ends the same way.
      const reset = this.reset;
      this.reset = undefined;
      return reset === undefined ? this.end(false) : [reset, ...this.end(false)];
    } finally {
      this.reading = false;
    }
  }

  private outputsOf(page: ReplayResult, asked: number): ConversationOutput[] {
    const outputs: ConversationOutput[] = [];
    if (!page.fromCache) this.fromCache = false;
    if (page.droppedUpTo > this.cursor) {
      outputs.push({ type: 'sync_complete', from: this.cursor + 1, to: page.droppedUpTo, recovered: false });
      this.from = page.droppedUpTo + 1;
      if (this.first) this.droppedAtStart = page.droppedUpTo;
      this.dropped = true;
      this.cursor = page.droppedUpTo;
    }
    this.first = false;
    let bytes = 0;
    let taken = 0;
    let cut = false;
    for (const message of page.records) {
      if (message.sequence_id <= this.cursor) continue;
      const size = recordHeapBytes(message);
      // Past the byte bound: the page ends before this record (at least one record, however large: no replay stalls).
      if (taken > 0 && bytes + size > this.bounds.bytes) {
        cut = true;
        break;
      }
      bytes += size;
      outputs.push({ type: 'message', message });
      this.cursor = message.sequence_id;
      taken++;
    }
    if (taken > 0) this.readLimit = Math.max(1, Math.min(this.bounds.records, Math.floor((taken * this.bounds.bytes) / bytes)));
    if (this.cursor >= this.upTo) outputs.push(...this.end(true));
    // A short read that did not reach the end: a hole, or the journal could not be read.
    else if (!cut && page.records.length < asked) outputs.push(...this.end(false));
    return outputs;
  }

  private end(recovered: boolean): ConversationOutput[] {
    this.finished = true;
    this.source.ended(recovered && !this.dropped, this.fromCache);
    const earlier = hasEarlier(this.start, this.droppedAtStart);
    const hasEarlierField = earlier === undefined ? {} : { has_earlier: earlier };
    return [{ type: 'sync_complete', from: this.from, to: this.upTo, recovered, ...hasEarlierField }];
  }
}
