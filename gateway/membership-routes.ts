import type { Request, Response } from 'express';
import type { ChatRouteDeps, RouteHandler } from './chat-routes';
import { idParam, userOf } from './http-request-input';

/** Handlers of the caller's own membership: join and leave. */
export interface MembershipHandlers {
  readonly join: RouteHandler;
  readonly leave: RouteHandler;
}

/**
 * Membership handlers. The caller only ever joins or leaves as itself (a human participant named by
 * the authenticator); adding others happens at creation.
 */
export function createMembershipHandlers(deps: Pick<ChatRouteDeps, 'runtime'>): MembershipHandlers {
  const { runtime } = deps;

  const join = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
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
    await runtime.leave(id, user.userId);
    res.json({ conversation_id: id, participant_id: user.userId, left: true });
  };

  return { join, leave };
}
