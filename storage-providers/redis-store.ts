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
import { activityOf, PREVIEW_SCAN, type ActivityKey, type ConversationActivity } from './conversation-activity';
import { decideClaim, type ClaimRequest, type ClaimResult, type ConversationClaim } from './conversation-claims';
import {
  compareNewestFirst,
  compareParticipants,
  makeMessage,
  makeMeta,
  makeParticipant,
  parseJsonObject,
  senderMessageKey,
  toJsonText,
} from './records';
import { LIST_ACTIVITY, LIST_INDEXED } from './redis-activity-scripts';
import { RedisConnection } from './redis-connection';
import { activityKeysOf, createdEntry, idOfCreatedEntry, redisKeys, type RedisKeys } from './redis-keys';
import { urlWithoutPasswords } from './url-passwords';
import { checkRedisSchema, redisDatabaseName } from './redis-schema';
import * as lua from './redis-scripts';
import type { SchemaMigrations, SchemaOpenMode } from './schema-version';
import { assertUrlScheme } from './url-scheme';
import { ACCEPTED_SCHEMES } from '../config/storage-url-checks';

/** Settings of the Redis provider (config: chat.storage.redis.*). */
export interface RedisStoreOptions {
  /** Connection URL, e.g. redis://user:password@host:6379/0 (rediss:// for TLS). */
  readonly url: string;
  /** Prefix of every key the store writes (default "nlweb-chat:"); deployments sharing one Redis each need their own. */
  readonly keyPrefix?: string;
  /** How long connecting may take before STORAGE_ERR_UNAVAILABLE (default 5000). */
  readonly connectTimeoutMs?: number;
  /** How long one operation may wait for Redis's answer before STORAGE_ERR_UNAVAILABLE (default 15000, 0 = unbounded). */
  readonly operationTimeoutMs?: number;
  /** CLIENT SETNAME of the connection (default "nlweb-chat"). */
  readonly connectionName?: string;
  /**
   * Read only (default false), for readers of a prefix a server owns (the replay CLI): open() writes nothing and
   * refuses a prefix at another layout version than this build's (or without one) with STORAGE_ERR_SCHEMA_VERSION;
   * every write is refused with STORAGE_ERR_UNAVAILABLE before it is sent.
   */
  readonly readOnly?: boolean;
  /**
   * 'apply' (default): a prefix without a layout version is marked as this build's at open. 'require_current': it
   * is refused (STORAGE_ERR_SCHEMA_VERSION), as is any other version; `nlweb-chat migrate` marks it.
   */
  readonly migrations?: SchemaMigrations;
}

export const DEFAULT_REDIS_KEY_PREFIX = 'nlweb-chat:';

const META_FIELDS = ['title', 'created_at', 'created_by', 'settings', 'status'] as const;

/**
 * Durable (as the Redis server is: docs/storage.md), shareable store on one Redis server, through ioredis. Every
 * write that checks before it writes is one Lua script (redis-scripts.ts), which Redis runs with nothing in between:
 * an append checks existence, the fence epoch, contiguity and uniqueness and stores the batch atomically, and a claim
 * applies decideClaim on Redis's clock. Several servers may share one prefix. close() waits for in-flight operations.
 */
