/**
 * Reconnect delays: exponential (initialMs, 2x, 4x ... capped at maxMs) with jitter.
 * 'full' jitter (the default) picks uniformly in [0, cap) so a crowd of clients dropped by the
 * same server restart spreads its reconnects instead of stampeding; 'equal' keeps at least half
 * the cap; 'none' is the bare exponential sequence.
 */
export type JitterMode = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  /** First delay cap (default 1000 ms). */
  readonly initialMs?: number;
  /** Largest delay (default 30000 ms). */
  readonly maxMs?: number;
  /** Default 'full'. */
  readonly jitter?: JitterMode;
}

export const DEFAULT_BACKOFF = Object.freeze({ initialMs: 1000, maxMs: 30_000, jitter: 'full' as JitterMode });

/** The cap for a (0-based) attempt: min(maxMs, initialMs * 2^attempt). */
export function backoffCap(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  // Exponent bounded so 2^attempt never overflows to Infinity on absurd retry counts.
  return Math.min(max, initial * 2 ** Math.min(attempt, 40));
}

/** The delay before (0-based) reconnect attempt `attempt`; `random` returns [0, 1). */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = {}): number {
  const cap = backoffCap(attempt, options);
  const r = Math.min(1, Math.max(0, random()));
  switch (options.jitter ?? DEFAULT_BACKOFF.jitter) {
    case 'none':
      return cap;
    case 'equal':
      return Math.round(cap / 2 + (r * cap) / 2);
    default:
      return Math.round(r * cap);
  }
}
