import { MESSAGE_TYPES, type ChatMessage } from './message-types';
import type { ChatStore } from '../storage-providers/chat-store';

/**
 * Agent jobs the journal shows answering with no record ending them (docs/protocol.md, Agent jobs). A freshly
 * loaded conversation runs no job, so each such job was cut off when the runtime that ran it stopped (a crash, a
 * shutdown, a move to another server): the cold start ends it with one `agent_job_cancelled`, reason
 * `interrupted`. The replay check reports the same jobs in old journals (bin/replay/invariant-check.ts).
 */

/** The `agent_job_cancelled` reason of a job that a cold start found cut off. */
export const INTERRUPTED_REASON = 'interrupted';

export interface OpenJob {
  readonly jobId: string;
  /** The AI participant answering. */
  readonly participantId: string;
  /** The record the job answers (0 when no record of it says). */
  readonly triggerSequenceId: number;
  /** The job's first record seen: its `agent_job_started`, or its first piece when the start is older than what was read. */
  readonly first: ChatMessage;
}

const JOB_END_TYPES: ReadonlySet<string> = new Set([
  MESSAGE_TYPES.agentJobFinished,
  MESSAGE_TYPES.agentJobFailed,
  MESSAGE_TYPES.agentJobCancelled,
]);

/** Whether `m` ends its agent job: a finished, failed or cancelled record, or an answer's last piece. */
export function endsAgentJob(m: ChatMessage): boolean {
  return JOB_END_TYPES.has(m.message_type) || (m.sender_type === 'ai' && m.metadata.complete === true);
}

/** Follows jobs through records in journal order: which are open after the last record fed. O(open jobs + ended ids). */
export class OpenJobs {
  private readonly open = new Map<string, OpenJob>();
  /** Ended jobs, so a stray piece after the end (journals of older versions) does not reopen one. */
  private readonly ended = new Set<string>();

  accept(m: ChatMessage): void {
    const jobId = m.metadata.job_id;
    if (typeof jobId !== 'string') return;
    const runtimeRecord = m.sender_type === 'system' || (m.sender_type === 'ai' && typeof m.metadata.part === 'number');
    if (!runtimeRecord) return;
    if (endsAgentJob(m)) {
      this.open.delete(jobId);
      this.ended.add(jobId);
      return;
    }
    const opens = m.message_type === MESSAGE_TYPES.agentJobStarted || m.sender_type === 'ai';
    if (!opens || this.open.has(jobId) || this.ended.has(jobId)) return;
    const participant = m.sender_type === 'ai' ? m.sender_id : m.metadata.participant_id;
    const trigger = m.metadata.in_reply_to_sequence;
    this.open.set(jobId, {
      jobId,
      participantId: typeof participant === 'string' ? participant : '',
      triggerSequenceId: typeof trigger === 'number' ? trigger : 0,
      first: m,
    });
  }

  /** The open jobs, oldest first. */
  get jobs(): OpenJob[] {
    return [...this.open.values()];
  }
}

/** Records read per page when looking back past the restored window. */
const LOOK_BACK_PAGE = 1000;
/** The most records read past the restored window: the bound on what one cold start reads for this. */
export const LOOK_BACK_MAX_RECORDS = 10_000;

/**
 * The jobs open at the end of the journal, for a cold start: those of `window` (the restored records, oldest
 * first), and of older records as long as they are younger than `lookBackMs` before the last one. A job runs
 * at most the job timeout (chat.context.nlweb_timeout), so a job of the runtime that stopped cannot have started
 * earlier than that before its last stored record; the caller passes twice the timeout, so a timeout shortened
 * across the restart is covered too. The look-back reads at most LOOK_BACK_MAX_RECORDS records past the window;
 * when it fails, the window's jobs are returned (`complete: false`).
 */
export async function findInterruptedJobs(
  store: ChatStore,
  conversationId: string,
  window: readonly ChatMessage[],
  lookBackMs: number,
): Promise<{ jobs: OpenJob[]; complete: boolean }> {
  if (window.length === 0) return { jobs: [], complete: true };
  const cutoff = Date.parse(window[window.length - 1].timestamp) - lookBackMs;
  const older: ChatMessage[][] = [];
  let complete = true;
  let oldest = window[0];
  let read = 0;
  try {
    // Stops at a record older than the cutoff, at #1, at the bound, or where the store holds nothing older.
    while (oldest.sequence_id > 1 && Date.parse(oldest.timestamp) >= cutoff && read < LOOK_BACK_MAX_RECORDS) {
      const limit = Math.min(LOOK_BACK_PAGE, oldest.sequence_id - 1, LOOK_BACK_MAX_RECORDS - read);
      const before = oldest.sequence_id;
      const page = (await store.readMessages(conversationId, before - 1 - limit, limit)).filter((m) => m.sequence_id < before);
      if (page.length === 0) break;
      older.unshift(page);
      read += page.length;
      oldest = page[0];
    }
  } catch {
    complete = false;
    older.length = 0;
  }
  const tracker = new OpenJobs();
  for (const page of older) for (const m of page) tracker.accept(m);
  for (const m of window) tracker.accept(m);
  return { jobs: tracker.jobs, complete };
}
