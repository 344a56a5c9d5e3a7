import { OpenJobs, type OpenJob } from '../../actors/interrupted-jobs';
import type { ChatMessage } from '../../actors/message-types';
import { NLWEB_TIMEOUT_MAX_S } from '../../config/config-schema';
import { isCrashPlaceholder } from './lost-runs';

/** The longest an agent job can run: the largest chat.context.nlweb_timeout the config accepts. */
const LONGEST_JOB_MS = NLWEB_TIMEOUT_MAX_S * 1000;

/** An agent job the journal shows started and not ended, named by its first record. */
export interface OpenAnswerFinding {
  readonly kind: 'answer_cut_off' | 'answer_open';
  readonly sequence_id: number;
  readonly message_id: string;
  readonly sender_id: string;
  readonly detail: string;
  readonly job_id: string;
  readonly participant_id: string;
  readonly in_reply_to_sequence: number;
}

/**
 * Jobs still open at the end of the journal (docs/protocol.md promises each one an end). `answer_cut_off` when
 * the journal shows it can no longer end: a crash placeholder (`lost`, reason `crash`) after its start (the server restarted after a crash,
 * and a runtime that ends such jobs at its start would have ended it there), or a record more than the longest
 * job timeout after it. Otherwise `answer_open`: the job may still be running (a live server read with --server),
 * or was cut off by a stop the journal does not show; the next start of the conversation ends it.
 */
export function createOpenAnswers() {
  const jobs = new OpenJobs();
  let lastLost = 0;
  let lastMs = Number.NEGATIVE_INFINITY;
  return {
    accept(m: ChatMessage): void {
      jobs.accept(m);
      if (isCrashPlaceholder(m)) lastLost = Math.max(lastLost, m.sequence_id);
      const ms = Date.parse(m.timestamp);
      if (ms > lastMs) lastMs = ms;
    },
    finish(): OpenAnswerFinding[] {
      return jobs.jobs.map((job) => {
        const evidence = cutOffEvidence(job);
        const what = `job ${job.jobId} of ${job.participantId || 'an unknown agent'} (answering #${job.triggerSequenceId})`;
        return {
          kind: evidence === undefined ? 'answer_open' : 'answer_cut_off',
          sequence_id: job.first.sequence_id,
          message_id: job.first.message_id,
          sender_id: job.first.sender_id,
          detail:
            evidence === undefined
              ? `${what} has no record ending it yet: it may still be running`
              : `${what} started here and no record ends it: ${evidence}`,
          job_id: job.jobId,
          participant_id: job.participantId,
          in_reply_to_sequence: job.triggerSequenceId,
        };
      });
    },
  };

  function cutOffEvidence(job: OpenJob): string | undefined {
    if (lastLost > job.first.sequence_id) return `the server restarted after a crash without it (lost ids up to #${lastLost})`;
    const started = Date.parse(job.first.timestamp);
    if (lastMs - started > LONGEST_JOB_MS)
      return `the journal goes on for ${Math.round((lastMs - started) / 1000)} s after it, longer than any job can run`;
    return undefined;
  }
}
