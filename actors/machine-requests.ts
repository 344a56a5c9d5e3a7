import type { Actor } from 'xstate';
import type { Clock } from './clock';
import type { Outcome } from './conversation-context';
import type { ConversationEvent, PostFields } from './conversation-events';
import type { conversationMachine } from './conversation-machine';
import { PendingPosts, type PendingPost } from './pending-posts';
import { LEASE_HEADROOM, type SequenceLease } from './sequence-lease';

export type MachineActor = Actor<typeof conversationMachine>;
export type ConversationStatus = 'active' | 'restarting' | 'failed' | 'stopped';
const NO_OUTCOME: Outcome = Object.freeze({ kind: 'none' });
type BuildRequest = (requestId: number, receivedAt: number) => ConversationEvent;
/** A caller waiting on the machine: one outcome, or (a POSTS chunk) one per post. */
type Pending = { resolve: (o: Outcome) => void; resolveEach?: (outcomes: readonly Outcome[]) => void };

export interface MachineRequestsOptions {
  /** The running machine: a getter, because a restart after a crash replaces it. */
  readonly machine: () => MachineActor;
  readonly status: () => ConversationStatus;
  readonly lease: SequenceLease;
  readonly clock: Clock;
  /** Told when the event about to be processed arrived (for the delivery latency metric). */
  readonly arrived: (receivedAt: number) => void;
}

/**
 * How a conversation's callers reach its machine and get their answers: every event goes to the
 * machine in arrival order, each sequencing event through the sequence lease, and a caller waiting on
 * an outcome is answered by the machine's `acknowledge` / `acknowledgeEach` effects (or with 'none'
 * when the machine crashes first). Posts of one event-loop turn go together as one POSTS step; any
 * other event first flushes the posts that arrived before it, so arrival order holds across kinds.
 */
export class MachineRequests {
  private readonly requests = new Map<number, Pending>();
  private nextRequestId = 0;
  /** Events sent while the machine was being rebuilt after a crash (see send). */
  private held: ConversationEvent[] = [];
  /** Work that passed the lease while the machine was being rebuilt, the claim lapsed (see whenClaimCurrent). */
  private heldWork: Array<() => void> = [];
  /** Posts of the current turn, sequenced together as one POSTS step. */
  private readonly pendingPosts = new PendingPosts((batch) => this.sequencePosts(batch));

  constructor(private readonly options: MachineRequestsOptions) {}

  /** Posts waiting for the end of the turn (part of the conversation's pending work). */
  get waitingPosts(): number {
    return this.pendingPosts.size;
  }

  /** Queues a post for the turn's POSTS step; resolves with `settle(outcome)` once sequenced. */
  post<T>(fields: PostFields, settle: (outcome: Outcome) => T | PromiseLike<T>): Promise<T> {
    return this.pendingPosts.add(fields, settle);
  }

  /**
   * Sends an event and returns the outcome the machine acknowledged: at once when the sequence lease has
   * room (the common case, without a promise), else once the reservation has grown.
   */
  request(build: BuildRequest): Outcome | Promise<Outcome> {
    this.pendingPosts.flush();
    const { lease } = this.options;
    if (lease.canRunNow()) {
      const outcome = this.requestNow(build);
      lease.maybeExtend();
      return outcome;
    }
    return new Promise((resolve) => lease.whenRoom(() => resolve(this.requestNow(build))));
  }

  /**
   * A sequencing event nobody waits on (agent events, redaction), through the lease. While the machine is
   * rebuilt after a crash it is held, not dropped: agent jobs keep running across a restart, and a piece of
   * an answer lost here would never be sequenced (sendHeld hands them over, in arrival order).
   */
  send(event: ConversationEvent): void {
    const status = this.options.status();
    if (status !== 'active' && status !== 'restarting') return;
    this.pendingPosts.flush();
    // Through the lease even while restarting: its queue keeps the order of events that arrived before the crash.
    this.options.lease.whenRoom(() => {
      const now = this.options.status();
      if (now === 'restarting') this.held.push(event);
      if (now !== 'active') return;
      this.options.arrived('receivedAt' in event ? event.receivedAt : this.options.clock.now());
      this.options.machine().send(event);
    });
  }

  /**
   * Runs `run` once the conversation's claim is current by the runtime's clock, behind the sequencing work that came
   * before it, or once the conversation stopped or failed (`run` then tells by the status). While the machine is
   * rebuilt the lease lets waiting work pass at its first chance, claim or not (events sent then are held: send), so
   * a renewal answer too old to vouch for the claim let an edit change the store with the claim lapsed: work passing
   * then with the claim lapsed is held as well, and waits for the claim again once the machine runs.
   */
  whenClaimCurrent(run: () => void): void {
    const { lease, status } = this.options;
    lease.whenRoom(() => {
      if (status() === 'restarting' && !lease.claimCurrent()) this.heldWork.push(run);
      else run();
    });
  }

