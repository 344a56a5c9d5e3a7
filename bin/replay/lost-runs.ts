import { MESSAGE_TYPES, type ChatMessage } from '../../actors/message-types';
import { timeOfDay } from './timeline-format';

/**
 * A run of `lost` placeholders: the ids a cold start found reserved and not stored (actors/sequence-lease.ts).
 * The lease reserves up to 32 ids ahead, so most of them were never handed to anyone; a record per id saying
 * each "was handed out" is mostly false. The timeline shows the run as one entry instead.
 */
export interface LostRun {
  readonly type: 'lost';
  readonly conversation_id: string;
  readonly from: number;
  readonly to: number;
  readonly count: number;
  /** When the restart wrote the placeholders. */
  readonly marked_at: string;
  /** The timestamp of the record just before the run (the last one stored before the crash), when there is one. */
  readonly last_stored_at?: string;
  readonly detail: string;
}

/**
 * A placeholder a cold start wrote for an id reserved before a crash (conversation-reducers.ts, recoverLost:
 * reason `crash`). A `lost` record with reason `refused` stands for one record the store refused as invalid
 * (persistence-queue.ts): its text is exact, and it says nothing about a crash.
 */
export function isCrashPlaceholder(m: ChatMessage): boolean {
  return m.sender_type === 'system' && m.message_type === MESSAGE_TYPES.lost && m.metadata.reason === 'crash';
}

/**
 * Folds consecutive crash placeholders written by one restart (same timestamp, consecutive ids) into a LostRun.
 * Holds one run's bounds, never its records.
 */
export function createLostRuns() {
  let run: { first: ChatMessage; last: ChatMessage; before?: ChatMessage } | undefined;
  let previous: ChatMessage | undefined;

  const close = (): LostRun[] => {
    if (!run) return [];
    const { first, last, before } = run;
    run = undefined;
    return [describeRun(first, last, before)];
  };

  return {
    /** What to show for `m`, in order: a run `m` ends, then `m` itself (nothing yet when `m` joins a run). */
    accept(m: ChatMessage): Array<ChatMessage | LostRun> {
      const prior = previous;
      previous = m;
      const lost = isCrashPlaceholder(m);
      if (lost && run && m.sequence_id === run.last.sequence_id + 1 && m.timestamp === run.last.timestamp) {
        run.last = m;
        return [];
      }
      const ended = close();
      if (!lost) return [...ended, m];
      run = { first: m, last: m, before: prior?.sequence_id === m.sequence_id - 1 ? prior : undefined };
      return ended;
    },
    /** The run the journal ends with, if any. */
    finish(): LostRun[] {
      return close();
    },
  };
}

function describeRun(first: ChatMessage, last: ChatMessage, before: ChatMessage | undefined): LostRun {
  const count = last.sequence_id - first.sequence_id + 1;
  const after = before ? ` after ${timeOfDay(before.timestamp)}` : '';
  const detail =
    count === 1
      ? `id ${first.sequence_id} was reserved before a crash${after} and not stored (it may have reached clients, or never been used)`
      : `ids ${first.sequence_id}..${last.sequence_id} were reserved before a crash${after} and none was stored ` +
        '(each may have reached clients, or never been used)';
  return {
    type: 'lost',
    conversation_id: first.conversation_id,
    from: first.sequence_id,
    to: last.sequence_id,
    count,
    marked_at: first.timestamp,
    ...(before ? { last_stored_at: before.timestamp } : {}),
    detail,
  };
}
