/**
 * Paces the client's `message` and `sync` frames to the participant's message budget, which the server's `connected`
 * frame announces (limits.rate_limit_per_second / rate_limit_burst): a token bucket of the client's own, filled and
 * spent like the server's (gateway/rate-limiter.ts), so a backlog after a reconnect, or a burst of send() calls, goes
 * out at the rate the server takes instead of being refused. One refusal costs more than its own re-send: the server
 * then refuses every later message on the wire behind it (GATEWAY_ERR_HELD_FOR_ORDER).
 *
 * The server's rules, mirrored (gateway/client-frame-dispatch.ts, message-posting.ts, message-changes.ts): a `message`
 * frame that reaches the budget check takes a token, and so does every `sync` (a replay may read storage) and every
 * `edit` and `delete` (client/message-changes.ts); a message or edit refused before that check (held for order,
 * invalid content or frame) takes none, so its token comes back here (refund). No other frame this client sends
 * spends this budget (typing and leave have budgets of their own); a frame the client learns to send that the server
 * counts must spend here too.
 *
 * The server's bucket is also spent by the user's other sockets and HTTP posts, which this client cannot see: their
 * refusals still come and are retried (outbox.ts, delivery-buffer.ts). Each GATEWAY_ERR_RATE_LIMITED says how long
 * until the server's bucket has a token again, and the local bucket is brought down to that, so the client does not
 * keep sending into a bucket it believes full.
 */
import type { ClientClock } from './client-types';

/** The participant's message budget as announced: a token every 1/perSecond s, at most `burst` at once. */
export interface MessageBudget {
  readonly perSecond: number;
  readonly burst: number;
}

export interface SendPacer {
  /**
   * The budget of the server just connected to; undefined when it announced none (a server older than the fields):
   * then nothing is paced, as before. The bucket outlives the socket (a reconnect finds the server's bucket as this
   * client left it, refilled meanwhile); it starts full the first time.
   */
  setBudget(budget: MessageBudget | undefined): void;
  /** Milliseconds until a message may go: 0 now. */
  waitMs(): number;
  /** A message or a sync went on the wire: one token spent. */
  spend(): void;
  /** The server refused a message before its budget check (it spent nothing on it): the token spent comes back. */
  refund(): void;
  /** The server refused a message for the budget, its next token `retryAfterMs` away: the local bucket follows it. */
  serverRefused(retryAfterMs: number): void;
}

/** A pacer with no budget yet (nothing paced until setBudget). */
export function createSendPacer(clock: Pick<ClientClock, 'now'>): SendPacer {
  let budget: MessageBudget | undefined;
  let tokens = 0;
  let at = 0;

  function refill(b: MessageBudget): void {
    const now = clock.now();
    // The default clock is Date.now, which NTP or a user can set back: a negative interval would take tokens away
    // (an hour back held every send for an hour), so time that ran backwards adds nothing and takes nothing.
    tokens = Math.min(b.burst, tokens + (Math.max(0, now - at) * b.perSecond) / 1000);
    at = now;
  }

  return {
    setBudget(next) {
      if (next === undefined || budget === undefined) {
        tokens = next?.burst ?? 0;
        at = clock.now();
      } else {
        // Refilled at the old rate until now; a smaller burst caps what is left.
        refill(budget);
        tokens = Math.min(tokens, next.burst);
      }
      budget = next;
    },
    waitMs() {
      if (budget === undefined) return 0;
      refill(budget);
      if (tokens >= 1) return 0;
      // As the server computes its retry_after_ms; at least 1 ms, so a token a rounding error short is not a busy loop.
      return Math.max(1, Math.ceil(((1 - tokens) * 1000) / budget.perSecond));
    },
    spend() {
      if (budget === undefined) return;
      refill(budget);
      tokens -= 1;
    },
    refund() {
      if (budget === undefined) return;
      refill(budget);
      // Capped as a refill is: the server's bucket, which never lost this token, holds no more than the burst either.
      tokens = Math.min(budget.burst, tokens + 1);
    },
    serverRefused(retryAfterMs) {
      if (budget === undefined) return;
      refill(budget);
      // The server's bucket holds at most this (its wait is rounded up): never more here than there.
      tokens = Math.min(tokens, 1 - (retryAfterMs * budget.perSecond) / 1000);
    },
  };
}
