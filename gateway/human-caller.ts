import type { NextFunction, Request, Response } from 'express';
import { ChatError } from '../actors/errors';
import type { Participant } from '../actors/message-types';
import { actsAsAiProblem, aiMember } from '../actors/participant-identity';
import type { ChatRuntime } from '../actors/runtime-types';
import { idParam, userOf } from './http-request-input';

/**
 * Every caller of the gateway is a human (authenticators name users, never agents), but the runtime takes a
 * sender's type from membership: a user whose id is an AI participant's would read, post, leave... as that AI.
 * Refused with CHAT_ERR_FORBIDDEN (HTTP 403, upgrade refusal 4003). Embedders posting as an AI through the
 * runtime are not affected: this is the gateway's rule, not the runtime's.
 */
export function assertHumanCaller(participants: readonly Participant[], userId: string): void {
  if (aiMember(participants, userId) !== undefined) throw new ChatError('CHAT_ERR_FORBIDDEN', actsAsAiProblem(userId));
}

/**
 * The /chat router's `:id` param handler: every route acting on one conversation (read, post, join, leave,
 * redact, under both path families) passes here first, so no route can forget the check. Any other failure
 * (unknown conversation, a bad id) is left to the route, which reports it as before, in its own order.
 */
export function refuseAiCallers(runtime: ChatRuntime) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let participants: readonly Participant[];
    try {
      participants = (await runtime.getConversation(idParam(req))).participants;
    } catch {
      return next();
    }
    assertHumanCaller(participants, userOf(res).userId);
    next();
  };
}
