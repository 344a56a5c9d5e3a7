import type { ConversationContext, TurnRequest } from './conversation-context';
import type { ChatMessage } from './message-types';

/**
 * What a machine crash left undone, carried by the supervisor to the machine it rebuilds
 * (MachineSupervisor.handleCrash, machine-supervisor.ts). The shell survives a crash of its machine, and so does the machine's
 * last snapshot: nothing here needs the journal. After a crash of the whole process the next load finds a waiting
 * burst from the journal and the agents' offer marks instead (never-offered-posts.ts).
 */
export interface CrashLeftovers {
  /** The crashed step's records, kept as if it had completed: handed to the connections that had not got them. */
  readonly records: readonly ChatMessage[];
  /** Agent turns the crashed step planned that no offer reached: started once the new machine runs. */
  readonly turns: readonly TurnRequest[];
  /** Human messages waiting for the input window: the new machine collects them again, with a fresh window. */
  readonly burst: readonly ChatMessage[];
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * The human messages still waiting for the input window after the crashed step: the burst of `after` (the
 * kept step's context, else the snapshot the machine fell back to), unless the step was handing that very
 * burst to the agents (`planned` turns answer its last message): then its turns are what is left, not the
 * burst, and collecting it again would offer the same turns twice.
 */
export function waitingBurst(after: ConversationContext, planned: readonly TurnRequest[]): readonly ChatMessage[] {
  const burst = after.burst;
  if (burst.length === 0) return burst;
  const last = burst[burst.length - 1].sequence_id;
  return planned.some((t) => t.trigger.sequence_id === last) ? NONE : burst;
}
