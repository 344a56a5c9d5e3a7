import type { ChatMessage, ConversationMode, Participant } from '../../actors/message-types';
import type { Harness } from './harness';

/**
 * A conversation's journal as read over HTTP, with the membership and mode after every record, so
 * frames can be checked against what the journal says was true at the point they were sent.
 */
export class JournalView {
  /** members[seq]: the member ids after record `seq` (members[0]: nobody yet). */
  private readonly members: ReadonlySet<string>[] = [new Set()];
  private readonly modes: ConversationMode[] = ['single'];
  /** Membership records that change nothing (a join of a member, a leave of a non-member): joining twice must be harmless. */
  readonly problems: string[] = [];

  constructor(readonly records: readonly ChatMessage[]) {
    let members = new Set<string>();
    let mode: ConversationMode = 'single';
    for (const m of records) {
      const p = m.metadata.participant as Participant | undefined;
      const known = p !== undefined && members.has(p.participant_id);
      if (m.message_type === 'join' && known) this.problems.push(`record ${m.sequence_id}: ${p.participant_id} joined while a member`);
      if (m.message_type === 'leave' && p && !known)
        this.problems.push(`record ${m.sequence_id}: ${p.participant_id} left while not a member`);
      if (m.message_type === 'join' && p) members = new Set(members).add(p.participant_id);
      if (m.message_type === 'leave' && p) {
        members = new Set(members);
        members.delete(p.participant_id);
      }
      if (m.message_type === 'mode_change') mode = m.metadata.mode as ConversationMode;
      this.members.push(members);
      this.modes.push(mode);
    }
  }

  get last(): number {
    return this.records.length;
  }

  record(seq: number): ChatMessage | undefined {
    return this.records[seq - 1];
  }

  membersAt(seq: number): ReadonlySet<string> {
    return this.members[Math.min(seq, this.records.length)];
  }

  modeAt(seq: number): ConversationMode {
    return this.modes[Math.min(seq, this.records.length)];
  }
}

/** Reads the whole journal through GET .../messages, page by page, as `reader` (a member). */
export async function readJournal(h: Harness, conversationId: string, reader: string): Promise<JournalView> {
  const records: ChatMessage[] = [];
  let after = 0;
  for (;;) {
    const page = await h.request(
      'GET',
      `/chat/conversations/${encodeURIComponent(conversationId)}/messages?after=${after}&limit=500`,
      reader,
    );
    if (page.status !== 200) throw new Error(`history read failed: ${page.status} ${JSON.stringify(page.body)}`);
    records.push(...(page.body.messages as ChatMessage[]));
    if (!page.body.has_more) return new JournalView(records);
    after = page.body.next_after as number;
  }
}
