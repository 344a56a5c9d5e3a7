import { createActor } from 'xstate';
import { DEDUP_WINDOW } from '../../actors/chat-runtime';
import type { ConversationInput, ConversationPolicy, Outcome } from '../../actors/conversation-context';
import type { ConversationEvent } from '../../actors/conversation-events';
import { conversationMachine } from '../../actors/conversation-machine';
import { isChatError, type ErrorCode } from '../../actors/errors';
import { MESSAGE_TYPES, type ChatMessage, type ConversationSettings, type Participant } from '../../actors/message-types';
import { REDACTION_MARKER } from '../../storage-providers/chat-store';

/** The fields of a re-emitted record compared with the journal's record of the same position. */
export const COMPARED_FIELDS = [
  'sequence_id',
  'message_id',
  'conversation_id',
  'sender_id',
  'sender_type',
  'message_type',
  'content',
] as const;
type ComparedField = (typeof COMPARED_FIELDS)[number];

export type DivergenceKind =
  /** The machine emitted a record here, but some compared field differs. */
  | 'mismatch'
  /** The journal has a record, the machine emitted nothing for its event (rejected, duplicate, guard). */
  | 'missing'
  /** The machine emitted a record the journal does not have (at the end of the journal). */
  | 'extra'
  /** No machine event produces this record (unknown system type, or a mode change nobody caused). */
  | 'underivable'
  /** The journal skips sequence ids before this record (rows deleted, or never stored): the re-run steps over them. */
  | 'hole';

export interface Divergence {
  readonly kind: DivergenceKind;
  readonly sequence_id: number;
  readonly detail: string;
  readonly fields?: readonly { readonly field: ComparedField; readonly journal: unknown; readonly rerun: unknown }[];
}

export interface MachineRerun {
  /** Feeds one journal record (in order) and returns the divergences it shows. */
  accept(record: ChatMessage): Divergence[];
  /** Stops the machine and reports records it emitted beyond the end of the journal. */
  finish(): Divergence[];
  /** Journal records compared with a re-emitted record so far. */
  readonly compared: number;
}

/** Policy for a re-run: nothing the journal recorded may be refused for a limit, timers never matter. */
export function rerunPolicy(): ConversationPolicy {
  return Object.freeze({
    // The journal only holds joins the runtime accepted: re-check the records, not the config limit.
    maxParticipants: Number.MAX_SAFE_INTEGER,
    // Agent context and cache only shape turns, never records: keep them minimal (constant memory).
    humanContextSize: 1,
    cacheSize: 1,
    // The runtime's own window, so duplicate handling matches what it did.
    dedupWindow: DEDUP_WINDOW,
    chainLimit: Number.MAX_SAFE_INTEGER,
    multiModeWindowMs: 2 ** 31 - 1,
    multiModeMaxWaitMs: 0,
    singleModeTypingWindowMs: 2 ** 31 - 1,
  });
}

/** An xstate clock whose timers never fire: the input window only delays turns, never records. */
const silentClock = { setTimeout: (): number => 0, clearTimeout: (): void => undefined };

/** What a journal record tells the re-run to do. */
export type Derivation =
  | { readonly kind: 'event'; readonly event: ConversationEvent }
  /** A record the machine derives itself (mode_change): only compared, never fed. */
  | { readonly kind: 'derived' }
  | { readonly kind: 'none'; readonly reason: string };

/** The POST that sequenced `m` (a human message, or an AI participant posting through the API). */
function postOf(m: ChatMessage, receivedAt: number, metadata: Record<string, unknown>): Derivation {
  return {
    kind: 'event',
    event: {
      type: 'POST',
      receivedAt,
      message_id: m.message_id,
      sender_id: m.sender_id,
      content: m.content,
      message_type: m.message_type,
      metadata,
    },
  };
}

/**
 * The input event that made the runtime write `m`. `nameOf` gives a participant's display name
 * (to recover an agent failure's message from its text).
 */
