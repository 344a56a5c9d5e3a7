/**
 * The NLWeb stand-in (testing/) and real NLWeb agents pointed at it, for the chat page's browser tests: everything
 * made through it is closed after each test (by the afterEach that standinAgents installs in the calling file), a
 * second agent of a test included.
 */
import { createNlwebAgent, type NlwebAgent, type NlwebAgentOptions } from '../../actors/agents/nlweb-agent';
import { createNlwebStandinServer, type NlwebStandinOptions, type NlwebStandinServer } from '../../testing/nlweb-standin-server';

export interface StandinAgents {
  /** Starts a stand-in. */
  standin(options?: NlwebStandinOptions): Promise<NlwebStandinServer>;
  /** An NLWeb agent asking `standin` (a 5 s timeout unless `options` says otherwise). */
  agent(standin: NlwebStandinServer, options: Omit<NlwebAgentOptions, 'baseUrl'>): NlwebAgent;
}

/** Call at the top of a test file. */
export function standinAgents(): StandinAgents {
  const agents: NlwebAgent[] = [];
  const standins: NlwebStandinServer[] = [];
  afterEach(async () => {
    for (const agent of agents.splice(0)) agent.close();
    for (const standin of standins.splice(0)) await standin.close();
  });
  return {
    async standin(options = {}) {
      const standin = await createNlwebStandinServer(options);
      standins.push(standin);
      return standin;
    },
    agent(standin, options) {
      const agent = createNlwebAgent({ timeoutMs: 5000, ...options, baseUrl: standin.url });
      agents.push(agent);
      return agent;
    },
  };
}
