import type { Request, Response } from 'express';
import { ChatError } from '../actors/errors';
import type { ParticipantInput } from '../actors/runtime-types';
import { storableValueProblem } from '../storage-providers/record-rules';
import type { ChatRouteDeps, RouteHandler } from './chat-routes';
import { asBadRequest } from './conversation-routes';
import { assertOpenToSelfJoin } from './invite-only';
import { assertNoControlCharacters, idParam, userOf, validated } from './http-request-input';
import type { AddParticipantBody } from './http-schemas';
import type { GatewayTelemetry } from './observability-hooks';
import { spendOrRefuse, type RateLimiter } from './rate-limiter';

/** Handlers of membership: the caller's own join and leave, and a member adding or the owner removing others. */
export interface MembershipHandlers {
  readonly join: RouteHandler;
  readonly leave: RouteHandler;
  readonly add: RouteHandler;
  readonly remove: RouteHandler;
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
 * Membership handlers. join and leave act on the caller itself (a human participant named by the authenticator);
 * `add` lets a member add a human or a registered agent, `remove` lets the owner remove another member (who may
 * do what: docs/security.md "Adding and removing members"; the machine checks it in the step that makes the
 * change, actors/membership-changes.ts). Each change, whether it changes anything or not, spends a token of the
 * caller's membership budget first (one bucket per user over every conversation, spent by the one who asks, not
 * by whom it names): a change writes a record and sends a participant_update to every socket of a room of up to
 * max_participants, so an unbounded join/leave (or add/remove) loop made every member's page redraw its roster as
 * fast as the loop ran. A conversation that does not exist costs a token as well: the routes are no unbounded way
 * to probe ids either.
 */
export function createMembershipHandlers(
  deps: Pick<ChatRouteDeps, 'runtime' | 'membershipLimiter' | 'telemetry' | 'bodies'>,
): MembershipHandlers {
  const { runtime } = deps;
  const spend = (res: Response): void => spendMembershipChange(deps.membershipLimiter, userOf(res).userId, deps.telemetry);

  const join = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    spend(res);
    // No fields: `{"x":1}` was taken silently, as a misspelt field would be (other routes refuse unknown fields).
    validated(deps.bodies.noFields, req.body ?? {});
    // A member of an invite-only conversation is answered as it is, without a join a removal could race.
    const participant =
      (await assertOpenToSelfJoin(runtime, id, user.userId)) ??
      (await runtime.join(id, {
        participant_id: user.userId,
        participant_type: 'human',
        display_name: user.displayName ?? user.userId,
      }));
    res.json({ conversation_id: id, participant });
  };

  const leaveAs = async (id: string, userId: string, res: Response): Promise<void> => {
    await runtime.leave(id, userId);
    res.json({ conversation_id: id, participant_id: userId, left: true });
  };

  const leave = async (req: Request, res: Response): Promise<void> => {
    const id = idParam(req);
    spend(res);
    validated(deps.bodies.noFields, req.body ?? {});
    await leaveAs(id, userOf(res).userId, res);
  };

  const add = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    spend(res);
    const body = validated(deps.bodies.addParticipant, req.body ?? {});
    // A display name no store keeps as sent: a bad request here, not a storage error later (as create).
    const unstorable = storableValueProblem(body, 'request body');
    if (unstorable) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', unstorable);
    assertNoControlCharacters(body.display_name, 'display_name');
    // An unknown agent is a bad request body, as at create (asBadRequest): over HTTP every AI names an agent.
    const participant = await runtime.join(id, toMember(body), { addedBy: user.userId }).catch(asBadRequest);
    res.json({ conversation_id: id, participant, added_by: user.userId });
  };

  const remove = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    const target = req.params.participant_id;
    spend(res);
    // Removing yourself is leaving, which every member may do (the owner too, as POST …/leave lets it).
    if (target === user.userId) return leaveAs(id, user.userId, res);
    if (typeof target !== 'string' || target.length === 0 || target.length > 128) {
      throw new ChatError('GATEWAY_ERR_BAD_REQUEST', 'invalid participant id');
    }
    await runtime.leave(id, target, { removedBy: user.userId });
    res.json({ conversation_id: id, participant_id: target, removed: true, removed_by: user.userId });
  };

  return { join, leave, add, remove };
}

/**
 * The body of POST …/participants as the member to add; an AI one names its agent (its own id by default). Who may
 * add an AI under which id and name (a member who is not the owner: only as the agent itself) is judged after this,
 * against the member table: runtime.join and the JOIN step (actors/membership-changes.ts).
 */
function toMember(body: AddParticipantBody): ParticipantInput {
  const type = body.participant_type ?? 'human';
  if (type === 'human' && body.agent_id !== undefined) {
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', 'agent_id names the agent of an AI participant; this one is human');
  }
  return {
    participant_id: body.participant_id,
    participant_type: type,
    role: 'member',
    ...(body.display_name === undefined ? {} : { display_name: body.display_name }),
    ...(type === 'ai' ? { agent_id: body.agent_id ?? body.participant_id } : {}),
  };
}
