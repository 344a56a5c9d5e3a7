import type { ChatMessage } from '../../actors/message-types';
import type { JournalView } from './session-journal';

export const REDACTED = '[redacted]';

/**
 * What one tab shows, kept across its sockets as a client keeps it (docs/protocol.md, "What a client does with it"):
 * each new record by sequence id (one already held is dropped, as clients dedupe), an `edit` record replacing the
 * content of the record it names, a `redaction` record replacing its records' content with `[redacted]`, and
 * records paged in over HTTP (a history bound's left-out ids) where the tab holds nothing yet, their edits and
 * redactions applied to what it holds. Records come in any order that way (a page read later than live edit records
 * came), so an edit applies only over an older text: its `edit_count` above the one the held text carries (a record
 * read after an edit carries that edit's count). A client that applies records so must end with the stored text:
 * checked against the journal once the tab caught up.
 */
export class TabView {
  private readonly shown = new Map<number, { content: string; edits: number }>();

  /** A fresh connection without a resume point: the client starts over. */
  reset(): void {
    this.shown.clear();
  }

  /** A record received on a socket and not held yet. */
  apply(m: ChatMessage): void {
    this.hold(m);
    this.applyChange(m);
  }

  /** A record read over HTTP: the stored record as of that read, for an id the stream skipped. */
  fill(m: ChatMessage): void {
    if (this.shown.has(m.sequence_id)) return;
    this.hold(m);
    this.applyChange(m);
  }

  /** Where the tab shows other text than the journal holds. */
  check(label: string, journal: JournalView): string[] {
    const problems: string[] = [];
    for (const [seq, { content }] of this.shown) {
      const stored = journal.record(seq)?.content;
      if (stored !== content) problems.push(`${label}: shows ${JSON.stringify(content)} at ${seq}, the journal ${JSON.stringify(stored)}`);
    }
    return problems;
  }

  private hold(m: ChatMessage): void {
    const redacted = m.metadata.redacted === true;
    this.shown.set(m.sequence_id, { content: m.content, edits: redacted ? Infinity : Number(m.metadata.edit_count ?? 0) });
  }

  private applyChange(m: ChatMessage): void {
    if (m.message_type === 'edit') {
      const target = this.shown.get(m.metadata.edited_sequence_id as number);
      const count = Number(m.metadata.edit_count);
      // A redacted edit record carries no text: its redaction record says what to show.
      if (target && count > target.edits && m.metadata.redacted !== true) Object.assign(target, { content: m.content, edits: count });
    } else if (m.message_type === 'redaction') {
      for (const id of m.metadata.redacted_sequence_ids as number[]) {
        const target = this.shown.get(id);
        if (target) Object.assign(target, { content: REDACTED, edits: Infinity });
      }
    }
  }
}
