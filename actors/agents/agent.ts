import type { ChatMessage, ConversationSettings, Participant } from '../message-types';

/**
 * What an agent is given when the conversation offers it a turn. Built by the actor in O(window):
 * the last `chat.context.human_messages` human messages and the last AI answer, never the history.
 */
export interface AgentTurn {
  readonly conversationId: string;
  /** The message that triggered this turn (the last of a burst in multi mode). */
  readonly trigger: ChatMessage;
  /** All messages of the burst the turn answers, oldest first (length 1 in single mode). */
  readonly burst: readonly ChatMessage[];
  /** Last N human messages from all humans, oldest first, including the trigger when it is human. */
  readonly recentHumanMessages: readonly ChatMessage[];
  /** Every record of the most recent complete AI answer (e.g. NLWeb result batches), oldest first. */
  readonly lastAiAnswer: readonly ChatMessage[];
  /** The human who sent the trigger (or the AI participant, for agent-to-agent turns). */
  readonly sender: Participant | undefined;
  readonly participants: readonly Participant[];
  readonly settings: ConversationSettings;
  /** How many agent hops led to the trigger: 0 for a human message. */
  readonly chainDepth: number;
}

/**
 * One piece of an agent's answer; each piece becomes one sequenced message visible to all. A piece breaking the
 * rule of agent-output-rules.ts (content a string within chat.limits.max_agent_output_length, no type only the
 * runtime writes, metadata JSON can carry) is not sequenced: the job fails with AGENT_ERR_INVALID_OUTPUT.
 */
export interface AgentOutput {
  readonly content: string;
  /** Defaults to 'text'; NLWeb agents use 'nlweb_response'. */
  readonly message_type?: string;
  readonly metadata?: Record<string, unknown>;
  /**
   * True on the last piece of the answer. The actor marks the answer complete then, and that ends the job for
   * the conversation: a failure after it is only logged, a cancellation after it not posted (docs/protocol.md).
   */
  readonly final?: boolean;
}

/**
 * What `respond` may return (an async generator's `return` value) when it yields nothing, to say why it
 * has no answer: the `agent_job_finished` record that ends the job carries it as `metadata.reason`
 * (e.g. NLWeb's `no_results`). Anything else returned is ignored; the reason is then `no_answer`.
 */
export interface AgentNoAnswer {
  readonly noAnswer: string;
  /**
   * What the agent's service said about it, for people: NLWeb's `message` on `no_results` (the stand-in's says what
   * it knows and what to try). The `agent_job_finished` record carries it as `metadata.reason_text`
   * (cleaned: noAnswerMessage).
   */
  readonly message?: string;
}

/** The reason an agent's `respond` returned (AgentNoAnswer), if it returned one. */
export function noAnswerReason(returned: unknown): string | undefined {
  if (typeof returned !== 'object' || returned === null) return undefined;
  const reason = (returned as Partial<AgentNoAnswer>).noAnswer;
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}

/** The longest `reason_text` a record carries (a service's message, which nobody here bounds). */
export const MAX_NO_ANSWER_MESSAGE = 500;

/**
 * A service's words about having no answer, fit for a record: a string, control characters and runs of white space
 * as one space, at most MAX_NO_ANSWER_MESSAGE characters (cut at a whole character); undefined when nothing is left.
 */
export function cleanNoAnswerMessage(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();
  if (clean === '') return undefined;
  const chars = Array.from(clean);
  return chars.length > MAX_NO_ANSWER_MESSAGE ? `${chars.slice(0, MAX_NO_ANSWER_MESSAGE - 1).join('')}…` : clean;
}

/** The message an agent's `respond` returned with its reason (AgentNoAnswer), cleaned, if it returned one. */
export function noAnswerMessage(returned: unknown): string | undefined {
  if (typeof returned !== 'object' || returned === null) return undefined;
  return cleanNoAnswerMessage((returned as Partial<AgentNoAnswer>).message);
}

/**
 * What the conversation says of an agent with no answer, in the `agent_job_finished` record and in an NLWeb
 * agent's note (`on_no_answer: note`) alike: "NLWeb has no answer (no results)"; the bare "NLWeb has no
 * answer" when no reason was given (`no_answer`).
 */
export function noAnswerText(displayName: string, reason: string | undefined): string {
  if (reason === undefined || reason === 'no_answer') return `${displayName} has no answer`;
  return `${displayName} has no answer (${reason.replace(/_/g, ' ')})`;
}

/**
 * A pluggable AI participant. `respond` is called for every message the conversation offers it
 * (never its own output) and decides for itself whether to answer: yielding nothing means "no answer"
 * (an `agent_job_finished` record ends the job; return an AgentNoAnswer to say why).
 * It must stop promptly when `signal` aborts (mailbox overflow, conversation closed, timeout); the job does not
 * wait for it: it ends then, and the iterator's return() is called without being awaited (AgentOutputs).
 * Errors it throws become a visible, coded error message in the conversation (only logged once it yielded
 * its piece marked final); they never crash it.
 */
export interface Agent {
  /** Stable id; the AI participant's participant_id defaults to it. */
  readonly id: string;
  readonly displayName: string;
  /** Where the agent's calls go (an NLWeb endpoint's base URL), named in the operators' log; absent for in-process agents. */
  readonly baseUrl?: string;
  /**
   * Cheap pre-filter run inside the actor; false means the turn is never scheduled. Defaults to true. A throw
   * declines the turn too (logged with its stack; AgentJobs.offer), never a crash of the conversation. It must
   * answer synchronously: a returned Promise is treated as a throw (and its rejection caught).
   */
  wantsTurn?(message: ChatMessage, chainDepth: number): boolean;
  respond(turn: AgentTurn, signal: AbortSignal): AsyncIterable<AgentOutput>;
}

/** Looks agents up by id for a conversation's AI participants. */
export type AgentRegistry = ReadonlyMap<string, Agent>;
