import type { AgentJobs } from './agent-jobs';
import type { ConversationActorDeps } from './conversation-actor-deps';
import { ConnectionSet, type Connection, type OutputListener } from './conversation-connections';
import { buildAgentTurn, type ConversationContext, type ConversationInput } from './conversation-context';
import { createAgentJobs, createJournalWriter, createOfferCursor, createSequenceLease } from './conversation-parts';
import type { OfferCursor } from './offer-cursor';
import { DeliveryNote } from './delivery-note';
import type { MessageEdit } from './conversation-events';
import { ChatError } from './errors';
import { ChangeRequests } from './change-requests';
import { ConversationHistory } from './conversation-history';
import { MEMBERSHIP_TYPES, MembershipDelivery } from './membership-delivery';
import { MESSAGE_TYPES, type ChatMessage, type ConversationMeta, type Participant, type ParticipantType } from './message-types';
import type { PersistenceQueue } from './persistence-queue';
import type { Presence } from './presence';
import type { ReadPositions } from './read-positions';
import { createMemberEphemera } from './member-ephemera';
import { endInterruptedJobs } from './interrupted-job-ends';
import type {
  ClosedReason,
  ConversationOutput,
  HistoryPage,
  ParticipantInput,
  PostInput,
  PostResult,
  SubscribeOptions,
  Subscription,
} from './runtime-types';
import type { ConversationClaim } from '../storage-providers/conversation-claims';
import type { UnreadRange } from '../storage-providers/read-positions';
import { ReplayReader } from './replay-reader';
import { replayStart } from './replay-start';
import type { SequenceLease } from './sequence-lease';
import { LiveSubscription } from './live-subscription';
import { MachineRequests, type ConversationStatus, type MachineActor } from './machine-requests';
import { PostReceipt } from './post-receipt';
import { MachineSupervisor } from './machine-supervisor';
import { PostRetries } from './post-retries';
import { offerToMailbox } from './mailbox';
import { MessageTrace, deliveryTraced, traceDelivery } from './message-tracing';
import { settlesWithin } from './settles-within';
import type { ConversationEffects } from './shared-conversation-machine';
import type { TypingDisplay } from './typing-display';

// Re-exported: the runtime, supervisor and parts import the deps from here.
export type { ConversationActorDeps };

/** The claim of a store that keeps none: nothing is fenced. */
const NO_CLAIM: ConversationClaim = Object.freeze({ ownerId: '', epoch: 0 });

/**
 * The shell around one conversation machine: it owns the connections, the bounded mailbox check,
 * the journal writer and the agent jobs, and supplies the machine's named effects. The machine
 * itself can crash and be restarted from the journal without the connections noticing.
 *
 * This file is the coordinator and keeps the hot path whole (post → POSTS step → deliver, the mailbox
 * admission, docs/benchmarks.md): no extra call layer or closure per message. What lives elsewhere:
 * - conversation-actor-deps.ts: what the runtime gives it; conversation-parts.ts: journal writer, agent jobs, lease.
 * - member-ephemera.ts: presence, typing display and read positions (never journaled), wired to the connections.
 * - membership-delivery.ts: the participant list and the leavers' connections of a step with a join, leave or
 *   mode change; the members list shared by every subscription.
 * - change-requests.ts: join, leave, edit and redact as machine requests, and what a refusal throws.
 * - conversation-history.ts: records in memory, history pages, replays, the unread count's split.
 * - machine-requests.ts (callers → machine), machine-supervisor.ts (crash restarts), post-retries.ts (retried ids).
 */
