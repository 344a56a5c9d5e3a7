import { AgentFailureLog } from './agent-failure-log';
import { assertKnownAgents } from './agent-membership';
import type { Agent } from './agents/agent';
import { ClaimKeeper, type TakenClaim } from './claim-keeper';
import { unrefTimer } from './clock';
import { ConversationActor } from './conversation-actor';
import { conversationPage, type ConversationPage, type ConversationPageRequest } from './conversation-list';
import type { ConversationInput, ConversationPolicy } from './conversation-context';
import { ChatError, isChatError } from './errors';
import { assertValidCreation, assertValidParticipant, postProblem } from './input-rules';
import type { ChatMessage, ConversationMeta, Participant, ParticipantType } from './message-types';
import { withMembers } from './page-members';
import { readStateOf, withReadStates } from './read-states';
import { RecordNotifier } from './record-notifier';
import { assertOneTypePerId } from './participant-identity';
import { restoreConversation } from './restore-conversation';
import { neverOfferedPosts } from './never-offered-posts';
import { postUnlessReserved } from './reserved-metadata';
import { LEASE_BLOCK } from './sequence-lease';
import { listAgents } from './agent-listing';
import { addedAiNameProblem } from './membership-changes';
import type {
  AgentListing,
  ChatRuntime,
  ConversationOutput,
  ConversationSummary,
  CreateConversationInput,
  EditOutcome,
  RedactOptions,
  RedactOutcome,
  HistoryPage,
  HistoryPageBefore,
  MembershipChangeOptions,
  ParticipantInput,
  PostInput,
  PostResult,
  ReadState,
  RecordListener,
  RuntimeHealth,
  SubscribeOptions,
  Subscription,
} from './runtime-types';
import { buildHealth } from './runtime-health';
import type { RuntimeServices } from './runtime-services';
import { settlesWithin } from './settles-within';
import { SharedConversationMachine } from './shared-conversation-machine';
import { StorageProbe } from './storage-probe';
import { humansOnly, loadedEnd, readPositionsForLoad } from './stored-read-positions';
import { MessageEdits } from './message-edits';
import { againIfMoved } from './moved-away';

/** In-memory (sender, message_id) index per conversation; older retries are rare and documented. */
export const DEDUP_WINDOW = 10_000;

/** How often the runtime pings its store for /health/chat and /readyz. */
export const STORAGE_PROBE_MS = 5_000;

export interface ChatRuntimeDeps extends RuntimeServices {
  /** Close the store in close() (true when the runtime created it). */
  readonly ownsStore: boolean;
  /** Agents the runtime built (createChatRuntime, from chat.nlweb.endpoints): closed in close(), after the actors. */
  readonly ownedAgents?: readonly { close(): void }[];
  /** Told of every stored record of every live conversation (CreateChatRuntimeOptions.onRecord). */
  readonly onRecord?: RecordListener;
}

/**
 * The registry of live conversations: it loads (or rebuilds) a conversation's actor on first use,
 * passivates idle ones, keeps failed ones answering with a coded error, and shuts down cleanly.
 */
export class ConversationRegistryRuntime implements ChatRuntime {
  private readonly live = new Map<string, ConversationActor>();
  private readonly loading = new Map<string, Promise<ConversationActor>>();
  private readonly idleTimers = new Map<string, unknown>();
  /** Reservation releases of passivated conversations; a reload waits for its own. */
  private readonly releasing = new Map<string, Promise<void>>();
  private readonly policy: ConversationPolicy;
  /** One conversation machine definition for all of this runtime's conversations (not one per conversation). */
  private readonly machines = new SharedConversationMachine();
  /** Which conversations this runtime may sequence when other runtimes share the store. */
  private readonly claims: ClaimKeeper;
  /** Agent call failures for the log, limited per agent across all of this runtime's conversations. */
  private readonly agentFailures: AgentFailureLog;
  /** Only with an onRecord listener: without, the journal writers do nothing per record for it. */
  private readonly recordNotifier: RecordNotifier | undefined;
  private sweepTimer: unknown;
  private probeTimer: unknown;
  private closing = false;
  private storageReachable = true;
  private readonly storageProbe: StorageProbe;
  private readonly edits: MessageEdits;

