import type { Request, Response } from 'express';
import type { ChatRouteDeps, RouteHandler } from './chat-routes';

/**
 * GET /chat/agents: the agents a client may name in a create's `agents` or an add's `agent_id`, with the name a
 * member who is not the owner must add each under (docs/http-api.md). Authenticated and read-budgeted like every
 * /chat GET by the router's middleware; the listing holds no url or site (actors/agent-listing.ts).
 */
export function createAgentsHandler(deps: Pick<ChatRouteDeps, 'runtime'>): RouteHandler {
  return async (_req: Request, res: Response): Promise<void> => {
    res.json({ agents: deps.runtime.listAgents() });
  };
}
