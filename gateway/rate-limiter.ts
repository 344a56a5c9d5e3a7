import type { Clock } from '../actors/clock';
import { ChatError } from '../actors/errors';
import type { GatewayTelemetry } from './observability-hooks';

/** Outcome of taking one token: allowed, or how long until one is available. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/** Every allowed take answers with this one object: nothing to allocate per message for the usual answer. */
const ALLOWED: RateDecision = Object.freeze({ ok: true });

/** Token buckets keyed by (conversation, participant), shared by every connection and HTTP post of one participant. */
export interface RateLimiter {
  take(key: string): RateDecision;
  /** Drops buckets that have refilled completely (they behave exactly like a new bucket). */
  sweep(): void;
  size(): number;
}

/**
 * A token bucket per key: `burst` tokens, refilled at `perSecond`. Time comes from the injected clock,
 * so tests drive it deterministically.
 */
export function createRateLimiter(options: { perSecond: number; burst: number; clock: Clock }): RateLimiter {
  const { perSecond, burst, clock } = options;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refillMs = (burst / perSecond) * 1000;
  return {
    take(key) {
      const now = clock.now();
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: burst, at: now };
        buckets.set(key, b);
      } else {
        b.tokens = Math.min(burst, b.tokens + ((now - b.at) * perSecond) / 1000);
        b.at = now;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return ALLOWED;
      }
      return { ok: false, retryAfterMs: Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / perSecond)) };
    },
    sweep() {
      const now = clock.now();
      for (const [key, b] of buckets) if (now - b.at >= refillMs) buckets.delete(key);
    },
    size: () => buckets.size,
  };
}

/** Rate-limit bucket key: one bucket per participant per conversation, shared by WebSocket and HTTP posts. */
export function rateKeyOf(conversationId: string, userId: string): string {
  return `${conversationId}\u0000${userId}`;
}

/**
 * Spends one token of `key`'s bucket for an HTTP request, or throws 429 GATEWAY_ERR_RATE_LIMITED with the wait
 * (`retry_after_ms` and Retry-After, http-error-answer.ts), counted as a rate-limit hit. Every HTTP budget (reads,
 * posts, creations, membership changes) refuses through here, so they answer alike; the audit line comes from the
 * error code (observability/http-audit.ts). `message` names the budget; without it the code's own message.
 */
export function spendOrRefuse(limiter: RateLimiter, key: string, telemetry: GatewayTelemetry, message?: string): void {
  const decision = limiter.take(key);
  if (decision.ok) return;
  telemetry.rateLimited?.();
  throw new ChatError('GATEWAY_ERR_RATE_LIMITED', message, { retryAfterMs: decision.retryAfterMs });
}
