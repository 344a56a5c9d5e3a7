import type { QueryResultRow } from 'pg';
import { ChatError, isChatError } from '../actors/errors';
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
import { decideClaim, type ClaimRequest, type ClaimResult, type ConversationClaim } from './conversation-claims';
import { assertPostgresSchemaCurrent, migratePostgres, quoteSchema } from './postgres-migrations';
import { PgRunner } from './postgres-pool';
import type { SchemaMigrations } from './schema-version';
import { postgresSql, type PostgresSql } from './postgres-sql';
import { activityFromRow } from './conversation-activity-rows';
import type { ActivityKey, ConversationActivity } from './conversation-activity';
import type { UnreadRange } from './read-positions';
import { makeMessage, makeMeta, makeParticipant, parseJsonObject, toJsonText } from './records';
import { assertUrlScheme } from './url-scheme';
import { ACCEPTED_SCHEMES } from '../config/storage-url-checks';

/** Settings of the PostgreSQL provider (config: chat.storage.postgres.*). */
export interface PostgresStoreOptions {
  /** Connection URL, e.g. postgres://user@host:5432/db. */
  readonly url: string;
  /** Most connections this instance holds (default 10). */
  readonly poolSize?: number;
  /** Schema holding the tables (default "public"); created when missing (unless readOnly). */
  readonly schema?: string;
  /** How long acquiring a connection may take before STORAGE_ERR_UNAVAILABLE (default 5000). */
  readonly connectTimeoutMs?: number;
  /** How long one operation may wait for PostgreSQL's answer before STORAGE_ERR_UNAVAILABLE (default 15000, 0 = unbounded). */
  readonly operationTimeoutMs?: number;
  /** application_name of the connections, visible in pg_stat_activity (default "nlweb-chat"). */
  readonly applicationName?: string;
  /**
   * Whether the hot statements (append, read, claim, renew) are prepared by name once per connection and then only
   * bound (config: chat.storage.postgres.prepared_statements; default true). false sends them unnamed, parsed with
   * each use: required behind a pooler in transaction mode (PgBouncer before 1.21, or later without
   * max_prepared_statements), which runs each transaction on whichever server connection is free, so a name prepared
   * on one is missing from the next (26000) or prepared twice (42P05). A readOnly store always sends them unnamed.
   */
  readonly preparedStatements?: boolean;
  /**
   * Opens the schema for reading only (default false), for readers of a database a server owns (the replay CLI):
   * open() creates and migrates nothing, and refuses a schema at another version than this build's (older, newer,
   * or without nlweb-chat tables) with STORAGE_ERR_SCHEMA_VERSION; every operation is a `BEGIN READ ONLY` transaction
   * of its own with unnamed statements, so a write fails (STORAGE_ERR_UNAVAILABLE: cannot execute ... in a read-only
   * transaction) also behind a pooler in transaction mode (PgBouncer), and no setting or prepared statement is left
   * on a server connection that the pooler hands to another client.
   */
  readonly readOnly?: boolean;
  /**
   * What a read-write open() does with a schema at an older version (config: chat.storage.migrations; default
   * 'apply': migrates it, creating the schema when missing). 'require_current' creates and migrates nothing, takes no
   * migration lock: a schema at another version than this build's (or without nlweb-chat tables, or missing) is
   * refused with STORAGE_ERR_SCHEMA_VERSION and left as it was; a current one is opened for reading and writing.
   * readOnly never migrates, whatever this says.
   */
  readonly migrations?: SchemaMigrations;
}

/**
 * Durable store on a `pg` Pool, shareable by several server processes. Appends take the
 * conversation row lock (FOR UPDATE) for the contiguity check and insert the batch in one
 * statement; the primary key (conversation_id, sequence_id) and the unique key
 * (conversation_id, sender_id, message_id) make duplicates impossible even for writers that
 * bypass the lock. close() waits for in-flight operations, then ends the pool.
 */