  constructor(private readonly deps: ChatRuntimeDeps) {
    this.storageProbe = new StorageProbe(deps.store);
    this.edits = new MessageEdits({
      store: deps.store,
      now: () => deps.clock.now(),
      flushDeadlineMs: deps.config.observability.shutdown_deadline_s * 1000,
      reopen: (conversationId) => this.conversation(conversationId),
    });
    const chat = deps.config.chat;
    this.policy = Object.freeze({
      maxParticipants: chat.limits.max_participants,
      humanContextSize: chat.context.human_messages,
      cacheSize: chat.cache.recent_messages,
      dedupWindow: DEDUP_WINDOW,
      chainLimit: chat.agents.chain_limit,
      multiModeWindowMs: chat.input.multi_mode_window_ms,
      multiModeMaxWaitMs: chat.input.multi_mode_max_wait_ms,
      singleModeTypingWindowMs: chat.input.single_mode_typing_window_ms,
    });
    deps.telemetry.observeMailboxDepths(() => [...this.live.values()].map((c) => [c.conversationId, c.depth] as const));
    deps.telemetry.observePersistenceLag(() => [...this.live.values()].reduce((n, c) => n + c.unpersisted, 0));
    // Epoch 0: a store without claims, where nothing is held.
    deps.telemetry.observeClaimsHeld(() => [...this.live.values()].filter((c) => c.claim.epoch > 0).length);
    this.agentFailures = new AgentFailureLog({ logger: deps.logger, clock: deps.clock });
    this.recordNotifier =
      deps.onRecord === undefined ? undefined : new RecordNotifier({ listener: deps.onRecord, logger: deps.logger, clock: deps.clock });
    this.scheduleSweep();
    this.scheduleStorageProbe();
    const ownership = chat.ownership;
    this.claims = new ClaimKeeper({
      services: deps,
      ownerId: ownership.instance_id || `runtime-${deps.ids()}`,
      ttlMs: Math.round(ownership.claim_ttl_s * 1000),
      address: ownership.address || undefined,
      live: () => this.live.values(),
    });
  }

  async createConversation(input: CreateConversationInput): Promise<ConversationSummary> {
    this.assertOpen();
    // Before anything is stored: members become join records, which the journal must be able to hold.
    assertValidCreation(input);
    const conversationId = input.conversation_id ?? this.deps.ids();
    if (this.live.has(conversationId) || (await this.deps.store.getConversation(conversationId))) {
      throw new ChatError('CHAT_ERR_ALREADY_EXISTS', `conversation ${conversationId} already exists`);
    }
    const members = this.initialMembers(input);
    assertKnownAgents(members, this.deps.agents);
    if (members.length > this.policy.maxParticipants) {
      throw new ChatError(
        'CHAT_ERR_PARTICIPANT_LIMIT',
        `${members.length} participants exceed the limit of ${this.policy.maxParticipants}`,
      );
    }
    const meta: ConversationMeta = Object.freeze({
      conversation_id: conversationId,
      title: input.title ?? 'Conversation',
      created_at: new Date(this.deps.clock.now()).toISOString(),
      created_by: input.created_by,
      settings: Object.freeze({ ...(input.settings ?? {}) }),
      status: 'active',
    });
    // Members go into the table at once (so listing works immediately) and are journaled as joins.
    const asParticipants: Participant[] = members.map((m) => ({
      participant_id: m.participant_id,
      participant_type: m.participant_type,
      display_name: m.display_name ?? m.participant_id,
      role: m.role ?? 'member',
      joined_at_sequence: 0,
      ...(m.agent_id ? { agent_id: m.agent_id } : {}),
    }));
    await this.deps.store.createConversation(meta, asParticipants);
    const taken = await this.claims.claim(conversationId);
    let reserved = Infinity;
    if (this.deps.store.supports.sequenceReservation) {
      reserved = LEASE_BLOCK;
      await this.deps.store.setSequenceReservation(conversationId, reserved, taken.claim);
    }
    const actor = this.spawn(
      meta,
      { conversationId, settings: meta.settings, policy: this.policy, lastSequenceId: 0, participants: [], recent: [] },
      0,
      reserved,
      taken,
    );
    for (const m of members) await actor.join(m);
    return this.summarize(actor);
  }

  async getConversation(conversationId: string): Promise<ConversationSummary> {
    return this.summarize(await this.conversation(conversationId));
  }

  async listConversations(userId: string, options: { readonly participantType?: ParticipantType } = {}): Promise<ConversationMeta[]> {
    this.assertOpen();
    return this.deps.store.listConversationsForUser(userId, options);
  }

