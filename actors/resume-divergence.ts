import { MESSAGE_TYPES, type ChatMessage } from './message-types';
import { isRefusedPlaceholder } from './persistence-queue';
import type { ReplayResult } from './replay-reader';

/** Who wrote the last record a resuming client holds (SubscribeOptions.lastRecord). */
export interface RecordIdentity {
  readonly message_id: string;
  readonly sender_id: string;
}

/** Records a divergence check reads back from the client's resume point at most. */
export const DIVERGENCE_SCAN_RECORDS = 10_000;
const SCAN_PAGE = 500;

/** Reads records after `after` up to `upTo` (at most `limit`), from memory or the journal: ReplayReader.read. */
export type RangeRead = (after: number, upTo: number, limit: number) => Promise<ReplayResult>;

/**
 * Where a resuming client's history left the conversation's, or undefined when it did not (or that cannot be told).
 *
 * Delivery comes before persistence and, while storage is down, sequencing goes on past the stored reservation
 * (sequence-lease.ts): a crash then makes the next process mark (last stored, reservation] `lost` and number after
 * the reservation, so ids a client received may be handed out again with other records. The client's record at its
 * resume point `after` then is not the conversation's: the record there is missing (past the end), a `lost`
 * placeholder of a crash, or another one (sender_id, message_id). Its records went wrong where that crash's `lost`
 * run starts: the latest run of crash `lost` records at or below its id, read backwards a page at a time. The
 * answer is the id before that run; without a run within DIVERGENCE_SCAN_RECORDS, the conversation's end for a
 * resume point past it, else none. Read once per resume, never on delivery.
 *
 * Undefined (resume as asked) when the record matches, when the store dropped it on purpose (a bounded memory
 * journal: the identity cannot be checked), when it is a placeholder of a record the store refused (the client has
 * what was delivered), or when storage cannot be read.
 */
export async function divergencePoint(read: RangeRead, after: number, last: number, identity: RecordIdentity): Promise<number | undefined> {
  if (after <= 0) return undefined;
  if (after <= last) {
    let page: ReplayResult;
    try {
      page = await read(after - 1, after, 1);
    } catch {
      return undefined;
    }
    const record = page.records.find((m) => m.sequence_id === after);
    if (record === undefined) return undefined; // dropped on purpose, a hole, or unreadable: cannot tell
    if (isRefusedPlaceholder(record)) return undefined;
    // The same record: in step. Also when it is a crash placeholder the client holds itself (it replayed the run after
    // the restart): checking the placeholder first reset such a client at every reconnect, for ever.
    if (record.message_id === identity.message_id && record.sender_id === identity.sender_id) return undefined;
  }
  const runStart = await lostRunStart(read, Math.min(after, last));
  if (runStart !== undefined) return runStart;
  // No crash run explains it. Past the end (a journal lost or cut back): the records after the end are not the
  // conversation's, as before the check. A mismatch inside the journal without a run (a client naming a wrong record)
  // resumes as asked: resetting it would cost a replay of the whole scan for any client that names anything.
  return after > last ? last : undefined;
}

/** The id before the latest run of crash `lost` records at or below `top`; undefined without one within the bounded scan. */
async function lostRunStart(read: RangeRead, top: number): Promise<number | undefined> {
  const floor = Math.max(0, top - DIVERGENCE_SCAN_RECORDS);
  let hi = top;
  /** Inside a run: its lowest id so far. */
  let runStart: number | undefined;
  while (hi > floor) {
    const lo = Math.max(floor, hi - SCAN_PAGE);
    let page: ReplayResult;
    try {
      page = await read(lo, hi, hi - lo);
    } catch {
      return undefined;
    }
    const records = page.records;
    // Records come from droppedUpTo + 1 without holes; a short page (a hole, a failed read) is read from its end.
    if (records.length === 0 || records[records.length - 1].sequence_id !== hi) {
      return runStart !== undefined ? runStart - 1 : undefined;
    }
    for (let i = records.length - 1; i >= 0; i--) {
      const m = records[i];
      if (isCrashLost(m)) runStart = m.sequence_id;
      else if (runStart !== undefined) return runStart - 1;
    }
    const first = records[0].sequence_id;
    // The store dropped the ids before this page: nothing older is left to read.
    if (first > lo + 1) return runStart !== undefined ? runStart - 1 : undefined;
    hi = lo;
  }
  return runStart !== undefined ? runStart - 1 : undefined;
}

function isCrashLost(m: ChatMessage): boolean {
  return m.message_type === MESSAGE_TYPES.lost && m.sender_type === 'system' && m.metadata.reason === 'crash';
}
