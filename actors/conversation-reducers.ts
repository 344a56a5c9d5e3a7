/**
 * Context reducers for each event, used by the machine's `assign` actions. Pure functions of
 * (context, event) → context; each sets `emitted`, `turns` and `outcome` for the named effects.
 */
import { noAnswerText } from './agents/agent';
import { namedByRecentRedactions, recentSystemRecord } from './announced-changes';
import { ERROR_CODES } from './errors';
import { MESSAGE_TYPES, type ChatMessage, type Participant } from './message-types';
import type { ConversationEvent, PostFields } from './conversation-events';
import {
  chainDepthOf,
  modeOf,
  planTurns,
  postedMetadata,
  sequence,
  sequenced,
  type ConversationContext,
  type Draft,
  type SequencedFields,
} from './conversation-context';

type EventOf<T extends ConversationEvent['type']> = Extract<ConversationEvent, { type: T }>;

const quiet = { emitted: [], turns: [] } as const;

export function findDuplicate(ctx: ConversationContext, e: EventOf<'POST'>): number | undefined {
  return ctx.dedup.get(e.sender_id, e.message_id);
}

export function markDuplicate(ctx: ConversationContext, e: EventOf<'POST'>): ConversationContext {
  return { ...ctx, ...quiet, outcome: { kind: 'duplicate', sequenceId: findDuplicate(ctx, e) ?? 0 } };
}

export function reject(ctx: ConversationContext, code: keyof typeof ERROR_CODES, message?: string): ConversationContext {
  return { ...ctx, ...quiet, outcome: { kind: 'rejected', code, message: message ?? ERROR_CODES[code].message } };
}

export function acceptPost(ctx: ConversationContext, e: EventOf<'POST'>): ConversationContext {
  return { ...ctx, ...postChanges(ctx, e, ctx.timestamps.format(e.receivedAt)) };
}

/**
 * A post that does not wait for the input window, in one step: acceptPost then dispatchBurst (turns for
 * an AI sender's record first, then for the burst this post ends). A partial update, so the machine's
 * `assign` copies the context once per post, the hot path of every conversation.
 */
export function acceptPostAndDispatch(ctx: ConversationContext, e: EventOf<'POST'>): Partial<ConversationContext> {
  const accepted = postChanges(ctx, e, ctx.timestamps.format(e.receivedAt));
  const burst = accepted.burst ?? ctx.burst;
  if (burst.length === 0) return accepted;
  // Without agents the burst is simply cleared (no context copy to plan zero turns).
  if (!hasAgents(ctx)) return { ...accepted, burst: [] };
  const afterPost = { ...ctx, ...accepted };
  const burstTurns = planTurns(afterPost, burst[burst.length - 1], burst, 0);
  const turns = accepted.turns.length === 0 ? burstTurns : [...accepted.turns, ...burstTurns];
  return { ...accepted, turns, burst: [] };
}

export function hasAgents(ctx: ConversationContext): boolean {
  for (const p of ctx.participants.values()) if (p.participant_type === 'ai') return true;
  return false;
}

export type PostChanges = SequencedFields & Pick<ConversationContext, 'outcome' | 'turns'> & Partial<Pick<ConversationContext, 'burst'>>;

/** Sequences one post of a member (already known to be neither a duplicate nor a stranger). */
export function postChanges(ctx: ConversationContext, e: PostFields, timestamp: string): PostChanges {
  const sender = ctx.participants.get(e.sender_id)!;
  const isAi = sender.participant_type === 'ai';
  const draft: Draft = {
    message_id: e.message_id,
    sender_id: e.sender_id,
    sender_type: isAi ? 'ai' : 'human',
    message_type: e.message_type ?? MESSAGE_TYPES.text,
    content: e.content,
    metadata: postedMetadata(isAi, e.metadata),
  };
  const next = sequenced(ctx, [draft], timestamp);
  const record = next.emitted[0];
  const outcome = { kind: 'accepted', sequenceId: record.sequence_id } as const;
  // AI posts are offered to the other agents at once; human posts join the burst for the input window.
  // Literals, not spreads of `next`: this runs for every post, and the spreads were a visible part of it.
  const { lastSequenceId, emitted, recent, humanWindow } = next;
  if (isAi)
    return {
      lastSequenceId,
      emitted,
      recent,
      humanWindow,
      outcome,
      turns: planTurns({ ...ctx, ...next }, record, [record], chainDepthOf(record)),
    };
  const burst = ctx.burst.length === 0 ? [record] : [...ctx.burst, record];
  return { lastSequenceId, emitted, recent, humanWindow, outcome, turns: [], burst };
}

