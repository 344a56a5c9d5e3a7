import { ChatError } from '../actors/errors';
import type { NlwebChatConfig } from '../config/config-types';
import type { ChatStore } from './chat-store';
import { MemoryStore } from './memory-store';

export { ChatStore, REDACTION_MARKER } from './chat-store';
export type { RedactionTarget, StoreCapabilities } from './chat-store';
export { MemoryStore } from './memory-store';

/** Settings of `chat.storage` in config_nlweb.yaml. */
export type StorageConfig = NlwebChatConfig['chat']['storage'];

/** Overrides that do not belong in the config file. */
export interface CreateStoreOptions {
  /** PostgreSQL schema to use (default "public"); tests use one schema per run. */
  readonly postgresSchema?: string;
}

/**
 * Builds the configured provider. The store is returned unopened: call `await store.open()`
 * (which connects and runs migrations) before use, and `close()` on shutdown.
 */
export function createStore(config: StorageConfig, options: CreateStoreOptions = {}): ChatStore {
  void options;
  switch (config.backend) {
    case 'memory':
      return new MemoryStore();
    default:
      throw new ChatError('CONFIG_ERR_INVALID', `storage backend ${String(config.backend)} is not available yet`);
  }
}
