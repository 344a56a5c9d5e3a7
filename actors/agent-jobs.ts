import { noAnswerMessage, noAnswerReason, type Agent, type AgentOutput, type AgentRegistry, type AgentTurn } from './agents/agent';
import { AgentOutputs, STOPPED } from './agent-outputs';
import type { Clock } from './clock';
import type { AgentEvent } from './conversation-events';
import type { TurnRequest } from './conversation-context';
import { agentOutputProblem } from './agent-output-rules';
import { ChatError, isChatError, type ErrorCode } from './errors';
import type { ChatTelemetry } from '../observability/chat-telemetry';

export interface AgentJobsOptions {
  readonly agents: AgentRegistry;
  readonly clock: Clock;
  readonly maxConcurrent: number;
  /** Hard bound on one job (chat.context.nlweb_timeout), whatever the agent does. */
  readonly timeoutMs: number;
  /** Longest content of one piece (chat.limits.max_agent_output_length; agent-output-rules.ts). */
  readonly maxOutputLength: number;
  /** Sends the job's progress back to the conversation actor, which sequences it. */
  readonly send: (event: AgentEvent) => void;
  readonly buildTurn: (request: TurnRequest) => AgentTurn;
  readonly telemetry: ChatTelemetry;
  /**
   * An agent failed after the piece it marked final: the conversation gets no record of it (its answer is
   * complete), so this is where operators hear of it. `thrown` is what the agent threw (none on a timeout).
   */
  readonly onFailureAfterAnswer: (failure: { agentId: string; jobId: string; code: ErrorCode; thrown?: unknown }) => void;
  /** An agent call failed before its answer was complete (the conversation gets `agent_job_failed`): for the log. */
  readonly onFailure?: (failure: {
    agentId: string;
    url?: string;
    jobId: string;
    code: ErrorCode;
    message: string;
    /** What the agent threw when it is not a ChatError: an in-process agent's own bug, whose stack its author needs. */
    thrown?: unknown;
  }) => void;
  /**
   * An agent's `wantsTurn` threw: the agent does not take that turn (the others do). For the log, with what it
   * threw: an in-process agent's bug, whose stack its author needs.
   */
  readonly onTurnFilterFailure?: (failure: { agentId: string; url?: string; jobId: string; thrown: unknown }) => void;
}

interface Job {
  readonly request: TurnRequest;
  readonly agent: Agent;
  readonly controller: AbortController;
  started: boolean;
  /** Why the job was aborted (cancellation reason or 'timeout'). */
  abortReason?: string;
}

/**
 * Agent jobs of one conversation. Jobs run concurrently (up to maxConcurrent; the rest wait in
 * FIFO order), so a slow agent never holds up the conversation or another agent. Every job can be
 * cancelled: its AbortController aborts the agent's HTTP call.
 */
export class AgentJobs {
  private readonly queued: Job[] = [];
  private readonly running = new Map<string, Job>();
  private readonly now: () => number;
  /**
   * Which turns have been taken, for a restart after a crash (notReached): the job id of the latest turn an
   * offer reached. Job ids are unique (trigger sequence id and participant), so a turn after the latest one
   * reached was never offered.
   */
  private lastReached: string | undefined;

  constructor(private readonly options: AgentJobsOptions) {
    this.now = () => options.clock.now();
  }

  /** Jobs waiting or running: part of the conversation's pending work. */
  get depth(): number {
    let live = 0;
    // A cancelled running job no longer counts, even before its loop unwinds.
    for (const job of this.running.values()) if (job.abortReason === undefined || job.abortReason === 'timeout') live++;
    return this.queued.length + live;
  }

  /** Starts the turns whose agent wants them; an AI participant without a registered agent is skipped. */
  offer(turns: readonly TurnRequest[]): void {
    for (const request of turns) {
      this.lastReached = request.jobId;
      const agent = this.options.agents.get(request.agentId);
      if (!agent || !this.wants(agent, request)) continue;
      this.queued.push({ request, agent, controller: new AbortController(), started: false });
    }
    this.pump();
  }

