/**
 * How a conversation actor's long-lived parts (its journal writer, agent jobs and sequence lease) are built
 * from the runtime's config and services, and what each part's failures mean for the conversation: a journal
 * that no longer has it (deleted elsewhere), a write fenced by another runtime's claim, a write to retry. Apart
 * from the actor (conversation-actor.ts) so that the actor reads as what it does, not as pages of options;
 * each part is built once per conversation, and the callbacks given here are passed to it as they are.
 */
import { AgentJobs, type AgentJobsOptions } from './agent-jobs';
import type { ConversationActorDeps } from './conversation-actor';
import { isChatError } from './errors';
import type { ChatMessage } from './message-types';
import { changesMembership, syncMembership } from './membership-sync';
import { OfferCursor } from './offer-cursor';
import { PersistenceQueue } from './persistence-queue';
import { SequenceLease, type SequenceLeaseOptions } from './sequence-lease';
import type { ConversationClaim } from '../storage-providers/conversation-claims';

/** What a conversation does when its journal writer reports. */
export interface JournalWriterHooks {
  /** Everything up to `upTo` is stored. */
  readonly persisted: (upTo: number) => void;
  /** These records were just stored (only when the runtime has an onRecord listener: record-notifier.ts). */
  readonly stored?: (records: readonly ChatMessage[]) => void;
  /** The journal no longer has the conversation (e.g. another process's retention sweep deleted it). */
  readonly deleted: () => void;
  /** Another runtime claimed the conversation: a write was fenced. */
  readonly fenced: (err: unknown) => void;
}

/** The conversation's one ordered, batched, retrying journal writer (persistence-queue.ts). */
export function createJournalWriter(
  deps: ConversationActorDeps,
  conversationId: string,
  claim: ConversationClaim,
  persistedUpTo: number,
  hooks: JournalWriterHooks,
): PersistenceQueue {
  const { config, clock, telemetry, logger } = deps;
  return new PersistenceQueue(
    {
      conversationId,
      store: deps.store,
      clock,
      batchMax: config.chat.storage.batch_max,
      retryInitialMs: config.chat.storage.retry_initial_ms,
      retryMaxMs: config.chat.storage.retry_max_ms,
      fence: claim,
      onPersisted: hooks.persisted,
      onStored: hooks.stored,
      // Most batches are posts only: no promise for them, and the writer does not wait a microtask for nothing.
      afterWrite: (batch) => (changesMembership(batch) ? syncMembership(deps.store, conversationId, batch) : undefined),
      onFailure: (err, attempt) => {
        if (isChatError(err, 'CHAT_ERR_NOT_FOUND')) {
          // Deleted by another process (e.g. its retention sweep): retrying can never succeed.
          logger.warn({ conversation_id: conversationId }, 'conversation deleted from the journal; closing it');
          hooks.deleted();
          return;
        }
        if (isChatError(err, 'STORAGE_ERR_FENCED')) {
          hooks.fenced(err);
          return;
        }
        logger.warn({ err, conversation_id: conversationId, attempt }, 'journal write failed; retrying in order');
      },
      onRefused: (record, problem) =>
        logger.error(
          { conversation_id: conversationId, sequence_id: record.sequence_id, sender_id: record.sender_id, problem },
          'journal refused a record as invalid; stored a lost record in its place',
        ),
      onWrite: (ms, ok) => telemetry.storageOperation('append', ms, ok),
    },
    persistedUpTo,
  );
}

/** The conversation's agent calls (agent-jobs.ts); `send` and `buildTurn` are the actor's, passed as they are. */
export function createAgentJobs(
  deps: ConversationActorDeps,
  conversationId: string,
  actor: Pick<AgentJobsOptions, 'send' | 'buildTurn'>,
): AgentJobs {
  const { config, clock, telemetry, logger } = deps;
  return new AgentJobs({
    agents: deps.agents,
    clock,
    maxConcurrent: config.chat.limits.max_concurrent_agent_jobs,
    timeoutMs: config.chat.context.nlweb_timeout * 1000,
    maxOutputLength: config.chat.limits.max_agent_output_length,
    send: actor.send,
    buildTurn: actor.buildTurn,
    telemetry,
    onFailureAfterAnswer: ({ agentId, jobId, code, thrown }) =>
      logger.warn(
        { err: thrown, conversation_id: conversationId, agent_id: agentId, job_id: jobId, code },
        'agent failed after its answer was complete',
      ),
    onFailure: ({ agentId, url, code, message, thrown }) =>
      deps.agentFailures?.report({ conversationId, agentId, url, code, reason: message, ...(thrown === undefined ? {} : { err: thrown }) }),
    // Logged as a failed call is (rate-limited per agent, with the stack): a filter that throws on every message
    // would otherwise write a line per message of every conversation the agent is in.
    onTurnFilterFailure: ({ agentId, url, thrown }) => {
      // Counted apart from nlweb_chat.agent.call.errors: no call was made, and the filter runs on every message.
      telemetry.agentWantsTurnError(agentId);
      deps.agentFailures?.report({
        conversationId,
        agentId,
        url,
        code: 'AGENT_ERR_FAILED',
        reason: `wantsTurn threw, so the agent did not take the turn: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        err: thrown,
      });
    },
  });
}

/** The ids reserved ahead in storage (sequence-lease.ts); `lastSequenceId` and `canRunWaiting` are the actor's. */
export function createSequenceLease(
  deps: ConversationActorDeps,
  conversationId: string,
  claim: ConversationClaim,
  reservedUpTo: number,
  actor: Pick<SequenceLeaseOptions, 'lastSequenceId' | 'canRunWaiting' | 'claimValidUntil'> & { readonly fenced: (err: unknown) => void },
): SequenceLease {
  return new SequenceLease({
    conversationId,
    store: deps.store,
    clock: deps.clock,
    initialUpTo: reservedUpTo,
    lastSequenceId: actor.lastSequenceId,
    canRunWaiting: actor.canRunWaiting,
    fence: claim,
    claimValidUntil: actor.claimValidUntil,
    claimLapsed: deps.claimLapsed,
    onFailure: (err) => {
      if (isChatError(err, 'STORAGE_ERR_FENCED')) actor.fenced(err);
      else deps.logger.warn({ err, conversation_id: conversationId }, 'sequence reservation failed; retrying');
    },
  });
}

/** The conversation's marks of what the agents were offered (offer-cursor.ts), written through the store. */
export function createOfferCursor(deps: ConversationActorDeps, conversationId: string): OfferCursor {
  return new OfferCursor({
    save: (marks) => deps.store.saveReadPositions(conversationId, marks),
    saveFailed: (err) =>
      deps.logger.warn(
        { err, conversation_id: conversationId },
        'saving what the agents were offered failed; a load after a crash may offer those posts again',
      ),
  });
}