export class ConversationActor {
  readonly conversationId: string;
  meta: ConversationMeta;
  status: ConversationStatus = 'active';
  private actor!: MachineActor;
  private readonly connections: ConnectionSet;
  /** Who of the human members is connected (ephemeral: kept here with the connections, never journaled). */
  private readonly presence: Presence;
  /** What the others are shown of each member's typing, coalesced (typing-display.ts; ephemeral like presence). */
  private readonly typingShown: TypingDisplay;
  /** How far each member has read (kept here like presence, never journaled; stored apart, read-positions.ts). */
  private readonly reads: ReadPositions;
  private readonly queue: PersistenceQueue;
  private readonly jobs: AgentJobs;
  /** What the agents were offered, stored so that a load after a crash offers a waiting burst once (offer-cursor.ts). */
  private readonly offers: OfferCursor;
  /** Records in memory, history pages, replays, unread counts (conversation-history.ts). */
  private readonly history: ConversationHistory;
  /** Participant lists and leavers' connections on membership steps; the shared members list (membership-delivery.ts). */
  private readonly membership: MembershipDelivery;
  /** Joins, leaves, stored edits and redactions on their way to the machine (change-requests.ts). */
  private readonly changes: ChangeRequests;
  /** Callers' requests and events on their way to the machine, in arrival order. */
  private readonly requests: MachineRequests;
  /** When the event being processed arrived (for the delivery latency metric). */
  private receivedAt = 0;
  /**
   * True when the in-memory dedup index does not reach back to sequence 1 (a conversation restored
   * from a long journal): new message ids are then also looked up in the journal, one post at a time
   * so the conversation's order of arrival is kept.
   */
  private readonly dedupIncomplete: boolean;
  /** Answers to retried message ids (post-retries.ts): the common post never goes there. */
  private readonly retries: PostRetries;
  private readonly lease: SequenceLease;
  /** The step being delivered: what a crash inside its effects must not lose (MachineSupervisor.keepCrashedStep). */
  private readonly delivering = new DeliveryNote();
  /** Restarts the machine after a crash (machine-supervisor.ts). */
  private readonly supervisor: MachineSupervisor;
  /** Stopped because another runtime holds the conversation now (moveAway). */
  private movedAway = false;

  constructor(
    private readonly deps: ConversationActorDeps,
    meta: ConversationMeta,
    input: ConversationInput,
    persistedUpTo: number,
    /** The stored sequence reservation (Infinity when the store cannot keep one). */
    reservedUpTo = Infinity,
    /** The runtime's claim on the conversation; every journal and reservation write is fenced with it. */
    readonly claim: ConversationClaim = NO_CLAIM,
    /** Until when (clock ms) the claim may be counted on without a renewal (claim-keeper.ts; Infinity: no claims). */
    claimValidUntil = Infinity,
    /** The members' stored read positions (ChatStore.getReadPositions). */
    storedReadPositions?: ReadonlyMap<string, number>,
  ) {
    this.conversationId = meta.conversation_id;
    this.meta = meta;
    const { clock } = deps;
    // One closure each for the machine's context and status, shared by every part that reads them (heap per conversation).
    const context = () => this.ctx;
    const status = () => this.status;
    this.connections = new ConnectionSet((c, err) => {
      deps.logger.warn({ err, conversation_id: this.conversationId, connection_id: c.id }, 'connection listener threw; disconnecting it');
      this.unsubscribe(c.id);
    });
    const ephemera = createMemberEphemera(deps, {
      conversationId: this.conversationId,
      connections: this.connections,
      lastSequenceId: () => this.lastSequenceId,
      // A member gone offline while typing (its tab closed, its stop dropped) would stay typing for good: others
      // would show it, and in single mode each of its later posts would wait the typing window. Its stop goes
      // first, not held: the others are told before the offline announcement.
      wentOffline: (participantId) => {
        if (this.status !== 'active') return;
        this.typingShown.endNow(participantId);
        if (this.ctx.typing.has(participantId)) this.setTyping(participantId, false);
      },
      storedReadPositions,
      // The end once loaded: the journal's, or the reservation's, whose ids past the journal become `lost` records.
      loadedUpTo: Number.isFinite(reservedUpTo) ? Math.max(reservedUpTo, input.lastSequenceId) : input.lastSequenceId,
    });
    this.presence = ephemera.presence;
    this.typingShown = ephemera.typingShown;
    this.reads = ephemera.reads;
    const notifier = deps.recordNotifier;
    this.queue = createJournalWriter(deps, this.conversationId, claim, persistedUpTo, {
      persisted: (upTo) => this.handlePersisted(upTo),
      // Members and presence as they are when the journal has the records, not when they were delivered: whom to
      // tell is decided once the record is sure to be there to read.
      stored: notifier && ((records) => notifier.stored(this.conversationId, records, this.ctx.participants, this.presence)),
      deleted: () => {
        this.stop('deleted');
        deps.onDeleted?.(this);
      },
      fenced: (err) => this.moveAway(err),
    });
    this.jobs = createAgentJobs(deps, this.conversationId, {
      send: (event) => this.requests.send(event),
      buildTurn: (request) => buildAgentTurn(this.ctx, request),
    });
    this.offers = createOfferCursor(deps, this.conversationId);
    const replay = new ReplayReader(deps.store, this.conversationId);
    this.history = new ConversationHistory({
      conversationId: this.conversationId,
      reader: replay,
      queue: this.queue,
      connections: this.connections,
      telemetry: deps.telemetry,
      context,
      pageRecords: deps.config.chat.cache.replay_page_records,
    });
    this.membership = new MembershipDelivery({
      connections: this.connections,
      presence: this.presence,
      reads: this.reads,
      jobs: this.jobs,
      unsubscribe: (connectionId) => this.unsubscribe(connectionId),
    });
    this.lease = createSequenceLease(deps, this.conversationId, claim, reservedUpTo, {
      lastSequenceId: () => this.lastSequenceId,
      canRunWaiting: () => this.status !== 'active',
      fenced: (err) => this.moveAway(err),
      claimValidUntil,
    });
    this.requests = new MachineRequests({
      machine: () => this.actor,
      status,
      lease: this.lease,
      clock,
      arrived: (receivedAt) => (this.receivedAt = receivedAt),
    });
    this.changes = new ChangeRequests({
      requests: this.requests,
      clock,
      agents: deps.agents,
      context,
      status,
      assertUsable: () => this.assertUsable(),
    });
    this.retries = new PostRetries({
      conversationId: this.conversationId,
      store: deps.store,
      queue: this.queue,
      replay,
      context,
      memoryRecords: () => this.history.memoryRecords(),
    });
    this.supervisor = new MachineSupervisor({
      conversation: this,
      deps,
      queue: this.queue,
      jobs: this.jobs,
      offers: this.offers,
      requests: this.requests,
      connections: this.connections,
      delivering: this.delivering,
      context,
      startMachine: (restored) => this.startMachine(restored),
      deliver: (records) => this.deliver(records),
    });
    this.dedupIncomplete = input.lastSequenceId > 0 && (input.recent[0]?.sequence_id ?? Infinity) > 1;
    this.startMachine(input);
  }

