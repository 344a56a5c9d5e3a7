import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ChatError, isChatError } from '../actors/errors';
import type { ChatMessage, ConversationMeta, Participant } from '../actors/message-types';
import { ChatStore, REDACTION_MARKER, type RedactionTarget, type StoreCapabilities } from './chat-store';
import { makeMessage, makeMeta, makeParticipant, parseJsonObject, toJsonText } from './records';
import { migrateSqlite } from './sqlite-schema';
import { createSqliteStatements, type SqliteStatements } from './sqlite-statements';

/** Settings of the SQLite provider (config: chat.storage.sqlite.*). */
export interface SqliteStoreOptions {
  /** Database file; parent directories are created. ':memory:' gives a volatile database. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing (default 5000). */
  readonly busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

/**
 * Single-file durable store on better-sqlite3: WAL journal, synchronous=NORMAL (a power loss may
 * drop the last commits but never corrupts), prepared statements, every write one transaction.
 * better-sqlite3 is synchronous, so each call completes before its promise is returned and close()
 * never interrupts a write. Several processes may share the file (writes serialise on its lock).
 */
export class SqliteStore extends ChatStore {
  readonly name = 'sqlite';
  readonly supports: StoreCapabilities;
  private db: Database.Database | undefined;
  private sql: SqliteStatements | undefined;

  constructor(private readonly options: SqliteStoreOptions) {
    super();
    const durable = options.path !== ':memory:' && options.path !== '';
    this.supports = Object.freeze({ durable, sharedAcrossProcesses: durable, sequenceReservation: true });
  }

  protected async _open(): Promise<void> {
    try {
      if (this.supports.durable) fs.mkdirSync(path.dirname(path.resolve(this.options.path)), { recursive: true });
      const db = new Database(this.options.path, { timeout: this.options.busyTimeoutMs ?? 5000 });
      try {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        migrateSqlite(db);
        this.sql = createSqliteStatements(db);
        this.db = db;
      } catch (err) {
        db.close();
        throw err;
      }
    } catch (err) {
      throw mapError(err, `cannot open sqlite database ${this.options.path}`);
    }
  }

  protected async _close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.sql = undefined;
    db?.close();
  }

  protected async _ping(): Promise<void> {
    this.run((s) => s.ping.get());
  }

  protected async _createConversation(meta: ConversationMeta, participants: readonly Participant[]): Promise<void> {
    const settings = toJsonText(meta.settings, 'settings');
    this.write((s) => {
      if (s.conversationExists.get(meta.conversation_id)) {
        throw new ChatError('CHAT_ERR_ALREADY_EXISTS', `conversation ${meta.conversation_id} already exists`);
      }
      s.insertConversation.run({ ...meta, settings });
      for (const p of participants) s.upsertParticipant.run(participantRow(meta.conversation_id, p));
    });
  }

  protected async _getConversation(conversationId: string): Promise<ConversationMeta | undefined> {
    const row = this.run((s) => s.getConversation.get(conversationId) as Row | undefined);
    return row ? toMeta(row) : undefined;
  }

  protected async _updateConversationStatus(conversationId: string, status: ConversationMeta['status']): Promise<void> {
    const changes = this.run((s) => s.updateStatus.run(status, conversationId).changes);
    if (changes === 0) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
  }

  protected async _listConversationsForUser(userId: string, includeLeft: boolean): Promise<ConversationMeta[]> {
    const rows = this.run((s) => s.listForUser.all({ user: userId, include_left: includeLeft ? 1 : 0 }) as Row[]);
    return rows.map(toMeta);
  }

  protected async _listConversationsCreatedBefore(isoTime: string): Promise<string[]> {
    return this.run((s) => s.listCreatedBefore.all(isoTime) as string[]);
  }

  protected async _deleteConversation(conversationId: string): Promise<void> {
    this.write((s) => {
      s.deleteMessages.run(conversationId);
      s.deleteParticipants.run(conversationId);
      s.deleteConversation.run(conversationId);
    });
  }

  protected async _getParticipants(conversationId: string): Promise<Participant[]> {
    const rows = this.run((s) => s.getParticipants.all(conversationId) as Row[]);
    return rows.map((r) => makeParticipant(r as unknown as Participant));
  }

  protected async _putParticipant(conversationId: string, participant: Participant): Promise<void> {
    this.write((s) => {
      if (!s.conversationExists.get(conversationId)) {
        throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
      }
      s.upsertParticipant.run(participantRow(conversationId, participant));
    });
  }

  protected async _removeParticipant(conversationId: string, participantId: string): Promise<void> {
    this.run((s) => s.markLeft.run(conversationId, participantId));
  }

  protected async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    const rows = messages.map((m) => ({ ...m, metadata: toJsonText(m.metadata, 'metadata') }));
    this.write((s) => {
      if (!s.conversationExists.get(conversationId)) {
        throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
      }
      const last = s.lastSequence.get(conversationId) as number;
      const first = rows[0].sequence_id;
      if (first <= last) throw new ChatError('STORAGE_ERR_DUPLICATE_SEQUENCE', `sequence ${first} is already stored`);
      if (first !== last + 1) throw new ChatError('STORAGE_ERR_SEQUENCE_GAP', `expected sequence ${last + 1}, got ${first}`);
      for (const row of rows) s.insertMessage.run(row);
    });
  }

  protected async _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    return this.run((s) => s.readMessages.all(conversationId, afterSequenceId, limit) as Row[]).map(toMessage);
  }

  protected async _readLatestMessages(conversationId: string, limit: number): Promise<ChatMessage[]> {
    return this.run((s) => s.readLatest.all(conversationId, limit) as Row[])
      .map(toMessage)
      .reverse();
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

  protected override async _setSequenceReservation(conversationId: string, upTo: number): Promise<void> {
    // synchronous=NORMAL may lose the last commits on a power loss; a lost raise would let ids
    // that were already delivered be handed out again, so this one write syncs the WAL (FULL).
    // That also makes every earlier commit durable; it costs one fsync per reserved block.
    this.run((s) => {
      this.db!.pragma('synchronous = FULL');
      try {
        s.setReservation.run(upTo, conversationId);
      } finally {
        this.db!.pragma('synchronous = NORMAL');
      }
    });
  }

  protected async _redactMessages(conversationId: string, target: RedactionTarget): Promise<number[]> {
    const params = { marker: REDACTION_MARKER, conversation_id: conversationId };
    const ids = this.write((s) =>
      'messageIds' in target
        ? (s.redactByIds.all({ ...params, ids: JSON.stringify(target.messageIds) }) as number[])
        : (s.redactBySender.all({ ...params, sender_id: target.senderId }) as number[]),
    );
    return ids.sort((a, b) => a - b);
  }

  /** Runs one statement; maps driver errors to coded ones. */
  private run<T>(fn: (s: SqliteStatements) => T): T {
    if (!this.db || !this.sql) throw new ChatError('STORAGE_ERR_NOT_OPEN', 'sqlite store is not open');
    try {
      return fn(this.sql);
    } catch (err) {
      throw mapError(err, 'sqlite operation failed');
    }
  }

  /** Runs `fn` in one IMMEDIATE transaction (the write lock is taken before the first read). */
  private write<T>(fn: (s: SqliteStatements) => T): T {
    return this.run((s) => this.db!.transaction(() => fn(s)).immediate());
  }
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
