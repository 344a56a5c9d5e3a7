import { ChatError } from '../actors/errors';
import type { ChatMessage, ConversationMeta, Participant, ParticipantType } from '../actors/message-types';
import type { ClaimRequest, ClaimResult, ConversationClaim } from './conversation-claims';
import {
  MAX_ACTIVITY_PAGE,
  PREVIEW_SCAN,
  activityKeyOf,
  activityOf,
  compareActivity,
  type ActivityKey,
  type ConversationActivity,
} from './conversation-activity';
import { isUnreadFor, MAX_UNREAD_COUNT, type UnreadRange } from './read-positions';
import { idProblem, recordFieldsProblem, storableValueProblem } from './record-rules';

/** Options of listConversationsForUser. */
export interface ListForUserOptions {
  /** Also conversations the user has left. */
  readonly includeLeft?: boolean;
  /** Only conversations where the id is a participant of this type. */
  readonly participantType?: ParticipantType;
}

/** Options of listConversationActivity: the member filter of listConversationsForUser, and a page. */
export interface ActivityPageOptions extends ListForUserOptions {
  /** Only conversations ranking after this one (compareActivity), for the next page. */
  readonly after?: ActivityKey;
  /** At most this many (1..MAX_ACTIVITY_PAGE). */
  readonly limit: number;
}

/** listConversationsForUser's options as the providers get them: validated, defaults applied. */
export interface MemberFilter {
  readonly includeLeft: boolean;
  readonly participantType: ParticipantType | undefined;
}

/** What a backend can do; the contract suite switches test groups on it. */
export interface StoreCapabilities {
  /** Data survives close() + reopen of a new instance on the same location. */
  readonly durable: boolean;
  /** Several processes/instances may write the same database concurrently. */
  readonly sharedAcrossProcesses: boolean;
  /**
   * Stores a per-conversation sequence reservation (get/setSequenceReservation), so that after a crash
   * the runtime knows which ids it may have handed out without storing them. Without it the runtime
   * cannot protect those ids from reuse after a crash.
   */
  readonly sequenceReservation?: boolean;
  /**
   * Keeps conversation claims (claimConversation, renewClaims, releaseClaim) and fences journal writes
   * with them (storage-providers/conversation-claims.ts): two runtimes on one store never both sequence a
   * conversation. Without it every claim succeeds with epoch 0 and nothing is fenced.
   */
  readonly claims?: boolean;
  /**
   * Holds at most this many records per conversation: past it the oldest are dropped, and a read of
   * the dropped range starts at the oldest record held (first sequence id above after + 1);
   * droppedUpTo() says how far. Absent or 0: every record is kept while the conversation exists.
   */
  readonly maxRecordsPerConversation?: number;
  /**
   * Holds at most this many records across all conversations: past it the oldest records of the
   * conversations appended to least recently are dropped, read as above. Absent or 0: no total bound.
   */
  readonly maxRecordsTotal?: number;
  /**
   * Keeps each member's read position (get/saveReadPositions, getReadPositionsOf): how far it has read survives a
   * restart. Without it the base class keeps nothing (reads answer none, saves are dropped) and the runtime keeps
   * positions only while the conversation is live (docs/storage.md, Read positions).
   */
  readonly readPositions?: boolean;
  /**
   * Lowers stored read positions above a conversation's end (lowerReadPositions): the repair of a journal loss, the
   * one write that lowers a position. Without it (a provider written before it) lowerReadPositions does nothing and
   * the runtime takes such a position down in memory only, as it did before (docs/storage.md, Read positions).
   */
  readonly lowerReadPositions?: boolean;
  /**
   * Replaces one stored record's content in place (replaceMessageContent): what members' edits and deletes of their
   * own messages need. Without it replaceMessageContent refuses with STORAGE_ERR_UNSUPPORTED, and so do those edits
   * and deletes (the owner's redaction, redactMessages, needs nothing more).
   */
  readonly replaceContent?: boolean;
}

/** Which messages a redaction applies to. */
export type RedactionTarget = { readonly messageIds: readonly string[] } | { readonly senderId: string };

export const REDACTION_MARKER = '[redacted]';

/**
 * What redactMessages found: the matching records it redacted now, and those that were redacted already (left as
 * they are: a redaction is final). Both ascending; a record is in one of them at most.
 */
export interface RedactionResult {
  readonly redacted: number[];
  readonly alreadyRedacted: number[];
}

