import { answeredSequencesOf } from '../../actors/answered-sequences';
import { MESSAGE_TYPES, type ChatMessage } from '../../actors/message-types';
import { createOpenAnswers, type OpenAnswerFinding } from './open-answers';

export type ViolationKind =
  | 'conversation_mismatch'
  | 'sequence_gap'
  | 'sequence_duplicate'
  | 'sequence_out_of_order'
  | 'duplicate_message_id'
  | 'answer_before_trigger'
  | 'answer_without_trigger'
  | 'not_a_member'
  | 'join_while_member'
  | 'leave_while_not_member'
  | 'answer_cut_off';

/** One broken invariant, naming the offending record. */
export interface Violation {
  readonly kind: ViolationKind;
  readonly sequence_id: number;
  readonly message_id: string;
  readonly sender_id: string;
  readonly detail: string;
  /** answer_cut_off: the job, its agent and the record it answers. */
  readonly job_id?: string;
  readonly participant_id?: string;
  readonly in_reply_to_sequence?: number;
}

/** A finding that does not fail the check: `answer_open`, a job that may still be running. */
export type CheckNote = OpenAnswerFinding & { readonly kind: 'answer_open' };

/** Streaming invariant checker: feed records in journal order, read violations as they appear. */
export interface InvariantChecker {
  /** Violations this record causes (usually none). */
  accept(record: ChatMessage): Violation[];
  /**
   * Violations only visible at the end: `endsAt`, the last id the source says the journal went to (a server's
   * last page passed over a hole at the end), makes the ids after the last record a sequence_gap. Such a
   * violation names no record (message_id and sender_id are empty).
   */
  finish(endsAt?: number): Violation[];
  /** After finish: the findings that do not fail the check. */
  notes(): CheckNote[];
  readonly records: number;
}

interface Membership {
  member: boolean;
  leftAt?: number;
}

/**
 * Checks the journal invariants in one pass:
 *  - every record belongs to the conversation (the given id, else the first record's);
 *  - sequence ids are 1, 2, 3, ... (or N, N+1, ... below) in order, each once;
 *  - (sender_id, message_id) is unique per sender among non-system records;
 *  - a record answering others (metadata.in_reply_to_sequence and, for a burst, in_reply_to_sequences: AI
 *    output, job records) comes after each of them, and each exists earlier in the journal;
 *  - human and AI records come only from members (after their join record, before their leave);
 *    a join while a member or a leave while not one is also reported;
 *  - every agent job that started ends (open-answers.ts: `answer_cut_off` when the journal shows it never
 *    can, else the note `answer_open`).
 * A journal whose source no longer holds its oldest records (`historyStartsAt` N > 1) is checked from
 * N: ids 1..N-1 are not a gap, and what happened in them is unknown, so a participant first seen
 * without a join record of theirs counts as a member who joined before N, and an answer to a record
 * before N is taken as answering a record that was there. Holes from N on are still gaps.
 * Memory: O(participants) plus the seen sequence ids and (sender, message_id) keys, which are
 * O(messages) (a Set/Map of short keys: about 100 bytes per record).
 */