/** Hands the collected burst of human messages to every agent and clears it. */
export function dispatchBurst(ctx: ConversationContext): ConversationContext {
  if (ctx.burst.length === 0) return { ...ctx, turns: [] };
  const trigger = ctx.burst[ctx.burst.length - 1];
  return { ...ctx, turns: planTurns(ctx, trigger, ctx.burst, 0), burst: [] };
}

export function acceptJoin(ctx: ConversationContext, e: EventOf<'JOIN'>): ConversationContext {
  const seq = ctx.lastSequenceId + 1;
  const participant: Participant = Object.freeze({ ...e.participant, joined_at_sequence: seq });
  const participants = new Map(ctx.participants).set(participant.participant_id, participant);
  const drafts: Draft[] = [
    {
      message_id: `join-${seq}`,
      sender_id: participant.participant_id,
      sender_type: 'system',
      message_type: MESSAGE_TYPES.join,
      content: `${participant.display_name} joined`,
      metadata: {
        participant,
        participant_count: participants.size,
        ...(e.addedBy === undefined ? {} : { added_by: e.addedBy }),
      },
    },
  ];
  return withModeChange({ ...ctx, participants }, ctx, drafts, e.receivedAt, seq);
}

export function acceptLeave(ctx: ConversationContext, e: EventOf<'LEAVE'>): ConversationContext {
  const participant = ctx.participants.get(e.participantId)!;
  const participants = new Map(ctx.participants);
  participants.delete(e.participantId);
  const typing = new Set(ctx.typing);
  typing.delete(e.participantId);
  const seq = ctx.lastSequenceId + 1;
  const drafts: Draft[] = [
    {
      message_id: `leave-${seq}`,
      sender_id: participant.participant_id,
      sender_type: 'system',
      message_type: MESSAGE_TYPES.leave,
      content: `${participant.display_name} left`,
      metadata: {
        participant,
        participant_count: participants.size,
        ...(e.removedBy === undefined ? {} : { removed_by: e.removedBy }),
      },
    },
  ];
  return withModeChange({ ...ctx, participants, typing }, ctx, drafts, e.receivedAt, seq);
}

/**
 * What a leave does to a burst waiting for the input window. The multi-mode window exists so several
 * humans can speak before the agents answer; a leave that brings the conversation down to single mode
 * leaves nobody to wait for, so the waiting burst follows single-mode rules from that step on:
 *   'keep'     the mode stays what it was: the running window is left alone
 *   'dispatch' answer the burst with the leave
 *   'typing'   the remaining human is reported typing: wait the single-mode typing window from the leave
 */
export function waitAfterLeave(ctx: ConversationContext, leaverId: string): 'keep' | 'dispatch' | 'typing' {
  if (ctx.mode !== 'multi' || !ctx.participants.has(leaverId)) return 'keep';
  const remaining = new Map(ctx.participants);
  remaining.delete(leaverId);
  if (modeOf(remaining) !== 'single') return 'keep';
  for (const id of ctx.typing) if (remaining.get(id)?.participant_type === 'human') return 'typing';
  return 'dispatch';
}

function withModeChange(
  next: ConversationContext,
  prev: ConversationContext,
  drafts: Draft[],
  at: number,
  seq: number,
): ConversationContext {
  const mode = modeOf(next.participants);
  if (mode !== prev.mode) {
    drafts.push({
      message_id: `mode-${seq + 1}`,
      sender_id: 'system',
      sender_type: 'system',
      message_type: MESSAGE_TYPES.modeChange,
      content: `conversation is now in ${mode} mode`,
      metadata: { mode, previous_mode: prev.mode },
    });
  }
  const sequenced = sequence({ ...next, mode }, drafts, next.timestamps.format(at));
  return { ...sequenced, turns: [], outcome: { kind: 'accepted', sequenceId: sequenced.emitted[0].sequence_id } };
}

