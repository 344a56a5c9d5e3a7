/**
 * Pure state and reducers of one conversation: no I/O, no timers, no randomness.
 * The machine (conversation-machine.ts) calls these inside `assign`, so every decision about
 * sequencing, membership, modes and agent turns is testable with xstate's `transition()`.
 */
import {
  MESSAGE_TYPES,
  type ChatMessage,
  type ConversationMode,
  type ConversationSettings,
  type Participant,
  type SenderType,
} from './message-types';
import type { ErrorCode } from './errors';
import type { AgentTurn } from './agents/agent';
import { answeredSequenceIds } from './answered-sequences';
import { IsoTimestamps } from './iso-timestamps';
import { RecentRecords } from './recent-records';

/** Limits and windows the machine needs, taken from config by the wiring. */
export interface ConversationPolicy {
  readonly maxParticipants: number;
  readonly humanContextSize: number;
  readonly cacheSize: number;
  /** Size of the in-memory (sender, message_id) index; older retries are checked against storage. */
  readonly dedupWindow: number;
  readonly chainLimit: number;
  readonly multiModeWindowMs: number;
  /** Multi mode: the longest a burst waits from its first message, however often the window restarts (0 = no cap). */
  readonly multiModeMaxWaitMs: number;
  readonly singleModeTypingWindowMs: number;
}

/** What the machine is started with: a fresh conversation or one restored from its journal. */
export interface ConversationInput {
  readonly conversationId: string;
  readonly settings: ConversationSettings;
  readonly policy: ConversationPolicy;
  readonly lastSequenceId: number;
  readonly participants: readonly Participant[];
  /** The latest records (oldest first) to seed the cache, dedup index and agent context. */
  readonly recent: readonly ChatMessage[];
  /**
   * Human messages that were waiting for the input window when the previous machine crashed (a restart), or that a
   * load found never offered to the agents (never-offered-posts.ts): the machine starts collecting them again.
   */
  readonly burst?: readonly ChatMessage[];
}

/** An agent turn the wiring should start (after the agent's own wantsTurn filter). */
export interface TurnRequest {
  readonly jobId: string;
  readonly agentId: string;
  readonly participantId: string;
  readonly trigger: ChatMessage;
  readonly burst: readonly ChatMessage[];
  /** What the job's records say it answers (`in_reply_to_sequences`): the burst's ids, capped (answered-sequences.ts). */
  readonly answeredSequenceIds: readonly number[];
  readonly recentHumanMessages: readonly ChatMessage[];
  readonly lastAiAnswer: readonly ChatMessage[];
  readonly chainDepth: number;
}

export type Outcome =
  | { readonly kind: 'accepted'; readonly sequenceId: number }
  | { readonly kind: 'duplicate'; readonly sequenceId: number }
  | { readonly kind: 'rejected'; readonly code: ErrorCode; readonly message: string }
  | { readonly kind: 'none' };

export interface ConversationContext {
  readonly conversationId: string;
  readonly settings: ConversationSettings;
  readonly policy: ConversationPolicy;
  readonly lastSequenceId: number;
  readonly participants: ReadonlyMap<string, Participant>;
  readonly mode: ConversationMode;
  /** Participants the client reports as typing (drives the single-mode window). */
  readonly typing: ReadonlySet<string>;
  /** Last `cacheSize` records, oldest first, for resume without a storage read. */
  readonly recent: RecentRecords;
  readonly humanWindow: readonly ChatMessage[];
  readonly lastAiAnswer: readonly ChatMessage[];
  /** Human messages waiting for the input-completion window. */
  readonly burst: readonly ChatMessage[];
  /** Records of AI answers still streaming, by job id. */
  readonly answersInProgress: ReadonlyMap<string, readonly ChatMessage[]>;
  /**
   * (sender, message_id) → sequence id. The one mutable structure: copying it per message would make
   * every post O(window); it is append-only and bounded, so sharing it between snapshots is harmless
   * for lookups of ids that exist in both.
   */
  readonly dedup: DedupIndex;
  /** Formats the records' timestamps (a per-conversation cache of the current second's text). */
  readonly timestamps: IsoTimestamps;
  /** Effects of the last event: records to deliver and persist, turns to start, the sender's outcome. */
  readonly emitted: readonly ChatMessage[];
  readonly turns: readonly TurnRequest[];
  readonly outcome: Outcome;
  /** Outcomes of the last POSTS batch, one per post, in order. */
  readonly outcomes: readonly Outcome[];
}

/**
 * Bounded (sender, message_id) → sequence id index in two generations: when the young one holds
 * `window` ids it becomes the old one and the previous old one is dropped. O(1) per message (evicting
 * one Map entry at a time from the front is O(tombstones) in V8), and it remembers between `window`
 * and 2 × `window` recent ids. Keyed by sender, then message id: every post is looked up, and a joined
 * string key would be built, flattened and hashed for each lookup.
 */