export class RedisStore extends ChatStore {
  readonly name = 'redis';
  readonly supports: StoreCapabilities = Object.freeze({
    durable: true,
    sharedAcrossProcesses: true,
    sequenceReservation: true,
    claims: true,
    readPositions: true,
    lowerReadPositions: true,
    replaceContent: true,
  });
  private readonly keys: RedisKeys;
  private conn: RedisConnection | undefined;
  private versionFound: number | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    super();
    assertUrlScheme(options.url, ACCEPTED_SCHEMES.redis);
    const prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    if (typeof prefix !== 'string' || prefix.length === 0) {
      throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'keyPrefix must be a non-empty string');
    }
    this.keys = redisKeys(prefix);
  }

  /** The layout version the last successful open() found before it marked a fresh prefix (0: none). */
  get schemaVersionFound(): number | undefined {
    return this.versionFound;
  }

  protected async _open(): Promise<void> {
    const conn = new RedisConnection(this.options);
    const mode: SchemaOpenMode = this.options.readOnly
      ? 'read-only'
      : this.options.migrations === 'require_current'
        ? 'require-current'
        : 'migrating';
    try {
      await conn.connect();
      this.versionFound = await checkRedisSchema(
        conn,
        this.keys,
        redisDatabaseName(this.keys.prefix, urlWithoutPasswords(this.options.url, 'Redis')),
        mode,
      );
    } catch (err) {
      await conn.end().catch(() => undefined);
      throw err;
    }
    this.conn = conn;
  }

  protected async _close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.end();
  }

  protected async _ping(): Promise<void> {
    await this.db().run((c) => c.ping());
  }

  protected async _createConversation(meta: ConversationMeta, participants: readonly Participant[]): Promise<void> {
    const id = meta.conversation_id;
    const k = this.keys;
    const settings = toJsonText(meta.settings, 'settings');
    const byId = new Map(participants.map((p) => [p.participant_id, p]));
    const keys = [k.conversation(id), k.members(id), k.created, k.left(id), k.records(id), k.messageIds(id), k.readPositions(id)];
    const args = [id, createdEntry(meta.created_at, id), meta.title, meta.created_at, meta.created_by, settings, meta.status, k.prefix];
    for (const p of byId.values()) args.push(p.participant_id, participantJson(p));
    if ((await this.write(lua.CREATE, keys, args)) === 'exists') {
      throw new ChatError('CHAT_ERR_ALREADY_EXISTS', `conversation ${id} already exists`);
    }
  }

  protected async _getConversation(conversationId: string): Promise<ConversationMeta | undefined> {
    const values = await this.db().run((c) => c.hmget(this.keys.conversation(conversationId), ...META_FIELDS));
    return toMeta(conversationId, values);
  }

  protected async _updateConversationStatus(conversationId: string, status: ConversationMeta['status']): Promise<void> {
    if ((await this.write(lua.UPDATE_STATUS, [this.keys.conversation(conversationId)], [status])) === 'not_found') {
      throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
    }
  }

  /** One script: the filter's activity indexes (redis-activity-lua.ts) name the conversations, then one HMGET each. */
  protected async _listConversationsForUser(userId: string, filter: MemberFilter): Promise<ConversationMeta[]> {
    const found = (await this.db().script(LIST_INDEXED, activityKeysOf(this.keys, userId, filter), [this.keys.prefix])) as Array<
      [string, Array<string | null>]
    >;
    const metas: ConversationMeta[] = [];
    for (const [id, fields] of found) {
      const meta = toMeta(id, fields);
      if (meta !== undefined) metas.push(meta);
    }
    return metas.sort(compareNewestFirst);
  }

  /**
   * One script, O(limit) commands whatever the user's number of conversations: a range of each activity index the
   * filter names from `after`, merged, then each page entry's hash and last PREVIEW_SCAN records (redis-activity-scripts.ts).
   */
  protected override async _listConversationActivity(
    userId: string,
    filter: MemberFilter,
    after: ActivityKey | undefined,
    limit: number,
  ): Promise<ConversationActivity[]> {
    const args = [
      this.keys.prefix,
      String(limit),
      String(PREVIEW_SCAN),
      after ? '1' : '',
      after?.activityAt ?? '',
      after?.conversationId ?? '',
    ];
    const page = (await this.db().script(LIST_ACTIVITY, activityKeysOf(this.keys, userId, filter), args)) as Array<
      [string, Array<string | null>, Array<string | null>]
    >;
    const out: ConversationActivity[] = [];
    for (const [id, fields, latest] of page) {
      const meta = toMeta(id, fields);
      if (meta === undefined) continue;
      const last = Number(fields[5] ?? 0);
      const activityAt = last > 0 ? (fields[6] ?? meta.created_at) : meta.created_at;
      out.push({ meta, lastSequenceId: last, activityAt, preview: activityOf(meta, parseRecords(latest)).preview });
    }
    return out;
  }

  protected async _listConversationsCreatedBefore(isoTime: string): Promise<string[]> {
    // Entries sort as created_at, NUL, id: those below isoTime are exactly the ones created before it.
    const entries = await this.db().run((c) => c.zrangebylex(this.keys.created, '-', `(${isoTime}`));
    return entries.map(idOfCreatedEntry);
  }

  protected async _deleteConversation(conversationId: string): Promise<void> {
    const k = this.keys;
    const id = conversationId;
    const keys = [k.conversation(id), k.records(id), k.messageIds(id), k.members(id), k.left(id), k.readPositions(id), k.created];
    await this.write(lua.DELETE, keys, [k.prefix, id]);
  }

  protected async _getParticipants(conversationId: string): Promise<Participant[]> {
    return (await this._getParticipantsOf([conversationId])).get(conversationId) ?? [];
  }

  /** One round trip for every conversation of a list page. */
  protected override async _getParticipantsOf(conversationIds: readonly string[]): Promise<Map<string, Participant[]>> {
    const replies = await this.db().pipeline((p) => {
      for (const id of conversationIds) p.hgetall(this.keys.members(id)).smembers(this.keys.left(id));
    });
    const found = new Map<string, Participant[]>();
    conversationIds.forEach((id, i) => {
      const left = new Set(replies[2 * i + 1] as string[]);
      const members = Object.entries(replies[2 * i] as Record<string, string>)
        .filter(([pid]) => !left.has(pid))
        .map(([, json]) => makeParticipant(JSON.parse(json) as Participant));
      found.set(id, members.sort(compareParticipants));
    });
    return found;
  }

  protected async _putParticipant(conversationId: string, participant: Participant): Promise<void> {
    const k = this.keys;
    const pid = participant.participant_id;
    const keys = [k.conversation(conversationId), k.members(conversationId), k.left(conversationId)];
    const args = [conversationId, pid, participantJson(participant), k.prefix];
    if ((await this.write(lua.PUT_PARTICIPANT, keys, args)) === 'not_found') {
      throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
    }
  }

  protected async _removeParticipant(conversationId: string, participantId: string): Promise<void> {
    const k = this.keys;
    const keys = [k.members(conversationId), k.left(conversationId), k.conversation(conversationId)];
    await this.write(lua.REMOVE_PARTICIPANT, keys, [participantId, k.prefix, conversationId]);
  }

  protected async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    const args: string[] = [
      fenceEpoch === undefined ? '' : String(fenceEpoch),
      String(messages[0].sequence_id),
      messages[messages.length - 1].timestamp,
      this.keys.prefix,
      conversationId,
    ];
    for (const m of messages) args.push(senderMessageKey(m.sender_id, m.message_id), recordJson(m));
    const k = this.keys;
    const keys = [k.conversation(conversationId), k.records(conversationId), k.messageIds(conversationId)];
    const [status, detail] = (await this.write(lua.APPEND, keys, args)) as [string, string | undefined];
    const first = messages[0].sequence_id;
    switch (status) {
      case 'ok':
        return;
      case 'not_found':
        throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
      case 'fenced':
        throw fencedError(conversationId, fenceEpoch!, Number(detail));
      case 'duplicate_sequence':
        throw new ChatError('STORAGE_ERR_DUPLICATE_SEQUENCE', `sequence ${first} is already stored`);
      case 'sequence_gap':
        throw new ChatError('STORAGE_ERR_SEQUENCE_GAP', `expected sequence ${Number(detail) + 1}, got ${first}`);
      case 'duplicate_message': {
        const [sender, messageId] = String(detail).split('\u0000');
        throw new ChatError('STORAGE_ERR_DUPLICATE_MESSAGE', `message ${messageId} of ${sender} already stored`);
      }
      default:
        throw new ChatError('STORAGE_ERR_UNAVAILABLE', `unexpected answer of the append script: ${String(status)}`);
    }
  }

  protected async _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    return this.readRange(conversationId, afterSequenceId, limit, 'after');
  }

  protected async _readLatestMessages(conversationId: string, limit: number): Promise<ChatMessage[]> {
    return this.readRange(conversationId, 0, limit, 'latest');
  }

  protected async _lastSequenceId(conversationId: string): Promise<number> {
    return Number((await this.db().run((c) => c.hget(this.keys.conversation(conversationId), 'last'))) ?? 0);
  }

  protected async _findSequenceByMessageId(conversationId: string, senderId: string, messageId: string): Promise<number | undefined> {
    const seq = await this.db().run((c) => c.hget(this.keys.messageIds(conversationId), senderMessageKey(senderId, messageId)));
    return seq === null ? undefined : Number(seq);
  }

  protected override async _getSequenceReservation(conversationId: string): Promise<number> {
    return Number((await this.db().run((c) => c.hget(this.keys.conversation(conversationId), 'reservation'))) ?? 0);
  }

  protected override async _setSequenceReservation(conversationId: string, upTo: number, fenceEpoch?: number): Promise<void> {
    const args = [String(upTo), fenceEpoch === undefined ? '' : String(fenceEpoch)];
    const [status, epoch] = (await this.write(lua.SET_RESERVATION, [this.keys.conversation(conversationId)], args)) as [string, string?];
    if (status === 'fenced') throw fencedError(conversationId, fenceEpoch!, Number(epoch));
  }

  protected override async _claimConversation(conversationId: string, request: ClaimRequest): Promise<ClaimResult> {
    const { ownerId, ttlMs, address } = request;
    const args = [this.keys.prefix, conversationId, ownerId, String(ttlMs), address === undefined ? '0' : '1', address ?? ''];
    const answer = (await this.write(lua.CLAIM, [this.keys.conversation(conversationId)], args)) as string[];
    if (answer[0] === 'unknown') return { claimed: true, claim: { ownerId, epoch: 0 } };
    if (answer[0] === 'claimed') return { claimed: true, claim: { ownerId, epoch: Number(answer[1]) } };
    const [, holder, epoch, expiresAt, now, hasAddress, storedAddress] = answer;
    // The rule the script applied, on the state and clock it saw, so the holder reported is what refused the claim.
    const stored = {
      ownerId: holder,
      epoch: Number(epoch),
      expiresAt: Number(expiresAt),
      address: hasAddress === '1' ? storedAddress : undefined,
    };
    const decision = decideClaim(stored, request, Number(now));
    if (decision.claimed)
      throw new ChatError('STORAGE_ERR_UNAVAILABLE', `conversation ${conversationId}: the claim script and decideClaim disagree`);
    return { claimed: false, holder: decision.holder };
  }

  protected override async _renewClaims(ownerId: string, ttlMs: number): Promise<Map<string, number>> {
    const flat = (await this.write(lua.RENEW, [], [this.keys.prefix, ownerId, String(ttlMs)])) as string[];
    const held = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) held.set(flat[i], Number(flat[i + 1]));
    return held;
  }

  protected override async _releaseClaim(conversationId: string, claim: ConversationClaim): Promise<void> {
    const keys = [this.keys.conversation(conversationId), this.keys.claimedBy(claim.ownerId)];
    await this.write(lua.RELEASE, keys, [conversationId, claim.ownerId, String(claim.epoch)]);
  }

  protected override async _getReadPositions(conversationId: string): Promise<Map<string, number>> {
    const stored = await this.db().run((c) => c.hgetall(this.keys.readPositions(conversationId)));
    return new Map(Object.entries(stored).map(([pid, seq]) => [pid, Number(seq)]));
  }

  /** One round trip for every conversation of a list page. */
  protected override async _getReadPositionsOf(participantId: string, conversationIds: readonly string[]): Promise<Map<string, number>> {
    const replies = await this.db().pipeline((p) => {
      for (const id of conversationIds) p.hget(this.keys.readPositions(id), participantId);
    });
    const found = new Map<string, number>();
    conversationIds.forEach((id, i) => {
      if (replies[i] !== null) found.set(id, Number(replies[i]));
    });
    return found;
  }

  protected override async _saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
    const args = [...positions].flatMap(([pid, seq]) => [pid, String(seq)]);
    await this.write(lua.SAVE_READ_POSITIONS, [this.keys.members(conversationId), this.keys.readPositions(conversationId)], args);
  }

  protected override async _lowerReadPositions(conversationId: string, upTo: number): Promise<number> {
    return Number(await this.write(lua.LOWER_READ_POSITIONS, [this.keys.readPositions(conversationId)], [String(upTo)]));
  }

  /**
   * Reads the journal (HSCAN, in pages) and rewrites each matching record unless it changed since it was read: like
   * the SQL stores' UPDATE, it looks at every record of the conversation. A record that changed in between (an edit,
   * another redaction) is read again and redacted as it is now, so no edit landing in between survives it. Records
   * redacted already (when read, or when read again) are left as they are and named apart. Records sequenced after
   * `upTo` are passed over as read (a record's sequence id never changes, so reading one again cannot bring it in).
   */
  protected async _redactMessages(
    conversationId: string,
    target: RedactionTarget,
    fenceEpoch?: number,
    upTo = Number.MAX_SAFE_INTEGER,
  ): Promise<RedactionResult> {
    await this.refuseIfFenced(conversationId, fenceEpoch);
    const key = this.keys.records(conversationId);
    const ids = 'messageIds' in target ? new Set(target.messageIds) : undefined;
    const sender = 'senderId' in target ? target.senderId : undefined;
    const redacted = new Set<number>();
    const already = new Set<number>();
    let cursor = '0';
    do {
      const [next, flat] = await this.db().run((c) => c.hscan(key, cursor, 'COUNT', REDACTION_SCAN));
      cursor = next;
      const read = new Map<string, string>();
      for (let i = 0; i < flat.length; i += 2) {
        const record = JSON.parse(flat[i + 1]) as ChatMessage;
        if (record.sequence_id > upTo || (ids ? !ids.has(record.message_id) : record.sender_id !== sender)) continue;
        // HSCAN may return a field twice (a hash resized meanwhile): the second sight finds it redacted by this call.
        if (redacted.has(record.sequence_id)) continue;
        if (record.metadata?.redacted === true) already.add(record.sequence_id);
        else read.set(flat[i], flat[i + 1]);
      }
      for (const field of read.keys()) redacted.add(Number(field));
      for (const field of await this.redactAsRead(conversationId, read, fenceEpoch)) {
        redacted.delete(Number(field));
        already.add(Number(field));
      }
    } while (cursor !== '0');
    const ascending = (set: Set<number>) => [...set].sort((a, b) => a - b);
    return { redacted: ascending(redacted), alreadyRedacted: ascending(already) };
  }

  /**
   * Writes the redacted form of each record (field -> JSON as read) by compare-and-set; those that changed since
   * their read are read again and written as redacted from what they are now (sender and message id never change,
   * so they still match), a few times at most. A record gone meanwhile (its conversation deleted) is left gone.
   * Returns the fields another redaction got to first (found redacted when read again): this one did not change them.
   * Each write is fenced (REPLACE_RECORDS): pages written before a claim stay written, as the new holder read them.
   */
  private async redactAsRead(conversationId: string, read: ReadonlyMap<string, string>, fenceEpoch?: number): Promise<string[]> {
    const key = this.keys.records(conversationId);
    const redactedMeanwhile: string[] = [];
    let pending = new Map(read);
    for (let attempt = 0; attempt < REPLACE_ATTEMPTS; attempt++) {
      const writes: string[] = [];
      for (const [field, json] of pending) {
        const changed = redactedJson(json);
        if (changed !== json) writes.push(field, json, changed);
        else redactedMeanwhile.push(field);
      }
      if (writes.length === 0) return redactedMeanwhile;
      // Only the fields the script did not write are read again. Telling them by the JSON found would not do: another
      // redaction writes the very JSON this one would have, and both would count the record as their own.
      const missed = await this.replaceRecords(conversationId, writes, fenceEpoch);
      if (missed.length === 0) return redactedMeanwhile;
      const now = await this.db().run((c) => c.hmget(key, ...missed));
      pending = new Map();
      missed.forEach((field, i) => {
        if (now[i] !== null) pending.set(field, now[i]!);
      });
    }
    throw new ChatError('STORAGE_ERR_UNAVAILABLE', `records of ${conversationId} kept changing under the redaction, try again`);
  }

  /**
   * Read, change, and write back only if the record is still the one read (REPLACE_RECORDS): a concurrent edit of the
   * same record makes this one read again, so neither overwrites the other's metadata keys unseen.
   */
  protected override async _replaceMessageContent(
    conversationId: string,
    sequenceId: number,
    replacement: ContentReplacement,
    fenceEpoch?: number,
  ): Promise<ChatMessage | undefined> {
    await this.refuseIfFenced(conversationId, fenceEpoch);
    const key = this.keys.records(conversationId);
    const field = String(sequenceId);
    for (let attempt = 0; attempt < REPLACE_ATTEMPTS; attempt++) {
      const stored = await this.db().run((c) => c.hget(key, field));
      if (stored === null) return undefined;
      const record = JSON.parse(stored) as ChatMessage;
      if (record.sender_id !== replacement.senderId || record.metadata?.redacted === true) return undefined;
      const json = recordJson({ ...record, content: replacement.content, metadata: { ...record.metadata, ...replacement.metadata } });
      if ((await this.replaceRecords(conversationId, [field, stored, json], fenceEpoch)).length === 0) return parseRecords([json])[0];
    }
    throw new ChatError(
      'STORAGE_ERR_UNAVAILABLE',
      `record ${sequenceId} of ${conversationId} kept changing under the replacement, try again`,
    );
  }

  /**
   * Refuses early when the conversation was claimed since the fence's claim: a call that finds nothing to write runs
   * no fenced script, and would otherwise answer as if it held the conversation (the SQL stores refuse it too).
   */
  private async refuseIfFenced(conversationId: string, fenceEpoch: number | undefined): Promise<void> {
    if (fenceEpoch === undefined) return;
    // Every conversation's hash has owner_epoch from its creation (0 until claimed): none means no conversation.
    const stored = await this.db().run((c) => c.hget(this.keys.conversation(conversationId), 'owner_epoch'));
    const epoch = stored === null ? fenceEpoch : Number(stored);
    if (epoch !== fenceEpoch) throw fencedError(conversationId, fenceEpoch, epoch);
  }

  /** REPLACE_RECORDS (`writes`: field, JSON read, new JSON, ...) under the fence: the fields it did not write. */
  private async replaceRecords(conversationId: string, writes: readonly string[], fenceEpoch: number | undefined): Promise<string[]> {
    const keys = [this.keys.records(conversationId), this.keys.conversation(conversationId)];
    const [status, ...rest] = (await this.write(lua.REPLACE_RECORDS, keys, [
      fenceEpoch === undefined ? '' : String(fenceEpoch),
      ...writes,
    ])) as string[];
    if (status === 'fenced') throw fencedError(conversationId, fenceEpoch!, Number(rest[0]));
    return rest;
  }

  private async readRange(conversationId: string, after: number, limit: number, mode: 'after' | 'latest'): Promise<ChatMessage[]> {
    const keys = [this.keys.conversation(conversationId), this.keys.records(conversationId)];
    return parseRecords((await this.db().script(lua.READ_RANGE, keys, [String(after), String(limit), mode])) as string[]);
  }

  /** Runs a writing script, unless the store was opened read-only. */
  private write(script: lua.LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    if (this.options.readOnly) {
      return Promise.reject(
        new ChatError(
          'STORAGE_ERR_UNAVAILABLE',
          `${redisDatabaseName(this.keys.prefix, urlWithoutPasswords(this.options.url, 'Redis'))} was opened read-only`,
        ),
      );
    }
    return this.db().script(script, keys, args);
  }

  private db(): RedisConnection {
    if (!this.conn) throw new ChatError('STORAGE_ERR_NOT_OPEN', 'redis store is not open');
    return this.conn;
  }
}

