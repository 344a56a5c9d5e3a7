import type { Agent, AgentRegistry } from './agents/agent';
import { buildEndpointAgents } from './agents/create-agents-from-config';
import type { NlwebAgent } from './agents/nlweb-agent';
import { passedAgents } from './passed-agents';
import type { NlwebChatConfig } from '../config/config-types';

/** The agents a runtime answers with, and those of them it built itself (it closes them in close()). */
export interface RuntimeAgents {
  readonly registry: AgentRegistry;
  readonly built: readonly NlwebAgent[];
}

/**
 * createChatRuntime's agents: the ones passed in, plus one NLWeb agent for every `chat.nlweb.endpoints` entry whose
 * id none of them has. A passed agent wins by id, so the server binary (which passes one per endpoint) builds
 * nothing twice and an embedder can put its own agent in an endpoint's place. Nothing starts a stand-in here: a
 * "standin" url is refused (CONFIG_ERR_INVALID naming the endpoint) unless `standinUrl` says where one runs.
 */
export function runtimeAgents(
  config: NlwebChatConfig,
  given: Iterable<Agent> | AgentRegistry | undefined,
  standinUrl: string | undefined,
): RuntimeAgents {
  const registry = passedAgents(given);
  const built = buildEndpointAgents(config, {
    skip: new Set(registry.keys()),
    ...(standinUrl === undefined ? {} : { standinUrl }),
    standinMissing: (id) =>
      `endpoint "${id}" has url "standin", and createChatRuntime starts no stand-in: pass nlwebStandinUrl ` +
      `(createNlwebStandinServer from nlweb-chat/testing starts one), give the endpoint an http(s) url, or pass an agent with id "${id}"`,
  });
  for (const [id, agent] of built) registry.set(id, agent);
  return { registry, built: [...built.values()] };
}
