/**
 * When the chat page tells the server that its user has read the open conversation (the client's markRead,
 * docs/protocol.md, Read positions).
 *
 * The rule: the page is visible (document.visibilityState) and the messages are scrolled to their end
 * (message-view.ts, isScrolledToBottom). Then every record shown is on screen or was scrolled past, so the user has
 * read up to the last record the client delivered (its lastSequenceId; records the view draws nothing for, such as
 * an answer's empty closing piece, are read with the rest, or they would stay unread for ever). Scrolled up to read
 * older messages, or in a hidden tab, nothing is marked; scrolling back down or returning to the tab marks what came
 * meanwhile. Simpler than an IntersectionObserver on the last message, and the same "at the end" the view already
 * uses to keep new messages in sight.
 *
 * The page calls check() on everything that can change the answer (a record, the connection, a scroll, visibility,
 * focus). A check runs at once and then at most once per MARK_READ_INTERVAL_MS (the checks in between become one, at
 * the interval's end): a burst of records or the scroll events of one swipe make at most two markRead calls, each
 * with the latest id, and a call is made only when that id changed since the last one marked.
 */

/** The server tells the others at most once a second per member (chat.read_positions.announce_interval_ms): no faster. */
export const MARK_READ_INTERVAL_MS = 1000;

export interface ReadMarkerDeps {
  /** The user can see the page (document.visibilityState is 'visible'). */
  isVisible(): boolean;
  /** The messages are scrolled to their end. */
  atBottom(): boolean;
  /** The last record shown (the client's lastSequenceId); undefined or 0 before any. */
  lastShown(): number | undefined;
  /** Says it: the client's markRead (and what the page's own list shows). */
  markRead(sequenceId: number): void;
  readonly now: () => number;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (timer: unknown) => void;
  readonly intervalMs?: number;
}

export interface ReadMarker {
  /** Something changed that may let the user see more: marks now, or at the interval's end. */
  check(): void;
  /** The conversation closed: no check is left waiting. */
  stop(): void;
}

export function createReadMarker(deps: ReadMarkerDeps): ReadMarker {
  const intervalMs = deps.intervalMs ?? MARK_READ_INTERVAL_MS;
  let lastRunAt = -Infinity;
  let timer: unknown;
  let marked = 0;
  let stopped = false;

  function run(): void {
    timer = undefined;
    lastRunAt = deps.now();
    if (!deps.isVisible() || !deps.atBottom()) return;
    const shown = deps.lastShown() ?? 0;
    // Unchanged, not "not above": the client's cursor moves back when a server lost records (a memory journal
    // restarted), and the records shown after that must be marked though their ids are below the old mark.
    if (shown === 0 || shown === marked) return;
    marked = shown;
    deps.markRead(shown);
  }

  return {
    check() {
      if (stopped || timer !== undefined) return;
      const wait = lastRunAt + intervalMs - deps.now();
      if (wait <= 0) run();
      else timer = deps.setTimer(run, wait);
    },
    stop() {
      stopped = true;
      if (timer !== undefined) deps.clearTimer(timer);
      timer = undefined;
    },
  };
}
