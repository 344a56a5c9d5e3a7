import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Agent, AgentRegistry } from './agents/agent';
import { ConversationRegistryRuntime } from './chat-runtime';
import { createSystemClock, type Clock, type IdGenerator } from './clock';
import { resolveConfig } from '../config/load-config';
import type { ConfigInput, NlwebChatConfig } from '../config/config-types';
import { createChatTelemetry, type ChatTelemetry } from '../observability/chat-telemetry';
import type { Logger } from '../observability/logger';
import type { ChatStore } from '../storage-providers/chat-store';
import { createStore } from '../storage-providers/index';

export interface CreateChatRuntimeOptions {
  /** A validated config (loadConfig) or a partial object validated here with every default applied. */
  readonly config?: NlwebChatConfig | ConfigInput;
  /** The journal; defaults to the backend chat.storage.backend names (memory by default). */
  readonly storage?: ChatStore;
  /** Agents by id (an AI participant's agent_id names one). */
  readonly agents?: Iterable<Agent> | AgentRegistry;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Defaults to the global OpenTelemetry providers (no-op unless the host registered an SDK). */
  readonly telemetry?: ChatTelemetry;
  readonly logger?: Logger;
}

/**
 * Creates the chat runtime: the embedding API, usable without the gateway.
 * Opens the storage if it is not open yet; `close()` flushes the journal and stops every actor
 * (and closes the storage when the runtime created it).
 */
export async function createChatRuntime(options: CreateChatRuntimeOptions = {}): Promise<ConversationRegistryRuntime> {
  const config = resolveConfig(options.config);
  const store = options.storage ?? createStore(config.chat.storage);
  if (!store.isOpen) await store.open();
  return new ConversationRegistryRuntime({
    config,
    store,
    agents: toRegistry(options.agents),
    clock: options.clock ?? createSystemClock(),
    ids: options.ids ?? (() => randomUUID()),
    telemetry: options.telemetry ?? createChatTelemetry(),
    logger: options.logger ?? pino({ level: config.observability.log_level }),
    ownsStore: options.storage === undefined,
  });
}

function toRegistry(agents: CreateChatRuntimeOptions['agents']): AgentRegistry {
  if (agents === undefined) return new Map();
  if (agents instanceof Map) return agents as AgentRegistry;
  return new Map([...(agents as Iterable<Agent>)].map((a) => [a.id, a]));
}