  async listConversationPage(userId: string, request: ConversationPageRequest): Promise<ConversationPage> {
    this.assertOpen();
    const page = await withMembers(
      this.deps.store,
      this.live,
      await conversationPage(this.deps.store, this.live.values(), userId, request),
    );
    return withReadStates(this.deps.store, this.live, userId, page);
  }

  async join(conversationId: string, participant: ParticipantInput, options: MembershipChangeOptions = {}): Promise<Participant> {
    assertValidParticipant(participant);
    assertKnownAgents([participant], this.deps.agents);
    const actor = await this.conversation(conversationId);
    if (options.addedBy !== undefined) {
      const adder = actor.participants.find((p) => p.participant_id === options.addedBy);
      const agent = this.deps.agents.get(participant.agent_id ?? participant.participant_id);
      const problem = addedAiNameProblem(participant, adder?.role, agent?.displayName);
      // A caller that was no member when it asked is refused as the step refuses a non-member, not by the name rule.
      if (problem && adder === undefined) {
        throw new ChatError('CHAT_ERR_NOT_PARTICIPANT', 'only a member of this conversation may add participants');
      }
      if (problem) throw new ChatError('CHAT_ERR_FORBIDDEN', problem);
    }
    return againIfMoved(
      actor,
      (held) => held.join(participant, options.addedBy),
      () => this.join(conversationId, participant, options),
    );
  }

  async leave(conversationId: string, participantId: string, options: MembershipChangeOptions = {}): Promise<void> {
    await againIfMoved(
      await this.conversation(conversationId),
      (held) => held.leave(participantId, options.removedBy),
      () => this.leave(conversationId, participantId, options),
    );
  }

  post(conversationId: string, input: PostInput): Promise<PostResult> {
    // Refused before it is sequenced: a record delivered and then refused by the store would block the journal.
    const problem = postProblem(input, this.deps.config.chat.limits.max_message_length);
    if (problem !== undefined) return Promise.reject(new ChatError('CHAT_ERR_INVALID_MESSAGE', problem));
    // A live conversation is posted to at once: no promise besides the post's own (the hot path).
    let live: ConversationActor | undefined;
    try {
      live = this.liveConversation(conversationId);
    } catch (err) {
      return Promise.reject(err);
    }
    // Human posts may not carry the keys the runtime writes on agent answers (reserved-metadata.ts).
    return live ? postUnlessReserved(live, input) : this.conversation(conversationId).then((actor) => postUnlessReserved(actor, input));
  }

  async subscribe(
    conversationId: string,
    participantId: string,
    listener: (output: ConversationOutput) => void,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    // Without a function the subscription was made, its member shown online, and its first output threw inside the
    // actor ("connection listener threw; disconnecting it", at warn): the caller was never told.
    if (typeof listener !== 'function') throw new ChatError('CHAT_ERR_INVALID_ARGUMENT', 'listener must be a function (output) => void');
    const { history } = options;
    if (history !== undefined && !(Number.isSafeInteger(history) && history >= 1))
      throw new ChatError('CHAT_ERR_INVALID_ARGUMENT', `history must be a positive integer (got ${String(history)})`);
    const { lastRecord } = options;
    if (lastRecord !== undefined && !(typeof lastRecord.message_id === 'string' && typeof lastRecord.sender_id === 'string'))
      throw new ChatError('CHAT_ERR_INVALID_ARGUMENT', 'lastRecord needs a string message_id and sender_id');
    const actor = await this.conversation(conversationId);
    this.cancelIdle(conversationId);
    try {
      return await actor.subscribe(participantId, listener, options);
    } catch (err) {
      // Refused (not a member, closed): no subscription will close to arm the idle clock again.
      actor.checkIdleSoon();
      throw err;
    }
  }

  setTyping(conversationId: string, participantId: string, isTyping: boolean): void {
    this.live.get(conversationId)?.setTyping(participantId, isTyping);
  }

  isTyping(conversationId: string, participantId: string): boolean {
    return this.live.get(conversationId)?.isTyping(participantId) ?? false;
  }