export class PostgresStore extends ChatStore {
  readonly name = 'postgres';
  readonly supports: StoreCapabilities = Object.freeze({
    durable: true,
    sharedAcrossProcesses: true,
    sequenceReservation: true,
    claims: true,
    readPositions: true,
    lowerReadPositions: true,
    replaceContent: true,
  });
  private readonly schema: string;
  private readonly sql: PostgresSql;
  private runner: PgRunner | undefined;
  private versionFound: number | undefined;

  constructor(private readonly options: PostgresStoreOptions) {
    super();
    assertUrlScheme(options.url, ACCEPTED_SCHEMES.postgres);
    this.schema = options.schema ?? 'public';
    this.sql = postgresSql(quoteSchema(this.schema));
  }

  /**
   * The schema version the last successful open() found, before it migrated anything (undefined before then): what
   * `nlweb-chat migrate` reports as the version before.
   */
  get schemaVersionFound(): number | undefined {
    return this.versionFound;
  }

  protected async _open(): Promise<void> {
    const runner = new PgRunner(this.options);
    let found: number;
    try {
      if (this.options.readOnly) found = await runner.run((client) => assertPostgresSchemaCurrent(client, this.schema, 'read-only'));
      else if (this.options.migrations === 'require_current')
        found = await runner.run((client) => assertPostgresSchemaCurrent(client, this.schema, 'require-current'));
      // Unbounded: a migration may build an index on a large table, or wait for another server's migration.
      else found = await runner.runUnbounded((client) => migratePostgres(client, this.schema));
    } catch (err) {
      await runner.end().catch(() => undefined);
      throw err;
    }
    this.runner = runner;
    this.versionFound = found;
  }

  protected async _close(): Promise<void> {
    // The base class already refuses new calls; end() lets the running ones finish.
    const runner = this.runner;
    this.runner = undefined;
    await runner?.end();
  }

  protected async _ping(): Promise<void> {
    await this.query('SELECT 1', []);
  }

  protected async _createConversation(meta: ConversationMeta, participants: readonly Participant[]): Promise<void> {
    const settings = toJsonText(meta.settings, 'settings');
    await this.db().transaction(async (c) => {
      const { conversation_id: id, title, created_at, created_by, status } = meta;
      await c.query(this.sql.insertConversation, [id, title, created_at, created_by, settings, status]);
      if (participants.length > 0) await c.query(this.sql.upsertParticipants, participantArrays(id, participants));
    });
  }

  protected async _getConversation(conversationId: string): Promise<ConversationMeta | undefined> {
    const rows = await this.query(this.sql.getConversation, [conversationId]);
    return rows.length > 0 ? toMeta(rows[0]) : undefined;
  }

  protected async _updateConversationStatus(conversationId: string, status: ConversationMeta['status']): Promise<void> {
    const count = await this.db().run((c) => c.query(this.sql.updateStatus, [conversationId, status]).then((r) => r.rowCount));
    if (count === 0) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
  }

  protected async _listConversationsForUser(userId: string, filter: MemberFilter): Promise<ConversationMeta[]> {
    return (await this.query(this.sql.listForUser, [userId, filter.includeLeft, filter.participantType ?? null])).map(toMeta);
  }

  protected override async _listConversationActivity(
    userId: string,
    filter: MemberFilter,
    after: ActivityKey | undefined,
    limit: number,
  ): Promise<ConversationActivity[]> {
    const params = [
      userId,
      filter.includeLeft,
      filter.participantType ?? null,
      after?.activityAt ?? null,
      after?.conversationId ?? null,
      limit,
    ];
    return (await this.query(this.sql.listActivity, params)).map(activityFromRow);
  }

  protected async _listConversationsCreatedBefore(isoTime: string): Promise<string[]> {
    return (await this.query(this.sql.listCreatedBefore, [isoTime])).map((r) => String(r.conversation_id));
  }

  protected async _deleteConversation(conversationId: string): Promise<void> {
    await this.db().transaction(async (c) => {
      await c.query(this.sql.deleteConversation, [conversationId]);
      await c.query(this.sql.deleteMessages, [conversationId]);
      await c.query(this.sql.deleteParticipants, [conversationId]);
    });
  }

