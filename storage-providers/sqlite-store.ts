import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
import { activityFromRow } from './conversation-activity-rows';
import type { ActivityKey, ConversationActivity } from './conversation-activity';
import type { UnreadRange } from './read-positions';
import { makeMessage, makeMeta, makeParticipant, parseJsonObject, toJsonText } from './records';
import { whenUnlocked, type LockWait } from './sqlite-lock-wait';
import { schemaVersionError, type SchemaMigrations } from './schema-version';
import { assertSqliteSchemaCurrent, migrateSqlite, sqliteDatabaseName, SQLITE_MIGRATIONS } from './sqlite-schema';
import { createSqliteStatements, type SqliteStatements } from './sqlite-statements';
import { assertReadOnlyOpenLeavesSqliteUsable } from './sqlite-read-only-owner';

/** Settings of the SQLite provider (config: chat.storage.sqlite.*). */
export interface SqliteStoreOptions {
  /** Database file; parent directories are created. ':memory:' gives a volatile database. */
  readonly path: string;
  /**
   * How long a call waits for a lock held by another connection (a backup, VACUUM, another server)
   * before failing with STORAGE_ERR_UNAVAILABLE (default 100). The wait is asynchronous: the event loop
   * keeps running, and the callers retry (the journal writer and the sequence reservation with backoff),
   * so this only needs to cover another writer's ordinary commit. 0 fails at the first busy attempt.
   */
  readonly busyTimeoutMs?: number;
  /**
   * The same for open(), whose schema migration waits for another process migrating the same file
   * at the same startup (default 5000, also asynchronous).
   */
  readonly openBusyTimeoutMs?: number;
  /**
   * The clock claims expire on (epoch ms; default Date.now). Processes sharing a file run on one host
   * (SQLite over a network file system is unsafe anyway), so they share this clock.
   */
  readonly now?: () => number;
  /**
   * Opens the file for reading only (default false), for readers of a database a server owns (the replay CLI): the
   * file must exist, and nothing in it changes, not even at close (a read-write connection that closes last
   * checkpoints the WAL into the file). open() does not migrate: a schema at another version than this build's
   * (older, newer, or none) is refused with STORAGE_ERR_SCHEMA_VERSION. Every write then fails
   * (STORAGE_ERR_UNAVAILABLE: attempt to write a readonly database). Reads see what a server writing the same file
   * meanwhile commits.
   */
  readonly readOnly?: boolean;
  /**
   * What a read-write open() does with a file at an older schema version (config: chat.storage.migrations; default
   * 'apply': migrates it). 'require_current' migrates nothing: a file at another version than this build's, or one
   * that does not exist (not created), is refused with STORAGE_ERR_SCHEMA_VERSION and left as it was; a current one is
   * opened for reading and writing. readOnly never migrates, whatever this says; a volatile database (':memory:')
   * is always migrated (it is this process's own, created empty).
   */
  readonly migrations?: SchemaMigrations;
}

/** ':memory:' and '' name a database SQLite creates empty for this connection alone and drops at close. */
export function isVolatileSqlitePath(file: string): boolean {
  return file === ':memory:' || file === '';
}

/** Default of SqliteStoreOptions.busyTimeoutMs. */
export const SQLITE_BUSY_TIMEOUT_MS = 100;
/** Default of SqliteStoreOptions.openBusyTimeoutMs. */
export const SQLITE_OPEN_BUSY_TIMEOUT_MS = 5000;

type Row = Record<string, unknown>;

/**
 * Single-file durable store on better-sqlite3: WAL journal, synchronous=NORMAL (a power loss may
 * drop the last commits but never corrupts), prepared statements, every write one transaction.
 * better-sqlite3 is synchronous, so a call that gets its lock completes before its promise is
 * returned. The connection's own busy timeout is 0: SQLite's busy handler sleeps inside the call, which
 * would stall every conversation for as long as another process holds the lock; a locked call is
 * retried on timers instead (whenUnlocked). Several processes may share the file (writes serialise
 * on its lock).
 */
export class SqliteStore extends ChatStore {
  readonly name = 'sqlite';
  readonly supports: StoreCapabilities;
  private db: Database.Database | undefined;
  private sql: SqliteStatements | undefined;
  /** Aborted by close(): calls waiting for a lock stop waiting. */
  private readonly closing = new AbortController();
  /** Calls waiting for a lock; close() lets them settle before closing the connection. */
  private readonly waiting = new Set<Promise<unknown>>();
  private readonly callWait: LockWait;
  private readonly now: () => number;
  private versionFound: number | undefined;