  async markRead(conversationId: string, participantId: string, sequenceId: number): Promise<number> {
    if (!Number.isSafeInteger(sequenceId) || sequenceId < 0) {
      throw new ChatError('CHAT_ERR_INVALID_ARGUMENT', 'sequence_id must be an integer >= 0');
    }
    // A live conversation is marked at once (a socket's `read` frames: the actor is live while it is subscribed).
    const live = this.liveConversation(conversationId);
    return (live ?? (await this.conversation(conversationId))).markRead(participantId, sequenceId);
  }

  async readState(conversationId: string, participantId: string): Promise<ReadState> {
    return readStateOf(this.deps.store, await this.conversation(conversationId), participantId);
  }

  async readMessages(conversationId: string, afterSequenceId: number, limit: number, requesterId?: string): Promise<ChatMessage[]> {
    return (await this.readHistoryPage(conversationId, afterSequenceId, limit, requesterId)).messages;
  }

  async readHistoryPage(conversationId: string, afterSequenceId: number, limit: number, requesterId?: string): Promise<HistoryPage> {
    const actor = await this.conversation(conversationId);
    if (requesterId !== undefined && !actor.isMember(requesterId)) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
    return actor.readHistoryPage(afterSequenceId, Math.max(1, Math.min(limit, 1000)));
  }

  async readHistoryPageBefore(
    conversationId: string,
    beforeSequenceId: number,
    limit: number,
    requesterId?: string,
  ): Promise<HistoryPageBefore> {
    const actor = await this.conversation(conversationId);
    if (requesterId !== undefined && !actor.isMember(requesterId)) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
    const last = actor.lastSequenceId;
    const before = Math.max(1, Math.min(beforeSequenceId, last + 1));
    const size = Math.max(1, Math.min(limit, 1000));
    // Ids are contiguous (a hole is a `lost` record, a dropped range is told), so the page is the forward page that
    // starts `size` ids earlier, cut at `before`: the same reads, holes and dropped ranges as paging forwards.
    const after = Math.max(0, before - 1 - size);
    const page = before > 1 ? await actor.readHistoryPage(after, before - 1 - after) : { messages: [], droppedUpTo: after };
    const messages = page.messages.filter((m) => m.sequence_id < before);
    const dropped = page.droppedUpTo > after ? { dropped: { from: after + 1, to: page.droppedUpTo } } : {};
    return {
      messages,
      nextBefore: messages[0]?.sequence_id ?? before,
      // Older ids exist when the page starts after id 1, unless the store dropped the ids just before it. Ids dropped
      // exactly up to `after` look like none dropped: the next, empty page says so.
      hasMore: page.droppedUpTo > after ? false : after > 0,
      lastSequenceId: last,
      ...dropped,
    };
  }

  async redact(
    conversationId: string,
    target: { messageIds: readonly string[] } | { senderId: string },
    requesterId?: string,
    options: RedactOptions = {},
  ): Promise<RedactOutcome> {
    const received = this.receivedAt(conversationId);
    return againIfMoved(
      await this.conversation(conversationId),
      (held) =>
        this.edits.redact(
          conversationId,
          held,
          { target, ...(requesterId === undefined ? {} : { requesterId }), received: received ?? held.sequencedSoFar() },
          options,
        ),
      () => this.redact(conversationId, target, requesterId, options),
    );
  }

  async edit(conversationId: string, requesterId: string, messageId: string, content: string): Promise<EditOutcome> {
    const received = this.receivedAt(conversationId);
    return againIfMoved(
      await this.conversation(conversationId),
      (held) => this.edits.edit(conversationId, held, { requesterId, messageId, content, received: received ?? held.sequencedSoFar() }),
      () => this.edit(conversationId, requesterId, messageId, content),
    );
  }

  /**
   * Where an edit or redaction of a live conversation stands in its order: taken before anything is awaited, so a
   * post that reaches the conversation after the change (the next frame of the same socket) is not before it.
   * Undefined when the conversation is not live: the change then takes its place once it is loaded, behind the posts
   * that waited for the load before it.
   */
  private receivedAt(conversationId: string): Promise<number> | undefined {
    return this.live.get(conversationId)?.sequencedSoFar();
  }

  health(): RuntimeHealth {
    return buildHealth({
      conversations: [...this.live.values()],
      queueSize: this.deps.config.chat.limits.queue_size,
      storageReachable: this.storageReachable && this.deps.store.isOpen,
      shuttingDown: this.closing,
      now: this.deps.clock.now(),
      // Shown for three claim TTLs after the last sighting: long enough for a health check to see it.
      ...(this.claims.sharesIdWithAnother(3 * this.deps.config.chat.ownership.claim_ttl_s * 1000)
        ? { sharedInstanceId: this.claims.ownerId }
        : {}),
    });
  }

