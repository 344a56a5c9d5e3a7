import { setTimeout as delay } from 'node:timers/promises';
import { ChatError } from '../actors/errors';

/**
 * Pauses between attempts on a locked database, in ms: the schedule of SQLite's own busy handler
 * (short first, so a lock held for one commit costs a millisecond), then its last value repeated.
 */
const PAUSES_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

export interface LockWait {
  /** How long to keep retrying after the first busy attempt; 0 fails at once. */
  readonly timeoutMs: number;
  /** Aborted when the store closes: a waiting call then rejects with STORAGE_ERR_NOT_OPEN. */
  readonly signal: AbortSignal;
  /** Monotonic time in ms (tests inject one). */
  readonly now?: () => number;
  /** Resolves after `ms`, rejects when `signal` aborts (tests inject one). */
  readonly pause?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_RECOVERY, _SNAPSHOT, _TIMEOUT): another connection holds a lock. */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Runs `attempt`, a synchronous driver call made on a connection whose busy_timeout is 0, so a lock
 * held by another connection fails it at once instead of blocking the event loop. The first try
 * runs now (an uncontended call has finished when this returns, without a promise or timer); a busy
 * failure is retried after growing pauses on timers until it succeeds, fails otherwise, or
 * `timeoutMs` is used up: then it rejects with STORAGE_ERR_UNAVAILABLE (retryable, like a lost
 * connection). Each try is one whole statement or transaction, which a busy failure left undone,
 * so repeating it is safe.
 */
export function whenUnlocked<T>(attempt: () => T, wait: LockWait): T | Promise<T> {
  try {
    return attempt();
  } catch (err) {
    if (!isSqliteBusy(err)) throw err;
    return retry(attempt, wait, err);
  }
}

async function retry<T>(attempt: () => T, wait: LockWait, first: unknown): Promise<T> {
  const now = wait.now ?? (() => performance.now());
  const pause = wait.pause ?? defaultPause;
  const deadline = now() + wait.timeoutMs;
  let last = first;
  for (let i = 0; ; i++) {
    const left = deadline - now();
    if (left <= 0) {
      throw new ChatError('STORAGE_ERR_UNAVAILABLE', `database is locked by another connection (waited ${wait.timeoutMs} ms)`, {
        cause: last,
      });
    }
    try {
      await pause(Math.min(PAUSES_MS[Math.min(i, PAUSES_MS.length - 1)], left), wait.signal);
    } catch (err) {
      if (!wait.signal.aborted) throw err;
    }
    // Also when the pause ended just before the abort: no attempt on a connection being closed.
    if (wait.signal.aborted) throw new ChatError('STORAGE_ERR_NOT_OPEN', 'sqlite store closed while waiting for a lock', { cause: last });
    try {
      return attempt();
    } catch (err) {
      if (!isSqliteBusy(err)) throw err;
      last = err;
    }
  }
}

function defaultPause(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal });
}
