/**
 * observability/log-throttle.ts on a clock the test sets: a line per key per interval, the next counting what was
 * left out, and a clock set back (the audit log's default is Date.now) not silencing a key for the time it went back.
 */
import { createLogThrottle } from '../../observability/log-throttle';

test('one line per key per interval; the next says how many were left out', () => {
  let now = 1_000_000;
  const throttle = createLogThrottle({ now: () => now, intervalMs: 10_000 });
  expect(throttle.admit('a')).toBe(0);
  expect(throttle.admit('a')).toBeUndefined();
  expect(throttle.admit('b')).toBe(0);
  now += 9_999;
  expect(throttle.admit('a')).toBeUndefined();
  now += 1;
  expect(throttle.admit('a')).toBe(2);
});

test('a wall clock set back does not silence a key for longer than one interval', () => {
  let now = 1_000_000_000;
  const throttle = createLogThrottle({ now: () => now, intervalMs: 10_000 });
  expect(throttle.admit('a')).toBe(0);
  now -= 3_600_000;
  // The key's interval is measured on the clock as it is now: a line at once, then throttled for one interval ...
  expect(throttle.admit('a')).toBe(0);
  expect(throttle.admit('a')).toBeUndefined();
  now += 10_000;
  // ... and not for the hour it went back.
  expect(throttle.admit('a')).toBe(1);
});