  // ---- state the runtime and gateway read -------------------------------------------------

  private get ctx() {
    return this.actor.getSnapshot().context;
  }
  get lastSequenceId(): number {
    return this.ctx.lastSequenceId;
  }
  /** The members as a list: one frozen array per membership state (MembershipDelivery.listOf). */
  get participants(): readonly Participant[] {
    return this.membership.listOf(this.ctx.participants);
  }
  get mode() {
    return this.ctx.mode;
  }
  /** The human members online now (presence.ts). */
  get online(): readonly string[] {
    return this.presence.online;
  }
  /** Every member's read position (participant id -> sequence id), read-positions.ts. */
  get readPositions(): Record<string, number> {
    return this.reads.of(this.participants);
  }
  /** A member's read position, or undefined when it is not a current member. */
  readPositionOf(participantId: string): number | undefined {
    const member = this.ctx.participants.get(participantId);
    return member === undefined ? undefined : this.reads.positionOf(member);
  }
  get connectionCount(): number {
    return this.connections.size;
  }
  /** Pending work bounded by chat.limits.queue_size: unstored records plus agent jobs. */
  get depth(): number {
    return this.queue.depth + this.jobs.depth + this.lease.waiting + this.requests.waitingPosts;
  }
  /** Journal writes are failing (health reports the storage as failing). */
  get persistenceFailing(): boolean {
    return this.queue.failing;
  }
  get unpersisted(): number {
    return this.queue.depth;
  }
  /** When (clock ms) the oldest record not yet in the journal was sequenced; undefined when all are stored. */
  get oldestUnpersistedAt(): number | undefined {
    return this.queue.oldestUnstoredAt;
  }
  isMember(participantId: string): boolean {
    return this.ctx.participants.has(participantId);
  }
  /** The member's type, or undefined when it is not a current member (the conversation list's filter). */
  participantTypeOf(participantId: string): ParticipantType | undefined {
    return this.ctx.participants.get(participantId)?.participant_type;
  }
  /** A delivered record still in the recent-records cache (the conversation list reads the latest ones). */
  recordInMemory(sequenceId: number): ChatMessage | undefined {
    return this.ctx.recent.bySequence(sequenceId);
  }
  /** Nothing to do and nobody connected. Messages waiting for the input window still have an agent turn to come. */
  get isIdle(): boolean {
    return this.connections.size === 0 && this.depth === 0 && !this.waitingWithoutWork;
  }
  /**
   * Work to come that nothing queued yet counts: human messages collected for the input window (their agent
   * turn has not started), or a restart after a crash (what the crash left is done once the machine runs).
   */
  get waitingWithoutWork(): boolean {
    return this.status === 'restarting' || (this.status === 'active' && this.ctx.burst.length > 0);
  }

