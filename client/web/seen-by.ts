/**
 * "Seen by" under the user's own latest message: the other human members whose read position (docs/protocol.md,
 * Read positions; the client's readPositions, from the connection's participant list and `read` frames) is at or
 * above its sequence id. One line in the whole list, moved to the newest own message as the user writes; none while
 * nobody else has read it. Text only, inside the message log (a polite live region), so a screen reader hears it
 * when it appears or changes, and names come from the roster the page already shows (people-panel.ts).
 */
import type { Participant } from '../protocol-frames';

/** Beyond this many readers the line says "and N others". */
const NAMED_READERS = 3;

export interface SeenByDeps {
  readonly list: HTMLUListElement;
  me(): string | undefined;
  nameOf(participantId: string): string;
}

export interface SeenBy {
  /** Draws the line again from the current members and positions. */
  show(participants: readonly Participant[], readPositions: ReadonlyMap<string, number>): void;
}

/** "alice", "alice and Bob B.", "alice, Bob B. and carol", "alice, Bob B., carol and 2 others". */
export function seenByText(names: readonly string[]): string {
  if (names.length <= 1) return `Seen by ${names.join('')}`;
  if (names.length <= NAMED_READERS) return `Seen by ${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  const others = names.length - NAMED_READERS;
  return `Seen by ${names.slice(0, NAMED_READERS).join(', ')} and ${others} other${others === 1 ? '' : 's'}`;
}

export function createSeenBy(deps: SeenByDeps): SeenBy {
  const doc = deps.list.ownerDocument;
  return {
    show(participants, readPositions) {
      // Own records only (a message still on its way has no sequence id yet, and nobody can have read it). Walked
      // back from the end: show() runs for every incoming record, and collecting every own message each time made a
      // long replay quadratic in the list's length.
      const latest = latestOwnRecord(deps.list);
      const seq = Number(latest?.dataset['seq']);
      const me = deps.me();
      const readers = latest
        ? participants
            .filter((p) => p.participant_type === 'human' && p.participant_id !== me && (readPositions.get(p.participant_id) ?? 0) >= seq)
            .map((p) => deps.nameOf(p.participant_id))
        : [];
      const text = readers.length > 0 ? seenByText(readers) : '';
      const line = deps.list.querySelector<HTMLElement>('.seen-by');
      // Unchanged: left alone, so the live region does not announce it again.
      if (line && line.parentElement === latest && line.textContent === text) return;
      line?.remove();
      if (!latest || text === '') return;
      const next = doc.createElement('div');
      next.className = 'seen-by';
      next.textContent = text;
      latest.append(next);
    },
  };
}

/** The newest item of the list that is the user's own sequenced message, or undefined. */
function latestOwnRecord(list: HTMLUListElement): HTMLLIElement | undefined {
  for (let item = list.lastElementChild; item !== null; item = item.previousElementSibling) {
    const li = item as HTMLLIElement;
    if (li.tagName === 'LI' && li.classList.contains('mine') && li.dataset['seq'] !== undefined) return li;
  }
  return undefined;
}
