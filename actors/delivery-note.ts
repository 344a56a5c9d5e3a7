import type { ConversationContext } from './conversation-context';
import type { ConversationEvent } from './conversation-events';

/** A machine step that sequenced records and had started handing them over, but never completed. */
export interface UncommittedStep {
  readonly context: ConversationContext;
  readonly event: ConversationEvent;
}

/**
 * The latest machine step that handed records to the connections, kept for the supervisor.
 *
 * A step's effects run in order: `deliver`, then `persist` (so the journal write starts after the
 * frames went out), then the answers and agent turns. When one of them throws, xstate ends the step and
 * falls back to the snapshot from before it: the records the step sequenced exist only here. Connections
 * served before the failure may have them, so the supervisor keeps them (MachineSupervisor.keepCrashedStep)
 * instead of letting the restarted machine hand their ids out again. Noting a step costs two field writes,
 * nothing allocated: `deliver` runs in every step on the hot path.
 */
export class DeliveryNote {
  private context: ConversationContext | undefined;
  private event: ConversationEvent | undefined;

  /** Called by the `deliver` effect before it hands anything over. */
  note(context: ConversationContext, event: ConversationEvent): void {
    this.context = context;
    this.event = event;
  }

  /**
   * After a crash: the noted step if it sequenced records the machine never committed, i.e. if it goes
   * past `committedUpTo`, the last id of the snapshot the machine fell back to (a completed step is part
   * of that snapshot). Forgets the note either way.
   */
  takeUncommitted(committedUpTo: number): UncommittedStep | undefined {
    const { context, event } = this;
    this.context = undefined;
    this.event = undefined;
    if (context === undefined || event === undefined || context.lastSequenceId <= committedUpTo) return undefined;
    if (context.emitted.length === 0) return undefined;
    return { context, event };
  }
}
