import type { SubscribeOptions } from './runtime-types';

/** Where a subscription's replay starts, and what it was asked to start from. */
export interface ReplayStart {
  /** The replay sends the records after this id (up to the conversation's last id at subscribe). */
  readonly after: number;
  /**
   * Only when `history` bounded the replay: the resume point asked for (0 without afterSequenceId, the
   * conversation's last id when it asked for more). Ids after it up to `after` were left out.
   */
  readonly asked?: number;
}

/**
 * The replay of a subscription made with `options` while the conversation's last id is `last`; undefined for
 * live only (neither afterSequenceId nor history). A resume point past the end (a client of an older incarnation)
 * resumes from the real end. `history` moves the start forward to the last `history` ids, never back: a client
 * that already has more recent records gets only what it lacks.
 */
export function replayStart(options: SubscribeOptions, last: number): ReplayStart | undefined {
  const { afterSequenceId, history } = options;
  if (history === undefined) return afterSequenceId === undefined ? undefined : { after: Math.min(afterSequenceId, last) };
  const asked = Math.min(afterSequenceId ?? 0, last);
  return { after: Math.max(asked, last - history), asked };
}

/**
 * What the replay's last sync_complete says in `has_earlier`: undefined when no history was asked for; otherwise
 * whether the bound left out ids after the resume point that the store may still hold. When the store dropped ids
 * at the replay's start (`droppedUpTo` past it: a bounded memory journal), everything before them is dropped too,
 * so nothing earlier can be read.
 */
export function hasEarlier(start: ReplayStart, droppedUpTo: number): boolean | undefined {
  if (start.asked === undefined) return undefined;
  return start.after > start.asked && droppedUpTo === start.after;
}
