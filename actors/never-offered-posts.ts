import { modeOf } from './conversation-context';
import { MESSAGE_TYPES, type ChatMessage, type ConversationMode, type Participant } from './message-types';

/**
 * At load: the humans' posts that waited for the multi-mode input window and were never offered to the agents (the
 * process died, or stopped, before the window ended). The load hands them to the machine as a waiting burst, which
 * it collects again with a fresh window (the same path as a machine crash's leftovers: crash-leftovers.ts), so the
 * agents are offered them once.
 *
 * A post counts when all of these hold:
 *  - it was sequenced in multi mode (the mode_change records of `recent` say which; a single-mode post is offered in
 *    the step that sequences it, so a stored one was offered);
 *  - it is after every AI member's offer mark (offer-cursor.ts: the member's stored read position, at least its
 *    join record): the lowest of them, so a member that joined while the burst waited does not hide it;
 *  - no agent job record answers it or a later human post (bursts are offered in order): this covers an offer
 *    whose mark was not written before the crash but whose job was.
 * Only `recent` (the restored window) is looked at: a burst older than it is not found.
 */
export function neverOfferedPosts(
  recent: readonly ChatMessage[],
  participants: readonly Participant[],
  offerMarks: ReadonlyMap<string, number>,
): readonly ChatMessage[] {
  const markedUpTo = lowestOfferMark(participants, offerMarks);
  if (markedUpTo === undefined) return NONE;
  let mode = modeBefore(recent, participants);
  const humanPosts = new Set<number>();
  let answeredUpTo = 0;
  const waiting: ChatMessage[] = [];
  for (const m of recent) {
    if (m.sender_type === 'human') {
      humanPosts.add(m.sequence_id);
      if (mode === 'multi' && m.sequence_id > markedUpTo) waiting.push(m);
    } else if (m.sender_type === 'system') {
      if (m.message_type === MESSAGE_TYPES.modeChange) mode = m.metadata.mode === 'multi' ? 'multi' : 'single';
      const trigger = m.metadata.in_reply_to_sequence;
      // A chain's job answers an AI record, which says nothing about the humans' posts waiting meanwhile.
      if (typeof m.metadata.job_id === 'string' && typeof trigger === 'number' && humanPosts.has(trigger))
        answeredUpTo = Math.max(answeredUpTo, trigger);
    }
  }
  return answeredUpTo === 0 ? waiting : waiting.filter((m) => m.sequence_id > answeredUpTo);
}

const NONE: readonly never[] = Object.freeze([]);

/** The lowest offer mark of the AI members, each at least its join record; undefined without AI members. */
function lowestOfferMark(participants: readonly Participant[], offerMarks: ReadonlyMap<string, number>): number | undefined {
  let lowest: number | undefined;
  for (const p of participants) {
    if (p.participant_type !== 'ai') continue;
    const mark = Math.max(offerMarks.get(p.participant_id) ?? 0, p.joined_at_sequence);
    lowest = lowest === undefined ? mark : Math.min(lowest, mark);
  }
  return lowest;
}

/** The mode at the start of `recent`: what its first mode change changed from, else the members' mode now. */
function modeBefore(recent: readonly ChatMessage[], participants: readonly Participant[]): ConversationMode {
  for (const m of recent) {
    if (m.sender_type !== 'system' || m.message_type !== MESSAGE_TYPES.modeChange) continue;
    return m.metadata.previous_mode === 'multi' ? 'multi' : 'single';
  }
  return modeOf(new Map(participants.map((p) => [p.participant_id, p])));
}
