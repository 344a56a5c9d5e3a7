import type { JournalView } from './session-journal';

/** Everything the session learnt about one (conversation, sender, message_id). */
interface PostEntry {
  readonly conversationId: string;
  readonly userId: string;
  readonly messageId: string;
  readonly content: string;
  /** The sequence id every acceptance named (acks, persisted or not, and HTTP 201s). */
  sequenceId: number | undefined;
  /** Final acceptances that said duplicate: false: at most one per message id, ever. */
  firstAcceptances: number;
  /** Where it was sent, so far: a socket (frame order holds on it), or 'http'. */
  readonly via: Set<object | 'http'>;
}

/**
 * The posts of a session and their acceptances, over every channel (WebSocket acks, HTTP answers).
 * A message_id must keep one sequence id however often and wherever it is re-sent, be accepted as new
 * at most once, and end up as exactly one journal record with the content sent.
 */
export class PostLedger {
  private readonly entries = new Map<string, PostEntry>();

  constructor(private readonly problem: (why: string) => void) {}

  /** The entry of a post about to be sent `via` a socket or HTTP (created on first use). */
  post(conversationId: string, userId: string, messageId: string, content: string, via: object | 'http'): void {
    const key = keyOf(conversationId, userId, messageId);
    const entry = this.entries.get(key);
    if (entry) entry.via.add(via);
    else
      this.entries.set(key, {
        conversationId,
        userId,
        messageId,
        content,
        sequenceId: undefined,
        firstAcceptances: 0,
        via: new Set([via]),
      });
  }

  /** Where the post was sent so far (a socket, 'http'); empty when it never was. */
  sentVia(conversationId: string, userId: string, messageId: string): ReadonlySet<object | 'http'> {
    return this.entries.get(keyOf(conversationId, userId, messageId))?.via ?? new Set();
  }

  /** An acceptance of a post: `final` for the persisted ack or the HTTP answer (one per send). */
  accepted(conversationId: string, userId: string, messageId: string, sequenceId: number, duplicate: boolean, final: boolean): void {
    const entry = this.entries.get(keyOf(conversationId, userId, messageId));
    if (!entry) {
      this.problem(`acceptance of ${userId}/${messageId}, which was never posted`);
      return;
    }
    if (entry.sequenceId !== undefined && entry.sequenceId !== sequenceId)
      this.problem(`${userId}/${messageId} accepted as ${sequenceId}, earlier as ${entry.sequenceId}`);
    entry.sequenceId ??= sequenceId;
    if (final && !duplicate && ++entry.firstAcceptances > 1) this.problem(`${userId}/${messageId} accepted as new twice`);
  }

  /** The sequence id the post's acceptances named, if one came yet. */
  sequenceOf(conversationId: string, userId: string, messageId: string): number | undefined {
    return this.entries.get(keyOf(conversationId, userId, messageId))?.sequenceId;
  }

  /** Every post of a conversation (for the final retries). */
  postsOf(conversationId: string): Array<{ userId: string; messageId: string; content: string }> {
    return [...this.entries.values()].filter((e) => e.conversationId === conversationId);
  }

  /**
   * After every post was retried until accepted: each is exactly one human text record with its content,
   * at the sequence id its acks named, and the journal holds no human record nobody posted.
   */
  checkJournal(conversationId: string, journal: JournalView): string[] {
    const problems: string[] = [];
    for (const e of this.postsOf(conversationId) as PostEntry[]) {
      if (e.sequenceId === undefined) {
        problems.push(`${e.userId}/${e.messageId} was never accepted`);
        continue;
      }
      const r = journal.record(e.sequenceId);
      // An edited or redacted record no longer holds what was posted (ChangeLedger checks what it holds instead).
      const changed = r?.metadata.edited === true || r?.metadata.redacted === true;
      if (
        !r ||
        r.sender_id !== e.userId ||
        r.message_id !== e.messageId ||
        (r.content !== e.content && !changed) ||
        r.sender_type !== 'human'
      )
        problems.push(`${e.userId}/${e.messageId} acked as ${e.sequenceId}, but the journal has ${JSON.stringify(r)}`);
    }
    for (const r of journal.records) {
      if (r.sender_type !== 'human') continue;
      const e = this.entries.get(keyOf(conversationId, r.sender_id, r.message_id));
      if (e?.sequenceId !== r.sequence_id)
        problems.push(`journal record ${r.sequence_id} (${r.sender_id}/${r.message_id}) was not acked as that id`);
    }
    return problems;
  }
}

function keyOf(conversationId: string, userId: string, messageId: string): string {
  return `${conversationId}\u0000${userId}\u0000${messageId}`;
}
