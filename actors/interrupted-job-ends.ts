/**
 * The cold start's end for each agent job the restored journal shows answering and not ended (interrupted-jobs.ts
 * finds them; none runs here yet): one `agent_job_cancelled`, reason `interrupted`, sent through the conversation's
 * requests like any agent event. It runs after recoverLost: the ids reserved before a crash belong to the `lost`
 * placeholders, and the ends take new ones through the lease. The agent is not asked again (docs/protocol.md,
 * Agent jobs). Apart from the conversation actor (conversation-actor.ts) because it runs once per load
 * (ChatRuntime.load), never on a message's path; apart from interrupted-jobs.ts because that one only reads (the
 * replay check shares it).
 */
import type { ConversationActorDeps } from './conversation-actor';
import type { ConversationEvent } from './conversation-events';
import { findInterruptedJobs, INTERRUPTED_REASON } from './interrupted-jobs';
import type { ChatMessage } from './message-types';

export interface InterruptedJobEndsParts {
  readonly deps: Pick<ConversationActorDeps, 'config' | 'store' | 'logger' | 'clock'>;
  readonly conversationId: string;
  /** False once the conversation stopped or failed while the journal was read: nothing is sent then. */
  isRunning(): boolean;
  /** Sends an event to the conversation's machine (MachineRequests.send: through the lease, in arrival order). */
  send(event: ConversationEvent): void;
}

/** Ends the jobs cut off before this start, looking back past `window` (the restored records) when needed. */
export async function endInterruptedJobs(parts: InterruptedJobEndsParts, window: readonly ChatMessage[]): Promise<void> {
  if (window.length === 0) return;
  const { deps, conversationId } = parts;
  const lookBackMs = 2 * deps.config.chat.context.nlweb_timeout * 1000;
  const { jobs, complete } = await findInterruptedJobs(deps.store, conversationId, window, lookBackMs);
  if (!complete) deps.logger.warn({ conversation_id: conversationId }, 'reading past the restored window for cut-off agent jobs failed');
  if (jobs.length === 0 || !parts.isRunning()) return;
  deps.logger.warn({ conversation_id: conversationId, job_ids: jobs.map((j) => j.jobId) }, 'ending agent jobs cut off before this start');
  for (const job of jobs) {
    const receivedAt = deps.clock.now();
    parts.send({
      type: 'AGENT_CANCELLED',
      receivedAt,
      jobId: job.jobId,
      participantId: job.participantId,
      reason: INTERRUPTED_REASON,
    });
  }
}