  // ---- commands -----------------------------------------------------------------------------

  /**
   * Sequences a post. The common post makes one promise, settled from the turn's POSTS step (no chain
   * of async frames per message: this is the hot path of every conversation, docs/benchmarks.md);
   * errors found before sequencing are rejections too, never synchronous throws.
   */
  post(input: PostInput): Promise<PostResult> {
    const senderType = this.ctx.participants.get(input.sender_id)?.participant_type ?? 'other';
    const traced = new MessageTrace(this.deps.telemetry.tracer, this.conversationId, senderType);
    try {
      return traced.run(this.postTraced, this, input, senderType, traced);
    } catch (err) {
      traced.end(undefined, err);
      return Promise.reject(err);
    }
  }

  private postTraced(input: PostInput, senderType: string, traced: MessageTrace): Promise<PostResult> {
    this.assertUsable();
    const known = this.ctx.dedup.get(input.sender_id, input.message_id);
    if (known === undefined && this.dedupIncomplete) return this.postAfterJournalLookup(input, senderType, traced);
    return this.sequencePost(input, known, senderType, traced);
  }

  /** After a restart the dedup index may miss older ids: a retry of one is answered from the journal. */
  private async postAfterJournalLookup(input: PostInput, senderType: string, traced: MessageTrace): Promise<PostResult> {
    try {
      const stored = await this.retries.findInJournal(input);
      try {
        // Found in the journal: stored, so the receipt reads persisted. Returned, not awaited: answerRetry ends the trace.
        if (stored !== undefined) return this.retries.answerRetry(input, stored, traced);
        this.assertUsable();
        // Returned, not awaited: the sequencing promise ends the trace itself; this catches only what throws now.
        return this.sequencePost(input, undefined, senderType, traced);
      } finally {
        // Queued for its POSTS step (or answered): a change received after this post may now take its place.
        this.retries.handedOn();
      }
    } catch (err) {
      traced.end(undefined, err);
      throw err;
    }
  }

  /** Admits (unless a known retry), hands the post to the turn's POSTS step and turns its outcome into a receipt. */
  private sequencePost(input: PostInput, known: number | undefined, senderType: string, traced: MessageTrace): Promise<PostResult> {
    // A retry is answered even when the mailbox is full: it adds no work.
    if (known === undefined) this.admit();
    this.deps.telemetry.messageIn(senderType);
    const sequencing = traced.startSequence();
    const fields = {
      message_id: input.message_id,
      sender_id: input.sender_id,
      content: input.content,
      message_type: input.message_type,
      metadata: input.metadata,
    };
    return this.requests.post(fields, (outcome) => {
      sequencing.end();
      if (outcome.kind === 'rejected' || outcome.kind === 'none') {
        const err = outcome.kind === 'rejected' ? new ChatError(outcome.code, outcome.message) : new ChatError('CHAT_ERR_RESTARTING');
        traced.end(undefined, err);
        // Refused because the conversation moved away while the post waited (for its claim to be confirmed, or
        // behind a fenced write): asked again through the runtime, the caller gets the holder's answer
        // (CHAT_ERR_OWNED_ELSEWHERE naming where it is), or the post is taken here if the claim is free again.
        if (this.movedAway && err.code === 'CHAT_ERR_CLOSED' && this.deps.postAgain) return this.deps.postAgain(input);
        throw err;
      }
      if (outcome.kind === 'duplicate') return this.retries.answerRetry(input, outcome.sequenceId, traced);
      const receipt = new PostReceipt(input.message_id, outcome.sequenceId, false, this.queue);
      traced.persisted(receipt);
      traced.end(receipt.sequence_id);
      return receipt;
    });
  }

  /** `addedBy`: the member adding the participant (checked in the JOIN step, membership-changes.ts). */
  join(input: ParticipantInput, addedBy?: string): Promise<Participant> {
    return this.changes.join(input, addedBy);
  }

  /** `removedBy`: the owner removing the participant (checked in the LEAVE step, membership-changes.ts). */
  leave(participantId: string, removedBy?: string): Promise<void> {
    return this.changes.leave(participantId, removedBy);
  }