  /**
   * The agent's own filter. A throw is that agent's bug, and it declines the turn rather than crash the
   * conversation's machine: the offer runs inside the machine's step, and a crash there restarted the
   * conversation, and an always-throwing filter failed it for good, taking the humans and every other agent
   * down with one bad agent. Declining, not taking the turn: an agent that answers only some messages would
   * otherwise answer all of them. No record either, unlike a failing respond (whose job the room saw start):
   * the filter runs on every message, most of which it would have declined anyway, so a record per message
   * would fill the room with failures of turns nobody expected answered, and what a filter throws is a
   * programming error, not a text written for the participants. It goes to the log instead, with its stack.
   */
  private wants(agent: Agent, request: TurnRequest): boolean {
    try {
      if (agent.wantsTurn === undefined) return true;
      const wanted: unknown = agent.wantsTurn(request.trigger, request.chainDepth);
      if (!isThenable(wanted)) return Boolean(wanted);
      // An async filter: a Promise read as truthy took every turn, and its rejection went unhandled (which ends an
      // embedder's process that has no handler of its own). The filter runs inside the machine's step and must
      // answer there: declined, logged as the filter's failure, and its rejection caught.
      wanted.then(undefined, () => undefined);
      throw new TypeError(`${agent.id}'s wantsTurn returned a Promise: it must return a boolean synchronously`);
    } catch (err) {
      this.options.onTurnFilterFailure?.({
        agentId: agent.id,
        ...(agent.baseUrl === undefined ? {} : { url: agent.baseUrl }),
        jobId: request.jobId,
        thrown: err,
      });
      return false;
    }
  }

  /** After a crash: the turns of `planned` (in order) that no offer reached, so none is offered twice. */
  notReached(planned: readonly TurnRequest[]): readonly TurnRequest[] {
    const reached = planned.findIndex((t) => t.jobId === this.lastReached);
    return reached < 0 ? planned : planned.slice(reached + 1);
  }

  /**
   * Cancels up to `count` jobs, oldest queued first, then oldest running. Returns how many.
   * Used when the mailbox is full: agent work is dropped before any human message is refused.
   */
  dropOldest(count: number, reason: string): number {
    let dropped = 0;
    while (dropped < count && this.queued.length > 0) {
      this.cancel(this.queued.shift()!, reason);
      dropped++;
    }
    for (const job of [...this.running.values()]) {
      if (dropped >= count) break;
      if (job.abortReason !== undefined) continue;
      this.cancel(job, reason);
      dropped++;
    }
    return dropped;
  }

  cancelParticipant(participantId: string, reason: string): void {
    for (const job of [...this.queued, ...this.running.values()]) {
      if (job.request.participantId === participantId) this.cancel(job, reason);
    }
  }

  cancelAll(reason: string): void {
    for (const job of [...this.queued, ...this.running.values()]) this.cancel(job, reason);
  }

  private cancel(job: Job, reason: string): void {
    const i = this.queued.indexOf(job);
    if (i >= 0) this.queued.splice(i, 1);
    if (job.abortReason !== undefined) return;
    job.abortReason = reason;
    job.controller.abort(new Error(reason));
    // A running job reports its own cancellation when its loop unwinds; a queued one never ran.
    if (!job.started) this.report(job, { type: 'AGENT_CANCELLED', reason });
  }

  private pump(): void {
    while (this.running.size < this.options.maxConcurrent && this.queued.length > 0) {
      const job = this.queued.shift()!;
      job.started = true;
      this.running.set(job.request.jobId, job);
      void this.run(job);
    }
  }

