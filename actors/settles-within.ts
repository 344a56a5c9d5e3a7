import { unrefTimer, type Clock } from './clock';

/**
 * True when `work` settled within `ms` on `clock`, false when the time ran out first (the work goes on
 * unawaited; its rejection is swallowed, it has nobody left to tell). For best-effort steps of a shutdown.
 */
export function settlesWithin(work: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = unrefTimer(clock.setTimeout(() => resolve(false), Math.max(0, ms)));
    const done = (): void => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    work.then(done, done);
  });
}
