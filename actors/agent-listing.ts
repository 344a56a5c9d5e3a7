import type { AgentRegistry } from './agents/agent';
import type { NlwebEndpointConfig } from '../config/config-types';
import type { AgentListing } from './runtime-types';

/**
 * The agents a runtime answers with, as a client may see them (GET /chat/agents): id, the name members see, and
 * whether new conversations get it unasked. Built from the registry, so an embedder's own agents are listed with
 * the configured endpoints; an endpoint's url and site stay on the server (they may name internal hosts or carry
 * credentials in the query). Sorted by id (ids are ASCII), so the answer does not depend on registration order.
 */
export function listAgents(registry: AgentRegistry, endpoints: readonly NlwebEndpointConfig[]): AgentListing[] {
  const autoJoin = new Set(endpoints.filter((e) => e.auto_join).map((e) => e.id));
  const listed = [...registry.values()].map((agent) => ({
    agent_id: agent.id,
    display_name: agent.displayName,
    auto_join: autoJoin.has(agent.id),
  }));
  return listed.sort((a, b) => (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0));
}
