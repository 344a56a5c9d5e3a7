/**
 * What the chat page calls a conversation. An untitled one gets the runtime's default title, the same for all of
 * them ("Conversation": a list of those says nothing), so the page names it by its other members instead, or,
 * with nobody else in it, by the first characters of its id.
 */
import type { Participant } from '../protocol-frames';

/** The title the runtime gives a conversation created without one (actors/chat-runtime.ts). */
export const DEFAULT_TITLE = 'Conversation';
/** More names than this end in "+N". */
const MAX_NAMES = 3;

export function isUntitled(title: string | undefined): boolean {
  return title === undefined || title.trim() === '' || title === DEFAULT_TITLE;
}

/**
 * The other members' names (people first), or the id's first 8 characters while they are unknown or absent.
 * `memberCount`: how many members there are in all when `members` lists only some (the conversation list's
 * `participant_count`); the "+N" counts the others not named.
 */
export function untitledLabel(
  conversationId: string,
  members: readonly Participant[] | undefined,
  me: string | undefined,
  memberCount?: number,
): string {
  const others = (members ?? [])
    .filter((p) => p.participant_id !== me)
    .sort((a, b) => Number(a.participant_type === 'ai') - Number(b.participant_type === 'ai'))
    .map((p) => p.display_name || p.participant_id);
  if (others.length === 0) return conversationId.slice(0, 8);
  // A listed conversation is always one of the caller's: everyone but the caller counts among the others.
  const othersInAll = memberCount === undefined ? others.length : Math.max(others.length, memberCount - 1);
  const shown = others.slice(0, MAX_NAMES).join(', ');
  return othersInAll > MAX_NAMES ? `${shown} +${othersInAll - MAX_NAMES}` : shown;
}
