import { unrefTimer, type Clock } from './clock';

/**
 * True when `work` resolved within `ms` on `clock`, false when the time ran out first (the work goes on
 * unawaited, and a later failure of it has nobody left to tell); a rejection within the time is passed on.
 * The timer never holds the process open. For the bounded steps of a shutdown and for probes.
 */
export function settlesWithin(work: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = unrefTimer(clock.setTimeout(() => resolve(false), Math.max(0, ms)));
    work.then(
      () => {
        clock.clearTimeout(timer);
        resolve(true);
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}