export function setTyping(ctx: ConversationContext, e: EventOf<'TYPING'>): ConversationContext {
  if (ctx.typing.has(e.participantId) === e.isTyping) return ctx;
  const typing = new Set(ctx.typing);
  if (e.isTyping) typing.add(e.participantId);
  else typing.delete(e.participantId);
  return { ...ctx, typing };
}

export function agentStarted(ctx: ConversationContext, e: EventOf<'AGENT_STARTED'>): ConversationContext {
  return systemRecord(ctx, e.receivedAt, MESSAGE_TYPES.agentJobStarted, `${nameOf(ctx, e.participantId)} is answering`, {
    job_id: e.jobId,
    participant_id: e.participantId,
    in_reply_to_sequence: e.triggerSequenceId,
    in_reply_to_sequences: answeredIdsOf(e),
  });
}

export function agentOutput(ctx: ConversationContext, e: EventOf<'AGENT_OUTPUT'>): ConversationContext {
  const final = e.output.final === true;
  const draft: Draft = {
    message_id: `${e.jobId}:${e.part}`,
    sender_id: e.participantId,
    sender_type: 'ai',
    message_type: e.output.message_type ?? MESSAGE_TYPES.text,
    content: e.output.content,
    metadata: {
      ...e.output.metadata,
      job_id: e.jobId,
      in_reply_to: e.triggerMessageId,
      in_reply_to_sequence: e.triggerSequenceId,
      in_reply_to_sequences: answeredIdsOf(e),
      chain_depth: e.chainDepth + 1,
      part: e.part,
      complete: final,
    },
  };
  const next = sequence(ctx, [draft], ctx.timestamps.format(e.receivedAt));
  const answer = [...(ctx.answersInProgress.get(e.jobId) ?? []), next.emitted[0]];
  const inProgress = new Map(ctx.answersInProgress);
  if (!final) {
    inProgress.set(e.jobId, answer);
    return { ...next, answersInProgress: inProgress, turns: [], outcome: { kind: 'none' } };
  }
  inProgress.delete(e.jobId);
  return finishAnswer({ ...next, answersInProgress: inProgress }, answer, e.chainDepth + 1);
}

/**
 * A job that ended without a piece marked final. Its "is answering" record needs an end that clients can
 * see, as a failure or cancellation has: an `agent_job_finished` record, reason `answered` (pieces came,
 * none marked final; the answer is complete now) or why the agent had no answer (`no_answer` when it did
 * not say).
 */
export function agentDone(ctx: ConversationContext, e: EventOf<'AGENT_DONE'>): ConversationContext {
  const answer = ctx.answersInProgress.get(e.jobId);
  const name = nameOf(ctx, e.participantId);
  const reason = answer ? 'answered' : (e.reason ?? 'no_answer');
  const content = answer ? `${name} finished answering` : noAnswerText(name, reason);
  let next = ctx;
  if (answer) {
    const inProgress = new Map(ctx.answersInProgress);
    inProgress.delete(e.jobId);
    next = { ...ctx, answersInProgress: inProgress };
  }
  const finished = systemRecord(next, e.receivedAt, MESSAGE_TYPES.agentJobFinished, content, {
    job_id: e.jobId,
    participant_id: e.participantId,
    in_reply_to_sequence: e.triggerSequenceId,
    in_reply_to_sequences: answeredIdsOf(e),
    reason,
    ...(answer || e.reasonText === undefined ? {} : { reason_text: e.reasonText }),
  });
  return answer ? finishAnswer(finished, answer, e.chainDepth + 1) : finished;
}

/**
 * The ids a job's record lists as answered (`in_reply_to_sequences`, next to the single `in_reply_to_sequence`
 * old clients read): the turn's burst, or the trigger alone when the event carries no list (a re-run of a
 * journal written before the list existed).
 */
