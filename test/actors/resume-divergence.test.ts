import type { ChatMessage } from '../../actors';
import type { ReplayResult } from '../../actors/replay-reader';
import { DIVERGENCE_SCAN_RECORDS, divergencePoint, type RangeRead } from '../../actors/resume-divergence';

function record(seq: number, kind: 'text' | 'crash' | 'refused' = 'text'): ChatMessage {
  const lost = kind !== 'text';
  return {
    message_id: lost ? `lost-${seq}` : `m${seq}`,
    conversation_id: 'c',
    sequence_id: seq,
    sender_id: lost ? 'system' : 'alice',
    sender_type: lost ? 'system' : 'human',
    message_type: lost ? 'lost' : 'text',
    content: `${seq}`,
    timestamp: '2026-01-01T00:00:00.000Z',
    metadata: lost ? { reason: kind } : {},
  };
}

/** A journal of `last` records (`lost` runs where `kinds` says), read as ReplayReader.read answers; ids up to `dropped` gone. */
function journal(last: number, kinds: Record<number, 'crash' | 'refused'> = {}, dropped = 0): { read: RangeRead; reads: number[] } {
  const reads: number[] = [];
  const read: RangeRead = async (after, upTo, limit) => {
    reads.push(after);
    const from = Math.max(after, dropped);
    const records: ChatMessage[] = [];
    for (let s = from + 1; s <= Math.min(upTo, last) && records.length < limit; s++) records.push(record(s, kinds[s]));
    return { records, droppedUpTo: from, recovered: true, fromCache: false, coveredUpTo: from + records.length } satisfies ReplayResult;
  };
  return { read, reads };
}

const run = (from: number, to: number): Record<number, 'crash'> =>
  Object.fromEntries(Array.from({ length: to - from + 1 }, (_, i) => [from + i, 'crash' as const]));

describe('divergencePoint (where a resuming client left the journal)', () => {
  it('a matching record, a refused placeholder, a dropped or unreadable record: no divergence', async () => {
    expect(await divergencePoint(journal(300, run(118, 144)).read, 250, 300, { message_id: 'm250', sender_id: 'alice' })).toBeUndefined();
    expect(await divergencePoint(journal(300, { 250: 'refused' }).read, 250, 300, { message_id: 'x', sender_id: 'alice' })).toBeUndefined();
    expect(await divergencePoint(journal(300, {}, 260).read, 250, 300, { message_id: 'x', sender_id: 'alice' })).toBeUndefined();
    // A client that replayed a crash run after the restart holds its placeholders: in step, never reset again.
    const lostRun = journal(144, run(118, 144));
    expect(await divergencePoint(lostRun.read, 144, 144, { message_id: 'lost-144', sender_id: 'system' })).toBeUndefined();
    expect(await divergencePoint(lostRun.read, 130, 144, { message_id: 'lost-130', sender_id: 'system' })).toBeUndefined();
    const failing: RangeRead = () => Promise.reject(new Error('down'));
    expect(await divergencePoint(failing, 250, 300, { message_id: 'x', sender_id: 'alice' })).toBeUndefined();
  });

  it('another record, a crash placeholder or a point past the end: before the latest crash run at or below it', async () => {
    const kinds = { ...run(40, 50), ...run(118, 144), 200: 'refused' as const };
    expect(await divergencePoint(journal(300, kinds).read, 250, 300, { message_id: 'other', sender_id: 'alice' })).toBe(117);
    expect(await divergencePoint(journal(300, kinds).read, 130, 300, { message_id: 'm130', sender_id: 'alice' })).toBe(117);
    expect(await divergencePoint(journal(300, kinds).read, 900, 300, { message_id: 'm900', sender_id: 'alice' })).toBe(117);
    expect(await divergencePoint(journal(300, kinds).read, 100, 300, { message_id: 'x', sender_id: 'bob' })).toBe(39);
    // A run across a page boundary (pages of 500 read backwards).
    expect(await divergencePoint(journal(2000, run(1490, 1510)).read, 1999, 2000, { message_id: 'x', sender_id: 'a' })).toBe(1489);
  });

  it('no crash run: a point past the end goes back to the end; another record resumes as asked, after a bounded scan', async () => {
    expect(await divergencePoint(journal(300).read, 900, 300, { message_id: 'm900', sender_id: 'alice' })).toBe(300);
    expect(await divergencePoint(journal(300, {}, 100).read, 900, 300, { message_id: 'm900', sender_id: 'alice' })).toBe(300);
    // A client naming a wrong record is not sent back through the whole scan (a replay of 10,000 records per sync).
    expect(await divergencePoint(journal(300).read, 250, 300, { message_id: 'x', sender_id: 'a' })).toBeUndefined();
    expect(await divergencePoint(journal(300, {}, 100).read, 250, 300, { message_id: 'x', sender_id: 'a' })).toBeUndefined();
    const big = journal(DIVERGENCE_SCAN_RECORDS + 5000);
    expect(
      await divergencePoint(big.read, DIVERGENCE_SCAN_RECORDS + 4000, DIVERGENCE_SCAN_RECORDS + 5000, { message_id: 'x', sender_id: 'a' }),
    ).toBeUndefined();
    expect(big.reads.length).toBeLessThanOrEqual(DIVERGENCE_SCAN_RECORDS / 500 + 1);
  });
});
