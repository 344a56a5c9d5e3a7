import type { ChatMessage } from '../../actors/message-types';
import type { JournalView } from './session-journal';
import { REDACTED } from './session-tab-view';

/** A change the server said it took, with the record it named (a `change_ack` or an HTTP answer). */
interface TakenChange {
  readonly kind: 'edit' | 'delete';
  readonly userId: string;
  readonly messageId: string;
  /** The text an edit sent. */
  readonly content?: string;
  /** The record it sequenced (changed: true), if named. */
  readonly recordSequenceId: number | undefined;
  /** The message's sequence id when the change was sent, if the session knew it (its post was acked). */
  readonly target: number | undefined;
}

/**
 * Edits, deletes and the owner's redactions of a session (docs/protocol.md, Edits and deletes), and what the journal
 * must show for them at the end: each `edit` record names a human `text` record of its sender and carries a text
 * that sender sent as an edit of it; a message's content is its last edit record's (edit_count 1, 2, ... with no
 * gap) unless it is redacted, and then so are its edit records; every redacted record is named by exactly one
 * `redaction` record; every change the server acknowledged is there.
 */
export class ChangeLedger {
  /** Texts sent as edits, per conversation, sender and message id. */
  private readonly edits = new Map<string, Set<string>>();
  private readonly taken = new Map<string, TakenChange[]>();
  /** Messages a taken delete or redaction covered: an edit sent after that must be refused. */
  private readonly redacted = new Set<string>();
  /** (conversation, message id) a delete or redaction was sent for, of any sender: an edit of it may be refused. */
  private readonly deletesSent = new Set<string>();

  deleteSent(conversationId: string, messageId: string): void {
    this.deletesSent.add(`${conversationId}\u0000${messageId}`);
  }

  mayBeRedacted(conversationId: string, messageId: string): boolean {
    return this.deletesSent.has(`${conversationId}\u0000${messageId}`);
  }

  editSent(conversationId: string, userId: string, messageId: string, content: string): void {
    const key = keyOf(conversationId, userId, messageId);
    this.edits.set(key, (this.edits.get(key) ?? new Set()).add(content));
  }

  took(conversationId: string, change: TakenChange): void {
    const list = this.taken.get(conversationId) ?? [];
    list.push(change);
    this.taken.set(conversationId, list);
    if (change.kind === 'delete') this.redacted.add(keyOf(conversationId, change.userId, change.messageId));
  }

  /** A redaction answered as covering (conversation, sender, message id). */
  redactedNow(conversationId: string, userId: string, messageId: string): void {
    this.redacted.add(keyOf(conversationId, userId, messageId));
  }

  isRedacted(conversationId: string, userId: string, messageId: string): boolean {
    return this.redacted.has(keyOf(conversationId, userId, messageId));
  }

  checkJournal(conversationId: string, journal: JournalView): string[] {
    const problems: string[] = [];
    const named = new Map<number, number>();
    const editsOf = new Map<number, ChatMessage[]>();
    for (const r of journal.records) {
      if (r.message_type === 'redaction') {
        for (const id of r.metadata.redacted_sequence_ids as number[]) {
          if (named.has(id)) problems.push(`record ${id} named by redaction records ${named.get(id)} and ${r.sequence_id}`);
          named.set(id, r.sequence_id);
        }
      }
      if (r.message_type !== 'edit') continue;
      const target = journal.record(r.metadata.edited_sequence_id as number);
      if (
        !target ||
        target.message_type !== 'text' ||
        target.sender_type !== 'human' ||
        target.sender_id !== r.metadata.sender_id ||
        target.message_id !== r.metadata.edited_message_id
      ) {
        problems.push(`edit record ${r.sequence_id} names ${JSON.stringify(target)}`);
        continue;
      }
      editsOf.set(target.sequence_id, [...(editsOf.get(target.sequence_id) ?? []), r]);
      const sent = this.edits.get(keyOf(conversationId, target.sender_id, target.message_id));
      if (r.content !== REDACTED && !sent?.has(r.content)) problems.push(`edit record ${r.sequence_id} carries a text nobody sent`);
    }
    for (const r of journal.records) {
      const isRedacted = r.metadata.redacted === true;
      if (isRedacted !== (r.content === REDACTED)) problems.push(`record ${r.sequence_id}: content ${r.content}, redacted ${isRedacted}`);
      if (isRedacted !== named.has(r.sequence_id))
        problems.push(`record ${r.sequence_id}: redacted ${isRedacted}, named ${named.has(r.sequence_id)}`);
      if (r.message_type !== 'text' || r.sender_type !== 'human') continue;
      const edits = editsOf.get(r.sequence_id) ?? [];
      edits.forEach((e, i) => {
        if (e.metadata.edit_count !== i + 1)
          problems.push(`edit record ${e.sequence_id} says edit_count ${e.metadata.edit_count}, is edit ${i + 1}`);
        if (isRedacted && e.content !== REDACTED) problems.push(`edit record ${e.sequence_id} of redacted ${r.sequence_id} keeps its text`);
      });
      if (isRedacted || edits.length === 0) continue;
      const last = edits[edits.length - 1];
      if (r.content !== last.content || r.metadata.edit_count !== edits.length || r.metadata.edited !== true)
        problems.push(
          `record ${r.sequence_id} holds ${JSON.stringify(r.content)} (${r.metadata.edit_count} edits), its last edit record ${last.sequence_id} ${JSON.stringify(last.content)} (${edits.length})`,
        );
    }
    for (const c of this.taken.get(conversationId) ?? []) problems.push(...checkTaken(c, journal));
    return problems;
  }
}

/** An acknowledged change: its record is the journal's, and a delete left its message redacted. */
function checkTaken(c: TakenChange, journal: JournalView): string[] {
  const what = `${c.kind} of ${c.userId}/${c.messageId}`;
  const problems: string[] = [];
  if (c.kind === 'delete' && c.target !== undefined && journal.record(c.target)?.metadata.redacted !== true)
    problems.push(`${what} was taken, but record ${c.target} is not redacted`);
  if (c.recordSequenceId === undefined) return problems;
  const r = journal.record(c.recordSequenceId);
  const names =
    c.kind === 'edit'
      ? r?.message_type === 'edit' && r.metadata.sender_id === c.userId && r.metadata.edited_message_id === c.messageId
      : r?.message_type === 'redaction' && (c.target === undefined || (r.metadata.redacted_sequence_ids as number[]).includes(c.target));
  if (!names || !r) problems.push(`${what} acknowledged as record ${c.recordSequenceId}, which is ${JSON.stringify(r)}`);
  else if (c.kind === 'edit' && r.content !== c.content && r.content !== REDACTED)
    problems.push(`${what} acknowledged as record ${c.recordSequenceId}, which carries ${JSON.stringify(r.content)}`);
  return problems;
}

function keyOf(conversationId: string, userId: string, messageId: string): string {
  return `${conversationId}\u0000${userId}\u0000${messageId}`;
}
