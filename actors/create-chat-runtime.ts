import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Agent, AgentRegistry } from './agents/agent';
import { ConversationRegistryRuntime } from './chat-runtime';
import { createSystemClock, type Clock, type IdGenerator } from './clock';
import { runtimeAgents } from './runtime-agents';
import type { RecordListener } from './runtime-types';
import { configProblemsError, resolveConfig } from '../config/load-config';
import type { ConfigInput, NlwebChatConfig } from '../config/config-types';
import { createChatTelemetry, type ChatTelemetry } from '../observability/chat-telemetry';
import type { RuntimeLogger } from '../observability/logger';
import type { ChatStore } from '../storage-providers/chat-store';
import { createStore } from '../storage-providers/index';

export interface CreateChatRuntimeOptions {
  /** A validated config (loadConfig) or a partial object validated here with every default applied. */
  readonly config?: NlwebChatConfig | ConfigInput;
  /** The journal; defaults to the backend chat.storage.backend names (memory by default). */
  readonly storage?: ChatStore;
  /**
   * Agents by id (an AI participant's agent_id names one). Every `chat.nlweb.endpoints` entry whose id none of
   * these has gets an NLWeb agent built from the config, which the runtime closes in `close()`.
   */
  readonly agents?: Iterable<Agent> | AgentRegistry;
  /**
   * Where the NLWeb stand-in runs (`createNlwebStandinServer` from nlweb-chat/testing), for endpoints whose url is
   * "standin". The runtime never starts one: without this such an endpoint is refused (CONFIG_ERR_INVALID).
   */
  readonly nlwebStandinUrl?: string;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Defaults to the global OpenTelemetry providers (no-op unless the host registered an SDK). */
  readonly telemetry?: ChatTelemetry;
  /** Pino at observability.log_level by default; any logger with info/warn/error(fields, message) fits. */
  readonly logger?: RuntimeLogger;
  /**
   * Told of every record of every live conversation once the journal stored it, in sequence order per conversation,
   * with the human members nothing reaches live (`offline`): for notifying them by push, e-mail or a badge elsewhere
   * (docs/embedding.md, Notifying offline members). Not awaited; a throw or a rejection is logged, never felt by the
   * conversation. At most once: a crash between the write and the call loses the call.
   *
   * An option rather than a `runtime.onRecord(listener)` method because, like the logger and telemetry here, it is a
   * service the runtime is built with, not a per-conversation or per-connection thing: given at creation it sees
   * every record from the first one (a method called after `createChatRuntime` resolves could miss the records of
   * anything started in between), and it leaves the ChatRuntime interface, which the gateway and test doubles
   * implement, as it is. One listener: a service that wants several fans out itself.
   */
  readonly onRecord?: RecordListener;
}

/**
 * Creates the chat runtime: the embedding API, usable without the gateway.
 * Opens the storage if it is not open yet; `close()` flushes the journal and stops every actor
 * (and closes the storage when the runtime created it).
 */
export async function createChatRuntime(options: CreateChatRuntimeOptions = {}): Promise<ConversationRegistryRuntime> {
  const config = resolveConfig(options.config);
  if (options.storage !== undefined && !isStore(options.storage)) {
    // `storage: { backend: 'sqlite' }` (the config's shape) or a store's class failed later as "store.open is not a function".
    throw configProblemsError([
      {
        path: 'storage',
        message:
          'must be a ChatStore, e.g. new SqliteStore({ path }) from nlweb-chat/storage-providers ' +
          '(to pick a backend by name, leave storage out and set config.chat.storage.backend)',
      },
    ]);
  }
  // Before anything opens: a config whose endpoints cannot be served is refused with nothing to clean up.
  const agents = runtimeAgents(config, options.agents, options.nlwebStandinUrl);
  let store: ChatStore;
  try {
    store = options.storage ?? createStore(config.chat.storage);
    if (!store.isOpen) await store.open();
  } catch (err) {
    for (const agent of agents.built) agent.close();
    throw err;
  }
  return new ConversationRegistryRuntime({
    config,
    store,
    agents: agents.registry,
    ownedAgents: agents.built,
    clock: options.clock ?? createSystemClock(),
    ids: options.ids ?? (() => randomUUID()),
    telemetry: options.telemetry ?? createChatTelemetry(),
    logger: options.logger ?? pino({ level: config.observability.log_level }),
    ownsStore: options.storage === undefined,
    onRecord: options.onRecord,
  });
}

function isStore(value: unknown): value is ChatStore {
  const store = value as Partial<ChatStore> | null;
  return typeof store === 'object' && store !== null && typeof store.open === 'function' && typeof store.appendMessages === 'function';
}