/** Replacement attempts when the record changes between its read and the compare-and-set write (rare, so bounded). */
const REPLACE_ATTEMPTS = 3;

/** Records per HSCAN page of a redaction. */
const REDACTION_SCAN = 500;

/** The record as stored: exactly its fields, metadata with JSON semantics ({} for none). */
function recordJson(m: ChatMessage): string {
  const { message_id, conversation_id, sequence_id, sender_id, sender_type, message_type, content, timestamp } = m;
  const record = {
    message_id,
    conversation_id,
    sequence_id,
    sender_id,
    sender_type,
    message_type,
    content,
    timestamp,
    metadata: m.metadata ?? {},
  };
  return toJsonText(record, 'metadata');
}

/** The stored record's JSON once redacted (the same text when it already is). */
function redactedJson(json: string): string {
  const record = JSON.parse(json) as ChatMessage;
  return recordJson({ ...record, content: REDACTION_MARKER, metadata: { ...record.metadata, redacted: true } });
}

function participantJson(p: Participant): string {
  return JSON.stringify(makeParticipant(p));
}

function parseRecords(stored: ReadonlyArray<string | null>): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const json of stored) {
    if (json === null) continue;
    const record = JSON.parse(json) as ChatMessage;
    out.push(makeMessage(record, parseJsonObject(record.metadata, 'metadata')));
  }
  return out;
}

function toMeta(conversationId: string, fields: ReadonlyArray<string | null>): ConversationMeta | undefined {
  const [title, created_at, created_by, settings, status] = fields;
  if (created_at === null) return undefined;
  const meta = { conversation_id: conversationId, title, created_at, created_by, status } as unknown as ConversationMeta;
  return makeMeta(meta, parseJsonObject(settings ?? '{}', 'settings'));
}