export class DedupIndex {
  private young = new Map<string, Map<string, number>>();
  private old = new Map<string, Map<string, number>>();
  private youngSize = 0;
  constructor(private readonly window: number) {}

  get(senderId: string, messageId: string): number | undefined {
    return this.young.get(senderId)?.get(messageId) ?? this.old.get(senderId)?.get(messageId);
  }

  set(senderId: string, messageId: string, sequenceId: number): void {
    if (this.youngSize >= this.window) {
      this.old = this.young;
      this.young = new Map();
      this.youngSize = 0;
    }
    let bySender = this.young.get(senderId);
    if (bySender === undefined) {
      bySender = new Map();
      this.young.set(senderId, bySender);
    }
    if (!bySender.has(messageId)) this.youngSize++;
    bySender.set(messageId, sequenceId);
  }
}

export function modeOf(participants: ReadonlyMap<string, Participant>): ConversationMode {
  let humans = 0;
  for (const p of participants.values()) if (p.participant_type === 'human') humans++;
  return humans >= 2 || participants.size >= 3 ? 'multi' : 'single';
}

export function createInitialContext(input: ConversationInput): ConversationContext {
  const participants = new Map(input.participants.map((p) => [p.participant_id, p]));
  const dedup = new DedupIndex(input.policy.dedupWindow);
  let humanWindow: ChatMessage[] = [];
  let lastAiAnswer: ChatMessage[] = [];
  for (const m of input.recent) {
    remember(dedup, m);
    if (isHumanText(m)) humanWindow = pushBounded(humanWindow, m, input.policy.humanContextSize);
    if (m.sender_type === 'ai') {
      const jobId = String(m.metadata.job_id ?? '');
      const sameAnswer = lastAiAnswer.length > 0 && String(lastAiAnswer[0].metadata.job_id ?? '') === jobId;
      lastAiAnswer = sameAnswer ? [...lastAiAnswer, m] : [m];
    }
  }
  return {
    conversationId: input.conversationId,
    settings: input.settings,
    policy: input.policy,
    lastSequenceId: input.lastSequenceId,
    participants,
    mode: modeOf(participants),
    typing: new Set(),
    recent: RecentRecords.of(input.recent, input.policy.cacheSize),
    humanWindow,
    lastAiAnswer,
    burst: input.burst ?? [],
    answersInProgress: new Map(),
    dedup,
    timestamps: new IsoTimestamps(),
    emitted: [],
    turns: [],
    outcome: { kind: 'none' },
    outcomes: [],
  };
}

export function isHumanText(m: ChatMessage): boolean {
  return m.sender_type === 'human' && m.message_type === MESSAGE_TYPES.text;
}

export function remember(dedup: DedupIndex, m: ChatMessage): void {
  if (m.sender_type !== 'system') dedup.set(m.sender_id, m.message_id, m.sequence_id);
}

export function pushBounded<T>(list: readonly T[], item: T, bound: number): T[] {
  if (bound <= 0) return [];
  // Built from a literal, not slice(): a slice of the empty list a new conversation starts with is an array of
  // small-integer kind, and pushing a record into it made V8 throw away the optimised code of this function (and
  // of sequence(), which inlines it) once per new conversation ("not a Smi" in --trace-deopt). A literal's
  // allocation site learns after the first push that it holds objects.
  const next: T[] = [];
  for (let i = list.length >= bound ? list.length - bound + 1 : 0; i < list.length; i++) next.push(list[i]!);
  next.push(item);
  return next;
}

/**
 * pushBounded of each of `items` in turn, with one new list instead of one per item: the last `bound` of `list`
 * followed by `items` (a batch of posts updates the human window once, post-batch.ts).
 */
export function appendBounded<T>(list: readonly T[], items: readonly T[], bound: number): T[] {
  if (bound <= 0) return [];
  // A literal, as in pushBounded: its allocation site learns it holds objects.
  const next: T[] = [];
  const skip = Math.max(0, list.length + items.length - bound);
  for (let i = Math.min(skip, list.length); i < list.length; i++) next.push(list[i]!);
  for (let i = Math.max(0, skip - list.length); i < items.length; i++) next.push(items[i]!);
  return next;
}