export function deriveEvent(m: ChatMessage, nameOf: (participantId: string) => string | undefined): Derivation {
  const receivedAt = Date.parse(m.timestamp);
  if (Number.isNaN(receivedAt)) return { kind: 'none', reason: `timestamp ${JSON.stringify(m.timestamp)} does not parse` };
  const md = m.metadata;
  if (m.sender_type === 'human') return postOf(m, receivedAt, withoutKeys(md, ['redacted']));
  if (m.sender_type === 'ai') {
    if (typeof md.job_id === 'string' && typeof md.part === 'number') {
      const chainDepth = typeof md.chain_depth === 'number' ? md.chain_depth - 1 : 0;
      return {
        kind: 'event',
        event: {
          type: 'AGENT_OUTPUT',
          receivedAt,
          jobId: md.job_id,
          participantId: m.sender_id,
          part: md.part,
          chainDepth,
          triggerSequenceId: typeof md.in_reply_to_sequence === 'number' ? md.in_reply_to_sequence : 0,
          ...answeredListOf(md),
          triggerMessageId: typeof md.in_reply_to === 'string' ? md.in_reply_to : '',
          output: {
            content: m.content,
            message_type: m.message_type,
            metadata: withoutKeys(md, [
              'job_id',
              'in_reply_to',
              'in_reply_to_sequence',
              'in_reply_to_sequences',
              'chain_depth',
              'part',
              'complete',
              'redacted',
            ]),
            final: md.complete === true,
          },
        },
      };
    }
    // An AI participant posting through the API: the machine adds one to its chain depth.
    const depth = typeof md.chain_depth === 'number' ? md.chain_depth - 1 : 0;
    return postOf(m, receivedAt, { ...withoutKeys(md, ['redacted']), chain_depth: depth });
  }
  switch (m.message_type) {
    case MESSAGE_TYPES.join: {
      const p = md.participant as Partial<Participant> | undefined;
      if (!p || typeof p.participant_id !== 'string' || (p.participant_type !== 'human' && p.participant_type !== 'ai')) {
        return { kind: 'none', reason: 'join record without metadata.participant' };
      }
      const participant: Omit<Participant, 'joined_at_sequence'> = {
        participant_id: p.participant_id,
        participant_type: p.participant_type,
        display_name: typeof p.display_name === 'string' ? p.display_name : p.participant_id,
        role: p.role === 'owner' ? 'owner' : 'member',
        ...(typeof p.agent_id === 'string' ? { agent_id: p.agent_id } : {}),
      };
      // Who added or removed the member is part of the record the machine makes: passed on, so the re-run makes it.
      const addedBy = typeof md.added_by === 'string' ? { addedBy: md.added_by } : {};
      return { kind: 'event', event: { type: 'JOIN', receivedAt, participant, ...addedBy } };
    }
    case MESSAGE_TYPES.leave: {
      const removedBy = typeof md.removed_by === 'string' ? { removedBy: md.removed_by } : {};
      return { kind: 'event', event: { type: 'LEAVE', receivedAt, participantId: m.sender_id, ...removedBy } };
    }
    case MESSAGE_TYPES.modeChange:
      return { kind: 'derived' };
    case MESSAGE_TYPES.agentJobStarted:
    case MESSAGE_TYPES.agentJobFinished:
    case MESSAGE_TYPES.agentJobFailed:
    case MESSAGE_TYPES.agentJobCancelled: {
      const jobId = md.job_id;
      const participantId = md.participant_id;
      if (typeof jobId !== 'string' || typeof participantId !== 'string') {
        return { kind: 'none', reason: `${m.message_type} record without metadata.job_id / participant_id` };
      }
      const base = { receivedAt, jobId, participantId };
      const trigger = typeof md.in_reply_to_sequence === 'number' ? md.in_reply_to_sequence : 0;
      if (m.message_type === MESSAGE_TYPES.agentJobStarted) {
        return { kind: 'event', event: { ...base, type: 'AGENT_STARTED', triggerSequenceId: trigger, ...answeredListOf(md) } };
      }
      if (m.message_type === MESSAGE_TYPES.agentJobFinished) {
        // The chain depth only shapes the turns a finished answer offers, never a record.
        const reason = {
          ...(typeof md.reason === 'string' ? { reason: md.reason } : {}),
          ...(typeof md.reason_text === 'string' ? { reasonText: md.reason_text } : {}),
        };
        return {
          kind: 'event',
          event: { ...base, type: 'AGENT_DONE', chainDepth: 0, triggerSequenceId: trigger, ...answeredListOf(md), ...reason },
        };
      }
      if (m.message_type === MESSAGE_TYPES.agentJobCancelled) {
        return { kind: 'event', event: { ...base, type: 'AGENT_CANCELLED', reason: typeof md.reason === 'string' ? md.reason : '' } };
      }
      const code = (typeof md.code === 'string' ? md.code : 'AGENT_ERR_FAILED') as ErrorCode;
      return {
        kind: 'event',
        event: { ...base, type: 'AGENT_FAILED', code, message: failureMessage(m.content, nameOf(participantId) ?? participantId) },
      };
    }
    case 'redaction': {
      const ids = md.redacted_sequence_ids;
      if (!Array.isArray(ids) || !ids.every((n) => typeof n === 'number'))
        return { kind: 'none', reason: 'redaction record without metadata.redacted_sequence_ids' };
      const requestedBy = typeof md.requested_by === 'string' ? md.requested_by : 'runtime';
      // A journal written before predictable redaction ids named the record after its own sequence id: keep that name.
      const old = m.message_id === `redaction-${m.sequence_id}` ? { recordId: m.message_id } : {};
      return {
        kind: 'event',
        event: { type: 'REDACT', receivedAt, sequenceIds: ids as number[], requestedBy, marker: REDACTION_MARKER, ...old },
      };
    }
    case MESSAGE_TYPES.edit: {
      const {
        edited_sequence_id: sequenceId,
        edited_message_id: messageId,
        sender_id: senderId,
        edited_at: editedAt,
        edit_count: editCount,
      } = md;
      if (
        typeof sequenceId !== 'number' ||
        typeof messageId !== 'string' ||
        typeof senderId !== 'string' ||
        typeof editedAt !== 'string' ||
        typeof editCount !== 'number'
      ) {
        return {
          kind: 'none',
          reason: 'edit record without metadata.edited_sequence_id / edited_message_id / sender_id / edited_at / edit_count',
        };
      }
      return {
        kind: 'event',
        event: { type: 'EDIT', receivedAt, sequenceId, messageId, senderId, content: m.content, editedAt, editCount },
      };
    }
    case MESSAGE_TYPES.lost:
      // One RECOVER_LOST per record reproduces a run of placeholders one id at a time.
      return { kind: 'event', event: { type: 'RECOVER_LOST', receivedAt, upTo: m.sequence_id } };
    default:
      return { kind: 'none', reason: `no machine event produces a ${m.sender_type} '${m.message_type}' record` };
  }
}

