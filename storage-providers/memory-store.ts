import { ChatError } from '../actors/errors';
import type { ChatMessage, ConversationMeta, Participant } from '../actors/message-types';
import {
  ChatStore,
  fencedError,
  REDACTION_MARKER,
  type ContentReplacement,
  type MemberFilter,
  type RedactionResult,
  type RedactionTarget,
  type StoreCapabilities,
} from './chat-store';
import { decideClaim, type ClaimRequest, type ClaimResult, type ConversationClaim, type StoredClaim } from './conversation-claims';
import {
  compareNewestFirst,
  compareOldestFirst,
  compareParticipants,
  copyJsonObject,
  isSealedRecord,
  makeMessage,
  makeMeta,
  makeParticipant,
  redactedMetadata,
  senderMessageKey,
} from './records';
import { MemoryJournal } from './memory-journal';
import { recordHeapBytes } from './record-heap-size';

interface MemberEntry {
  participant: Participant;
  left: boolean;
  /** The highest sequence id it has read (saveReadPositions; 0 until one is saved). Kept across a leave and a re-join. */
  readUpTo: number;
}

interface ConversationEntry {
  meta: ConversationMeta;
  members: Map<string, MemberEntry>;
  journal: MemoryJournal;
  /** Who may sequence it (two runtimes can share one MemoryStore object in one process). */
  claim: StoredClaim;
}

/** Settings of the memory provider (config: chat.storage.memory.*). */
export interface MemoryStoreOptions {
  /**
   * Records held per conversation; past it the oldest are dropped in bulk, down to 90 % of the bound
   * (default 0 = keep everything, what tests and benchmarks constructing the store directly get;
   * `createStore` passes chat.storage.memory.max_records_per_conversation, default 10,000).
   */
  readonly maxRecordsPerConversation?: number;
  /**
   * Records held across all conversations; past it the oldest records of the conversations appended to
   * least recently are dropped, down to 90 % of the bound (default 0 = no total bound; `createStore`
   * passes chat.storage.memory.max_records_total, default 1,000,000).
   */
  readonly maxRecordsTotal?: number;
  /**
   * Estimated heap bytes of the records held across all conversations (record-heap-size.ts); past it
   * records are dropped exactly as past maxRecordsTotal (the conversations appended to least recently
   * lose their oldest first, down to 90 % of the bound), so a few users posting maximum-size messages
   * cannot grow the process past what the record bound suggests (default 0 = no byte bound; `createStore`
   * passes chat.storage.memory.max_bytes_total, default 128 MiB).
   */
  readonly maxBytesTotal?: number;
  /**
   * Keep conversation claims (default false). Runtimes share a memory store only inside one process (tests
   * of several servers, or of a restart after a crash, where the crashed runtime's claims would otherwise
   * hold the conversations for the claim TTL).
   */
  readonly claims?: boolean;
  /** The clock claims expire on (epoch ms; default Date.now). */
  readonly now?: () => number;
}

/**
 * In-process, non-durable store for tests, development and single-process demos.
 * Every record is copied and frozen on the way in, so callers can neither mutate stored state
 * nor observe later changes; reads hand out the frozen records themselves (no copy needed).
 * Appends are O(batch), reads by sequence are direct array indexing.
 *
 * With bounds (MemoryStoreOptions), a conversation past its bound loses its oldest records in one move,
 * and past the total bound the conversations quiet longest lose theirs, so a long-running process
 * holds a bounded journal; a read of a dropped range starts at the oldest record held (a sequence id
 * above after + 1) and droppedUpTo() names the last id dropped, which the runtime reports as
 * `recovered: false` (actors/replay-reader.ts).
 */
