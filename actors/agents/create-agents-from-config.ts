import { ChatError } from '../errors';
import type { NlwebChatConfig } from '../../config/config-types';
import { configProblemsError, type ConfigProblem } from '../../config/load-config';
import { createNlwebAgent } from './nlweb-agent';
import type { NlwebAgent } from './nlweb-agent';

export interface CreateAgentsOptions {
  /** Base URL of the running NLWeb stand-in; required when an endpoint's url is "standin". */
  readonly standinUrl?: string;
  /** Also answer AI participants' messages (agent-to-agent). Default false. */
  readonly answerAiMessages?: boolean;
}

/** How endpointProblems words a "standin" url nobody can serve, for the endpoint with that id. */
export type StandinMissing = (endpointId: string) => string;

const SERVER_STANDIN_MISSING: StandinMissing = () => '"standin" needs the stand-in running (chat.nlweb.standin.enabled)';

/**
 * What createAgentsFromConfig refuses, as problems with their YAML paths: a duplicate id, a url that is neither
 * "standin" nor http(s), and "standin" when no stand-in is there (`standinAvailable`). The server binary asks
 * before it starts anything, with `standinAvailable` = chat.nlweb.standin.enabled. The urls of endpoints in
 * `skip` are not checked (the caller has an agent of its own under that id); their ids still count as duplicates.
 */
export function endpointProblems(
  config: NlwebChatConfig,
  standinAvailable: boolean,
  options: { readonly skip?: ReadonlySet<string>; readonly standinMissing?: StandinMissing } = {},
): ConfigProblem[] {
  const standinMissing = options.standinMissing ?? SERVER_STANDIN_MISSING;
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  config.chat.nlweb.endpoints.forEach((endpoint, i) => {
    const at = `chat.nlweb.endpoints[${i}]`;
    if (seen.has(endpoint.id)) problems.push({ path: `${at}.id`, message: `duplicate id "${endpoint.id}"` });
    seen.add(endpoint.id);
    if (options.skip?.has(endpoint.id)) return;
    if (endpoint.url === 'standin') {
      if (!standinAvailable) problems.push({ path: `${at}.url`, message: standinMissing(endpoint.id) });
    } else if (!isHttpUrl(endpoint.url)) {
      problems.push({ path: `${at}.url`, message: `must be an http(s) URL or "standin", got ${JSON.stringify(endpoint.url)}` });
    }
  });
  return problems;
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * One NLWeb agent per `chat.nlweb.endpoints` entry, keyed by endpoint id. The timeout comes from
 * `chat.context.nlweb_timeout` (seconds) and the no-answer policy from `chat.agents.on_no_answer`.
 * Callers own the agents: call `close()` on each at shutdown to drop their keep-alive sockets.
 * Throws CONFIG_ERR_INVALID (`details.problems`, each with its YAML path) for what endpointProblems refuses.
 */
export function createAgentsFromConfig(config: NlwebChatConfig, options: CreateAgentsOptions = {}): Map<string, NlwebAgent> {
  return buildEndpointAgents(config, {
    ...options,
    standinMissing: (id) => `endpoint "${id}": url "standin" needs the url of a running stand-in (options.standinUrl)`,
  });
}

/** createAgentsFromConfig for the runtime: leaves out the endpoints in `skip`, words the stand-in problem its way. */
export function buildEndpointAgents(
  config: NlwebChatConfig,
  options: CreateAgentsOptions & { readonly skip?: ReadonlySet<string>; readonly standinMissing: StandinMissing },
): Map<string, NlwebAgent> {
  const problems = endpointProblems(config, options.standinUrl !== undefined, options);
  if (problems.length > 0) {
    throw configProblemsError(problems);
  }
  const agents = new Map<string, NlwebAgent>();
  try {
    for (const endpoint of config.chat.nlweb.endpoints) {
      if (options.skip?.has(endpoint.id)) continue;
      const baseUrl = endpoint.url === 'standin' ? options.standinUrl! : endpoint.url;
      agents.set(
        endpoint.id,
        createNlwebAgent({
          id: endpoint.id,
          displayName: endpoint.display_name,
          baseUrl,
          site: endpoint.site,
          mode: endpoint.mode,
          streaming: endpoint.streaming,
          timeoutMs: Math.round(config.chat.context.nlweb_timeout * 1000),
          onNoAnswer: config.chat.agents.on_no_answer,
          answerAiMessages: options.answerAiMessages,
        }),
      );
    }
  } catch (err) {
    for (const agent of agents.values()) agent.close();
    if (err instanceof ChatError) throw err;
    throw new ChatError('CONFIG_ERR_INVALID', `chat.nlweb.endpoints: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return agents;
}