/** What replaceMessageContent writes: whose record it must be, its new content, the metadata keys to set. */
export interface ContentReplacement {
  /** The record's sender: a record of anyone else is left alone. */
  readonly senderId: string;
  readonly content: string;
  /** Keys set on the record's metadata (the others are kept): e.g. `edited`, or `redacted` for a delete. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * The journal store every provider implements. Public methods validate arguments and the
 * open/closed state, then call the provider's protected `_methods` (abstract-level's pattern),
 * so every backend rejects bad input with the same coded errors.
 *
 * The actor owns the sequence counter; the store only checks it: appending a sequence id that is
 * already stored is STORAGE_ERR_DUPLICATE_SEQUENCE, one that skips ahead is STORAGE_ERR_SEQUENCE_GAP,
 * a second (sender_id, message_id) is STORAGE_ERR_DUPLICATE_MESSAGE. A failing batch stores nothing.
 */
export abstract class ChatStore {
  abstract readonly name: string;
  abstract readonly supports: StoreCapabilities;
  private state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  /** The running open attempt: concurrent open() calls share it, close() waits for it. */
  private opening: Promise<void> | undefined;

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Connects and migrates. Idempotent; concurrent calls share one attempt; a failed attempt may be retried. */
  open(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new ChatError('STORAGE_ERR_NOT_OPEN', `${this.name} store was closed`));
    if (this.opening) return this.opening;
    this.state = 'opening';
    const attempt = (async () => {
      try {
        await this._open();
      } catch (err) {
        if (this.state === 'opening') this.state = 'new';
        throw err;
      } finally {
        this.opening = undefined;
      }
      if (this.state === 'closed') {
        // close() was called while opening: release what was just opened.
        await this._close();
        throw new ChatError('STORAGE_ERR_NOT_OPEN', `${this.name} store was closed while opening`);
      }
      this.state = 'open';
    })();
    this.opening = attempt;
    return attempt;
  }

  /** Refuses new calls at once, then waits for running ones (and a running open) to finish. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    const opening = this.opening;
    this.state = 'closed';
    if (wasOpen) await this._close();
    else if (opening) await opening.catch(() => undefined);
  }

  /** Reachability check for readiness probes; resolves when the backend answers. */
  async ping(): Promise<void> {
    this.assertOpen();
    await this._ping();
  }

  async createConversation(meta: ConversationMeta, participants: readonly Participant[] = []): Promise<void> {
    this.assertOpen();
    requireId(meta.conversation_id, 'conversation_id');
    await this._createConversation(meta, participants);
  }

