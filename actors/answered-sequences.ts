import type { ChatMessage } from './message-types';

/**
 * The most sequence ids an agent job's records list in `metadata.in_reply_to_sequences`. Every record of the job
 * carries the list (its start, each answer piece, its finish), and a multi-mode burst has no length limit of its
 * own (a busy room posts until `multi_mode_max_wait_ms`), so the list is bounded: about 700 bytes at most. Not
 * `chat.context.human_messages`: that is how much context an agent gets (5 by default, 0 allowed), while the
 * list says which posts the job answers, and the agent gets the whole burst.
 */
export const MAX_ANSWERED_SEQUENCE_IDS = 100;

/**
 * The sequence ids of the records a turn answers, ascending: the burst's (the human posts collected for one turn,
 * or an AI answer's pieces offered to the other agents), always with the trigger. A burst longer than the cap is
 * listed by its last ids, the trigger's end, so the list always ends with `in_reply_to_sequence`.
 */
export function answeredSequenceIds(trigger: ChatMessage, burst: readonly ChatMessage[]): number[] {
  const ids = new Set(burst.map((m) => m.sequence_id));
  ids.add(trigger.sequence_id);
  const ascending = [...ids].sort((a, b) => a - b);
  return ascending.length > MAX_ANSWERED_SEQUENCE_IDS ? ascending.slice(-MAX_ANSWERED_SEQUENCE_IDS) : ascending;
}

/**
 * What a stored record says it answers, ascending and without repeats: `in_reply_to_sequences` together with
 * `in_reply_to_sequence` (records written before the list existed carry only the single id; a record whose list
 * left the single id out, say an external AI participant's own metadata, is still read for it). Undefined when
 * the record names no answered id.
 */
export function answeredSequencesOf(metadata: Readonly<Record<string, unknown>>): number[] | undefined {
  const ids = new Set<number>();
  const listed = metadata.in_reply_to_sequences;
  if (Array.isArray(listed)) for (const id of listed) if (typeof id === 'number') ids.add(id);
  const single = metadata.in_reply_to_sequence;
  if (typeof single === 'number') ids.add(single);
  return ids.size === 0 ? undefined : [...ids].sort((a, b) => a - b);
}
