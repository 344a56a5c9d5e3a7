import { answeredSequencesOf } from '../../actors/answered-sequences';
import { endsAgentJob } from '../../actors/interrupted-jobs';
import type { ChatMessage } from '../../actors/message-types';

/**
 * `agent_job_failed` and `agent_job_cancelled` records carry `job_id` but not `in_reply_to_sequence(s)`
 * (docs/protocol.md, Agent jobs), so the timeline could not say which records a failure answered, while the job's
 * start and pieces say it. This follows jobs in journal order and names, for such an end record, the ids its
 * job's earlier records named. State: the jobs started and not yet ended (O(open jobs), each list capped by
 * MAX_ANSWERED_SEQUENCE_IDS).
 */
export function createJobTriggers() {
  const open = new Map<string, readonly number[]>();
  return {
    /**
     * Feeds one record (every record, before any --as filter); returns the sequence ids the record answers
     * (ascending), if known.
     */
    accept(m: ChatMessage): readonly number[] | undefined {
      const jobId = m.metadata.job_id;
      const own = answeredSequencesOf(m.metadata);
      if (typeof jobId !== 'string' || (m.sender_type !== 'system' && m.sender_type !== 'ai')) return own;
      const answered = own ?? open.get(jobId);
      if (endsAgentJob(m)) open.delete(jobId);
      else if (own !== undefined) open.set(jobId, own);
      return answered;
    },
  };
}
