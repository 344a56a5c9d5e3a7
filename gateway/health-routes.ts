import express from 'express';
import type { ChatRuntime } from '../actors/runtime-types';
import type { NlwebChatConfig } from '../config/config-types';
import { healthConversationKey, rekeyed } from './health-conversation-keys';

/** What the health endpoints report on besides the runtime. */
export interface HealthRouteDeps {
  readonly runtime: ChatRuntime;
  readonly config: NlwebChatConfig;
  /** Open WebSocket connections of this gateway (for /health/chat). */
  connectionCount(): number;
  /** WebSocket connections this gateway pipes to their conversations' holders (for /health/chat). */
  forwardedConnectionCount(): number;
  isClosing(): boolean;
}

/**
 * /livez (the process answers), /readyz (storage connected and not shutting down: 200 or 503) and
 * /health/chat (the runtime's health with details; 503 only when unhealthy, a full mailbox is degraded/200).
 * Unauthenticated: load balancers and orchestrators call them. So /health/chat names conversations by a digest of
 * their ids unless `observability.health.conversation_ids` is 'plain' (health-conversation-keys.ts).
 */
export function createHealthRoutes(deps: HealthRouteDeps): express.Router {
  const { runtime } = deps;
  const router = express.Router();
  const keyOf = healthConversationKey(deps.config.observability.health.conversation_ids);

  router.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    // Readiness asks the store now rather than trusting the last periodic probe.
    await runtime.checkStorage();
    const h = runtime.health();
    const ready = h.storage === 'connected' && !h.shutting_down && !deps.isClosing();
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not_ready', storage: h.storage, shutting_down: h.shutting_down || deps.isClosing() });
  });

  router.get('/health/chat', (_req, res) => {
    const h = runtime.health();
    res.status(h.status === 'unhealthy' ? 503 : 200).json({
      status: h.status,
      reasons: h.reasons,
      connections: deps.connectionCount(),
      forwarded_connections: deps.forwardedConnectionCount(),
      conversations: h.conversations,
      participants_by_conversation: rekeyed(h.participants_by_conversation, keyOf),
      queue_depths: rekeyed(h.queue_depths, keyOf),
      storage: h.storage,
      persistence_lag: h.persistence_lag,
      persistence_lag_ms: h.persistence_lag_ms,
      failed_conversations: h.failed_conversations.map(keyOf),
      shutting_down: h.shutting_down,
    });
  });

  return router;
}
