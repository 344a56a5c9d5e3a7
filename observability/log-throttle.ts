/**
 * One log line per key per interval, the next one counting the events left out meanwhile (`suppressed`). For lines
 * anyone can cause once per request or per connection (refusals, a dead peer): written per event, they let one
 * busy client or a replica's outage flood the log. The caller picks keys it bounds: never a value a caller can vary.
 */
export interface LogThrottle {
  /**
   * Whether a line for `key` is written now: the number of events of `key` left out since its last line (0 for the
   * first), or undefined to leave this one out too.
   */
  admit(key: string): number | undefined;
}

export interface LogThrottleOptions {
  /** Clock in milliseconds (injected: tests step it). */
  readonly now: () => number;
  readonly intervalMs: number;
  /** Keys remembered at most; past it every key is forgotten at once (a line each, then throttled again). */
  readonly maxKeys?: number;
}

export function createLogThrottle(options: LogThrottleOptions): LogThrottle {
  const { now, intervalMs } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  const seenByKey = new Map<string, { until: number; suppressed: number }>();
  return {
    admit(key) {
      const t = now();
      const seen = seenByKey.get(key);
      // A clock set back (Date.now, the audit log's default) leaves `until` far ahead: only an interval's worth counts.
      if (seen && t < seen.until && t >= seen.until - intervalMs) {
        seen.suppressed += 1;
        return undefined;
      }
      if (seenByKey.size >= maxKeys) seenByKey.clear();
      seenByKey.set(key, { until: t + intervalMs, suppressed: 0 });
      return seen?.suppressed ?? 0;
    },
  };
}