  private async run(job: Job): Promise<void> {
    const { request, agent, controller } = job;
    const started = performance.now();
    const timer = this.options.clock.setTimeout(() => {
      if (job.abortReason === undefined) {
        job.abortReason = 'timeout';
        controller.abort(new Error('timeout'));
      }
    }, this.options.timeoutMs);
    // The agent starts first (an NLWeb agent's /ask request is written from the next tick); its "is answering"
    // record is sequenced in a tick after that, so the request leaves before we sequence and deliver the
    // record, not after (the primary path). Everything else is reported after it, so it still comes first.
    let outputs: AgentOutputs<AgentOutput> | undefined;
    let startError: unknown;
    try {
      outputs = new AgentOutputs(agent.respond(this.options.buildTurn(request), controller.signal), controller.signal);
    } catch (err) {
      startError = err ?? new Error('agent failed to start');
    }
    await new Promise<void>((resolve) =>
      process.nextTick(() => {
        this.report(job, {
          type: 'AGENT_STARTED',
          triggerSequenceId: request.trigger.sequence_id,
          answeredSequenceIds: request.answeredSequenceIds,
        });
        resolve();
      }),
    );
    let part = 0;
    let completed = false;
    /** Pieces the agent yielded after its final one: dropped (the answer already ended for every client). */
    let afterFinal = 0;
    let failure: { code: ErrorCode; message: string } | undefined;
    let thrown: unknown;
    try {
      if (outputs === undefined) throw startError;
      for (;;) {
        // Settles at the deadline (or a cancellation) even when the agent never does: the job ends then regardless.
        const step = await outputs.next();
        if (step === STOPPED || step.done === true || controller.signal.aborted) break;
        if (completed) {
          // Posting them would reopen an answer nothing ends again; the loop goes on so the agent finishes normally.
          afterFinal += 1;
          continue;
        }
        const problem = agentOutputProblem(step.value, this.options.maxOutputLength);
        // Thrown like the agent's own failure: the job ends visibly, the agent is asked to stop, the pieces already out stay.
        if (problem !== undefined) throw new ChatError('AGENT_ERR_INVALID_OUTPUT', `piece ${part + 1} refused: ${problem}`);
        part += 1;
        this.report(job, {
          type: 'AGENT_OUTPUT',
          output: step.value,
          part,
          chainDepth: request.chainDepth,
          triggerSequenceId: request.trigger.sequence_id,
          answeredSequenceIds: request.answeredSequenceIds,
          triggerMessageId: request.trigger.message_id,
        });
        if (step.value.final) completed = true;
      }
      if (afterFinal > 0 && job.abortReason === undefined) {
        thrown = new Error(
          `${afterFinal} ${afterFinal === 1 ? 'piece after the final one was' : 'pieces after the final one were'} dropped`,
        );
        failure = { code: 'AGENT_ERR_FAILED', message: String((thrown as Error).message) };
      }
    } catch (err) {
      thrown = err;
      if (job.abortReason === undefined || job.abortReason === 'timeout') failure = describeFailure(err, job.abortReason);
    } finally {
      this.options.clock.clearTimeout(timer);
      this.running.delete(request.jobId);
      // Left early (aborted, or reporting threw): the agent is asked to stop, not waited for.
      outputs?.close();
    }
    const ms = performance.now() - started;
    if (job.abortReason === 'timeout')
      failure ??= { code: 'AGENT_ERR_TIMEOUT', message: `no complete answer within ${this.options.timeoutMs} ms` };
    const code = failure?.code ?? (job.abortReason === undefined ? undefined : 'AGENT_ERR_CANCELLED');
    this.options.telemetry.agentCall(agent.id, ms, code === undefined, code);
    if (completed) {
      // The piece marked final ended the job for every client (metadata.complete: true). What the agent did
      // after it (threw in its clean-up, hung until the timeout, was cancelled) must not follow a complete
      // answer with "failed": a failure goes to the operators instead; a cancellation is nobody's error.
      if (failure)
        this.options.onFailureAfterAnswer({
          agentId: agent.id,
          jobId: request.jobId,
          code: failure.code,
          ...(thrown === undefined ? {} : { thrown }),
        });
    } else if (failure) {
      this.report(job, { type: 'AGENT_FAILED', ...failure });
      this.options.onFailure?.({
        agentId: agent.id,
        ...(agent.baseUrl === undefined ? {} : { url: agent.baseUrl }),
        jobId: request.jobId,
        ...failure,
        ...(thrown === undefined || isChatError(thrown) ? {} : { thrown }),
      });
    } else if (job.abortReason !== undefined) {
      this.report(job, { type: 'AGENT_CANCELLED', reason: job.abortReason });
    } else {
      // No piece marked final (none at all, when the agent decided not to answer): the job still ends visibly.
      this.report(job, {
        type: 'AGENT_DONE',
        chainDepth: request.chainDepth,
        triggerSequenceId: request.trigger.sequence_id,
        answeredSequenceIds: request.answeredSequenceIds,
        ...(part === 0 ? withReason(noAnswerReason(outputs?.returned), noAnswerMessage(outputs?.returned)) : {}),
      });
    }
    this.pump();
  }

  private report(job: Job, event: DistributiveOmit<AgentEvent, 'receivedAt' | 'jobId' | 'participantId'>): void {
    this.options.send({
      ...event,
      receivedAt: this.now(),
      jobId: job.request.jobId,
      participantId: job.request.participantId,
    } as AgentEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function withReason(reason: string | undefined, reasonText: string | undefined): { reason?: string; reasonText?: string } {
  return { ...(reason === undefined ? {} : { reason }), ...(reasonText === undefined ? {} : { reasonText }) };
}

function describeFailure(err: unknown, abortReason: string | undefined): { code: ErrorCode; message: string } {
  if (abortReason === 'timeout') return { code: 'AGENT_ERR_TIMEOUT', message: 'the agent did not answer in time' };
  if (isChatError(err)) return { code: err.code, message: err.message };
  return { code: 'AGENT_ERR_FAILED', message: err instanceof Error ? err.message : String(err) };
}

/** A promise or anything awaiting would treat as one (what embedder code hands back where a plain value was due). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
