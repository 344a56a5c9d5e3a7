import { createNlwebAgent } from '../../actors/agents/nlweb-agent';
import type { NlwebAgent, NlwebAgentOptions } from '../../actors/agents/nlweb-agent';
import type { AgentOutput, AgentTurn } from '../../actors/agents/agent';
import { createNlwebStandinServer } from '../../testing/nlweb-standin-server';
import type { NlwebStandinOptions, NlwebStandinServer } from '../../testing/nlweb-standin-server';

/** Opens stand-ins and agents for a test and closes all of them in afterEach. */
export function createHarness(): {
  standin(options?: NlwebStandinOptions): Promise<NlwebStandinServer>;
  agent(server: NlwebStandinServer, options?: Partial<NlwebAgentOptions>): NlwebAgent;
  closeAll(): Promise<void>;
} {
  const servers: NlwebStandinServer[] = [];
  const agents: NlwebAgent[] = [];
  return {
    async standin(options = {}) {
      const s = await createNlwebStandinServer({ latencyMs: 0, ...options });
      servers.push(s);
      return s;
    },
    agent(server, options = {}) {
      const a = createNlwebAgent({ id: 'nlweb', displayName: 'NLWeb', baseUrl: server.url, timeoutMs: 5000, ...options });
      agents.push(a);
      return a;
    },
    async closeAll() {
      for (const a of agents.splice(0)) a.close();
      await Promise.all(servers.splice(0).map((s) => s.close()));
    },
  };
}

/** Runs one turn to the end and returns every output. */
export async function collect(
  agent: NlwebAgent,
  turn: AgentTurn,
  signal: AbortSignal = new AbortController().signal,
): Promise<AgentOutput[]> {
  const out: AgentOutput[] = [];
  for await (const piece of agent.respond(turn, signal)) out.push(piece);
  return out;
}