  /**
   * The restarted machine runs: the events held during the rebuild go to it, in the order they arrived, and the work
   * held then waits for the claim again, behind them.
   */
  sendHeld(): void {
    const held = this.held;
    const work = this.heldWork;
    this.held = [];
    this.heldWork = [];
    for (const event of held) this.send(event);
    for (const run of work) this.whenClaimCurrent(run);
  }

  /** The conversation will not run again (failed, stopped): what was held is never sent; held work runs, to refuse. */
  dropHeld(): void {
    const work = this.heldWork;
    this.held = [];
    this.heldWork = [];
    for (const run of work) run();
  }

  /**
   * Runs `run` once everything that reached the machine before it was sequenced, and before anything that reaches it
   * later: the turn's posts are handed over now, and `run` waits in the lease's queue behind them.
   */
  afterEarlierWork(run: () => void): void {
    this.pendingPosts.flush();
    this.options.lease.whenRoom(run);
  }

  /** An event that sequences nothing (TYPING): it skips the lease, yet goes after the posts that came first. */
  sendUnsequenced(event: ConversationEvent): void {
    this.pendingPosts.flush();
    this.options.machine().send(event);
  }

  /** The machine's `acknowledge` effect: answers the caller of `event.requestId`. */
  acknowledge(event: ConversationEvent, outcome: Outcome): void {
    const id = (event as { requestId?: number }).requestId;
    if (id === undefined) return;
    this.requests.get(id)?.resolve(outcome);
    this.requests.delete(id);
  }

  /** The machine's `acknowledgeEach` effect: answers a POSTS chunk with one outcome per post. */
  acknowledgeEach(event: ConversationEvent, outcomes: readonly Outcome[]): void {
    const id = (event as { requestId?: number }).requestId;
    if (id === undefined) return;
    this.requests.get(id)?.resolveEach?.(outcomes);
    this.requests.delete(id);
  }

  /** The machine crashed: every caller it had not answered gets 'none' (told the conversation is restarting). */
  abandonPending(): void {
    for (const pending of this.requests.values()) pending.resolve({ kind: 'none' });
    this.requests.clear();
  }

  private requestNow(build: BuildRequest): Outcome {
    if (this.options.status() !== 'active') return this.refusal();
    const requestId = ++this.nextRequestId;
    let outcome: Outcome = { kind: 'none' };
    this.requests.set(requestId, { resolve: (o) => (outcome = o) });
    const receivedAt = this.options.clock.now();
    this.options.arrived(receivedAt);
    this.options.machine().send(build(requestId, receivedAt));
    // xstate processes a send synchronously unless it is re-entrant; a crash leaves 'none'.
    this.requests.delete(requestId);
    return outcome;
  }

  /** What a request gets while the conversation cannot take it. */
  private refusal(): Outcome {
    const status = this.options.status();
    const code = status === 'failed' ? 'CHAT_ERR_CONVERSATION_FAILED' : status === 'restarting' ? 'CHAT_ERR_RESTARTING' : 'CHAT_ERR_CLOSED';
    return { kind: 'rejected', code, message: `conversation is ${status}` };
  }

  /**
   * One POSTS step per chunk of the turn's posts, through the sequence lease like every sequencing
   * event. A chunk never needs more ids than the lease keeps free (LEASE_HEADROOM).
   */
  private sequencePosts(batch: readonly PendingPost[]): void {
    for (let i = 0; i < batch.length; i += LEASE_HEADROOM) {
      const chunk = batch.length <= LEASE_HEADROOM ? batch : batch.slice(i, i + LEASE_HEADROOM);
      this.options.lease.whenRoom(() => this.sequenceChunk(chunk));
    }
    this.options.lease.maybeExtend();
  }

  private sequenceChunk(chunk: readonly PendingPost[]): void {
    if (this.options.status() !== 'active') {
      const refused = this.refusal();
      for (const p of chunk) p.answer(refused);
      return;
    }
    // One request for the chunk: the machine answers it with the outcomes in post order; a crash
    // (abandonPending) with none, so each caller is told the conversation is restarting.
    const requestId = ++this.nextRequestId;
    let answered = false;
    const answer = (outcomes: readonly Outcome[]): void => {
      if (answered) return;
      answered = true;
      for (let i = 0; i < chunk.length; i++) chunk[i].answer(outcomes[i] ?? NO_OUTCOME);
    };
    this.requests.set(requestId, { resolve: () => answer([]), resolveEach: answer });
    const posts = chunk.map((p) => p.fields);
    const receivedAt = this.options.clock.now();
    this.options.arrived(receivedAt);
    this.options.machine().send({ type: 'POSTS', requestId, receivedAt, posts });
    // Unanswered while the conversation is still active: sent from inside a machine step (a listener that
    // posted and then made another call during delivery), so xstate runs it right after that step and its
    // acknowledgeEach answers then. Answering 'none' now would refuse posts that are then sequenced.
    if (answered || this.options.status() === 'active') return;
    this.requests.delete(requestId);
    answer([]);
  }
}
