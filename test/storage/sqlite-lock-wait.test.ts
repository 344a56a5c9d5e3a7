import { isSqliteBusy, whenUnlocked, type LockWait } from '../../storage-providers/sqlite-lock-wait';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

/** A LockWait on a hand-driven clock: each pause advances the clock and is recorded, nothing really waits. */
function manualWait(timeoutMs: number, controller = new AbortController()): LockWait & { pauses: number[] } {
  let now = 0;
  const pauses: number[] = [];
  return {
    timeoutMs,
    signal: controller.signal,
    pauses,
    now: () => now,
    pause: async (ms, signal) => {
      if (signal.aborted) throw new Error('aborted');
      pauses.push(ms);
      now += ms;
    },
  };
}

/** An attempt that is busy `times` times, then returns `value`. */
function busyFor<T>(times: number, value: T) {
  const attempt = jest.fn(() => {
    if (attempt.mock.calls.length <= times) throw busy();
    return value;
  });
  return attempt;
}

describe('whenUnlocked', () => {
  test('an attempt that gets its lock returns its value synchronously, without a promise', () => {
    expect(whenUnlocked(() => 42, manualWait(100))).toBe(42);
  });

  test('a busy attempt is retried after growing pauses until it gets the lock', async () => {
    const wait = manualWait(1000);
    const attempt = busyFor(4, 'done');
    const result = whenUnlocked(attempt, wait);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe('done');
    expect(attempt).toHaveBeenCalledTimes(5);
    expect(wait.pauses).toEqual([1, 2, 5, 10]);
  });

  test('still busy after timeoutMs: STORAGE_ERR_UNAVAILABLE with the driver error as cause; pauses never overshoot', async () => {
    const wait = manualWait(30);
    const attempt = busyFor(Infinity, 'never');
    const err = await Promise.resolve(whenUnlocked(attempt, wait)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_ERR_UNAVAILABLE', message: expect.stringContaining('locked by another connection') });
    expect((err as Error).cause).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(wait.pauses.reduce((a, b) => a + b, 0)).toBe(30);
    expect(wait.pauses).toEqual([1, 2, 5, 10, 12]);
  });

  test('timeoutMs 0 fails after the first busy attempt', async () => {
    const attempt = busyFor(Infinity, 'never');
    await expect(whenUnlocked(attempt, manualWait(0))).rejects.toMatchObject({ code: 'STORAGE_ERR_UNAVAILABLE' });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('other errors are not retried, on the first attempt or a later one', async () => {
    const constraint = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(() =>
      whenUnlocked(() => {
        throw constraint;
      }, manualWait(100)),
    ).toThrow(constraint);
    let calls = 0;
    const later = () => {
      if (++calls === 1) throw busy();
      throw constraint;
    };
    await expect(whenUnlocked(later, manualWait(100))).rejects.toBe(constraint);
    expect(calls).toBe(2);
  });

  test('an aborted wait (the store closed) rejects with STORAGE_ERR_NOT_OPEN and stops trying', async () => {
    const controller = new AbortController();
    const attempt = busyFor(Infinity, 'never');
    const result = whenUnlocked(attempt, manualWait(1000, controller));
    controller.abort();
    await expect(result).rejects.toMatchObject({ code: 'STORAGE_ERR_NOT_OPEN' });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('isSqliteBusy recognises SQLITE_BUSY and its extended codes only', () => {
    expect(isSqliteBusy(busy())).toBe(true);
    expect(isSqliteBusy({ code: 'SQLITE_BUSY_RECOVERY' })).toBe(true);
    expect(isSqliteBusy({ code: 'SQLITE_LOCKED' })).toBe(false);
    expect(isSqliteBusy(new Error('x'))).toBe(false);
    expect(isSqliteBusy(undefined)).toBe(false);
  });
});