/**
 * Re-runs a journal through the conversation machine (started empty, as the runtime starts a new
 * conversation) and compares each record the machine emits with the journal record at the same
 * position. State: the machine's context, O(participants + open agent answers), and the machine's
 * bounded dedup window; the journal itself is never held.
 */
export function createMachineRerun(options: { conversationId: string; settings?: ConversationSettings }): MachineRerun {
  const input: ConversationInput = {
    conversationId: options.conversationId,
    settings: options.settings ?? {},
    policy: rerunPolicy(),
    lastSequenceId: 0,
    participants: [],
    recent: [],
  };
  const emitted: ChatMessage[] = [];
  let outcome: Outcome | undefined;
  let crash: unknown;
  let crashReported = false;
  const machine = conversationMachine.provide({
    actions: {
      deliver: ({ context }) => {
        for (const m of context.emitted) emitted.push(m);
      },
      acknowledge: ({ context }) => {
        outcome = context.outcome;
      },
    },
  });
  const actor = createActor(machine, { input, clock: silentClock });
  actor.subscribe({ error: (err) => (crash = err) });
  actor.start();
  // Records the machine emitted that are not yet matched with journal records (e.g. a mode change after a join).
  const pending: ChatMessage[] = [];
  let compared = 0;

  const nameOf = (id: string): string | undefined => actor.getSnapshot().context.participants.get(id)?.display_name;

  // The journal's previous sequence id: a record further on than the next one follows a hole.
  let previousJournalId = 0;

  /**
   * Keeps the machine at the journal's ids. It falls behind over ids the journal skips (rows deleted from a store,
   * or never stored) and after a record the machine refused (a `missing` divergence): from there on every record
   * used to be a sequence_id mismatch, hundreds of divergences hiding the real ones, and "a duplicate of #N" named
   * the machine's ids instead of the journal's. A hole is one divergence of its own (a refused record was reported
   * already); then what the machine emitted for the skipped ids is dropped, and ids it never reached are taken as lost
   * ones (RECOVER_LOST, its placeholders discarded), so its next id is the record's. What missing records did (a join,
   * a post) stays unknown to the machine, so a later divergence can still stem from the hole.
   */
  const catchUp = (record: ChatMessage): Divergence[] => {
    const from = previousJournalId + 1;
    previousJournalId = Math.max(previousJournalId, record.sequence_id);
    const dropped: string[] = [];
    while (pending.length > 0 && pending[0].sequence_id < record.sequence_id) {
      const m = pending.shift()!;
      dropped.push(`#${m.sequence_id} ${m.sender_type} '${m.message_type}' (${m.message_id})`);
    }
    if (pending.length === 0 && actor.getSnapshot().context.lastSequenceId < record.sequence_id - 1) {
      const at = Date.parse(record.timestamp);
      actor.send({ type: 'RECOVER_LOST', receivedAt: Number.isNaN(at) ? 0 : at, upTo: record.sequence_id - 1 });
      emitted.length = 0;
    }
    if (record.sequence_id <= from) return [];
    const to = record.sequence_id - 1;
    const ids = from === to ? `sequence id ${from} is` : `sequence ids ${from}..${to} are`;
    const had = dropped.length > 0 ? ` (the machine had ${dropped.join(', ')} there)` : '';
    return [
      {
        kind: 'hole',
        sequence_id: record.sequence_id,
        detail: `${ids} not in the journal${had}; the re-run steps over ${from === to ? 'it' : 'them'} and goes on at #${record.sequence_id}`,
      },
    ];
  };

  return {
    get compared() {
      return compared;
    },
    accept(record) {
      if (crash !== undefined) {
        if (crashReported) return [];
        crashReported = true;
        return [
          { kind: 'missing', sequence_id: record.sequence_id, detail: `the machine stopped with an error earlier: ${describe(crash)}` },
        ];
      }
      const found = catchUp(record);
      if (pending.length === 0) {
        const derivation = deriveEvent(record, nameOf);
        if (derivation.kind === 'derived') {
          return [
            ...found,
            { kind: 'underivable', sequence_id: record.sequence_id, detail: `the machine emitted no ${record.message_type} record here` },
          ];
        }
        if (derivation.kind === 'none')
          return [...found, { kind: 'underivable', sequence_id: record.sequence_id, detail: derivation.reason }];
        emitted.length = 0;
        outcome = undefined;
        actor.send(derivation.event);
        if (crash !== undefined) {
          crashReported = true;
          return [
            ...found,
            {
              kind: 'missing',
              sequence_id: record.sequence_id,
              detail: `the machine failed on ${derivation.event.type}: ${describe(crash)}`,
            },
          ];
        }
        pending.push(...emitted);
        emitted.length = 0;
        if (pending.length === 0) {
          return [
            ...found,
            {
              kind: 'missing',
              sequence_id: record.sequence_id,
              detail: `the machine emitted nothing for ${derivation.event.type} (${explain(outcome)})`,
            },
          ];
        }
      }
      const rerun = pending.shift()!;
      compared += 1;
      const fields = compare(record, rerun);
      if (fields.length === 0) return found;
      const summary = fields.map((f) => `${f.field}: journal ${JSON.stringify(f.journal)} vs rerun ${JSON.stringify(f.rerun)}`).join('; ');
      return [...found, { kind: 'mismatch', sequence_id: record.sequence_id, detail: summary, fields }];
    },
    finish() {
      const extra: Divergence[] = pending.map((m) => ({
        kind: 'extra' as const,
        sequence_id: m.sequence_id,
        detail: `the machine emitted ${m.sender_type} '${m.message_type}' (${m.message_id}) that the journal does not have`,
      }));
      pending.length = 0;
      actor.stop();
      return extra;
    },
  };
}