  /** Marks storage reachability from an external probe (the gateway's readiness check). */
  /** Pings the store every STORAGE_PROBE_MS so health/readiness notice an unreachable store without traffic. */
  private scheduleStorageProbe(): void {
    if (this.closing) return;
    this.probeTimer = unrefTimer(
      this.deps.clock.setTimeout(() => {
        void this.checkStorage().finally(() => this.scheduleStorageProbe());
      }, STORAGE_PROBE_MS),
    );
  }

  listAgents(): AgentListing[] {
    return listAgents(this.deps.agents, this.deps.config.chat.nlweb.endpoints);
  }

  async checkStorage(): Promise<boolean> {
    this.storageReachable = await this.storageProbe.check();
    return this.storageReachable;
  }

  async close(options: { deadlineMs?: number } = {}): Promise<{ flushed: boolean; unflushed: number }> {
    if (this.closing) return { flushed: true, unflushed: 0 };
    this.closing = true;
    if (this.sweepTimer !== undefined) this.deps.clock.clearTimeout(this.sweepTimer);
    if (this.probeTimer !== undefined) this.deps.clock.clearTimeout(this.probeTimer);
    for (const t of this.idleTimers.values()) this.deps.clock.clearTimeout(t);
    this.idleTimers.clear();
    await Promise.allSettled(this.loading.values());
    const deadlineMs = options.deadlineMs ?? this.deps.config.observability.shutdown_deadline_s * 1000;
    const flushBy = this.deps.clock.now() + deadlineMs;
    const actors = [...this.live.values()];
    const results = await Promise.all(actors.map((a) => a.flush(deadlineMs)));
    const unflushed = actors.reduce((n, a) => n + a.unpersisted, 0);
    // Fully stored conversations give back unused reserved ids, so the next start marks none lost,
    // then their claims, so another server (the next process of a rolling deploy) takes them over at once.
    this.claims.close();
    // Within what is left of the deadline: with the database stalled these would wait for it and the caller
    // (the server's shutdown) would never learn what was unflushed. Skipping them is safe: a claim not given
    // back expires (claim_ttl_s), a reservation not lowered only marks its unused ids lost at the next start, read
    // positions not saved lose the raises since the last save (chat.read_positions.save_interval_ms). Passivations
    // still releasing are waited for too: an owned store closed under them would lose their writes.
    await settlesWithin(
      Promise.all([...actors.map((a) => this.handBack(a)), ...this.releasing.values()]),
      flushBy - this.deps.clock.now(),
      this.deps.clock,
    );
    for (const a of actors) a.stop('shutdown');
    this.live.clear();
    // After the actors stopped, so no job reports into a closed log; what is still counted is written now.
    this.agentFailures.close();
    for (const agent of this.deps.ownedAgents ?? []) agent.close();
    if (this.deps.ownsStore) await this.deps.store.close();
    return { flushed: results.every(Boolean) && unflushed === 0, unflushed };
  }

  // ---- internals ----------------------------------------------------------------------------

  private initialMembers(input: CreateConversationInput): ParticipantInput[] {
    const byId = new Map<string, ParticipantInput>();
    const creator = input.participants?.find((p) => p.participant_id === input.created_by);
    const owner: ParticipantInput = {
      participant_id: input.created_by,
      participant_type: 'human',
      role: 'owner',
      display_name: creator?.display_name,
    };
    // Repeated ids count once; an id named as both types is refused (an auto_join agent under a member's id is not added).
    assertOneTypePerId([owner, ...(input.participants ?? [])]);
    byId.set(input.created_by, owner);
    for (const p of input.participants ?? []) if (!byId.has(p.participant_id)) byId.set(p.participant_id, p);
    if (input.autoJoinAgents !== false) {
      for (const endpoint of this.deps.config.chat.nlweb.endpoints) {
        const agent = this.deps.agents.get(endpoint.id);
        if (endpoint.auto_join && agent && !byId.has(endpoint.id)) {
          byId.set(endpoint.id, {
            participant_id: endpoint.id,
            participant_type: 'ai',
            display_name: agent.displayName,
            agent_id: endpoint.id,
          });
        }
      }
    }
    return [...byId.values()];
  }

