import type { ConversationActor } from './conversation-actor';
import type { RuntimeHealth } from './runtime-types';

/** Mailboxes at or above this share of chat.limits.queue_size make the runtime "degraded". */
export const MAILBOX_WARNING_RATIO = 0.8;

/** Derives the health report (healthy / degraded / unhealthy with reasons) from live conversations. */
export function buildHealth(input: {
  conversations: readonly ConversationActor[];
  queueSize: number;
  storageReachable: boolean;
  shuttingDown: boolean;
  /** Set when another live runtime uses this one's chat.ownership.instance_id (claim-keeper.ts). */
  sharedInstanceId?: string;
  /** The clock's time of the read (clock ms): the age of unstored records is measured to it. */
  now: number;
}): RuntimeHealth {
  const reasons: string[] = [];
  const participants: Record<string, { humans: number; ai_agents: number }> = {};
  const depths: Record<string, number> = {};
  const failed: string[] = [];
  let connections = 0;
  let lag = 0;
  let oldestUnpersistedAt = Infinity;
  let failingWrites = 0;
  let nearFull = 0;
  for (const c of input.conversations) {
    connections += c.connectionCount;
    lag += c.unpersisted;
    const unpersistedSince = c.oldestUnpersistedAt;
    if (unpersistedSince !== undefined && unpersistedSince < oldestUnpersistedAt) oldestUnpersistedAt = unpersistedSince;
    const members = c.status === 'failed' || c.status === 'stopped' ? [] : c.participants;
    participants[c.conversationId] = {
      humans: members.filter((p) => p.participant_type === 'human').length,
      ai_agents: members.filter((p) => p.participant_type === 'ai').length,
    };
    depths[c.conversationId] = c.depth;
    if (c.status === 'failed') failed.push(c.conversationId);
    if (c.persistenceFailing) failingWrites++;
    if (c.depth >= input.queueSize * MAILBOX_WARNING_RATIO) nearFull++;
  }
  if (!input.storageReachable) reasons.push('storage unreachable');
  if (failingWrites > 0) reasons.push(`journal writes failing in ${failingWrites} conversation(s)`);
  if (failed.length > 0) reasons.push(`${failed.length} conversation(s) failed`);
  if (nearFull > 0) reasons.push(`${nearFull} mailbox(es) above ${MAILBOX_WARNING_RATIO * 100}% of queue_size`);
  if (input.sharedInstanceId !== undefined) {
    reasons.push(`another live runtime uses chat.ownership.instance_id "${input.sharedInstanceId}"`);
  }
  if (input.shuttingDown) reasons.push('shutting down');
  const unhealthy = !input.storageReachable || input.shuttingDown;
  return {
    status: unhealthy ? 'unhealthy' : reasons.length > 0 ? 'degraded' : 'healthy',
    reasons,
    connections,
    conversations: input.conversations.length,
    participants_by_conversation: participants,
    queue_depths: depths,
    storage: !input.storageReachable ? 'disconnected' : failingWrites > 0 ? 'failing' : 'connected',
    persistence_lag: lag,
    // Never negative: a record's timestamp may be ahead of the read (a clock stepped back).
    persistence_lag_ms: oldestUnpersistedAt === Infinity ? 0 : Math.max(0, input.now - oldestUnpersistedAt),
    failed_conversations: failed,
    shutting_down: input.shuttingDown,
  };
}
