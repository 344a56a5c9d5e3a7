/**
 * Joins and leaves made by someone else (docs/security.md, Adding and removing members): the server's join and
 * leave records carry `added_by` / `removed_by` in their metadata. The transcript says who, and the removed
 * user's page learns from its own leave record why its socket is about to close (4003). Pure, so it is tested
 * without a browser (test/client/membership-lines.test.ts).
 */
import type { ChatMessage } from '../protocol-frames';

type MembershipRecord = Pick<ChatMessage, 'message_type' | 'content' | 'metadata'>;

const stringAt = (metadata: Record<string, unknown>, key: string): string | undefined => {
  const value = metadata[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** The record's text, with "(added by X)" on a join and "(removed by X)" on a leave that says so. */
export function membershipLine(m: MembershipRecord, nameOf: (participantId: string) => string): string {
  const by =
    m.message_type === 'join'
      ? stringAt(m.metadata, 'added_by')
      : m.message_type === 'leave'
        ? stringAt(m.metadata, 'removed_by')
        : undefined;
  if (by === undefined) return m.content;
  return `${m.content} (${m.message_type === 'join' ? 'added' : 'removed'} by ${nameOf(by)})`;
}

/** Who removed `me`, when `m` is the leave record of that removal; undefined for anything else. */
export function removedBy(m: MembershipRecord, me: string | undefined): string | undefined {
  if (me === undefined || m.message_type !== 'leave') return undefined;
  const participant = m.metadata['participant'] as { participant_id?: unknown } | undefined;
  return participant?.participant_id === me ? stringAt(m.metadata, 'removed_by') : undefined;
}

/**
 * Who removed `me` as of record `m`, given `previous` (the answer before it). The page's replay on connect can
 * hold an old removal followed by this user's being added back: a join of `me` forgets it, so a later close for
 * another reason is not said as a removal (nor the conversation dropped from the list with its unsent messages).
 */
export function removalAfter(previous: string | undefined, m: MembershipRecord, me: string | undefined): string | undefined {
  if (me !== undefined && m.message_type === 'join') {
    const participant = m.metadata['participant'] as { participant_id?: unknown } | undefined;
    if (participant?.participant_id === me) return undefined;
  }
  return removedBy(m, me) ?? previous;
}