/** Fields of a record before the actor sequences it. */
export interface Draft {
  readonly message_id: string;
  readonly sender_id: string;
  readonly sender_type: SenderType;
  readonly message_type: string;
  readonly content: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Sequences drafts onto the context: the only place sequence ids are assigned.
 * Returns the new context with `emitted` set to the frozen records, cache and indexes updated.
 */
export function sequence(ctx: ConversationContext, drafts: readonly Draft[], timestamp: string): ConversationContext {
  return { ...ctx, ...sequenced(ctx, drafts, timestamp) };
}

/** The fields sequence() changes, for reducers that return a partial update (one context copy per event). */
export type SequencedFields = Pick<ConversationContext, 'lastSequenceId' | 'emitted' | 'recent' | 'humanWindow'>;

/** Records without metadata share one frozen empty object (most human posts): nothing per record to allocate or keep. */
const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

function frozenMetadata(metadata: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, unknown>> {
  if (metadata === undefined) return NO_METADATA;
  for (const _key in metadata) return Object.freeze({ ...metadata });
  return NO_METADATA;
}

/**
 * The frozen record of `fields` under sequence id `seq`: the one place a record's fields are put together, so
 * every record has the same shape and field order. Only sequence() and the batch of posts (post-batch.ts) call it.
 */
export function sealRecord(
  ctx: ConversationContext,
  seq: number,
  timestamp: string,
  senderType: SenderType,
  fields: Pick<Draft, 'message_id' | 'sender_id' | 'content' | 'metadata'> & { readonly message_type?: string },
): ChatMessage {
  return Object.freeze({
    message_id: fields.message_id,
    conversation_id: ctx.conversationId,
    sequence_id: seq,
    sender_id: fields.sender_id,
    sender_type: senderType,
    message_type: fields.message_type ?? MESSAGE_TYPES.text,
    content: fields.content,
    timestamp,
    metadata: frozenMetadata(fields.metadata),
  });
}

export function sequenced(ctx: ConversationContext, drafts: readonly Draft[], timestamp: string): SequencedFields {
  let seq = ctx.lastSequenceId;
  const emitted: ChatMessage[] = [];
  let recent = ctx.recent;
  let humanWindow = ctx.humanWindow;
  for (const d of drafts) {
    seq += 1;
    const record = sealRecord(ctx, seq, timestamp, d.sender_type, d);
    emitted.push(record);
    remember(ctx.dedup, record);
    recent = recent.append(record);
    if (isHumanText(record)) humanWindow = pushBounded(humanWindow, record, ctx.policy.humanContextSize);
  }
  return { lastSequenceId: seq, emitted, recent, humanWindow };
}

/** Builds one turn per AI participant (never the trigger's own sender) within the chain limit. */
export function planTurns(
  ctx: ConversationContext,
  trigger: ChatMessage,
  burst: readonly ChatMessage[],
  chainDepth: number,
): TurnRequest[] {
  if (chainDepth > ctx.policy.chainLimit) return [];
  const turns: TurnRequest[] = [];
  // One list for every agent's turn: they all answer the same burst.
  let answered: readonly number[] | undefined;
  for (const p of ctx.participants.values()) {
    if (p.participant_type !== 'ai' || p.participant_id === trigger.sender_id) continue;
    answered ??= answeredSequenceIds(trigger, burst);
    turns.push({
      jobId: `${ctx.conversationId}:${trigger.sequence_id}:${p.participant_id}`,
      agentId: p.agent_id ?? p.participant_id,
      participantId: p.participant_id,
      trigger,
      burst,
      answeredSequenceIds: answered,
      recentHumanMessages: ctx.humanWindow,
      lastAiAnswer: ctx.lastAiAnswer,
      chainDepth,
    });
  }
  return turns;
}

/** The agent's view of a planned turn: the request plus who is in the conversation now. */
export function buildAgentTurn(ctx: ConversationContext, request: TurnRequest): AgentTurn {
  return {
    conversationId: ctx.conversationId,
    trigger: request.trigger,
    burst: request.burst,
    recentHumanMessages: request.recentHumanMessages,
    lastAiAnswer: request.lastAiAnswer,
    sender: ctx.participants.get(request.trigger.sender_id),
    participants: [...ctx.participants.values()],
    settings: ctx.settings,
    chainDepth: request.chainDepth,
  };
}

/** The agent-hop count a record's metadata carries (0 when absent: a human message). */
export function depthIn(metadata: Readonly<Record<string, unknown>> | undefined): number {
  const d = metadata?.chain_depth;
  return typeof d === 'number' ? d : 0;
}

/**
 * The metadata a post's record is made with: an AI sender's post counts one more agent hop. A retry's
 * metadata is compared with its original record through this too (message-id-reuse.ts).
 */
export function postedMetadata(
  isAi: boolean,
  metadata: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> | undefined {
  return isAi ? { ...metadata, chain_depth: depthIn(metadata) + 1 } : metadata;
}

export function chainDepthOf(m: ChatMessage): number {
  return depthIn(m.metadata);
}