  /**
   * The member has read everything up to `sequenceId`: its position is raised to it (a value past the conversation's
   * last record is taken as that record: a client may hold an id of an older incarnation, docs/protocol.md), never
   * lowered. Returns the position after. Not sequenced and not journaled (read-positions.ts).
   */
  markRead(participantId: string, sequenceId: number): number {
    this.assertUsable();
    const member = this.ctx.participants.get(participantId);
    if (member === undefined) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
    if (member.participant_type !== 'human') throw new ChatError('CHAT_ERR_FORBIDDEN', 'an AI participant has no read position');
    return this.reads.mark(member, Math.min(sequenceId, this.lastSequenceId));
  }

  /**
   * The reader's unread records after `after` (isUnreadFor), split where memory ends: those still in memory (every
   * unstored record, and the recent-records cache) counted here, up to `limit`; the older ones as the range the store
   * counts (undefined when memory covers everything after `after`). Records below memory are all stored.
   */
  unreadSplit(readerId: string, after: number, limit: number): { readonly inMemory: number; readonly stored: UnreadRange | undefined } {
    return this.history.unreadSplit(readerId, after, limit);
  }

  /** Writes the read positions changed since the last save (a clean stop: passivation, shutdown). */
  saveReadPositions(): Promise<void> {
    return this.reads.flush();
  }

  /** Writes the marks of what the agents were offered not written yet (a clean stop; offer-cursor.ts). */
  saveOfferMarks(): Promise<void> {
    return this.offers.flush();
  }

  setTyping(participantId: string, isTyping: boolean): void {
    if (this.status !== 'active' || !this.isMember(participantId)) return;
    // Typing decides whether a post waits for the input window: posts that arrived first go first.
    this.requests.sendUnsequenced({ type: 'TYPING', participantId, isTyping });
  }

  /**
   * Whether the conversation holds the member as typing: its machine does (the single-mode window) or the others
   * were last told so (a stop of it may be held). The gateway keeps such a member's start, however old, so that its
   * stop still reaches the others (gateway/typing-relay.ts).
   */
  isTyping(participantId: string): boolean {
    return this.status === 'active' && (this.typingShown.isShown(participantId) || this.ctx.typing.has(participantId));
  }

  /**
   * Subscribes a connection; with afterSequenceId (or history) it first replays what the connection missed, from
   * the start replayStart names, up to the last id now: to the listener, page after page, before it resolves, or
   * with replayInPages as Subscription.replay, read when its subscriber asks, the listener getting what comes
   * after it meanwhile.
   */
  async subscribe(participantId: string, listener: OutputListener, options: SubscribeOptions = {}): Promise<Subscription> {
    this.assertUsable();
    if (!this.isMember(participantId)) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
    const asked = options.afterSequenceId;
    // Only a resume that names its last record pays for the check (a read or two at subscribe, never on delivery).
    const checked = asked !== undefined && options.lastRecord !== undefined;
    const divergedAt = checked ? await this.history.divergence(asked, options.lastRecord!) : undefined;
    if (checked) {
      // The conversation may have stopped, or the member left, while the check read.
      this.assertUsable();
      if (!this.isMember(participantId)) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
    }
    const last = this.lastSequenceId;
    const start = replayStart(divergedAt === undefined ? options : { ...options, afterSequenceId: divergedAt }, last);
    const reset: ConversationOutput | undefined =
      divergedAt === undefined ? undefined : { type: 'reset', after: divergedAt, last_sequence_id: asked ?? divergedAt };
    const pushed = start !== undefined && options.replayInPages !== true;
    const connection: Connection = {
      id: this.deps.ids(),
      participantId,
      listener,
      // Live outputs wait for a replay pushed to the listener; a paged one is the subscriber's to put first.
      buffer: pushed ? [] : undefined,
      lastSequenceId: pushed ? start.after : last,
      closed: false,
    };
    this.connections.add(connection);
    this.deps.telemetry.connectionOpened(this.conversationId);
    if (this.ctx.participants.get(participantId)?.participant_type === 'human') this.presence.subscribed(participantId);
    const pages = start === undefined ? undefined : this.history.replayPages(connection, start, last, reset);
    // `online` is read when asked, not copied: a copy per subscription would keep an array of the room per connection.
    const subscription = new LiveSubscription(
      connection.id,
      this.conversationId,
      participantId,
      this.mode,
      last,
      this.participants,
      this.presence,
      this,
      () => {
        connection.released = true;
        this.unsubscribe(connection.id);
      },
      pages !== undefined && !pushed ? pages : undefined,
    );
    if (pages !== undefined && pushed) await this.history.pushReplay(connection, pages);
    return subscription;
  }