export function createInvariantChecker(options: { conversationId?: string; historyStartsAt?: number } = {}): InvariantChecker {
  let conversationId = options.conversationId;
  const historyStartsAt = Math.max(1, options.historyStartsAt ?? 1);
  const trimmed = historyStartsAt > 1;
  const seenSequences = new Set<number>();
  let maxSequence = historyStartsAt - 1;
  const messageKeys = new Map<string, number>();
  const members = new Map<string, Membership>();
  const answers = createOpenAnswers();
  let notes: CheckNote[] = [];
  let count = 0;

  /** In a trimmed journal, someone first seen without a join record joined in the dropped part. */
  const joinedBeforeHistory = (participantId: string): Membership | undefined => {
    if (!trimmed) return undefined;
    const state = { member: true };
    members.set(participantId, state);
    return state;
  };

  return {
    get records() {
      return count;
    },
    accept(m) {
      count += 1;
      answers.accept(m);
      const out: Violation[] = [];
      const flag = (kind: ViolationKind, detail: string): void => {
        out.push({ kind, sequence_id: m.sequence_id, message_id: m.message_id, sender_id: m.sender_id, detail });
      };

      conversationId ??= m.conversation_id;
      if (m.conversation_id !== conversationId)
        flag('conversation_mismatch', `belongs to conversation ${m.conversation_id}, not ${conversationId}`);

      const seq = m.sequence_id;
      if (seenSequences.has(seq)) flag('sequence_duplicate', `sequence id ${seq} appears more than once`);
      else if (seq > maxSequence + 1) {
        const from = maxSequence + 1;
        // The record named is the one after the gap, not a missing one: say so, or it reads as the lost record.
        const ids = from === seq - 1 ? `sequence id ${from} is missing` : `sequence ids ${from}..${seq - 1} are missing`;
        flag('sequence_gap', `${ids}; #${seq} is the record after the gap`);
      } else if (seq <= maxSequence) flag('sequence_out_of_order', `sequence id ${seq} comes after ${maxSequence}`);
      seenSequences.add(seq);
      if (seq > maxSequence) maxSequence = seq;

      if (m.sender_type !== 'system') {
        const key = `${m.sender_id}\u0000${m.message_id}`;
        const first = messageKeys.get(key);
        if (first !== undefined) flag('duplicate_message_id', `message id ${m.message_id} of ${m.sender_id} was already used by #${first}`);
        else messageKeys.set(key, seq);
      }

      // Only the runtime's own records answer something (AI answers, agent job records). A human record may carry
      // the key too: journals written before human posts were refused it (reserved-metadata.ts) have such posts.
      // Every id it answers (a burst's posts: in_reply_to_sequences) is checked, one violation of each kind naming them.
      const replyTo = m.sender_type === 'human' ? undefined : answeredSequencesOf(m.metadata);
      if (replyTo !== undefined) {
        const ahead = replyTo.filter((id) => id >= seq);
        const absent = replyTo.filter((id) => id < seq && !seenSequences.has(id) && !(id >= 1 && id < historyStartsAt));
        if (ahead.length > 0) flag('answer_before_trigger', `answers ${idList(ahead)}, which ${isOrAre(ahead)} not before it`);
        if (absent.length > 0)
          flag('answer_without_trigger', `answers ${idList(absent)}, which ${isOrAre(absent)} not in the journal before it`);
      }

      if (m.sender_type === 'system' && m.message_type === MESSAGE_TYPES.join) {
        const state = members.get(m.sender_id);
        if (state?.member) flag('join_while_member', `${m.sender_id} joins but is already a member`);
        members.set(m.sender_id, { member: true });
      } else if (m.sender_type === 'system' && m.message_type === MESSAGE_TYPES.leave) {
        const state = members.get(m.sender_id) ?? joinedBeforeHistory(m.sender_id);
        if (!state?.member) flag('leave_while_not_member', `${m.sender_id} leaves but is not a member`);
        members.set(m.sender_id, { member: false, leftAt: seq });
      } else if (m.sender_type !== 'system') {
        const state = members.get(m.sender_id) ?? joinedBeforeHistory(m.sender_id);
        if (!state) flag('not_a_member', `${m.sender_id} (${m.sender_type}) writes before any join record of theirs`);
        else if (!state.member) flag('not_a_member', `${m.sender_id} (${m.sender_type}) writes after leaving at #${state.leftAt}`);
      }
      return out;
    },
    finish(endsAt) {
      const open = answers.finish();
      notes = open.filter((f): f is CheckNote => f.kind === 'answer_open');
      const out: Violation[] = open.filter((f) => f.kind === 'answer_cut_off').map((f) => ({ ...f, kind: 'answer_cut_off' as const }));
      if (endsAt === undefined || endsAt <= maxSequence) return out;
      const from = maxSequence + 1;
      const ids = from === endsAt ? `sequence id ${from} is` : `sequence ids ${from}..${endsAt} are`;
      const detail = `${ids} missing at the end of the journal (the source goes to #${endsAt})`;
      return [...out, { kind: 'sequence_gap', sequence_id: endsAt, message_id: '', sender_id: '', detail }];
    },
    notes: () => notes,
  };
}

/** "#7" or "#5, #7": the answered ids a violation names (at most MAX_ANSWERED_SEQUENCE_IDS of them). */
function idList(ids: readonly number[]): string {
  return ids.map((id) => `#${id}`).join(', ');
}

function isOrAre(ids: readonly number[]): string {
  return ids.length === 1 ? 'is' : 'are';
}

/** One line naming the offending entry. */
export function formatViolation(
  v: Pick<Violation, 'sequence_id' | 'message_id' | 'sender_id' | 'detail'> & { readonly kind: string },
): string {
  // A gap at the end of the journal has no record to name.
  if (v.message_id === '' && v.sender_id === '') return `#${v.sequence_id} ${v.kind}: ${v.detail}`;
  return `#${v.sequence_id} ${v.kind}: ${v.detail} (message ${v.message_id}, sender ${v.sender_id})`;
}