  async getConversation(conversationId: string): Promise<ConversationMeta | undefined> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    return this._getConversation(conversationId);
  }

  async updateConversationStatus(conversationId: string, status: ConversationMeta['status']): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    await this._updateConversationStatus(conversationId, status);
  }

  /**
   * Conversations in which the user is (or was, when includeLeft) a participant, newest first; with
   * participantType, only those where that id is a participant of that type (the gateway lists a caller's
   * conversations as a human: an id that is also an agent's must not list the agent's conversations).
   */
  async listConversationsForUser(userId: string, options: ListForUserOptions = {}): Promise<ConversationMeta[]> {
    this.assertOpen();
    requireId(userId, 'userId');
    const type = options.participantType;
    if (type !== undefined && type !== 'human' && type !== 'ai') {
      throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'participantType must be "human" or "ai"');
    }
    return this._listConversationsForUser(userId, { includeLeft: options.includeLeft ?? false, participantType: type });
  }

  /**
   * The user's conversations by last activity (compareActivity: latest record's timestamp, else created_at,
   * most recent first), after `options.after`, at most `options.limit`, each with its last sequence id and
   * preview record (conversation-activity.ts). Same member filter as listConversationsForUser.
   */
  async listConversationActivity(userId: string, options: ActivityPageOptions): Promise<ConversationActivity[]> {
    this.assertOpen();
    requireId(userId, 'userId');
    const type = options?.participantType;
    if (type !== undefined && type !== 'human' && type !== 'ai') {
      throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'participantType must be "human" or "ai"');
    }
    requireCount(options.limit, 'limit', 1);
    if (options.limit > MAX_ACTIVITY_PAGE) {
      throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `limit must be at most ${MAX_ACTIVITY_PAGE}`);
    }
    const after = options.after;
    if (after !== undefined) {
      if (typeof after?.activityAt !== 'string' || after.activityAt.length > 64) {
        throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'after.activityAt must be a string of at most 64 characters');
      }
      requireId(after.conversationId, 'after.conversationId');
    }
    const filter = { includeLeft: options.includeLeft ?? false, participantType: type };
    return this._listConversationActivity(userId, filter, after, options.limit);
  }

  /** Conversations created before `isoTime` (for the retention sweeper). */
  async listConversationsCreatedBefore(isoTime: string): Promise<string[]> {
    this.assertOpen();
    const ms = typeof isoTime === 'string' ? Date.parse(isoTime) : NaN;
    if (Number.isNaN(ms)) throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'isoTime must be an ISO-8601 time');
    // Stored created_at values are toISOString() text, so compare against the same canonical form.
    return this._listConversationsCreatedBefore(new Date(ms).toISOString());
  }

  async deleteConversation(conversationId: string): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    await this._deleteConversation(conversationId);
  }

  /** Current members (participants who joined and have not left). */
  async getParticipants(conversationId: string): Promise<Participant[]> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    return this._getParticipants(conversationId);
  }

  /**
   * Current members of each conversation named, in one call (a list page's, actors/page-members.ts); a conversation
   * without members, or unknown, maps to []. PostgreSQL answers in one round trip; the local stores read each.
   */
  async getParticipantsOf(conversationIds: readonly string[]): Promise<Map<string, Participant[]>> {
    this.assertOpen();
    // A list page whose conversations are all live needs no read (PostgreSQL would still run the query).
    if (conversationIds.length === 0) return new Map();
    for (const id of conversationIds) requireId(id, 'conversationId');
    const found = await this._getParticipantsOf([...new Set(conversationIds)]);
    return new Map(conversationIds.map((id) => [id, found.get(id) ?? []]));
  }

  /** One read per conversation, unless a provider has a batched query. */
  protected async _getParticipantsOf(conversationIds: readonly string[]): Promise<Map<string, Participant[]>> {
    const found = new Map<string, Participant[]>();
    for (const id of conversationIds) found.set(id, await this._getParticipants(id));
    return found;
  }

  async putParticipant(conversationId: string, participant: Participant): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireId(participant.participant_id, 'participant_id');
    await this._putParticipant(conversationId, participant);
  }

  async removeParticipant(conversationId: string, participantId: string): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    await this._removeParticipant(conversationId, participantId);
  }

  /**
   * Appends a batch of consecutive records of one conversation, atomically.
   * messages[0].sequence_id must be lastSequenceId + 1 and the batch contiguous.
   * `fence`: the claim the writer sequenced under; a store with `supports.claims` refuses the batch
   * (STORAGE_ERR_FENCED, nothing stored) when the conversation was claimed again since (epoch 0: no check).
   */
  async appendMessages(conversationId: string, messages: readonly ChatMessage[], fence?: ConversationClaim): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    if (messages.length === 0) return;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const problem = recordFieldsProblem(m, conversationId);
      if (problem !== undefined) throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', problem);
      if (i > 0 && m.sequence_id !== messages[i - 1].sequence_id + 1) {
        throw new ChatError('STORAGE_ERR_SEQUENCE_GAP', `batch is not contiguous at ${m.sequence_id}`);
      }
    }
    await this._appendMessages(conversationId, messages, fenceEpoch(fence));
  }

  /**
   * Up to `limit` records with sequence_id > afterSequenceId, in order. Contiguous, except that a store
   * with `supports.maxRecordsPerConversation` starts at its oldest record held when older ones were dropped
   * (`droppedUpTo` says how far).
   */
  async readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireCount(afterSequenceId, 'afterSequenceId', 0);
    requireCount(limit, 'limit', 1);
    return this._readMessages(conversationId, afterSequenceId, limit);
  }

  /** The last `limit` records, in order (for rebuilding an actor's cache). */
  async readLatestMessages(conversationId: string, limit: number): Promise<ChatMessage[]> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireCount(limit, 'limit', 1);
    return this._readLatestMessages(conversationId, limit);
  }

  /**
   * The last sequence id of the conversation this store dropped on purpose (its record bounds): ids up
   * to it are gone by design. 0 when it dropped none, or keeps every record. Readers compare it with a
   * gap at the start of a read: a gap it does not cover is a hole in the journal (damage), not a trim.
   */
  async droppedUpTo(conversationId: string): Promise<number> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    return this._droppedUpTo(conversationId);
  }

  /** 0 when the conversation has no records. */
  async lastSequenceId(conversationId: string): Promise<number> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    return this._lastSequenceId(conversationId);
  }

  /** The sequence id a (sender, message_id) was stored under, for idempotent retries. */
  async findSequenceByMessageId(conversationId: string, senderId: string, messageId: string): Promise<number | undefined> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    return this._findSequenceByMessageId(conversationId, senderId, messageId);
  }

  /**
   * The highest sequence id the conversation's actor may hand out (0 when none was set). The actor
   * reserves ids ahead of use; after a crash, ids between the last stored record and the reservation
   * may have been delivered without being stored, so they are never handed out again.
   */
  async getSequenceReservation(conversationId: string): Promise<number> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    return this._getSequenceReservation(conversationId);
  }

  /** Sets the reservation (raised ahead of use; lowered to the last stored id on a clean stop). Fenced as appendMessages. */
  async setSequenceReservation(conversationId: string, upTo: number, fence?: ConversationClaim): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireCount(upTo, 'upTo', 0);
    await this._setSequenceReservation(conversationId, upTo, fenceEpoch(fence));
  }

  /**
   * Claims the conversation for `request.ownerId` unless another runtime holds an unexpired claim
   * (then says who). Every successful claim raises the epoch, fencing off writes made under older claims.
   * An unknown conversation, or a store without `supports.claims`, is claimed with epoch 0 (nothing fenced).
   */
  async claimConversation(conversationId: string, request: ClaimRequest): Promise<ClaimResult> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireId(request?.ownerId, 'ownerId');
    requireCount(request.ttlMs, 'ttlMs', 0);
    if (request.address !== undefined && (typeof request.address !== 'string' || request.address.length > 1024)) {
      throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'address must be a string of at most 1024 characters');
    }
    if (!this.supports.claims) return { claimed: true, claim: { ownerId: request.ownerId, epoch: 0 } };
    return this._claimConversation(conversationId, request);
  }

  /**
   * Extends every claim `ownerId` holds by `ttlMs` from now, expired ones included as long as nobody
   * took them over. Returns conversation id -> epoch of each claim still held: a claim the caller thinks
   * it holds and that is missing (or has another epoch) was taken over.
   */
  async renewClaims(ownerId: string, ttlMs: number): Promise<Map<string, number>> {
    this.assertOpen();
    requireId(ownerId, 'ownerId');
    requireCount(ttlMs, 'ttlMs', 0);
    if (!this.supports.claims) return new Map();
    return this._renewClaims(ownerId, ttlMs);
  }

  /** Gives the claim up (a clean stop) so another runtime may claim at once; a no-op when it was taken over. */
  async releaseClaim(conversationId: string, claim: ConversationClaim): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireId(claim?.ownerId, 'ownerId');
    requireCount(claim.epoch, 'epoch', 0);
    if (!this.supports.claims || claim.epoch === 0) return;
    await this._releaseClaim(conversationId, claim);
  }

  /**
   * The stored read positions of the conversation's members (participant id -> the highest sequence id it has read),
   * former members included; an unknown conversation, or a store without `supports.readPositions`, answers none.
   */
  async getReadPositions(conversationId: string): Promise<Map<string, number>> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    return this._getReadPositions(conversationId);
  }

  /** One participant's stored read position in each conversation named (a list page's); none stored: left out. */
  async getReadPositionsOf(participantId: string, conversationIds: readonly string[]): Promise<Map<string, number>> {
    this.assertOpen();
    requireId(participantId, 'participantId');
    if (conversationIds.length === 0) return new Map();
    for (const id of conversationIds) requireId(id, 'conversationId');
    return this._getReadPositionsOf(participantId, [...new Set(conversationIds)]);
  }

  /**
   * Raises the stored read positions (participant id -> sequence id): a position is never lowered (a lower or equal
   * value changes nothing), so writes from two runtimes, or arriving out of order, keep the highest. Positions of ids
   * that are not (and never were) participants of the conversation, and of unknown conversations, are not kept.
   * Not fenced: a raise is true whoever writes it. No-op without `supports.readPositions`.
   */
  async saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    for (const [participantId, sequenceId] of positions) {
      requireId(participantId, 'participantId');
      requireCount(sequenceId, 'read position', 0);
    }
    if (positions.size === 0) return;
    await this._saveReadPositions(conversationId, positions);
  }

  /**
   * Takes every stored read position of the conversation above `upTo` down to `upTo` (0: as if none was saved) and
   * answers how many it lowered; positions at or below it are left alone. The runtime calls it when it loads a
   * conversation whose journal ends below a kept position (records lost: ReadPositions), with the end it loaded, so
   * that the store no longer says the member read ids that new records will take. Not fenced, like a raise: it runs
   * right after the loader claimed the conversation, and a position above what the store's journal and reservation
   * hold is wrong whoever finds it. No-op (0) without `supports.readPositions` and `supports.lowerReadPositions`.
   */
  async lowerReadPositions(conversationId: string, upTo: number): Promise<number> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireCount(upTo, 'upTo', 0);
    if (!this.supports.readPositions || !this.supports.lowerReadPositions) return 0;
    return this._lowerReadPositions(conversationId, upTo);
  }

  /**
   * How many records of each range are unread to `readerId` (read-positions.ts, isUnreadFor: `text` and
   * `nlweb_response` records someone else sent), counting at most `limit` per conversation (a count at `limit`
   * means at least that many). Conversation id -> count, every range's conversation present (0 when unknown).
   */
  async countUnread(readerId: string, ranges: readonly UnreadRange[], limit: number = MAX_UNREAD_COUNT): Promise<Map<string, number>> {
    this.assertOpen();
    requireId(readerId, 'readerId');
    requireCount(limit, 'limit', 1);
    if (limit > MAX_UNREAD_COUNT) throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `limit must be at most ${MAX_UNREAD_COUNT}`);
    const counted = new Map<string, number>();
    const asked: UnreadRange[] = [];
    for (const range of ranges) {
      requireId(range?.conversationId, 'conversationId');
      requireCount(range.after, 'after', 0);
      requireCount(range.upTo, 'upTo', 0);
      if (counted.has(range.conversationId)) {
        throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `conversation ${range.conversationId} is named twice`);
      }
      counted.set(range.conversationId, 0);
      if (range.upTo > range.after) asked.push(range);
    }
    if (asked.length === 0) return counted;
    for (const [id, n] of await this._countUnreadOf(readerId, asked, limit)) counted.set(id, Math.min(n, limit));
    return counted;
  }

  /**
   * Replaces content with REDACTION_MARKER and sets `metadata.redacted` (sequence ids intact) on the matching records
   * that are not redacted yet; those already redacted are left as they are and named apart (RedactionResult), so a
   * caller announces each redaction once. `fence`: as for appendMessages, checked atomically with the write (a store
   * with `supports.claims` refuses with STORAGE_ERR_FENCED, changing nothing, when the conversation was claimed again
   * since): a runtime that lost the conversation must not rewrite the new holder's records unannounced. `upTo`: the
   * last sequence id the redaction covers (absent: all); a record sequenced after it is neither redacted nor named, so
   * the runtime's redaction takes what had been sent when it was asked, never a post that arrived after the request.
   */
  async redactMessages(
    conversationId: string,
    target: RedactionTarget,
    fence?: ConversationClaim,
    upTo?: number,
  ): Promise<RedactionResult> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    if (upTo !== undefined) requireCount(upTo, 'upTo', 0);
    const valid =
      target !== null && typeof target === 'object' && 'messageIds' in target
        ? Array.isArray(target.messageIds) && target.messageIds.every((id) => typeof id === 'string')
        : typeof (target as { senderId?: unknown } | null)?.senderId === 'string';
    if (!valid) throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'redaction target needs messageIds[] or senderId');
    return this._redactMessages(conversationId, target, fenceEpoch(fence), upTo);
  }

  /**
   * Replaces the content of record `sequenceId` and sets the keys of `replacement.metadata` on its metadata, when that
   * record is held, was sent by `replacement.senderId` and is not redacted (`metadata.redacted`: a redaction is final).
   * Returns the record as stored now, or undefined when no record matched (nothing changed). Sequence id, message id,
   * sender, type and timestamp never change. Needs `supports.replaceContent` (else STORAGE_ERR_UNSUPPORTED). `fence`:
   * as for redactMessages (STORAGE_ERR_FENCED, nothing changed).
   */
  async replaceMessageContent(
    conversationId: string,
    sequenceId: number,
    replacement: ContentReplacement,
    fence?: ConversationClaim,
  ): Promise<ChatMessage | undefined> {
    this.assertOpen();
    requireId(conversationId, 'conversationId');
    requireCount(sequenceId, 'sequenceId', 1);
    requireId(replacement?.senderId, 'senderId');
    if (typeof replacement.content !== 'string') throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'content must be a string');
    const problem = storableValueProblem(replacement.content, 'content') ?? storableValueProblem(replacement.metadata, 'metadata');
    if (problem !== undefined) throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', problem);
    if (replacement.metadata === null || typeof replacement.metadata !== 'object' || Array.isArray(replacement.metadata)) {
      throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'metadata must be an object');
    }
    if (!this.supports.replaceContent) {
      throw new ChatError('STORAGE_ERR_UNSUPPORTED', `the ${this.name} store cannot change a stored record (supports.replaceContent)`);
    }
    return this._replaceMessageContent(conversationId, sequenceId, replacement, fenceEpoch(fence));
  }

  /** Streams the whole journal in order, in pages, in constant memory (replay CLI, export). */
  async *streamMessages(conversationId: string, pageSize = 500): AsyncIterable<ChatMessage> {
    let after = 0;
    for (;;) {
      const page = await this.readMessages(conversationId, after, pageSize);
      for (const m of page) yield m;
      if (page.length < pageSize) return;
      after = page[page.length - 1].sequence_id;
    }
  }

  protected assertOpen(): void {
    if (this.state !== 'open') throw new ChatError('STORAGE_ERR_NOT_OPEN', `${this.name} store is not open`);
  }

  protected abstract _open(): Promise<void>;
  protected abstract _close(): Promise<void>;
  protected abstract _ping(): Promise<void>;
  protected abstract _createConversation(meta: ConversationMeta, participants: readonly Participant[]): Promise<void>;
  protected abstract _getConversation(conversationId: string): Promise<ConversationMeta | undefined>;
  protected abstract _updateConversationStatus(conversationId: string, status: ConversationMeta['status']): Promise<void>;
  protected abstract _listConversationsForUser(userId: string, filter: MemberFilter): Promise<ConversationMeta[]>;
  protected abstract _listConversationsCreatedBefore(isoTime: string): Promise<string[]>;
  /**
   * Works for any provider from _listConversationsForUser and one _readLatestMessages per conversation (in turn,
   * to spare a connection pool): O(conversations) reads per page. SQL providers override it with one query.
   */
  protected async _listConversationActivity(
    userId: string,
    filter: MemberFilter,
    after: ActivityKey | undefined,
    limit: number,
  ): Promise<ConversationActivity[]> {
    const entries: ConversationActivity[] = [];
    for (const meta of await this._listConversationsForUser(userId, filter)) {
      const entry = activityOf(meta, await this._readLatestMessages(meta.conversation_id, PREVIEW_SCAN));
      if (after === undefined || compareActivity(activityKeyOf(entry), after) > 0) entries.push(entry);
    }
    return entries.sort((a, b) => compareActivity(activityKeyOf(a), activityKeyOf(b))).slice(0, limit);
  }
  protected abstract _deleteConversation(conversationId: string): Promise<void>;
  protected abstract _getParticipants(conversationId: string): Promise<Participant[]>;
  protected abstract _putParticipant(conversationId: string, participant: Participant): Promise<void>;
  protected abstract _removeParticipant(conversationId: string, participantId: string): Promise<void>;
  /** `fenceEpoch`: refuse with STORAGE_ERR_FENCED unless the stored epoch equals it (undefined: no check). */
  protected abstract _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void>;
  protected abstract _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]>;
  protected abstract _readLatestMessages(conversationId: string, limit: number): Promise<ChatMessage[]>;
  protected abstract _lastSequenceId(conversationId: string): Promise<number>;
  protected abstract _findSequenceByMessageId(conversationId: string, senderId: string, messageId: string): Promise<number | undefined>;
  /** Providers that keep every record (no `maxRecordsPerConversation` / `maxRecordsTotal`) drop nothing. */
  protected async _droppedUpTo(_conversationId: string): Promise<number> {
    return 0;
  }
  /** Providers without `supports.sequenceReservation` keep these defaults (nothing is stored). */
  protected async _getSequenceReservation(_conversationId: string): Promise<number> {
    return 0;
  }
  protected async _setSequenceReservation(_conversationId: string, _upTo: number, _fenceEpoch?: number): Promise<void> {}
  /** Providers with `supports.claims` implement these three (decideClaim is the rule). */
  protected _claimConversation(_conversationId: string, _request: ClaimRequest): Promise<ClaimResult> {
    return Promise.reject(new ChatError('STORAGE_ERR_UNAVAILABLE', `${this.name} store keeps no claims`));
  }
  protected async _renewClaims(_ownerId: string, _ttlMs: number): Promise<Map<string, number>> {
    return new Map();
  }
  protected async _releaseClaim(_conversationId: string, _claim: ConversationClaim): Promise<void> {}
  /** Providers without `supports.readPositions` keep these defaults (nothing is stored). */
  protected async _getReadPositions(_conversationId: string): Promise<Map<string, number>> {
    return new Map();
  }
  /** One read per conversation, unless a provider has a batched query. */
  protected async _getReadPositionsOf(participantId: string, conversationIds: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const id of conversationIds) {
      const position = (await this._getReadPositions(id)).get(participantId);
      if (position !== undefined) found.set(id, position);
    }
    return found;
  }
  protected async _saveReadPositions(_conversationId: string, _positions: ReadonlyMap<string, number>): Promise<void> {}
  /** Providers with `supports.lowerReadPositions` implement it: one write (a statement, a script) for the conversation. */
  protected async _lowerReadPositions(_conversationId: string, _upTo: number): Promise<number> {
    return 0;
  }
  /** One count per range, unless a provider has a batched query. Ranges are non-empty and of distinct conversations. */
  protected async _countUnreadOf(readerId: string, ranges: readonly UnreadRange[], limit: number): Promise<Map<string, number>> {
    const counted = new Map<string, number>();
    for (const range of ranges) counted.set(range.conversationId, await this._countUnread(readerId, range, limit));
    return counted;
  }
  /**
   * Works for any provider (a custom one written before read positions too) from _readMessages, page by page, until
   * `limit` are counted or the range ends: O(records read). SQL providers count in the database.
   */
  protected async _countUnread(readerId: string, range: UnreadRange, limit: number): Promise<number> {
    let count = 0;
    let after = range.after;
    while (after < range.upTo && count < limit) {
      const page = await this._readMessages(range.conversationId, after, Math.min(UNREAD_SCAN_PAGE, range.upTo - after));
      for (const m of page) if (m.sequence_id <= range.upTo && isUnreadFor(readerId, m)) count++;
      if (page.length === 0) break;
      after = page[page.length - 1].sequence_id;
    }
    return count;
  }
  /**
   * `fenceEpoch` as for _appendMessages, checked in the same transaction (statement, script) as the write; an unknown
   * conversation is not refused (nothing matches). `upTo`: validated, absent for no bound; a record whose sequence id
   * is above it is left out (neither list).
   */
  protected abstract _redactMessages(
    conversationId: string,
    target: RedactionTarget,
    fenceEpoch?: number,
    upTo?: number,
  ): Promise<RedactionResult>;
  /** Providers with `supports.replaceContent` implement it (fenced as _redactMessages); the public method refuses before this default. */
  protected _replaceMessageContent(
    _conversationId: string,
    _sequenceId: number,
    _replacement: ContentReplacement,
    _fenceEpoch?: number,
  ): Promise<ChatMessage | undefined> {
    return Promise.reject(new ChatError('STORAGE_ERR_UNSUPPORTED', `the ${this.name} store cannot change a stored record`));
  }
}

/** Records read per page by the base class's unread count. */
const UNREAD_SCAN_PAGE = 500;

/** The epoch a write is fenced with: none for epoch-0 claims (stores without claims, unknown conversations). */
function fenceEpoch(fence: ConversationClaim | undefined): number | undefined {
  if (fence === undefined || fence.epoch === 0) return undefined;
  requireCount(fence.epoch, 'fence epoch', 1);
  return fence.epoch;
}

/** A fenced write's refusal (providers throw it). */
export function fencedError(conversationId: string, fenceEpoch: number, storedEpoch: number): ChatError {
  return new ChatError(
    'STORAGE_ERR_FENCED',
    `conversation ${conversationId} was claimed by another runtime (epoch ${storedEpoch}, this writer's ${fenceEpoch})`,
  );
}

function requireId(value: unknown, name: string): void {
  const problem = idProblem(value, name);
  if (problem !== undefined) throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', problem);
}

function requireCount(value: unknown, name: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `${name} must be an integer >= ${min}`);
  }
}