function answeredIdsOf(e: { readonly triggerSequenceId: number; readonly answeredSequenceIds?: readonly number[] }): readonly number[] {
  return e.answeredSequenceIds ?? [e.triggerSequenceId];
}

/** A complete answer becomes the agents' "last AI answer" and is offered to the other agents. */
function finishAnswer(ctx: ConversationContext, answer: readonly ChatMessage[], depth: number): ConversationContext {
  const trigger = answer[answer.length - 1];
  const next = { ...ctx, lastAiAnswer: answer };
  return { ...next, turns: planTurns(next, trigger, answer, depth), outcome: { kind: 'none' } };
}

export function agentFailed(ctx: ConversationContext, e: EventOf<'AGENT_FAILED'>): ConversationContext {
  const inProgress = new Map(ctx.answersInProgress);
  inProgress.delete(e.jobId);
  return systemRecord(
    { ...ctx, answersInProgress: inProgress },
    e.receivedAt,
    MESSAGE_TYPES.agentJobFailed,
    `${nameOf(ctx, e.participantId)} could not answer: ${e.message}`,
    {
      job_id: e.jobId,
      participant_id: e.participantId,
      code: e.code,
    },
  );
}

export function agentCancelled(ctx: ConversationContext, e: EventOf<'AGENT_CANCELLED'>): ConversationContext {
  const inProgress = new Map(ctx.answersInProgress);
  inProgress.delete(e.jobId);
  return systemRecord(
    { ...ctx, answersInProgress: inProgress },
    e.receivedAt,
    MESSAGE_TYPES.agentJobCancelled,
    `${nameOf(ctx, e.participantId)} stopped answering (${e.reason})`,
    {
      job_id: e.jobId,
      participant_id: e.participantId,
      reason: e.reason,
    },
  );
}

/** Replaces redacted content in the cache and context, and tells everyone which records changed. */
export function redact(ctx: ConversationContext, e: EventOf<'REDACT'>): ConversationContext {
  const ids = new Set(e.sequenceIds);
  const scrub = (m: ChatMessage): ChatMessage =>
    ids.has(m.sequence_id) ? Object.freeze({ ...m, content: e.marker, metadata: Object.freeze({ ...m.metadata, redacted: true }) }) : m;
  const scrubbed = {
    ...ctx,
    recent: ctx.recent.map(scrub),
    humanWindow: ctx.humanWindow.map(scrub),
    lastAiAnswer: ctx.lastAiAnswer.map(scrub),
    burst: ctx.burst.map(scrub),
  };
  // A replayed journal's record (recordId) is reproduced as it was; a live one names only what no record names yet.
  const named = e.recordId === undefined ? namedByRecentRedactions(ctx) : new Map<number, number>();
  const fresh = e.sequenceIds.filter((id) => !named.has(id));
  if (fresh.length === 0) return { ...scrubbed, ...quiet, outcome: { kind: 'duplicate', sequenceId: named.get(e.sequenceIds[0]) ?? 0 } };
  const seq = ctx.lastSequenceId + 1;
  const draft: Draft = {
    message_id: e.recordId ?? redactionRecordId(fresh),
    sender_id: 'system',
    sender_type: 'system',
    message_type: MESSAGE_TYPES.redaction,
    content: `${fresh.length} message(s) redacted`,
    metadata: { redacted_sequence_ids: fresh, requested_by: e.requestedBy },
  };
  return { ...sequence(scrubbed, [draft], ctx.timestamps.format(e.receivedAt)), turns: [], outcome: { kind: 'accepted', sequenceId: seq } };
}

/**
 * The message_id of a redaction record: `redaction-of-<the lowest sequence id it names>`. A record is redacted once
 * and named by one redaction record, so no two records share it; and a redaction sent again finds whether its record
 * was ever stored (message-edits.ts, unannounced-redactions.ts). Journals written before it hold `redaction-<seq>`.
 */