  constructor(private readonly options: SqliteStoreOptions) {
    super();
    const durable = !isVolatileSqlitePath(options.path);
    this.supports = Object.freeze({
      durable,
      sharedAcrossProcesses: durable,
      sequenceReservation: true,
      claims: true,
      readPositions: true,
      lowerReadPositions: true,
      replaceContent: true,
    });
    this.now = options.now ?? Date.now;
    this.callWait = { timeoutMs: options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS, signal: this.closing.signal };
  }

  /**
   * The schema version the last successful open() found in the file, before it migrated anything (undefined before
   * then): what `nlweb-chat migrate` reports as the version before.
   */
  get schemaVersionFound(): number | undefined {
    return this.versionFound;
  }

  protected async _open(): Promise<void> {
    const readOnly = this.options.readOnly === true;
    // A volatile database is this process's own, created empty: nobody else's schema to keep, nothing to require.
    const requireCurrent = !readOnly && this.options.migrations === 'require_current' && this.supports.durable;
    const file = this.options.path;
    try {
      // Not created (nor its directory): a server that may not migrate must not leave an empty database behind.
      if (requireCurrent && !fs.existsSync(file)) {
        throw schemaVersionError(sqliteDatabaseName(file), 0, SQLITE_MIGRATIONS.length, 'require-current');
      }
      const mustExist = readOnly || requireCurrent;
      if (this.supports.durable && !mustExist) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      if (readOnly && this.supports.durable && fs.existsSync(file)) assertReadOnlyOpenLeavesSqliteUsable(file);
      const db = new Database(file, { timeout: 0, readonly: readOnly, fileMustExist: mustExist });
      try {
        // Switching to WAL and migrating take locks; a second process starting together holds them for a while.
        // Read-only: the journal mode is the file's own (a server set WAL), and the version is only checked.
        const found = await this.track(
          whenUnlocked(
            () => {
              if (readOnly) return assertSqliteSchemaCurrent(db, 'read-only');
              // Checked before the pragmas: a refused file keeps its journal mode too.
              const current = requireCurrent ? assertSqliteSchemaCurrent(db, 'require-current') : undefined;
              db.pragma('journal_mode = WAL');
              db.pragma('synchronous = NORMAL');
              return current ?? migrateSqlite(db);
            },
            { timeoutMs: this.options.openBusyTimeoutMs ?? SQLITE_OPEN_BUSY_TIMEOUT_MS, signal: this.closing.signal },
          ),
        );
        this.sql = createSqliteStatements(db);
        this.db = db;
        this.versionFound = found;
      } catch (err) {
        db.close();
        throw err;
      }
    } catch (err) {
      throw mapError(err, `cannot open sqlite database ${file}`);
    }
  }