  /**
   * The conversation's actor if it is running, without waiting. A use restarts its idle clock: the timer is
   * cancelled and armed again if the actor is idle (no connection, nothing queued). Only cancelling it left a
   * conversation used by reads alone (HTTP history, metadata, POST /read: nothing stored, no subscription closed
   * to arm it again) live for good. A post arms it again anyway once stored; a subscription cancels it.
   */
  private liveConversation(conversationId: string): ConversationActor | undefined {
    this.assertOpen();
    const live = this.live.get(conversationId);
    if (live) {
      this.cancelIdle(conversationId);
      live.checkIdleSoon();
    }
    return live;
  }

  private async conversation(conversationId: string): Promise<ConversationActor> {
    const live = this.liveConversation(conversationId);
    if (live) return live;
    let loading = this.loading.get(conversationId);
    if (!loading) {
      loading = this.load(conversationId).finally(() => this.loading.delete(conversationId));
      this.loading.set(conversationId, loading);
    }
    return loading;
  }

  /** What load() reads from the store to build a conversation's actor. */
  private async readForLoad(conversationId: string) {
    const { meta, input } = await restoreConversation(this.deps.store, conversationId, this.policy);
    if (meta.status === 'failed') throw new ChatError('CHAT_ERR_CONVERSATION_FAILED');
    const store = this.deps.store;
    const reserved = store.supports.sequenceReservation ? await store.getSequenceReservation(conversationId) : Infinity;
    const end = loadedEnd(reserved, input.lastSequenceId);
    const readPositions = await readPositionsForLoad(store, this.deps.logger, conversationId, end);
    // Posts that waited for the input window when the last runtime stopped, never offered to the agents: collected
    // again (never-offered-posts.ts). A store that keeps no positions keeps no offer marks either: nothing is found.
    const burst = store.supports.readPositions ? neverOfferedPosts(input.recent, input.participants, readPositions) : [];
    return { meta, input: burst.length === 0 ? input : { ...input, burst }, reserved, readPositions: humansOnly(readPositions, input) };
  }

  private async load(conversationId: string): Promise<ConversationActor> {
    await this.releasing.get(conversationId);
    // Claimed before reading: from here on the previous holder's writes are refused, so what is read is final.
    const taken = await this.claims.claim(conversationId);
    // Every read before the actor exists gives the claim back if it fails (or finds the conversation failed): held,
    // it would keep the conversation from every other server until it expired.
    const { meta, input, reserved, readPositions } = await this.readForLoad(conversationId).catch(async (err: unknown) => {
      await this.claims.release(conversationId, taken.claim);
      throw err;
    });
    const actor = this.spawn(meta, input, input.lastSequenceId, Math.max(reserved, input.lastSequenceId), taken, readPositions);
    // Ids between the last stored record and the reservation may have been delivered before a crash.
    if (reserved !== Infinity && reserved > input.lastSequenceId) {
      this.deps.logger.warn(
        { conversation_id: conversationId, from: input.lastSequenceId + 1, to: reserved },
        'marking sequence ids lost in a crash',
      );
      actor.recoverLost(reserved);
    }
    void actor.endInterruptedJobs(input.recent);
    actor.checkIdleSoon();
    return actor;
  }

  /** Starts a conversation's actor and registers it as live. */
  private spawn(
    meta: ConversationMeta,
    input: ConversationInput,
    persistedUpTo: number,
    reservedUpTo: number,
    taken: TakenClaim,
    readPositions?: ReadonlyMap<string, number>,
  ): ConversationActor {
    const actor = new ConversationActor(
      {
        ...this.deps,
        policy: this.policy,
        machines: this.machines,
        agentFailures: this.agentFailures,
        recordNotifier: this.recordNotifier,
        onIdle: (actor) => this.scheduleIdle(actor),
        onFailed: (actor, err) => {
          this.deps.logger.error({ err, conversation_id: actor.conversationId }, 'conversation failed: restart intensity exceeded');
          this.deps.store.updateConversationStatus(actor.conversationId, 'failed').catch(() => undefined);
        },
        onDeleted: (actor) => this.forget(actor),
        onMoved: (actor, reason) => {
          this.forget(actor);
          // A move, not a passivation: the conversation goes on, on another runtime (it was counted as one before).
          const fenced = isChatError(reason, 'STORAGE_ERR_FENCED');
          this.deps.telemetry.conversationMoved(fenced ? 'fenced' : 'renewal');
          if (fenced) this.claims.noteFenced(actor.conversationId, actor.claim);
        },
        claimLapsed: () => this.claims.confirmSoon(),
        // After a microtask: the refusal is answered inside the actor's stop, before onMoved takes it out of `live`.
        postAgain: (input) => Promise.resolve(input).then((again) => this.post(meta.conversation_id, again)),
      },
      meta,
      input,
      persistedUpTo,
      reservedUpTo,
      taken.claim,
      taken.validUntil,
      readPositions,
    );
    this.live.set(meta.conversation_id, actor);
    return actor;
  }