  /**
   * A page of history for HTTP readers: cache first, then the journal, then unstored records. Bounded
   * by count, not by after + limit: over ids a bounded journal dropped, the page starts at the oldest
   * record held and still has up to `limit` records, so a reader paging on `next_after` moves on; the
   * page names the ids the store says it dropped, and passes over a hole without naming it, so the
   * reader can tell a trimmed history from a hole.
   */
  async readHistoryPage(afterSequenceId: number, limit: number): Promise<HistoryPage> {
    return this.history.readPage(afterSequenceId, limit);
  }

  /**
   * A redaction, already stored: the cache takes the marker and a `redaction` record tells everyone. Resolves with
   * that record's sequence id once it is sequenced (delivered to the subscriptions already), so the member's socket
   * can be answered after it (gateway/message-changes.ts). Held while the machine is rebuilt after a crash, and then
   * resolves at once, without an id. A stopped conversation refuses (CHAT_ERR_CLOSED): what was stored must then be
   * announced by the conversation as loaded again (message-edits.ts), not dropped here.
   */
  redact(sequenceIds: readonly number[], requestedBy: string, marker: string): Promise<number | undefined> {
    return this.changes.redact(sequenceIds, requestedBy, marker);
  }

  /**
   * A member's edit, already stored: the cache takes the new content and an `edit` record tells everyone. Resolves
   * with the record's sequence id once it is sequenced (a history page read after it shows the edit). While the
   * machine is rebuilt after a crash the event is held, as a redaction's is, and this resolves at once, without an
   * id: the edit is stored, and refusing it now would leave the cache without it. A stopped conversation refuses
   * (CHAT_ERR_CLOSED), as redact does.
   */
  edit(change: MessageEdit): Promise<number | undefined> {
    return this.changes.edit(change);
  }

  /**
   * The conversation's last sequence id as of this call in its order of arrival: once the posts that reached it
   * before were sequenced (those still waiting for the end of the turn or a journal lookup included), before any that
   * reaches it later. An edit or delete takes this when it is received and refuses a message sequenced after it
   * (message-edits.ts): a client's `delete` sent before its `message` must not delete the post that follows it.
   * The queue's last id counts too: while the machine is rebuilt after a crash its context is still the one before the
   * crashed step, whose records were kept, queued and acknowledged (machine-supervisor.ts keepCrashedStep), and a
   * delete of such a post sent then was refused as not the sender's own (test/actors/change-during-restart.test.ts).
   */
  sequencedSoFar(): Promise<number> {
    return new Promise((resolve) =>
      this.retries.afterEarlierPosts(() =>
        this.requests.afterEarlierWork(() => resolve(Math.max(this.lastSequenceId, this.queue.queuedUpTo))),
      ),
    );
  }

  /** Cold start after a crash: ids up to the stored reservation become 'lost' records, never reused. */
  recoverLost(reservedUpTo: number): void {
    if (reservedUpTo <= this.lastSequenceId || this.status !== 'active') return;
    // These ids are inside the reservation by definition, so this bypasses the lease gate.
    this.receivedAt = this.deps.clock.now();
    this.actor.send({ type: 'RECOVER_LOST', receivedAt: this.receivedAt, upTo: reservedUpTo });
    this.lease.maybeExtend();
  }

  /**
   * Cold start (ChatRuntime.load, after recoverLost): ends the agent jobs the restored journal shows cut off
   * (interrupted-job-ends.ts). A machine rebuilt after a crash (machine-supervisor.ts) does not pass here: its
   * jobs still run.
   */
  endInterruptedJobs(window: readonly ChatMessage[]): Promise<void> {
    return endInterruptedJobs(
      {
        deps: this.deps,
        conversationId: this.conversationId,
        isRunning: () => this.status !== 'stopped' && this.status !== 'failed',
        send: (event) => this.requests.send(event),
      },
      window,
    );
  }

  /** After a clean stop with everything stored, the reservation shrinks back to the last id. */
  async releaseReservation(): Promise<void> {
    if (this.queue.depth > 0) return;
    await this.lease.release().catch(() => undefined);
  }

