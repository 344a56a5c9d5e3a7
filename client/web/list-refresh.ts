/**
 * When the chat page asks the server for its user's conversations again. Nothing tells a page that its
 * user was added to a conversation (another user created it with them in it, or they joined it in
 * another tab): the protocol's events belong to one conversation's socket. So the page asks when it is
 * shown or focused again and every LIST_REFRESH_INTERVAL_MS while visible; never while hidden, never
 * two requests at once, and not again within LIST_REFRESH_MIN_GAP_MS of the last answer (a tab switch
 * fires both focus and visibilitychange). A change the page made itself (create, join) asks at once.
 */

/** One request per visible tab per interval: new conversations show within half a minute. */
export const LIST_REFRESH_INTERVAL_MS = 30_000;
/** Focus and visibility changes closer than this to the last answer ask nothing. */
export const LIST_REFRESH_MIN_GAP_MS = 5_000;

export interface ListRefreshOptions {
  /** Fetches and renders the list; a rejection is the caller's to report (it is swallowed here). */
  readonly fetchList: () => Promise<void>;
  readonly isVisible: () => boolean;
  readonly now: () => number;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (timer: unknown) => void;
  readonly intervalMs?: number;
  readonly minGapMs?: number;
}

export interface ListRefresh {
  /** The page was shown or focused again, or the interval passed: asks unless hidden, asking, or just answered. */
  whenStale(): void;
  /** The page changed the list itself: asks now, or right after the request already running. */
  now(): Promise<void>;
}

export function createListRefresh(options: ListRefreshOptions): ListRefresh {
  const intervalMs = options.intervalMs ?? LIST_REFRESH_INTERVAL_MS;
  const minGapMs = options.minGapMs ?? LIST_REFRESH_MIN_GAP_MS;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let answeredAt = -Infinity;
  let timer: unknown;

  const stopTimer = (): void => {
    if (timer !== undefined) options.clearTimer(timer);
    timer = undefined;
  };
  // The interval counts from the last answer, so a focus refresh also pushes the next timed one back.
  const scheduleNext = (): void => {
    stopTimer();
    if (!options.isVisible()) return;
    timer = options.setTimer(() => {
      timer = undefined;
      whenStale();
    }, intervalMs);
  };
  const ask = (): Promise<void> => {
    stopTimer();
    running = options
      .fetchList()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        answeredAt = options.now();
        scheduleNext();
      });
    return running;
  };
  function whenStale(): void {
    if (!options.isVisible()) return stopTimer();
    if (running) return;
    if (options.now() - answeredAt >= minGapMs) void ask();
    else if (timer === undefined) scheduleNext();
  }
  return {
    whenStale,
    now() {
      if (!running) return ask();
      queued ??= running.then(() => {
        queued = undefined;
        return ask();
      });
      return queued;
    },
  };
}