  /** Drops an actor that stopped on its own (deleted elsewhere, or moved to another runtime). */
  private forget(actor: ConversationActor): void {
    if (this.live.get(actor.conversationId) === actor) this.live.delete(actor.conversationId);
    this.cancelIdle(actor.conversationId);
  }

  /** Passivation: an idle conversation's actor stops after idle_timeout_s and is rebuilt on next use. */
  private scheduleIdle(actor: ConversationActor): void {
    if (this.closing || this.idleTimers.has(actor.conversationId)) return;
    const timer = unrefTimer(
      this.deps.clock.setTimeout(() => {
        this.idleTimers.delete(actor.conversationId);
        if (this.live.get(actor.conversationId) !== actor) return;
        if (!actor.isIdle) {
          // Busy only with its input window or a restart: nothing may call back once that work is done (an agent
          // that declines writes nothing), so look again later instead of staying live for good.
          if (actor.waitingWithoutWork && actor.connectionCount === 0) this.scheduleIdle(actor);
          return;
        }
        const release = this.handBack(actor).finally(() => this.releasing.delete(actor.conversationId));
        this.releasing.set(actor.conversationId, release);
        actor.stop('removed');
        this.live.delete(actor.conversationId);
        this.deps.telemetry.actorPassivated();
      }, this.deps.config.chat.supervision.idle_timeout_s * 1000),
    );
    this.idleTimers.set(actor.conversationId, timer);
  }

  /**
   * What a clean stop (passivation, shutdown) writes before the claim goes, then the claim: the read positions, so a
   * reload (here or on another server) reads them, and the unused reserved ids, so the next load marks none lost.
   */
  private handBack(actor: ConversationActor): Promise<void> {
    return Promise.all([actor.saveReadPositions(), actor.saveOfferMarks(), actor.releaseReservation()]).then(() =>
      this.claims.release(actor.conversationId, actor.claim),
    );
  }

  private cancelIdle(conversationId: string): void {
    const t = this.idleTimers.get(conversationId);
    if (t === undefined) return;
    this.deps.clock.clearTimeout(t);
    this.idleTimers.delete(conversationId);
  }

  /** Retention: conversations older than chat.security.retention_days are deleted everywhere. */
  private scheduleSweep(): void {
    const { retention_days, sweep_interval_s } = this.deps.config.chat.security;
    if (retention_days <= 0 || this.closing) return;
    this.sweepTimer = unrefTimer(
      this.deps.clock.setTimeout(() => {
        void this.sweepRetention().finally(() => this.scheduleSweep());
      }, sweep_interval_s * 1000),
    );
  }

  /** Deletes every conversation created before the retention horizon; returns their ids. */
  async sweepRetention(): Promise<string[]> {
    const days = this.deps.config.chat.security.retention_days;
    if (days <= 0) return [];
    const horizon = new Date(this.deps.clock.now() - days * 86_400_000).toISOString();
    const expired = await this.deps.store.listConversationsCreatedBefore(horizon);
    for (const id of expired) {
      this.live.get(id)?.stop('deleted');
      this.live.delete(id);
      await this.deps.store.deleteConversation(id);
    }
    if (expired.length > 0) this.deps.logger.info({ count: expired.length }, 'retention sweep deleted conversations');
    return expired;
  }

  private summarize(actor: ConversationActor): ConversationSummary {
    return {
      ...actor.meta,
      participants: actor.participants,
      mode: actor.mode,
      last_sequence_id: actor.lastSequenceId,
      online: actor.online,
    };
  }

  private assertOpen(): void {
    if (this.closing) throw new ChatError('CHAT_ERR_CLOSED');
  }
}

export type { Agent };
