/**
 * The records a conversation produces. Every record is sequenced by the conversation actor
 * (the only writer of its sequence counter) and frozen before anyone else sees it.
 */

export const SENDER_TYPES = ['human', 'ai', 'system'] as const;
export type SenderType = (typeof SENDER_TYPES)[number];

/** Message types the runtime itself produces. Agents may add their own (free-form strings). */
export const MESSAGE_TYPES = {
  text: 'text',
  system: 'system',
  nlwebResponse: 'nlweb_response',
  join: 'join',
  leave: 'leave',
  modeChange: 'mode_change',
  agentJobStarted: 'agent_job_started',
  agentJobCancelled: 'agent_job_cancelled',
  agentJobFailed: 'agent_job_failed',
  /** A job that ended without an answer marked complete (no answer at all, or pieces with none marked final). */
  agentJobFinished: 'agent_job_finished',
  error: 'error',
  /** Placeholder for an id handed out before a crash but never stored (see sequence-lease.ts). */
  lost: 'lost',
  redaction: 'redaction',
  /** A member edited its own message: the record names the message's sequence id and carries its new content. */
  edit: 'edit',
} as const;
export type KnownMessageType = (typeof MESSAGE_TYPES)[keyof typeof MESSAGE_TYPES];

/**
 * The types only the runtime writes: clients and `replay --check` take a `join` for a membership change and a
 * `lost` for a crash's gap, so neither a post nor an agent's piece may carry one (input-rules.ts,
 * agent-output-rules.ts). Posts and agents keep `text`, `nlweb_response` and types of their own.
 */
export const RUNTIME_ONLY_MESSAGE_TYPES: ReadonlySet<string> = new Set<string>(
  Object.values(MESSAGE_TYPES).filter((type) => type !== MESSAGE_TYPES.text && type !== MESSAGE_TYPES.nlwebResponse),
);

export type ConversationMode = 'single' | 'multi';

/** One sequenced, immutable entry of a conversation's journal. */
export interface ChatMessage {
  readonly message_id: string;
  readonly conversation_id: string;
  /** 1, 2, 3, ... per conversation: no gaps, never reused. */
  readonly sequence_id: number;
  readonly sender_id: string;
  readonly sender_type: SenderType;
  readonly message_type: string;
  readonly content: string;
  /** ISO-8601 time the actor sequenced the record (from the injected clock). */
  readonly timestamp: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type ParticipantType = 'human' | 'ai';

/** A member of a conversation. Humans may hold several connections under one participant id. */
export interface Participant {
  readonly participant_id: string;
  readonly participant_type: ParticipantType;
  readonly display_name: string;
  /** Sequence id of the join record (0 for members restored before journaling began). */
  readonly joined_at_sequence: number;
  /** 'owner' may redact and administer; everybody else is 'member'. */
  readonly role: 'owner' | 'member';
  /** For AI participants: which configured agent answers for it. */
  readonly agent_id?: string;
}

/** Per-conversation settings handed to agents (NLWeb site/mode). */
export interface ConversationSettings {
  readonly site?: string | string[];
  readonly nlweb_mode?: 'list' | 'summarize' | 'generate';
  readonly [key: string]: unknown;
}

export type ConversationStatus = 'active' | 'failed' | 'closed';

/** Stored metadata of a conversation (not the journal). */
export interface ConversationMeta {
  readonly conversation_id: string;
  readonly title: string;
  readonly created_at: string;
  readonly created_by: string;
  readonly settings: ConversationSettings;
  readonly status: ConversationStatus;
}
