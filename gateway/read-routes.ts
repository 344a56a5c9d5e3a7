import type { Request, Response } from 'express';
import type { ChatRouteDeps, RouteHandler } from './chat-routes';
import { idParam, userOf, validated } from './http-request-input';
import { spendRead } from './read-budget';

/**
 * POST /chat/conversations/{id}/read {sequence_id}: the caller has read everything up to `sequence_id`, for clients
 * without a socket (the socket's `read` frame does the same). The same position as the socket's (one per member):
 * raised, never lowered, a value past the last record taken as the last; the others' sockets hear of it as a `read`
 * frame. Answers the position after it and the unread count from there. It counts the unread records (a storage read
 * for a long history), so it spends the caller's read budget (chat.limits.reads_per_second) like a GET.
 */
export function createReadHandler(deps: Pick<ChatRouteDeps, 'runtime' | 'readLimiter' | 'telemetry' | 'bodies'>): RouteHandler {
  return async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    spendRead(deps.readLimiter, user.userId, deps.telemetry);
    const id = idParam(req);
    const body = validated(deps.bodies.markRead, req.body ?? {});
    await deps.runtime.markRead(id, user.userId, body.sequence_id);
    const state = await deps.runtime.readState(id, user.userId);
    res.json({ conversation_id: id, read_up_to: state.readUpTo, unread_count: state.unreadCount });
  };
}