  protected async _close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled(this.waiting);
    const db = this.db;
    this.db = undefined;
    this.sql = undefined;
    db?.close();
  }

  protected async _ping(): Promise<void> {
    await this.run((s) => s.ping.get());
  }

  protected async _createConversation(meta: ConversationMeta, participants: readonly Participant[]): Promise<void> {
    const settings = toJsonText(meta.settings, 'settings');
    return this.write((s) => {
      if (s.conversationExists.get(meta.conversation_id)) {
        throw new ChatError('CHAT_ERR_ALREADY_EXISTS', `conversation ${meta.conversation_id} already exists`);
      }
      s.insertConversation.run({ ...meta, settings });
      for (const p of participants) s.upsertParticipant.run(participantRow(meta.conversation_id, p));
    });
  }

  protected async _getConversation(conversationId: string): Promise<ConversationMeta | undefined> {
    const row = await this.run((s) => s.getConversation.get(conversationId) as Row | undefined);
    return row ? toMeta(row) : undefined;
  }

  protected async _updateConversationStatus(conversationId: string, status: ConversationMeta['status']): Promise<void> {
    const changes = await this.run((s) => s.updateStatus.run(status, conversationId).changes);
    if (changes === 0) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
  }

  protected async _listConversationsForUser(userId: string, filter: MemberFilter): Promise<ConversationMeta[]> {
    const params = { user: userId, include_left: filter.includeLeft ? 1 : 0, type: filter.participantType ?? null };
    const rows = await this.run((s) => s.listForUser.all(params) as Row[]);
    return rows.map(toMeta);
  }

  protected override async _listConversationActivity(
    userId: string,
    filter: MemberFilter,
    after: ActivityKey | undefined,
    limit: number,
  ): Promise<ConversationActivity[]> {
    const params = {
      user: userId,
      include_left: filter.includeLeft ? 1 : 0,
      type: filter.participantType ?? null,
      after_at: after?.activityAt ?? null,
      after_id: after?.conversationId ?? null,
      limit,
    };
    const rows = await this.run((s) => s.listActivity.all(params) as Row[]);
    return rows.map((row) => activityFromRow(row as Record<string, unknown>));
  }

  protected async _listConversationsCreatedBefore(isoTime: string): Promise<string[]> {
    return this.run((s) => s.listCreatedBefore.all(isoTime) as string[]);
  }

  protected async _deleteConversation(conversationId: string): Promise<void> {
    return this.write((s) => {
      s.deleteMessages.run(conversationId);
      s.deleteParticipants.run(conversationId);
      s.deleteConversation.run(conversationId);
    });
  }

  protected async _getParticipants(conversationId: string): Promise<Participant[]> {
    const rows = await this.run((s) => s.getParticipants.all(conversationId) as Row[]);
    return rows.map((r) => makeParticipant(r as unknown as Participant));
  }

  protected async _putParticipant(conversationId: string, participant: Participant): Promise<void> {
    return this.write((s) => {
      if (!s.conversationExists.get(conversationId)) {
        throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
      }
      s.upsertParticipant.run(participantRow(conversationId, participant));
    });
  }

  protected async _removeParticipant(conversationId: string, participantId: string): Promise<void> {
    await this.run((s) => s.markLeft.run(conversationId, participantId));
  }

  protected async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    const rows = messages.map((m) => ({ ...m, metadata: toJsonText(m.metadata, 'metadata') }));
    return this.write((s) => {
      // The epoch is read inside the IMMEDIATE transaction that inserts: no claim commits in between.
      const epoch = s.ownerEpoch.get(conversationId) as number | undefined;
      if (epoch === undefined) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
      if (fenceEpoch !== undefined && epoch !== fenceEpoch) throw fencedError(conversationId, fenceEpoch, epoch);
      const last = s.lastSequence.get(conversationId) as number;
      const first = rows[0].sequence_id;
      if (first <= last) throw new ChatError('STORAGE_ERR_DUPLICATE_SEQUENCE', `sequence ${first} is already stored`);
      if (first !== last + 1) throw new ChatError('STORAGE_ERR_SEQUENCE_GAP', `expected sequence ${last + 1}, got ${first}`);
      for (const row of rows) s.insertMessage.run(row);
    });
  }

  protected async _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    return (await this.run((s) => s.readMessages.all(conversationId, afterSequenceId, limit) as Row[])).map(toMessage);
  }

  protected async _readLatestMessages(conversationId: string, limit: number): Promise<ChatMessage[]> {
    return (await this.run((s) => s.readLatest.all(conversationId, limit) as Row[])).map(toMessage).reverse();
  }

  protected async _lastSequenceId(conversationId: string): Promise<number> {
    return this.run((s) => s.lastSequence.get(conversationId) as number);
  }

  protected async _findSequenceByMessageId(conversationId: string, senderId: string, messageId: string): Promise<number | undefined> {
    return this.run((s) => s.findSequence.get(conversationId, senderId, messageId) as number | undefined);
  }

  protected override async _getSequenceReservation(conversationId: string): Promise<number> {
    return this.run((s) => s.getReservation.get(conversationId) as number);
  }

  protected override async _setSequenceReservation(conversationId: string, upTo: number, fenceEpoch?: number): Promise<void> {
    // synchronous=NORMAL may lose the last commits on a power loss; a lost raise would let ids
    // that were already delivered be handed out again, so this one write syncs the WAL (FULL).
    // That also makes every earlier commit durable; it costs one fsync per reserved block.
    return this.run((s) => {
      this.db!.pragma('synchronous = FULL');
      let changes: number;
      try {
        changes = s.setReservation.run({ up_to: upTo, conversation_id: conversationId, fence: fenceEpoch ?? null }).changes;
      } finally {
        this.db!.pragma('synchronous = NORMAL');
      }
      if (changes !== 0 || fenceEpoch === undefined) return;
      // Nothing updated under a fence: an unknown conversation stays a no-op, an existing one was claimed again.
      const epoch = s.ownerEpoch.get(conversationId) as number | undefined;
      if (epoch !== undefined) throw fencedError(conversationId, fenceEpoch, epoch);
    });
  }

  protected override async _getReadPositions(conversationId: string): Promise<Map<string, number>> {
    const rows = await this.run((s) => s.getReadPositions.all(conversationId) as Row[]);
    return new Map(rows.map((r) => [r.participant_id as string, r.read_up_to as number]));
  }

  protected override async _getReadPositionsOf(participantId: string, conversationIds: readonly string[]): Promise<Map<string, number>> {
    const params = { participant_id: participantId, ids: JSON.stringify(conversationIds) };
    const rows = await this.run((s) => s.getReadPositionsOf.all(params) as Row[]);
    return new Map(rows.map((r) => [r.conversation_id as string, r.read_up_to as number]));
  }

  protected override async _saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
    // One transaction for the batch (one commit, one WAL sync point), whatever its size.
    await this.write((s) => {
      for (const [participantId, upTo] of positions) {
        s.raiseReadPosition.run({ conversation_id: conversationId, participant_id: participantId, up_to: upTo });
      }
    });
  }

  protected override async _lowerReadPositions(conversationId: string, upTo: number): Promise<number> {
    return this.write((s) => s.lowerReadPositions.run({ conversation_id: conversationId, up_to: upTo }).changes);
  }

  protected override async _countUnread(readerId: string, range: UnreadRange, limit: number): Promise<number> {
    const params = { conversation_id: range.conversationId, after: range.after, up_to: range.upTo, reader: readerId, limit };
    return this.run((s) => s.countUnread.get(params) as number);
  }

  protected override async _claimConversation(conversationId: string, request: ClaimRequest): Promise<ClaimResult> {
    // decideClaim itself, on the row read inside one IMMEDIATE transaction: the write lock is taken before
    // the read, so another connection (or process) claiming at once decides after this one committed.
    return this.write((s) => {
      const row = s.getClaim.get(conversationId) as Row | undefined;
      if (!row) return { claimed: true, claim: { ownerId: request.ownerId, epoch: 0 } } as const;
      const stored = {
        ownerId: (row.owner_id as string | null) ?? undefined,
        epoch: row.owner_epoch as number,
        expiresAt: row.owner_expires_at as number,
        address: (row.owner_address as string | null) ?? undefined,
      };
      const { next, ...result } = decideClaim(stored, request, this.now());
      if (next) s.setClaim.run({ ...next, ownerId: next.ownerId ?? null, address: next.address ?? null, conversation_id: conversationId });
      return result;
    });
  }

  protected override async _renewClaims(ownerId: string, ttlMs: number): Promise<Map<string, number>> {
    const rows = await this.run((s) => s.renewClaims.all(this.now() + ttlMs, ownerId) as Row[]);
    return new Map(rows.map((r) => [r.conversation_id as string, r.owner_epoch as number]));
  }

  protected override async _releaseClaim(conversationId: string, claim: ConversationClaim): Promise<void> {
    await this.run((s) => s.releaseClaim.run(conversationId, claim.ownerId, claim.epoch));
  }

  protected async _redactMessages(
    conversationId: string,
    target: RedactionTarget,
    fenceEpoch?: number,
    upTo = Number.MAX_SAFE_INTEGER,
  ): Promise<RedactionResult> {
    const params = { conversation_id: conversationId, up_to: upTo };
    const [already, redacted] = await this.write((s) => {
      checkFence(s, conversationId, fenceEpoch);
      // Read before the update (which makes every match redacted); both in the one write transaction.
      if ('messageIds' in target) {
        const byIds = { ...params, ids: JSON.stringify(target.messageIds) };
        return [s.redactedByIds.all(byIds) as number[], s.redactByIds.all({ ...byIds, marker: REDACTION_MARKER }) as number[]];
      }
      const bySender = { ...params, sender_id: target.senderId };
      return [s.redactedBySender.all(bySender) as number[], s.redactBySender.all({ ...bySender, marker: REDACTION_MARKER }) as number[]];
    });
    return { redacted: redacted.sort((a, b) => a - b), alreadyRedacted: already.sort((a, b) => a - b) };
  }

  protected override async _replaceMessageContent(
    conversationId: string,
    sequenceId: number,
    replacement: ContentReplacement,
    fenceEpoch?: number,
  ): Promise<ChatMessage | undefined> {
    return this.write((s) => {
      checkFence(s, conversationId, fenceEpoch);
      const row = (s.readMessages.all(conversationId, sequenceId - 1, 1) as Row[])[0];
      if (row === undefined || Number(row.sequence_id) !== sequenceId) return undefined;
      const current = toMessage(row);
      if (current.sender_id !== replacement.senderId || current.metadata.redacted === true) return undefined;
      const metadata = toJsonText({ ...current.metadata, ...replacement.metadata }, 'metadata');
      s.replaceContent.run({ conversation_id: conversationId, sequence_id: sequenceId, content: replacement.content, metadata });
      return makeMessage({ ...current, content: replacement.content }, parseJsonObject(metadata, 'metadata'));
    });
  }

  /**
   * Runs one statement (or transaction); maps driver errors to coded ones. Returns the value itself when
   * the call got its lock at once, a promise when it had to wait for another connection's lock.
   */
  private run<T>(fn: (s: SqliteStatements) => T): T | Promise<T> {
    let result: T | Promise<T>;
    try {
      result = whenUnlocked(() => fn(this.statements()), this.callWait);
    } catch (err) {
      throw mapError(err, 'sqlite operation failed');
    }
    if (!(result instanceof Promise)) return result;
    return this.track(
      result.catch((err: unknown) => {
        throw mapError(err, 'sqlite operation failed');
      }),
    );
  }

  /** Runs `fn` in one IMMEDIATE transaction (the write lock is taken before the first read). */
  private write<T>(fn: (s: SqliteStatements) => T): T | Promise<T> {
    return this.run((s) => this.db!.transaction(() => fn(s)).immediate());
  }

  private statements(): SqliteStatements {
    if (!this.db || !this.sql) throw new ChatError('STORAGE_ERR_NOT_OPEN', 'sqlite store is not open');
    return this.sql;
  }

  /** Keeps a waiting call in `waiting` until it settles. */
  private track<T>(result: T | Promise<T>): T | Promise<T> {
    if (!(result instanceof Promise)) return result;
    this.waiting.add(result);
    const forget = () => this.waiting.delete(result);
    result.then(forget, forget);
    return result;
  }
}

