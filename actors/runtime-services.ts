import type { AgentRegistry } from './agents/agent';
import type { Clock, IdGenerator } from './clock';
import type { NlwebChatConfig } from '../config/config-types';
import type { ChatTelemetry } from '../observability/chat-telemetry';
import type { RuntimeLogger } from '../observability/logger';
import type { ChatStore } from '../storage-providers/chat-store';

/** What the runtime and every conversation in it are built from: all injected, nothing global. */
export interface RuntimeServices {
  readonly config: NlwebChatConfig;
  readonly store: ChatStore;
  readonly agents: AgentRegistry;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly telemetry: ChatTelemetry;
  readonly logger: RuntimeLogger;
}
