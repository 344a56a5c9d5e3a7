import { toJsonLine } from './jsonl';

/**
 * What the CLI says about a journal whose source no longer holds ids 1..startsAt-1 (a bounded
 * memory store dropped them): a trimmed history is not a gap, and it cannot be re-run.
 */

/** "ids 1..15" or "id 1". */
function droppedIds(startsAt: number): string {
  return startsAt === 2 ? 'id 1' : `ids 1..${startsAt - 1}`;
}

/** The informational `history_trimmed` finding of --check (it does not fail the check). */
export function historyTrimmedNote(conversationId: string, startsAt: number, json: boolean): string {
  if (json) return toJsonLine({ type: 'note', kind: 'history_trimmed', conversation_id: conversationId, from: 1, to: startsAt - 1 });
  const ids = droppedIds(startsAt);
  const verb = startsAt === 2 ? 'is' : 'are';
  return `note history_trimmed: sequence ${ids} ${verb} not in this journal (the source no longer holds them); checked from #${startsAt}`;
}

/**
 * Why --rerun refuses: the machine starts a conversation at #1 with no members, and nothing in a
 * trimmed journal says who was a member or which ids were used before its start, so every record
 * would look like a divergence.
 */
export function rerunRefusal(conversationId: string, startsAt: number): string {
  return (
    `--rerun needs the journal from #1, but conversation ${conversationId} is held from #${startsAt} (${droppedIds(startsAt)} were dropped); ` +
    'use --check or the timeline, or read a store that keeps the whole journal'
  );
}

/** A note on stderr under the timeline, so a reader does not take #startsAt for the beginning. */
export function heldFromNote(conversationId: string, startsAt: number): string {
  const ids = droppedIds(startsAt);
  return `conversation ${conversationId} is held from #${startsAt} (${ids} ${startsAt === 2 ? 'is' : 'are'} no longer held)`;
}
