import type { ChatMessage } from '../../actors/message-types';
import type { JournalView } from './session-journal';

export const REDACTED = '[redacted]';

/**
 * What one tab shows, kept across its sockets as a client keeps it (docs/protocol.md, "What a client does with it"):
 * each new record by sequence id (one already held is dropped, as clients dedupe), an `edit` record replacing the
 * content of the record it names, a `redaction` record replacing its records' content with `[redacted]`, and
 * records paged in over HTTP (a history bound's left-out ids) only where the tab holds nothing yet. A client that
 * applies records in order must end with the stored text: checked against the journal once the tab caught up.
 */
export class TabView {
  private readonly contents = new Map<number, string>();

  /** A fresh connection without a resume point: the client starts over. */
  reset(): void {
    this.contents.clear();
  }

  /** A record received on a socket and not held yet. */
  apply(m: ChatMessage): void {
    this.contents.set(m.sequence_id, m.content);
    if (m.message_type === 'edit') {
      const target = m.metadata.edited_sequence_id as number;
      if (this.contents.has(target)) this.contents.set(target, m.content);
    } else if (m.message_type === 'redaction') {
      for (const id of m.metadata.redacted_sequence_ids as number[]) if (this.contents.has(id)) this.contents.set(id, REDACTED);
    }
  }

  /** A record read over HTTP: the stored record as of that read, for an id the stream skipped. */
  fill(m: ChatMessage): void {
    if (!this.contents.has(m.sequence_id)) this.contents.set(m.sequence_id, m.content);
  }

  /** Where the tab shows other text than the journal holds. */
  check(label: string, journal: JournalView): string[] {
    const problems: string[] = [];
    for (const [seq, content] of this.contents) {
      const stored = journal.record(seq)?.content;
      if (stored !== content) problems.push(`${label}: shows ${JSON.stringify(content)} at ${seq}, the journal ${JSON.stringify(stored)}`);
    }
    return problems;
  }
}
