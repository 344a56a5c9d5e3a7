import { ChatError } from '../errors';
import type { NlwebChatConfig } from '../../config/config-types';
import { createNlwebAgent } from './nlweb-agent';
import type { NlwebAgent } from './nlweb-agent';

export interface CreateAgentsOptions {
  /** Base URL of the running NLWeb stand-in; required when an endpoint's url is "standin". */
  readonly standinUrl?: string;
  /** Also answer AI participants' messages (agent-to-agent). Default false. */
  readonly answerAiMessages?: boolean;
}

/**
 * One NLWeb agent per `chat.nlweb.endpoints` entry, keyed by endpoint id. The timeout comes from
 * `chat.context.nlweb_timeout` (seconds) and the no-answer policy from `chat.agents.on_no_answer`.
 * Callers own the agents: call `close()` on each at shutdown to drop their keep-alive sockets.
 */
export function createAgentsFromConfig(config: NlwebChatConfig, options: CreateAgentsOptions = {}): Map<string, NlwebAgent> {
  const agents = new Map<string, NlwebAgent>();
  try {
    for (const endpoint of config.chat.nlweb.endpoints) {
      if (agents.has(endpoint.id)) {
        throw new ChatError('CONFIG_ERR_INVALID', `chat.nlweb.endpoints: duplicate id "${endpoint.id}"`);
      }
      let baseUrl = endpoint.url;
      if (baseUrl === 'standin') {
        if (options.standinUrl === undefined) {
          throw new ChatError(
            'CONFIG_ERR_INVALID',
            `chat.nlweb.endpoints "${endpoint.id}": url "standin" needs the stand-in running (chat.nlweb.standin.enabled)`,
          );
        }
        baseUrl = options.standinUrl;
      }
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