  protected async _getParticipants(conversationId: string): Promise<Participant[]> {
    return (await this.query(this.sql.getParticipants, [conversationId])).map((r) => makeParticipant(r as Participant));
  }

  /** One query for every conversation of a list page (not one round trip each). */
  protected override async _getParticipantsOf(conversationIds: readonly string[]): Promise<Map<string, Participant[]>> {
    const found = new Map<string, Participant[]>();
    if (conversationIds.length === 0) return found;
    for (const row of await this.query(this.sql.getParticipantsOf, [conversationIds])) {
      const id = row.conversation_id as string;
      const list = found.get(id) ?? [];
      list.push(makeParticipant(row as Participant));
      found.set(id, list);
    }
    return found;
  }

  protected async _putParticipant(conversationId: string, participant: Participant): Promise<void> {
    const count = await this.db().run((c) =>
      c.query(this.sql.upsertParticipants, participantArrays(conversationId, [participant])).then((r) => r.rowCount),
    );
    if (count === 0) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
  }

  protected async _removeParticipant(conversationId: string, participantId: string): Promise<void> {
    await this.query(this.sql.markLeft, [conversationId, participantId]);
  }

  protected async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    const params: unknown[] = [conversationId, [], [], [], [], [], [], [], []];
    for (const m of messages) {
      const row = [m.message_id, m.sequence_id, m.sender_id, m.sender_type, m.message_type, m.content, m.timestamp];
      row.push(toJsonText(m.metadata, 'metadata'));
      for (let i = 0; i < row.length; i++) (params[i + 1] as unknown[]).push(row[i]);
    }
    // Named statements are prepared once per pooled connection (a pool serves exactly one schema), unless
    // preparedStatements is false: then the runner drops the names.
    const fast = await this.db()
      .run((c) =>
        c.query({ name: 'nlweb-append-fast', text: this.sql.appendFast, values: [...params, messages[0].sequence_id, fenceEpoch ?? null] }),
      )
      .catch((err: unknown) => {
        if (isChatError(err, 'STORAGE_ERR_DUPLICATE_SEQUENCE') || isChatError(err, 'STORAGE_ERR_DUPLICATE_MESSAGE')) return undefined;
        throw err;
      });
    if (fast?.rowCount === messages.length) return;
    // Nothing inserted: find out why (or succeed after a concurrent writer) under the conversation lock.
    await this.db().transaction(async (c) => {
      const locked = await c.query({ name: 'nlweb-lock', text: this.sql.lockConversation, values: [conversationId] });
      if (locked.rowCount === 0) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
      const epoch = Number(locked.rows[0].owner_epoch);
      if (fenceEpoch !== undefined && epoch !== fenceEpoch) throw fencedError(conversationId, fenceEpoch, epoch);
      const lastRes = await c.query({ name: 'nlweb-last', text: this.sql.lastSequence, values: [conversationId] });
      const last = Number(lastRes.rows[0].last);
      const first = messages[0].sequence_id;
      if (first <= last) throw new ChatError('STORAGE_ERR_DUPLICATE_SEQUENCE', `sequence ${first} is already stored`);
      if (first !== last + 1) throw new ChatError('STORAGE_ERR_SEQUENCE_GAP', `expected sequence ${last + 1}, got ${first}`);
      await c.query({ name: 'nlweb-append', text: this.sql.insertMessages, values: params });
    });
  }

  protected async _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    const rows = await this.query(this.sql.readMessages, [conversationId, afterSequenceId, limit], 'nlweb-read');
    return rows.map(toMessage);
  }

  protected async _readLatestMessages(conversationId: string, limit: number): Promise<ChatMessage[]> {
    return (await this.query(this.sql.readLatest, [conversationId, limit])).map(toMessage).reverse();
  }

  protected async _lastSequenceId(conversationId: string): Promise<number> {
    return Number((await this.query(this.sql.lastSequence, [conversationId]))[0].last);
  }

  protected async _findSequenceByMessageId(conversationId: string, senderId: string, messageId: string): Promise<number | undefined> {
    const rows = await this.query(this.sql.findSequence, [conversationId, senderId, messageId]);
    return rows.length > 0 ? Number(rows[0].sequence_id) : undefined;
  }

  protected override async _getSequenceReservation(conversationId: string): Promise<number> {
    return Number((await this.query(this.sql.getReservation, [conversationId]))[0].reserved);
  }

  protected override async _setSequenceReservation(conversationId: string, upTo: number, fenceEpoch?: number): Promise<void> {
    // One autocommit UPDATE (durable at COMMIT). It takes the conversation row lock, so it waits for
    // an append holding it (FOR UPDATE) and the other way round: both are short, neither deadlocks.
    const count = await this.db().run((c) =>
      c.query(this.sql.setReservation, [conversationId, upTo, fenceEpoch ?? null]).then((r) => r.rowCount),
    );
    if (count !== 0 || fenceEpoch === undefined) return;
    // Nothing updated under a fence: an unknown conversation stays a no-op, an existing one was claimed again.
    const rows = await this.query(this.sql.ownerEpoch, [conversationId]);
    if (rows.length > 0) throw fencedError(conversationId, fenceEpoch, Number(rows[0].owner_epoch));
  }

  protected override async _getReadPositions(conversationId: string): Promise<Map<string, number>> {
    const rows = await this.query(this.sql.getReadPositions, [conversationId]);
    return new Map(rows.map((r) => [r.participant_id as string, Number(r.read_up_to)]));
  }

  /** One query for every conversation of a list page. */
  protected override async _getReadPositionsOf(participantId: string, conversationIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.query(this.sql.getReadPositionsOf, [participantId, conversationIds]);
    return new Map(rows.map((r) => [r.conversation_id as string, Number(r.read_up_to)]));
  }

  protected override async _saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
    await this.query(this.sql.raiseReadPositions, [conversationId, [...positions.keys()], [...positions.values()]]);
  }

  protected override async _lowerReadPositions(conversationId: string, upTo: number): Promise<number> {
    return this.db().run((c) => c.query(this.sql.lowerReadPositions, [conversationId, upTo]).then((r) => r.rowCount ?? 0));
  }

  /** One query for every range (a list page's). */
  protected override async _countUnreadOf(readerId: string, ranges: readonly UnreadRange[], limit: number): Promise<Map<string, number>> {
    const params = [readerId, ranges.map((r) => r.conversationId), ranges.map((r) => r.after), ranges.map((r) => r.upTo), limit];
    const rows = await this.query(this.sql.countUnread, params);
    return new Map(rows.map((r) => [r.conversation_id as string, Number(r.unread)]));
  }

  protected override async _claimConversation(conversationId: string, request: ClaimRequest): Promise<ClaimResult> {
    const { ownerId, ttlMs } = request;
    // The claim statement decides atomically; when it refuses, the holder is read in a second statement,
    // which may find the claim released or expired in between: then claim again (rare, so bounded).
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const won = await this.query(this.sql.claim, [conversationId, ownerId, ttlMs, request.address ?? null], 'nlweb-claim');
      if (won.length > 0) return { claimed: true, claim: { ownerId, epoch: Number(won[0].owner_epoch) } };
      const rows = await this.query(this.sql.claimState, [conversationId]);
      if (rows.length === 0) return { claimed: true, claim: { ownerId, epoch: 0 } };
      const r = rows[0];
      const stored = {
        ownerId: r.owner_id ?? undefined,
        epoch: Number(r.owner_epoch),
        expiresAt: Number(r.owner_expires_at),
        address: r.owner_address ?? undefined,
      };
      // The same rule the statement applied, so the holder reported is what the statement saw refuse it.
      const decision = decideClaim(stored, request, Number(r.now_ms));
      if (!decision.claimed) return { claimed: false, holder: decision.holder };
    }
    throw new ChatError('STORAGE_ERR_UNAVAILABLE', `conversation ${conversationId}: its claim kept changing, try again`);
  }

  protected override async _renewClaims(ownerId: string, ttlMs: number): Promise<Map<string, number>> {
    const rows = await this.query(this.sql.renewClaims, [ownerId, ttlMs], 'nlweb-renew');
    return new Map(rows.map((r) => [String(r.conversation_id), Number(r.owner_epoch)]));
  }

  protected override async _releaseClaim(conversationId: string, claim: ConversationClaim): Promise<void> {
    await this.query(this.sql.releaseClaim, [conversationId, claim.ownerId, claim.epoch]);
  }

  protected async _redactMessages(
    conversationId: string,
    target: RedactionTarget,
    fenceEpoch?: number,
    upTo = Number.MAX_SAFE_INTEGER,
  ): Promise<RedactionResult> {
    const fence = fenceEpoch ?? null;
    const rows =
      'messageIds' in target
        ? await this.query(this.sql.redactByIds, [REDACTION_MARKER, conversationId, target.messageIds, fence, upTo])
        : await this.query(this.sql.redactBySender, [REDACTION_MARKER, conversationId, target.senderId, fence, upTo]);
    if (rows.length === 0) await this.refuseIfFenced(conversationId, fenceEpoch);
    const ids = (already: boolean) =>
      rows
        .filter((r) => r.already === already)
        .map((r) => Number(r.sequence_id))
        .sort((a, b) => a - b);
    return { redacted: ids(false), alreadyRedacted: ids(true) };
  }

  protected override async _replaceMessageContent(
    conversationId: string,
    sequenceId: number,
    replacement: ContentReplacement,
    fenceEpoch?: number,
  ): Promise<ChatMessage | undefined> {
    const metadata = toJsonText(replacement.metadata, 'metadata');
    const values = [conversationId, sequenceId, replacement.senderId, replacement.content, metadata, fenceEpoch ?? null];
    const row = (await this.query(this.sql.replaceContent, values))[0];
    if (row !== undefined) return toMessage(row);
    await this.refuseIfFenced(conversationId, fenceEpoch);
    return undefined;
  }

  /**
   * After a fenced statement that changed nothing: STORAGE_ERR_FENCED when the conversation's epoch is not the fence's
   * (epochs only rise, so one read after the statement still tells). Unknown conversations are not refused.
   */
  private async refuseIfFenced(conversationId: string, fenceEpoch: number | undefined): Promise<void> {
    if (fenceEpoch === undefined) return;
    const rows = await this.query(this.sql.ownerEpoch, [conversationId]);
    const epoch = rows.length > 0 ? Number(rows[0].owner_epoch) : fenceEpoch;
    if (epoch !== fenceEpoch) throw fencedError(conversationId, fenceEpoch, epoch);
  }

  private db(): PgRunner {
    if (!this.runner) throw new ChatError('STORAGE_ERR_NOT_OPEN', 'postgres store is not open');
    return this.runner;
  }

  private query(text: string, values: unknown[], name?: string): Promise<QueryResultRow[]> {
    return this.db().query(text, values, name);
  }
}

/** Claim attempts when the holder vanishes between the refused claim and the read of who holds it. */
const CLAIM_ATTEMPTS = 3;

function participantArrays(conversationId: string, participants: readonly Participant[]): unknown[] {
  // Last one wins for repeated ids (ON CONFLICT cannot touch a row twice in one statement).
  const unique = [...new Map(participants.map((p) => [p.participant_id, p])).values()];
  return [
    conversationId,
    unique.map((p) => p.participant_id),
    unique.map((p) => p.participant_type),
    unique.map((p) => p.display_name),
    unique.map((p) => p.joined_at_sequence),
    unique.map((p) => p.role),
    unique.map((p) => p.agent_id ?? null),
  ];
}

function toMeta(row: QueryResultRow): ConversationMeta {
  return makeMeta(row as ConversationMeta, parseJsonObject(row.settings, 'settings'));
}

function toMessage(row: QueryResultRow): ChatMessage {
  return makeMessage(row as ChatMessage, parseJsonObject(row.metadata, 'metadata'));
}
