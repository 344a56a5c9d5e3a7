import type { AgentOutput } from './agents/agent';
import type { ErrorCode } from './errors';
import type { Participant } from './message-types';

/**
 * Events the conversation machine accepts. They are plain data (no callbacks), so a journal of them
 * can be re-run through the machine by the replay CLI. `receivedAt` (ms, from the injected clock)
 * becomes the record's timestamp; `requestId` lets the wiring answer the caller.
 */
export type ConversationEvent =
  | ({ readonly type: 'POST'; readonly requestId?: number; readonly receivedAt: number } & PostFields)
  /**
   * Posts that reached the actor in the same event-loop turn, in arrival order, as one machine step:
   * each is decided exactly as a POST would be (same records, outcomes, turns and final state as the
   * POSTs one by one; a property test holds the two equal), for the price of one step.
   */
  | { readonly type: 'POSTS'; readonly requestId?: number; readonly receivedAt: number; readonly posts: readonly PostFields[] }
  | {
      readonly type: 'JOIN';
      readonly requestId?: number;
      readonly receivedAt: number;
      readonly participant: Omit<Participant, 'joined_at_sequence'>;
      /** The member who added this participant (POST …/participants); absent when it joined itself or at create. */
      readonly addedBy?: string;
    }
  | {
      readonly type: 'LEAVE';
      readonly requestId?: number;
      readonly receivedAt: number;
      readonly participantId: string;
      /** The owner who removed this participant (DELETE …/participants/{id}); absent when it left itself. */
      readonly removedBy?: string;
    }
  | { readonly type: 'TYPING'; readonly participantId: string; readonly isTyping: boolean }
  | AgentEvent
  | {
      readonly type: 'REDACT';
      /** Set when a caller waits for the record's sequence id (ConversationActor.redact). */
      readonly requestId?: number;
      readonly receivedAt: number;
      readonly sequenceIds: readonly number[];
      readonly requestedBy: string;
      readonly marker: string;
      /** The record's message_id when it is not the derived one: a journal written before it, replayed (replay CLI). */
      readonly recordId?: string;
    }
  | ({ readonly type: 'EDIT'; readonly requestId?: number; readonly receivedAt: number } & MessageEdit)
  /** Cold start after a crash: ids up to `upTo` may have been delivered but were not stored. */
  | { readonly type: 'RECOVER_LOST'; readonly receivedAt: number; readonly upTo: number }
  | { readonly type: 'CLOSE' };

/**
 * A member's edit of its own message, already stored (actors/message-edits.ts): the record `sequenceId` now has
 * `content`, and its metadata `edited: true`, `edited_at` and `edit_count` (this edit's number, from 1).
 */
export interface MessageEdit {
  readonly sequenceId: number;
  readonly messageId: string;
  readonly senderId: string;
  readonly content: string;
  readonly editedAt: string;
  readonly editCount: number;
}

/** What a human (or an AI participant over the API) posts. */
export interface PostFields {
  readonly message_id: string;
  readonly sender_id: string;
  readonly content: string;
  readonly message_type?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Every record a job answers (its burst, capped: answered-sequences.ts), written as `in_reply_to_sequences`.
 * Optional: a replay re-run derives these events from journals written before the list existed, and a missing
 * list means the trigger alone.
 */
export interface AnsweredIds {
  readonly answeredSequenceIds?: readonly number[];
}

export interface AgentEventBase {
  readonly receivedAt: number;
  readonly jobId: string;
  readonly participantId: string;
}

export type AgentEvent =
  | (AgentEventBase & AnsweredIds & { readonly type: 'AGENT_STARTED'; readonly triggerSequenceId: number })
  | (AgentEventBase &
      AnsweredIds & {
        readonly type: 'AGENT_OUTPUT';
        readonly output: AgentOutput;
        readonly part: number;
        readonly chainDepth: number;
        readonly triggerSequenceId: number;
        readonly triggerMessageId: string;
      })
  /**
   * The agent's answer ended without a piece marked final (or without any piece). `reason`: why it had no
   * answer, when it said so (AgentNoAnswer); `triggerSequenceId` names the message the job answered.
   */
  | (AgentEventBase &
      AnsweredIds & {
        readonly type: 'AGENT_DONE';
        readonly chainDepth: number;
        readonly triggerSequenceId: number;
        readonly reason?: string;
        /** What the agent's service said about having no answer (AgentNoAnswer.message, cleaned). */
        readonly reasonText?: string;
      })
  | (AgentEventBase & { readonly type: 'AGENT_FAILED'; readonly code: ErrorCode; readonly message: string })
  | (AgentEventBase & { readonly type: 'AGENT_CANCELLED'; readonly reason: string });