/**
 * Refuses a change of stored records under a stale fence. Called inside the write's IMMEDIATE transaction: no claim
 * (which needs the write lock) commits between this read and the change. An unknown conversation is not refused.
 */
function checkFence(s: SqliteStatements, conversationId: string, fenceEpoch: number | undefined): void {
  if (fenceEpoch === undefined) return;
  const epoch = s.ownerEpoch.get(conversationId) as number | undefined;
  if (epoch !== undefined && epoch !== fenceEpoch) throw fencedError(conversationId, fenceEpoch, epoch);
}

function participantRow(conversationId: string, p: Participant): Row {
  return {
    conversation_id: conversationId,
    participant_id: p.participant_id,
    participant_type: p.participant_type,
    display_name: p.display_name,
    joined_at_sequence: p.joined_at_sequence,
    role: p.role,
    agent_id: p.agent_id ?? null,
  };
}

function toMeta(row: Row): ConversationMeta {
  return makeMeta(row as unknown as ConversationMeta, parseJsonObject(row.settings, 'settings'));
}

function toMessage(row: Row): ChatMessage {
  return makeMessage(row as unknown as ChatMessage, parseJsonObject(row.metadata, 'metadata'));
}

/** Unique-constraint violations become the contract's codes; everything else is UNAVAILABLE. */
function mapError(err: unknown, context: string): unknown {
  if (isChatError(err)) return err;
  const code = (err as { code?: unknown }).code;
  const text = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    if (text.includes('messages.sequence_id')) return new ChatError('STORAGE_ERR_DUPLICATE_SEQUENCE', text, { cause: err });
    if (text.includes('messages.message_id')) return new ChatError('STORAGE_ERR_DUPLICATE_MESSAGE', text, { cause: err });
    if (text.includes('conversations.conversation_id')) return new ChatError('CHAT_ERR_ALREADY_EXISTS', text, { cause: err });
  }
  return new ChatError('STORAGE_ERR_UNAVAILABLE', `${context}: ${text}`, { cause: err });
}