export class MemoryStore extends ChatStore {
  readonly name = 'memory';
  readonly supports: StoreCapabilities;
  /** conversation id -> reserved sequence id (kept so a runtime restarted on the same store behaves as after a crash). */
  private reservations = new Map<string, number>();
  private conversations = new Map<string, ConversationEntry>();
  /** participant_id -> conversation ids it was ever a member of (for listConversationsForUser). */
  private byUser = new Map<string, Set<string>>();
  readonly #maxPerConversation: number;
  readonly #maxTotal: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  /** Records held across all conversations. */
  #held = 0;
  /** Their estimated heap bytes (kept only with a byte bound). */
  #heldBytes = 0;
  /**
   * With a total bound (records or bytes): conversations holding records, least recently appended to first (an append
   * moves its conversation to the end), so the total trim takes the records of the quietest ones.
   */
  readonly #byLastAppend = new Map<string, MemoryJournal>();

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.#maxPerConversation = boundOption(options.maxRecordsPerConversation, 'maxRecordsPerConversation');
    this.#maxTotal = boundOption(options.maxRecordsTotal, 'maxRecordsTotal');
    this.#maxBytes = boundOption(options.maxBytesTotal, 'maxBytesTotal');
    this.#now = options.now ?? Date.now;
    this.supports = Object.freeze({
      durable: false,
      sharedAcrossProcesses: false,
      sequenceReservation: true,
      claims: options.claims === true,
      readPositions: true,
      lowerReadPositions: true,
      replaceContent: true,
      maxRecordsPerConversation: this.#maxPerConversation,
      maxRecordsTotal: this.#maxTotal,
    });
  }

  /** Records held now across all conversations (what the bound limits; tests and operators read it). */
  get recordCount(): number {
    return this.#held;
  }

  /** Estimated heap bytes of the records held now (0 without a byte bound, which alone measures them). */
  get byteCount(): number {
    return this.#heldBytes;
  }

  /** The byte bound (0 = none). */
  get maxBytesTotal(): number {
    return this.#maxBytes;
  }

  protected async _open(): Promise<void> {}

  protected async _close(): Promise<void> {
    this.conversations.clear();
    this.byUser.clear();
    this.reservations.clear();
    this.#byLastAppend.clear();
    this.#held = 0;
    this.#heldBytes = 0;
  }

  protected async _ping(): Promise<void> {}

  protected async _createConversation(meta: ConversationMeta, participants: readonly Participant[]): Promise<void> {
    if (this.conversations.has(meta.conversation_id)) {
      throw new ChatError('CHAT_ERR_ALREADY_EXISTS', `conversation ${meta.conversation_id} already exists`);
    }
    const entry: ConversationEntry = {
      meta: makeMeta(meta, copyJsonObject(meta.settings, 'settings')),
      members: new Map(),
      journal: new MemoryJournal(this.#maxBytes > 0 ? recordHeapBytes : undefined),
      claim: { ownerId: undefined, epoch: 0, expiresAt: 0, address: undefined },
    };
    const copies = participants.map(makeParticipant);
    this.conversations.set(meta.conversation_id, entry);
    for (const p of copies) this.addMember(meta.conversation_id, entry, p);
  }

  protected async _getConversation(conversationId: string): Promise<ConversationMeta | undefined> {
    return this.conversations.get(conversationId)?.meta;
  }

  protected async _updateConversationStatus(conversationId: string, status: ConversationMeta['status']): Promise<void> {
    const entry = this.require(conversationId);
    entry.meta = Object.freeze({ ...entry.meta, status });
  }

  protected async _listConversationsForUser(userId: string, filter: MemberFilter): Promise<ConversationMeta[]> {
    const out: ConversationMeta[] = [];
    for (const id of this.byUser.get(userId) ?? []) {
      const entry = this.conversations.get(id);
      const member = entry?.members.get(userId);
      if (!entry || !member || (member.left && !filter.includeLeft)) continue;
      if (filter.participantType === undefined || member.participant.participant_type === filter.participantType) out.push(entry.meta);
    }
    return out.sort(compareNewestFirst);
  }

  protected async _listConversationsCreatedBefore(isoTime: string): Promise<string[]> {
    return [...this.conversations.values()]
      .filter((c) => c.meta.created_at < isoTime)
      .sort((a, b) => compareOldestFirst(a.meta, b.meta))
      .map((c) => c.meta.conversation_id);
  }

  protected async _deleteConversation(conversationId: string): Promise<void> {
    const entry = this.conversations.get(conversationId);
    if (!entry) return;
    for (const userId of entry.members.keys()) {
      const ids = this.byUser.get(userId);
      // An emptied set goes too: with retention on, users come and go and nothing else removes it.
      if (ids?.delete(conversationId) && ids.size === 0) this.byUser.delete(userId);
    }
    // The entry holds the only references to its records: deleting it frees them.
    this.#held -= entry.journal.size;
    this.#heldBytes -= entry.journal.bytes;
    this.#byLastAppend.delete(conversationId);
    this.conversations.delete(conversationId);
    this.reservations.delete(conversationId);
  }

  protected override async _getSequenceReservation(conversationId: string): Promise<number> {
    return this.reservations.get(conversationId) ?? 0;
  }

  protected override async _setSequenceReservation(conversationId: string, upTo: number, fenceEpoch?: number): Promise<void> {
    const entry = this.conversations.get(conversationId);
    if (!entry) return;
    this.checkFence(conversationId, entry, fenceEpoch);
    this.reservations.set(conversationId, upTo);
  }

  protected override async _claimConversation(conversationId: string, request: ClaimRequest): Promise<ClaimResult> {
    const entry = this.conversations.get(conversationId);
    if (!entry) return { claimed: true, claim: { ownerId: request.ownerId, epoch: 0 } };
    const { next, ...result } = decideClaim(entry.claim, request, this.#now());
    if (next) entry.claim = next;
    return result;
  }

  protected override async _renewClaims(ownerId: string, ttlMs: number): Promise<Map<string, number>> {
    const held = new Map<string, number>();
    const expiresAt = this.#now() + ttlMs;
    for (const [id, entry] of this.conversations) {
      if (entry.claim.ownerId !== ownerId) continue;
      entry.claim.expiresAt = expiresAt;
      held.set(id, entry.claim.epoch);
    }
    return held;
  }

  protected override async _releaseClaim(conversationId: string, claim: ConversationClaim): Promise<void> {
    const entry = this.conversations.get(conversationId);
    if (!entry || entry.claim.ownerId !== claim.ownerId || entry.claim.epoch !== claim.epoch) return;
    entry.claim = { ownerId: undefined, epoch: claim.epoch, expiresAt: 0, address: undefined };
  }

  private checkFence(conversationId: string, entry: ConversationEntry, fenceEpoch: number | undefined): void {
    if (fenceEpoch !== undefined && entry.claim.epoch !== fenceEpoch) throw fencedError(conversationId, fenceEpoch, entry.claim.epoch);
  }

  protected async _getParticipants(conversationId: string): Promise<Participant[]> {
    const entry = this.conversations.get(conversationId);
    if (!entry) return [];
    const out: Participant[] = [];
    for (const m of entry.members.values()) if (!m.left) out.push(m.participant);
    return out.sort(compareParticipants);
  }

  protected async _putParticipant(conversationId: string, participant: Participant): Promise<void> {
    this.addMember(conversationId, this.require(conversationId), makeParticipant(participant));
  }

  protected async _removeParticipant(conversationId: string, participantId: string): Promise<void> {
    const member = this.conversations.get(conversationId)?.members.get(participantId);
    if (member) member.left = true;
  }

  protected override async _getReadPositions(conversationId: string): Promise<Map<string, number>> {
    const positions = new Map<string, number>();
    for (const [id, m] of this.conversations.get(conversationId)?.members ?? []) if (m.readUpTo > 0) positions.set(id, m.readUpTo);
    return positions;
  }

  protected override async _saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
    const members = this.conversations.get(conversationId)?.members;
    if (!members) return;
    for (const [id, upTo] of positions) {
      const member = members.get(id);
      if (member && upTo > member.readUpTo) member.readUpTo = upTo;
    }
  }

  protected override async _lowerReadPositions(conversationId: string, upTo: number): Promise<number> {
    let lowered = 0;
    for (const member of this.conversations.get(conversationId)?.members.values() ?? []) {
      if (member.readUpTo <= upTo) continue;
      member.readUpTo = upTo;
      lowered++;
    }
    return lowered;
  }

  protected async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    const entry = this.require(conversationId);
    this.checkFence(conversationId, entry, fenceEpoch);
    const journal = entry.journal;
    const last = journal.lastSequenceId;
    const first = messages[0].sequence_id;
    if (first <= last) throw new ChatError('STORAGE_ERR_DUPLICATE_SEQUENCE', `sequence ${first} is already stored`);
    if (first !== last + 1) throw new ChatError('STORAGE_ERR_SEQUENCE_GAP', `expected sequence ${last + 1}, got ${first}`);
    // Validate and copy the whole batch before touching state: a failing batch stores nothing.
    // A batch repeating one of its own keys: a scan of the earlier records while the batch is small (the common
    // batch, a turn's posts, is a handful), a Set of joined keys beyond that.
    const keys = messages.length > SCAN_REPEATS_UP_TO ? new Set<string>() : undefined;
    // Only made once a record needs copying: a batch of sealed records (every post) is appended as it is.
    let copies: ChatMessage[] | undefined;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      let repeated = journal.find(m.sender_id, m.message_id) !== undefined;
      if (!repeated) repeated = keys === undefined ? repeatsEarlierRecord(messages, i) : addedBefore(keys, m);
      if (repeated) throw new ChatError('STORAGE_ERR_DUPLICATE_MESSAGE', `message ${m.message_id} of ${m.sender_id} already stored`);
      // A sealed record cannot change under us: keep it (most posts) instead of copying it.
      if (isSealedRecord(m)) copies?.push(m);
      else {
        copies ??= messages.slice(0, i);
        copies.push(makeMessage(m, copyJsonObject(m.metadata, 'metadata')));
      }
    }
    const bytesBefore = journal.bytes;
    journal.append(copies ?? messages);
    this.#held += messages.length;
    const max = this.#maxPerConversation;
    // Trimmed in bulk to 90 % of the bound: one O(held) move per max/10 appends, O(1) amortised.
    if (max > 0 && journal.size > max) this.#held -= journal.dropOldest(journal.size - ninetyPercent(max));
    this.#heldBytes += journal.bytes - bytesBefore;
    if (this.#maxTotal > 0 || this.#maxBytes > 0) {
      this.#byLastAppend.delete(conversationId);
      this.#byLastAppend.set(conversationId, journal);
      if (this.#overTotal()) this.trimTotal();
    }
  }

  #overTotal(): boolean {
    return (this.#maxTotal > 0 && this.#held > this.#maxTotal) || (this.#maxBytes > 0 && this.#heldBytes > this.#maxBytes);
  }

  /**
   * Drops records down to 90 % of the total bound that was passed (records, bytes, or both), oldest first
   * within each conversation, taking the conversations appended to least recently first: those emptied
   * leave the order, so each trim moves at most one conversation's remaining records (O(1) amortised per
   * append, like the per-conversation trim).
   */
  private trimTotal(): void {
    // Trimming to 90 % of a bound that was not passed would drop records nobody asked to drop.
    const recordTarget = this.#maxTotal > 0 && this.#held > this.#maxTotal ? ninetyPercent(this.#maxTotal) : Infinity;
    const byteTarget = this.#maxBytes > 0 && this.#heldBytes > this.#maxBytes ? ninetyPercent(this.#maxBytes) : Infinity;
    for (const [id, journal] of this.#byLastAppend) {
      if (this.#held <= recordTarget && this.#heldBytes <= byteTarget) return;
      const byRecords = Math.max(0, this.#held - recordTarget);
      const byBytes = this.#heldBytes > byteTarget ? journal.oldestHolding(this.#heldBytes - byteTarget) : 0;
      const bytesBefore = journal.bytes;
      this.#held -= journal.dropOldest(Math.max(byRecords, byBytes));
      this.#heldBytes -= bytesBefore - journal.bytes;
      if (journal.size === 0) this.#byLastAppend.delete(id);
    }
  }

  protected async _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    return this.conversations.get(conversationId)?.journal.read(afterSequenceId, limit) ?? [];
  }

  protected async _readLatestMessages(conversationId: string, limit: number): Promise<ChatMessage[]> {
    return this.conversations.get(conversationId)?.journal.latest(limit) ?? [];
  }

  protected override async _droppedUpTo(conversationId: string): Promise<number> {
    return this.conversations.get(conversationId)?.journal.droppedUpTo ?? 0;
  }

  protected async _lastSequenceId(conversationId: string): Promise<number> {
    return this.conversations.get(conversationId)?.journal.lastSequenceId ?? 0;
  }

  protected async _findSequenceByMessageId(conversationId: string, senderId: string, messageId: string): Promise<number | undefined> {
    return this.conversations.get(conversationId)?.journal.find(senderId, messageId);
  }

  protected async _redactMessages(
    conversationId: string,
    target: RedactionTarget,
    fenceEpoch?: number,
    upTo = Number.MAX_SAFE_INTEGER,
  ): Promise<RedactionResult> {
    const entry = this.conversations.get(conversationId);
    if (!entry) return { redacted: [], alreadyRedacted: [] };
    this.checkFence(conversationId, entry, fenceEpoch);
    const ids = 'messageIds' in target ? new Set(target.messageIds) : undefined;
    const sender = 'senderId' in target ? target.senderId : undefined;
    const alreadyRedacted: number[] = [];
    const bytesBefore = entry.journal.bytes;
    // The redacted records' sizes change (content replaced, metadata marked); the next append trims if that passed the bound.
    const redacted = entry.journal.replaceWhere((m) => {
      if (m.sequence_id > upTo || !(ids ? ids.has(m.message_id) : m.sender_id === sender)) return undefined;
      if (m.metadata.redacted === true) {
        alreadyRedacted.push(m.sequence_id);
        return undefined;
      }
      return Object.freeze({ ...m, content: REDACTION_MARKER, metadata: redactedMetadata(m.metadata) });
    });
    this.#heldBytes += entry.journal.bytes - bytesBefore;
    return { redacted, alreadyRedacted };
  }

  protected override async _replaceMessageContent(
    conversationId: string,
    sequenceId: number,
    replacement: ContentReplacement,
    fenceEpoch?: number,
  ): Promise<ChatMessage | undefined> {
    const entry = this.conversations.get(conversationId);
    if (!entry) return undefined;
    this.checkFence(conversationId, entry, fenceEpoch);
    const patch = copyJsonObject(replacement.metadata, 'metadata');
    const bytesBefore = entry.journal.bytes;
    // As for a redaction: the record's size changes, and the next append trims if that passed the bound.
    const changed = entry.journal.replaceOne(sequenceId, (m) =>
      m.sender_id === replacement.senderId && m.metadata.redacted !== true
        ? makeMessage({ ...m, content: replacement.content }, Object.freeze({ ...m.metadata, ...patch }))
        : undefined,
    );
    this.#heldBytes += entry.journal.bytes - bytesBefore;
    return changed;
  }

  private require(conversationId: string): ConversationEntry {
    const entry = this.conversations.get(conversationId);
    if (!entry) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
    return entry;
  }

  private addMember(conversationId: string, entry: ConversationEntry, participant: Participant): void {
    // A re-join keeps the read position, as the SQL stores' upsert keeps the column.
    const readUpTo = entry.members.get(participant.participant_id)?.readUpTo ?? 0;
    entry.members.set(participant.participant_id, { participant, left: false, readUpTo });
    let set = this.byUser.get(participant.participant_id);
    if (!set) this.byUser.set(participant.participant_id, (set = new Set()));
    set.add(conversationId);
  }
}

/** Batches up to this many records are checked for a repeated key by scanning, not with a Set of joined keys. */
const SCAN_REPEATS_UP_TO = 16;

/** Whether a record before `index` in the batch has the same sender and message id. */
function repeatsEarlierRecord(messages: readonly ChatMessage[], index: number): boolean {
  const { sender_id, message_id } = messages[index];
  for (let j = 0; j < index; j++) if (messages[j].message_id === message_id && messages[j].sender_id === sender_id) return true;
  return false;
}

/** Whether `keys` had the record's key already (adding it). */
function addedBefore(keys: Set<string>, m: ChatMessage): boolean {
  const key = senderMessageKey(m.sender_id, m.message_id);
  if (keys.has(key)) return true;
  keys.add(key);
  return false;
}

/** What a bound is trimmed down to: 90 % of it (at least 1), so trims come once per bound/10 appends. */
function ninetyPercent(bound: number): number {
  return bound - Math.floor(bound / 10);
}

/** A record or byte bound: a safe integer >= 0 (0 = unbounded). */
function boundOption(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `${name} must be an integer >= 0 (0 = unbounded), got ${String(value)}`);
  }
  return value;
}
