/**
 * Time and identity are injected so the actor is deterministic under test:
 * nothing in actors/ calls Date.now(), setTimeout or crypto directly.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Its timers keep the process alive (an input window that is about to dispatch
 * agents is pending work); background timers (passivation, retention) go through `unrefTimer`.
 */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

/** Lets a background timer not keep the process alive (no-op for clocks whose handles are not Node timers). */
export function unrefTimer(handle: unknown): unknown {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle && typeof handle.unref === 'function') handle.unref();
  return handle;
}

/** A clock tests advance by hand; timers fire in due-time order inside advance(). */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  /**
   * Time passes and no timer runs, as for a paused process (SIGSTOP, a frozen VM); the timers due meanwhile run late,
   * at the next advance() (advance(0): as the process wakes).
   */
  jump(ms: number): void;
  pendingTimers(): number;
}

export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, { due: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let nextKey: number | undefined;
        let nextDue = Infinity;
        for (const [id, t] of timers) if (t.due <= target && t.due < nextDue) [nextKey, nextDue] = [id, t.due];
        if (nextKey === undefined) break;
        const t = timers.get(nextKey)!;
        timers.delete(nextKey);
        // A timer overdue after jump() runs late, at the time it is now, not back at its due time.
        now = Math.max(now, t.due);
        t.fn();
      }
      now = target;
    },
    jump(ms) {
      now += ms;
    },
    pendingTimers: () => timers.size,
  };
}

/** Generates ids for records the runtime itself creates (system events, agent output). */
export type IdGenerator = () => string;

export function createCounterIds(prefix = 'id'): IdGenerator {
  let n = 0;
  return () => `${prefix}-${++n}`;
}
