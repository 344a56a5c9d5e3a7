import type { ChatMessage } from '../../actors/message-types';

/**
 * Ids the journal skips (a row deleted or never written), shown in the timeline where they would be, so a reader
 * of the timeline sees the gap rather than having to notice that #15 follows #14's neighbour. `--check` names the
 * same ids as `sequence_gap`; a `lost` record is a record, not a hole.
 */
export interface SequenceHole {
  readonly type: 'missing';
  readonly conversation_id: string;
  readonly from: number;
  readonly to: number;
  readonly count: number;
  readonly detail: string;
}

/**
 * Follows the sequence ids of every record read (before --as or a range filter): returns the hole just before a
 * record, if any. Ids before `startsAt` (trimmed history the source says it no longer holds) are not a hole.
 */
export function createSequenceHoles(conversationId: string, startsAt: number) {
  let highest = startsAt - 1;
  return {
    accept(m: ChatMessage): { from: number; to: number } | undefined {
      const expected = highest + 1;
      highest = Math.max(highest, m.sequence_id);
      return m.sequence_id > expected ? { from: expected, to: m.sequence_id - 1 } : undefined;
    },
    /** The hole as shown, cut to the ids from `from` on (a --from range). */
    describe(hole: { from: number; to: number }, from = 1): SequenceHole | undefined {
      const start = Math.max(hole.from, from);
      if (start > hole.to) return undefined;
      const count = hole.to - start + 1;
      const detail =
        count === 1
          ? `sequence id ${start} is not in the journal (never stored, or deleted); --check reports it`
          : `sequence ids ${start}..${hole.to} are not in the journal (never stored, or deleted); --check reports them`;
      return { type: 'missing', conversation_id: conversationId, from: start, to: hole.to, count, detail };
    },
  };
}
