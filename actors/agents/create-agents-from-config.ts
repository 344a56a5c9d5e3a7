import { ChatError } from '../errors';
import type { NlwebChatConfig } from '../../config/config-types';
import type { ConfigProblem } from '../../config/load-config';
import { createNlwebAgent } from './nlweb-agent';
import type { NlwebAgent } from './nlweb-agent';

export interface CreateAgentsOptions {
  /** Base URL of the running NLWeb stand-in; required when an endpoint's url is "standin". */
  readonly standinUrl?: string;
  /** Also answer AI participants' messages (agent-to-agent). Default false. */
  readonly answerAiMessages?: boolean;
}

/**
 * What createAgentsFromConfig refuses, as problems with their YAML paths: a duplicate id, a url that is neither
 * "standin" nor http(s), and "standin" when no stand-in is there (`standinAvailable`). The server binary asks
 * before it starts anything, with `standinAvailable` = chat.nlweb.standin.enabled.
 */
export function endpointProblems(config: NlwebChatConfig, standinAvailable: boolean): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  config.chat.nlweb.endpoints.forEach((endpoint, i) => {
    const at = `chat.nlweb.endpoints[${i}]`;
    if (seen.has(endpoint.id)) problems.push({ path: `${at}.id`, message: `duplicate id "${endpoint.id}"` });
    seen.add(endpoint.id);
    if (endpoint.url === 'standin') {
      if (!standinAvailable)
        problems.push({ path: `${at}.url`, message: '"standin" needs the stand-in running (chat.nlweb.standin.enabled)' });
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
 */
export function createAgentsFromConfig(config: NlwebChatConfig, options: CreateAgentsOptions = {}): Map<string, NlwebAgent> {
  const problems = endpointProblems(config, options.standinUrl !== undefined);
  if (problems.length > 0) {
    throw new ChatError('CONFIG_ERR_INVALID', problems.map((p) => `${p.path}: ${p.message}`).join('\n'), { details: { problems } });
  }
  const agents = new Map<string, NlwebAgent>();
  try {
    for (const endpoint of config.chat.nlweb.endpoints) {
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
