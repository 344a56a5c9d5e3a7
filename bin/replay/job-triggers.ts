import { endsAgentJob } from '../../actors/interrupted-jobs';
import type { ChatMessage } from '../../actors/message-types';

/**
 * `agent_job_failed` and `agent_job_cancelled` records carry `job_id` but not `in_reply_to_sequence`
 * (docs/protocol.md, Agent jobs), so the timeline could not say which record a failure answered, while the job's
 * start and pieces say it. This follows jobs in journal order and names, for such an end record, the trigger its
 * job's earlier records named. State: the jobs started and not yet ended (O(open jobs)).
 */
export function createJobTriggers() {
  const open = new Map<string, number>();
  return {
    /** Feeds one record (every record, before any --as filter); returns the sequence id the record answers, if known. */
    accept(m: ChatMessage): number | undefined {
      const jobId = m.metadata.job_id;
      const own = m.metadata.in_reply_to_sequence;
      if (typeof jobId !== 'string' || (m.sender_type !== 'system' && m.sender_type !== 'ai'))
        return typeof own === 'number' ? own : undefined;
      const trigger = typeof own === 'number' ? own : open.get(jobId);
      if (endsAgentJob(m)) open.delete(jobId);
      else if (typeof own === 'number') open.set(jobId, own);
      return trigger;
    },
  };
}
