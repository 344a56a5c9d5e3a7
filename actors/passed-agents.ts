import type { Agent, AgentRegistry } from './agents/agent';
import { configProblemsError, type ConfigProblem } from '../config/load-config';
import { shownTextCharacterProblem } from './input-rules';

/** The longest agent id: AI participants name agents by id, and a participant id is at most 256 characters. */
const MAX_AGENT_ID_LENGTH = 256;

/**
 * The agents an embedder passed to createChatRuntime, by id. Refused with CONFIG_ERR_INVALID (`details.problems`,
 * each `{path, message}`) when one could never answer as given: two with one id (the later would silently replace
 * the earlier), a Map key that is not its agent's id, or an agent without an id, a displayName or a respond
 * function (every turn would otherwise fail later with a TypeError). Checked before anything opens.
 */
export function passedAgents(given: Iterable<Agent> | AgentRegistry | undefined): Map<string, Agent> {
  const problems: ConfigProblem[] = [];
  const registry = new Map<string, Agent>();
  const firstIndex = new Map<string, number>();
  const byKey = given instanceof Map;
  let index = 0;
  for (const entry of (given ?? []) as Iterable<Agent | [string, Agent]>) {
    const [key, agent] = byKey ? (entry as [string, Agent]) : [undefined, entry as Agent];
    const path = key === undefined ? `agents[${index}]` : `agents[${JSON.stringify(key)}]`;
    const agentProblems = shapeProblems(agent, path);
    problems.push(...agentProblems);
    if (agentProblems.length === 0) {
      if (key !== undefined && key !== agent.id)
        problems.push({ path, message: `key differs from the agent’s id ${JSON.stringify(agent.id)}` });
      const earlier = firstIndex.get(agent.id);
      if (key === undefined && earlier !== undefined)
        problems.push({ path: `${path}.id`, message: `id ${JSON.stringify(agent.id)} is also the id of agents[${earlier}]` });
      else firstIndex.set(agent.id, index);
      registry.set(key ?? agent.id, agent);
    }
    index += 1;
  }
  if (problems.length > 0) throw configProblemsError(problems);
  return registry;
}

function shapeProblems(agent: Agent | undefined, path: string): ConfigProblem[] {
  if (agent === null || typeof agent !== 'object') return [{ path, message: 'must be an Agent object' }];
  const problems: ConfigProblem[] = [];
  const { id, displayName, respond, wantsTurn } = agent as Partial<Record<keyof Agent, unknown>>;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_AGENT_ID_LENGTH)
    problems.push({ path: `${path}.id`, message: `must be a string of 1 to ${MAX_AGENT_ID_LENGTH} characters` });
  if (typeof displayName !== 'string') problems.push({ path: `${path}.displayName`, message: 'must be a string' });
  else {
    // The agent joins conversations under this name, and a join refuses it (input-rules.ts): refused here, at start.
    const nameProblem = shownTextCharacterProblem(displayName);
    if (nameProblem !== undefined) problems.push({ path: `${path}.displayName`, message: nameProblem });
  }
  if (typeof respond !== 'function')
    problems.push({ path: `${path}.respond`, message: 'must be a function (async *respond(turn, signal))' });
  if (wantsTurn !== undefined && typeof wantsTurn !== 'function')
    problems.push({ path: `${path}.wantsTurn`, message: 'must be a function when given' });
  return problems;
}