export function redactionRecordId(sequenceIds: readonly number[]): string {
  let lowest = Infinity;
  for (const id of sequenceIds) if (id < lowest) lowest = id;
  return `${MESSAGE_TYPES.redaction}-of-${lowest}`;
}

/** The metadata keys an edit sets on the record it changed (the store wrote the same: actors/message-edits.ts). */
export function editedMetadata(edit: { readonly editedAt: string; readonly editCount: number }): Record<string, unknown> {
  return { edited: true, edited_at: edit.editedAt, edit_count: edit.editCount };
}

/**
 * The message_id of an edit record: the edited record's sequence id and the edit's number, so a later delete or
 * redaction of that message finds the records that carry its earlier texts (message-edits.ts).
 */
export function editRecordId(sequenceId: number, editCount: number): string {
  return `${MESSAGE_TYPES.edit}-${sequenceId}-${editCount}`;
}

/** Replaces the edited record's content in the cache and context, and tells everyone its new content. */
export function edit(ctx: ConversationContext, e: EventOf<'EDIT'>): ConversationContext {
  const patch = editedMetadata(e);
  const change = (m: ChatMessage): ChatMessage =>
    m.sequence_id === e.sequenceId ? Object.freeze({ ...m, content: e.content, metadata: Object.freeze({ ...m.metadata, ...patch }) }) : m;
  const changed = {
    ...ctx,
    recent: ctx.recent.map(change),
    humanWindow: ctx.humanWindow.map(change),
    lastAiAnswer: ctx.lastAiAnswer.map(change),
    burst: ctx.burst.map(change),
  };
  const recordId = editRecordId(e.sequenceId, e.editCount);
  // The same edit announced twice (announced-changes.ts): the cache has it, the journal must not get it again.
  const announced = recentSystemRecord(ctx, recordId);
  if (announced !== undefined) return { ...changed, ...quiet, outcome: { kind: 'duplicate', sequenceId: announced } };
  const seq = ctx.lastSequenceId + 1;
  const draft: Draft = {
    message_id: recordId,
    sender_id: 'system',
    sender_type: 'system',
    message_type: MESSAGE_TYPES.edit,
    content: e.content,
    metadata: {
      edited_sequence_id: e.sequenceId,
      edited_message_id: e.messageId,
      sender_id: e.senderId,
      edited_at: e.editedAt,
      edit_count: e.editCount,
    },
  };
  return { ...sequence(changed, [draft], ctx.timestamps.format(e.receivedAt)), turns: [], outcome: { kind: 'accepted', sequenceId: seq } };
}

/**
 * Fills the ids between the last stored record and the stored reservation with 'lost' records, so
 * the journal stays contiguous and no id a connection may have seen before the crash is reused.
 */
export function recoverLost(ctx: ConversationContext, e: EventOf<'RECOVER_LOST'>): ConversationContext {
  const drafts: Draft[] = [];
  for (let seq = ctx.lastSequenceId + 1; seq <= e.upTo; seq++) {
    drafts.push({
      message_id: `lost-${seq}`,
      sender_id: 'system',
      sender_type: 'system',
      message_type: MESSAGE_TYPES.lost,
      content: `sequence id ${seq} was handed out before a crash and not stored`,
      metadata: { reason: 'crash' },
    });
  }
  if (drafts.length === 0) return { ...ctx, ...quiet };
  return { ...sequence(ctx, drafts, ctx.timestamps.format(e.receivedAt)), turns: [], outcome: { kind: 'none' } };
}

function systemRecord(
  ctx: ConversationContext,
  at: number,
  type: string,
  content: string,
  metadata: Record<string, unknown>,
): ConversationContext {
  const seq = ctx.lastSequenceId + 1;
  const next = sequence(
    ctx,
    [{ message_id: `${type}-${seq}`, sender_id: 'system', sender_type: 'system', message_type: type, content, metadata }],
    ctx.timestamps.format(at),
  );
  return { ...next, turns: [], outcome: { kind: 'accepted', sequenceId: seq } };
}

function nameOf(ctx: ConversationContext, participantId: string): string {
  return ctx.participants.get(participantId)?.display_name ?? participantId;
}