  /**
   * Waits until everything sequenced so far (once `after` settled) is in the journal, or the deadline passes. Records
   * sequenced meanwhile do not count: waiting for an empty queue refused an edit whose post arrived with it ("the
   * journal is behind"), and in a room that keeps posting the queue is never empty, so every change waited out the
   * deadline to be refused.
   */
  async flush(deadlineMs: number, after?: Promise<unknown>): Promise<boolean> {
    // A change waits for its place in the conversation's order (`after`: sequencedSoFar) within the same deadline:
    // behind a sequence lease that cannot grow (storage down) it is refused as the journal being behind, not held.
    const { clock } = this.deps;
    const started = clock.now();
    if (after !== undefined && !(await settlesWithin(after, deadlineMs, clock))) return false;
    const upTo = this.queue.queuedUpTo;
    // whenIdle also resolves when the queue closes with records left (whenStored never would): persistedUpTo says which.
    const stored = Promise.race([this.queue.whenStored(upTo), this.queue.whenIdle()]);
    return (await settlesWithin(stored, deadlineMs - (clock.now() - started), clock)) && this.queue.persistedUpTo >= upTo;
  }

  /**
   * Resolves once this runtime's claim on the conversation is current by its own clock (at once for a store without
   * claims), behind the sequencing work waiting for it: a change of stored records (an edit, a redaction) is then
   * made only by the conversation's holder, as records are sequenced only by it. Rejects with CHAT_ERR_CLOSED once
   * the conversation stopped (moved away, passivated, shut down).
   */
  whenClaimCurrent(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Only a stop refuses: a machine being rebuilt (restarting) still holds the claim, and changes go on meanwhile
      // while the claim is current (else they wait for the rebuilt machine and a renewal: MachineRequests).
      this.requests.whenClaimCurrent(() => (this.status === 'stopped' ? reject(new ChatError('CHAT_ERR_CLOSED')) : resolve()));
    });
  }

  /** True once another runtime claimed the conversation from this one (moveAway): changes refused since are asked again. */
  get hasMovedAway(): boolean {
    return this.movedAway;
  }

  /**
   * Another runtime claimed the conversation (a fenced write, or a renewal that no longer finds the claim):
   * this one must not sequence it any more. What it has not stored is lost to the journal; the new holder
   * marks those ids lost (the reservation) and clients re-send what was not acknowledged as persisted.
   */
  moveAway(reason?: unknown): void {
    if (this.status === 'stopped') return;
    this.deps.logger.warn(
      { err: reason, conversation_id: this.conversationId, epoch: this.claim.epoch, unstored: this.queue.depth },
      'another runtime claimed this conversation; stopping it here',
    );
    this.movedAway = true;
    this.stop('moved');
    this.deps.onMoved?.(this, reason);
  }

  /** A renewal found the claim still this runtime's, until `validUntil` (clock ms): work held for it runs. */
  claimConfirmed(validUntil: number): void {
    this.lease.claimConfirmed(validUntil);
  }

  /** Stops the conversation: agent jobs cancelled, connections told why, the machine stopped. */
  stop(reason: ClosedReason): void {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    this.presence.close();
    this.typingShown.close();
    this.reads.close();
    this.jobs.cancelAll(reason === 'shutdown' ? 'server shutting down' : 'conversation closed');
    for (const c of [...this.connections.values()]) {
      this.connections.send(c, { type: 'closed', reason });
      this.unsubscribe(c.id);
    }
    this.actor.stop();
    this.queue.close();
    this.lease.close();
    // Work held for a machine being rebuilt would otherwise wait for good: it runs now and refuses itself.
    this.requests.dropHeld();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** What this conversation does for its machine's named effects (conversation-machine.ts). */
  private readonly effects: ConversationEffects = {
    deliver: (context, event) => {
      this.delivering.note(context, event);
      this.deliver(context.emitted, context);
    },
    // An agent's records (its answer pieces) are written next turn, after the turn's frames went out:
    // nobody waits on their durability, and the copy into the journal stays off the answer's path.
    persist: (context, event) => this.queue.enqueue(context.emitted, !event.type.startsWith('AGENT_')),
    acknowledge: (context, event) => this.requests.acknowledge(event, context.outcome),
    acknowledgeEach: (context, event) => this.requests.acknowledgeEach(event, context.outcomes),
    dispatchToAgents: (context) => {
      if (context.turns.length === 0) return;
      this.jobs.offer(context.turns);
      this.offers.offered(context);
    },
    // The machine took the event already (a stop ends a single-mode wait at once); what the others see is coalesced.
    forwardTyping: (event) => {
      const e = event as { participantId: string; isTyping: boolean };
      if (e.isTyping) this.typingShown.started(e.participantId);
      else this.typingShown.stopped(e.participantId);
    },
  };

  private startMachine(input: ConversationInput): void {
    this.actor = this.deps.machines.start(input, this.deps.clock, this.effects, (err) => this.supervisor.onMachineCrash(err));
  }

  /** Mailbox bound: drop the oldest agent jobs first, then refuse the human with a retry hint. */
  private admit(): void {
    const limit = this.deps.config.chat.limits.queue_size;
    // Room in the mailbox, the common case: what offerToMailbox would say, without its offer object, closure and
    // answer per post (this runs for every human post).
    if (this.depth < limit) return;
    const admission = offerToMailbox({
      limit,
      depth: this.depth,
      unstored: this.queue.depth,
      dropAgentJobs: (n) => this.jobs.dropOldest(n, 'queue_full'),
    });
    for (let i = 0; i < admission.droppedAgentJobs; i++) this.deps.telemetry.agentJobDropped('queue_full');
    if (admission.accepted) return;
    this.deps.telemetry.queueFull();
    throw new ChatError('CHAT_ERR_QUEUE_FULL', `conversation has ${this.depth} pending items (limit ${limit})`, {
      retryAfterMs: admission.retryAfterMs,
    });
  }

  /**
   * Hands a step's records to the connections. `state`: the membership after the records. Effects run
   * inside the machine's transition, before the actor's snapshot moves on, so during a step `this.ctx` is
   * still the state before it: a participant list taken from it named the members before a join or leave.
   */
  /** connections.deliver inside a `deliver` span (traceDelivery); returns the hand-offs. */
  private deliverTraced(records: readonly ChatMessage[]): number {
    let handed = 0;
    traceDelivery(
      this.deps.telemetry.tracer,
      this.conversationId,
      () => (handed = this.connections.deliver(records)),
      () => handed,
    );
    return handed;
  }

  private deliver(records: readonly ChatMessage[], state: Pick<ConversationContext, 'participants' | 'mode'> = this.ctx): void {
    if (records.length === 0) return;
    // A member's line (or leave) ends its typing first, a held stop included: nobody sees it typing after its line.
    if (this.typingShown.anyShown)
      for (const m of records)
        if (m.sender_type !== 'system' || m.message_type === MESSAGE_TYPES.leave) this.typingShown.endNow(m.sender_id);
    // Untraced (no tracing SDK, or an unsampled message): no closures for traceDelivery, once per step.
    const handed = deliveryTraced() ? this.deliverTraced(records) : this.connections.deliver(records);
    this.deps.telemetry.messagesOut(handed);
    // Per message (docs/observability.md): a step may deliver several (a POSTS batch, a join and its mode change).
    // Agents' answers are sequenced by the machine, not through post(), so they are counted in here, when their
    // step hands them out (a step that crashed while handing out is handed out again after the restart).
    const latency = this.deps.clock.now() - this.receivedAt;
    for (let i = 0; i < records.length; i++) {
      this.deps.telemetry.deliveryLatency(latency);
      if (records[i].sender_type === 'ai') this.deps.telemetry.messageIn('ai');
    }
    // A join, leave or mode change: a fresh participant list, leavers' connections ended (a leave is a membership type).
    if (records.some((m) => MEMBERSHIP_TYPES.has(m.message_type))) this.membership.delivered(records, state);
  }

  private unsubscribe(connectionId: string): void {
    const removed = this.connections.remove(connectionId);
    if (removed) {
      this.presence.unsubscribed(removed.participantId);
      this.deps.telemetry.connectionClosed(this.conversationId);
      this.checkIdle();
    }
  }

  private handlePersisted(upTo: number): void {
    this.connections.broadcast({ type: 'persisted', up_to_sequence_id: upTo });
    this.checkIdle();
  }

  /**
   * Arms passivation if the conversation is idle now: for the runtime after a load, a use without a subscription, or a
   * refused subscribe, after none of which a stored record or a closed subscription would arm it.
   */
  checkIdleSoon(): void {
    this.checkIdle();
  }

  /**
   * Arms passivation when nothing is left to do or deliver. Messages waiting for the input window arm it
   * too: the runtime's timer looks again while they wait (their turn may write nothing to call back).
   */
  private checkIdle(): void {
    if (this.status === 'active' && this.connections.size === 0 && this.depth === 0) this.deps.onIdle(this);
  }

  private assertUsable(): void {
    if (this.status === 'active') return;
    if (this.status === 'failed') throw new ChatError('CHAT_ERR_CONVERSATION_FAILED');
    if (this.status === 'restarting') throw new ChatError('CHAT_ERR_RESTARTING', undefined, { retryAfterMs: 100 });
    throw new ChatError('CHAT_ERR_CLOSED');
  }
}
