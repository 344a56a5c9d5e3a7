import type { Request, Response } from 'express';
import type { ChatRouteDeps, RouteHandler } from './chat-routes';
import { idParam, userOf } from './http-request-input';
import type { GatewayTelemetry } from './observability-hooks';
import { spendOrRefuse, type RateLimiter } from './rate-limiter';

/** Handlers of the caller's own membership: join and leave. */
export interface MembershipHandlers {
  readonly join: RouteHandler;
  readonly leave: RouteHandler;
}

/** The refusal past `chat.limits.membership_changes_per_second`: names the key an operator would raise. */
export const TOO_MANY_CHANGES = 'too many joins and leaves; retry later (chat.limits.membership_changes_per_second)';

/**
 * Spends one of the user's membership changes, or throws 429 GATEWAY_ERR_RATE_LIMITED (counted in telemetry). One
 * bucket per user for every way to join or leave: the HTTP routes, and a WebSocket's `?join=true` and `leave` frame,
 * so switching transport does not reset it.
 */
export function spendMembershipChange(limiter: RateLimiter, userId: string, telemetry: GatewayTelemetry): void {
  spendOrRefuse(limiter, userId, telemetry, TOO_MANY_CHANGES);
}

/**
 * Membership handlers. The caller only ever joins or leaves as itself (a human participant named by
 * the authenticator); adding others happens at creation. Each join or leave, whether it changes anything or not,
 * spends a token of the caller's membership budget first (one bucket per user over every conversation): a change
 * writes a record and sends a participant_update to every socket of a room of up to max_participants, so an
 * unbounded join/leave loop made every member's page redraw its roster as fast as the loop ran. A conversation that
 * does not exist costs a token as well: the routes are no unbounded way to probe ids either.
 */
export function createMembershipHandlers(deps: Pick<ChatRouteDeps, 'runtime' | 'membershipLimiter' | 'telemetry'>): MembershipHandlers {
  const { runtime } = deps;
  const spend = (res: Response): void => spendMembershipChange(deps.membershipLimiter, userOf(res).userId, deps.telemetry);

  const join = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    spend(res);
    const participant = await runtime.join(id, {
      participant_id: user.userId,
      participant_type: 'human',
      display_name: user.displayName ?? user.userId,
    });
    res.json({ conversation_id: id, participant });
  };

  const leave = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    spend(res);
    await runtime.leave(id, user.userId);
    res.json({ conversation_id: id, participant_id: user.userId, left: true });
  };

  return { join, leave };
}