function compare(journal: ChatMessage, rerun: ChatMessage): NonNullable<Divergence['fields']>[number][] {
  const out: NonNullable<Divergence['fields']>[number][] = [];
  for (const field of COMPARED_FIELDS) {
    // A redacted record's content is the marker in the journal only; the event it came from had the text.
    if (field === 'content' && journal.metadata.redacted === true) continue;
    // A lost record in place of one the store refused says why in its text; the machine only knows the id was
    // taken (RECOVER_LOST writes the crash text). Its id, sender and type are still compared.
    if (field === 'content' && journal.message_type === MESSAGE_TYPES.lost && journal.metadata.reason === 'refused') continue;
    if (journal[field] !== rerun[field]) out.push({ field, journal: journal[field], rerun: rerun[field] });
  }
  return out;
}

function explain(outcome: Outcome | undefined): string {
  if (!outcome) return 'refused by a guard (e.g. the agent is not a member)';
  switch (outcome.kind) {
    case 'duplicate':
      return `a duplicate of #${outcome.sequenceId}`;
    case 'rejected':
      return `rejected with ${outcome.code}`;
    default:
      return outcome.kind;
  }
}

function failureMessage(content: string, name: string): string {
  const prefix = `${name} could not answer: `;
  if (content.startsWith(prefix)) return content.slice(prefix.length);
  const i = content.indexOf(' could not answer: ');
  return i >= 0 ? content.slice(i + ' could not answer: '.length) : content;
}

/** A job record's own list of answered ids, passed on as it is stored; none in journals written before the list. */
function answeredListOf(md: Readonly<Record<string, unknown>>): { answeredSequenceIds?: readonly number[] } {
  const listed = md.in_reply_to_sequences;
  if (!Array.isArray(listed) || !listed.every((n) => typeof n === 'number')) return {};
  return { answeredSequenceIds: listed as number[] };
}

function withoutKeys(md: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md)) if (!keys.includes(k)) out[k] = v;
  return out;
}

function describe(err: unknown): string {
  if (isChatError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** One line naming the diverging entry. */
export function formatDivergence(d: Divergence): string {
  return `#${d.sequence_id} ${d.kind}: ${d.detail}`;
}
