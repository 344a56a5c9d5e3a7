/**
 * Supervision of one conversation's machine: when it crashes (a throw inside a step, which xstate reports
 * synchronously), it is rebuilt from the journal plus the records not stored yet, within the restart intensity,
 * and what the crash left undone (crash-leftovers.ts) is done once the new machine runs. Apart from the
 * conversation actor (conversation-actor.ts) because none of it is on the path of a message: it runs only after
 * a crash, and reads as the one story of a restart rather than spread between the actor's commands.
 */
import type { AgentJobs } from './agent-jobs';
import type { ConversationActor, ConversationActorDeps } from './conversation-actor';
import type { ConnectionSet } from './conversation-connections';
import type { ConversationContext, ConversationInput, TurnRequest } from './conversation-context';
import { waitingBurst, type CrashLeftovers } from './crash-leftovers';
import type { DeliveryNote, UncommittedStep } from './delivery-note';
import type { MachineRequests } from './machine-requests';
import type { OfferCursor } from './offer-cursor';
import type { ChatMessage } from './message-types';
import type { PersistenceQueue } from './persistence-queue';
import { RestartIntensity } from './restart-intensity';
import { restoreConversation } from './restore-conversation';

const NO_RECORDS: readonly ChatMessage[] = Object.freeze([]);
/** A crash no kept step records (none sequenced, or outside a delivery): no planned turns are left to offer. */
const NO_TURNS: readonly TurnRequest[] = Object.freeze([]);

/** The parts of a conversation that a restart reads or sets (the actor's own, shared, never copied). */
export interface SupervisedConversation {
  /** Its `status` is set here: 'restarting' while the machine is rebuilt, 'failed' past the restart intensity. */
  readonly conversation: ConversationActor;
  readonly deps: ConversationActorDeps;
  readonly queue: PersistenceQueue;
  readonly jobs: AgentJobs;
  /** The agents' offer marks (offer-cursor.ts): the leftover turns offered after a restart are marked too. */
  readonly offers: OfferCursor;
  readonly requests: MachineRequests;
  readonly connections: ConnectionSet;
  /** The step being delivered, noted by the actor's `deliver` effect. */
  readonly delivering: DeliveryNote;
  /** The machine's context now: while a step's effects run, still the state before that step. */
  context(): ConversationContext;
  /** Runs a new machine from `input` in place of the crashed one. */
  startMachine(input: ConversationInput): void;
  /** Hands records to the connections, each skipping what it has (the actor's deliver). */
  deliver(records: readonly ChatMessage[]): void;
}

export class MachineSupervisor {
  private readonly intensity: RestartIntensity;

  constructor(private readonly parts: SupervisedConversation) {
    const { config, clock } = parts.deps;
    this.intensity = new RestartIntensity(clock, config.chat.supervision.max_restarts, config.chat.supervision.restart_window_s * 1000);
  }

  /** Runs inside the failed step (xstate reports the error synchronously), before anything else can happen. */
  onMachineCrash(err: unknown): void {
    if (this.parts.conversation.status !== 'active') return;
    void this.handleCrash(err, this.leftoversOfCrash());
  }

  /**
   * What the crashed step left undone (see CrashLeftovers): its records if it sequenced any (keepCrashedStep),
   * the agent turns it planned that no offer reached, and the human messages waiting for the input window.
   */
  private leftoversOfCrash(): CrashLeftovers {
    const { jobs } = this.parts;
    const step = this.parts.delivering.takeUncommitted(this.parts.conversation.lastSequenceId);
    const planned = step?.context.turns ?? NO_TURNS;
    return {
      records: step === undefined ? NO_RECORDS : this.keepCrashedStep(step),
      turns: jobs.notReached(planned),
      burst: waitingBurst(step?.context ?? this.parts.context(), planned),
    };
  }

  /**
   * A crash inside a step's effects after the step sequenced records: connections served before the
   * failure may have them, so they are kept as if the step had completed. They are queued for the journal
   * (unless `persist` ran already) and the step's callers get its outcomes, so the restarted machine
   * continues after them, and nobody is told to retry a record that exists. What else the step had to do
   * (start its agent turns) is done once the restarted machine runs (handleCrash). Returns the records, for
   * the connections that had not got them yet (redeliver).
   */
  private keepCrashedStep({ context, event }: UncommittedStep): readonly ChatMessage[] {
    const { queue, requests } = this.parts;
    const records = context.emitted;
    if (records[records.length - 1].sequence_id > queue.queuedUpTo) queue.enqueue(records);
    if (event.type === 'POSTS') requests.acknowledgeEach(event, context.outcomes);
    else requests.acknowledge(event, context.outcome);
    return records;
  }

  /** After a restart: a crashed step's records to every connection that had not got them (each skips what it has). */
  private redeliver(records: readonly ChatMessage[]): void {
    if (records.length === 0) return;
    try {
      this.parts.deliver(records);
    } catch (err) {
      // Outside the machine now, so not a crash of it: those connections can still resume from the journal.
      this.parts.deps.logger.error(
        { err, conversation_id: this.parts.conversation.conversationId },
        'handing over the records of a crashed step failed',
      );
    }
  }

  /**
   * After a restart: offers the turns the crashed step planned and no offer reached, all at once: an agent whose
   * filter throws declines its own turn (AgentJobs.offer) and the others are still offered theirs.
   */
  private startLeftoverTurns(turns: readonly TurnRequest[]): void {
    this.parts.jobs.offer(turns);
    this.parts.offers.offeredLeftovers(turns);
  }

  /**
   * Rebuilds the machine from the journal (plus unstored records, which include the crashed step's), within
   * the restart intensity; once it runs, the crash's leftovers are done: the kept records delivered, the
   * running agents' progress held during the rebuild sequenced, the turns started, the waiting burst
   * collected again by the new machine.
   */
  private async handleCrash(err: unknown, leftovers: CrashLeftovers): Promise<void> {
    const { conversation, deps, requests, jobs } = this.parts;
    if (conversation.status !== 'active') return;
    deps.logger.error({ err, conversation_id: conversation.conversationId }, 'conversation machine crashed');
    requests.abandonPending();
    if (!this.intensity.allowRestart()) {
      conversation.status = 'failed';
      requests.dropHeld();
      jobs.cancelAll('conversation failed');
      this.parts.connections.broadcast({ type: 'failed', reason: 'restart intensity exceeded' });
      deps.onFailed(conversation, err);
      return;
    }
    conversation.status = 'restarting';
    deps.telemetry.actorRestart();
    try {
      const { input } = await restoreConversation(deps.store, conversation.conversationId, deps.policy, this.parts.queue.unstored());
      // Stopped (or moved away) while the journal was read: nothing to restart.
      if (conversation.status !== 'restarting') return;
      this.parts.startMachine({ ...input, burst: leftovers.burst });
      conversation.status = 'active';
    } catch (restoreErr) {
      conversation.status = 'active';
      await this.handleCrash(restoreErr, leftovers);
      return;
    }
    this.redeliver(leftovers.records);
    requests.sendHeld();
    this.startLeftoverTurns(leftovers.turns);
  }
}
