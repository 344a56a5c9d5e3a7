import type Database from 'better-sqlite3';
import { PREVIEW_SCAN, PREVIEW_TYPES } from './conversation-activity';
import { continuesAnswerSql } from './read-positions';

const MESSAGE_COLUMNS = 'message_id, conversation_id, sequence_id, sender_id, sender_type, message_type, content, timestamp, metadata';
const META_COLUMNS = 'c.conversation_id, c.title, c.created_at, c.created_by, c.settings, c.status';
/** The preview record's columns, prefixed pv_ (previewFromRow in conversation-activity-rows.ts reads them). */
const PREVIEW_COLUMNS = MESSAGE_COLUMNS.split(', ')
  .map((column) => `pv.${column} AS pv_${column}`)
  .join(', ');
/** PREVIEW_TYPES as SQL literals (constants of ours, no quotes inside). */
const PREVIEW_TYPES_SQL = PREVIEW_TYPES.map((type) => `'${type}'`).join(', ');
/** `metadata.part` when it is a number (read-positions.ts continuesAnswer looks at numbers only), else NULL. */
const SQLITE_METADATA_PART = "CASE WHEN json_type(metadata, '$.part') IN ('integer', 'real') THEN json_extract(metadata, '$.part') END";

/** Every statement the SQLite provider runs, prepared once per connection. */
export function createSqliteStatements(db: Database.Database): SqliteStatements {
  return {
    ping: db.prepare('SELECT 1'),
    conversationExists: db.prepare('SELECT 1 FROM conversations WHERE conversation_id = ?'),
    insertConversation: db.prepare(
      `INSERT INTO conversations (conversation_id, title, created_at, created_by, settings, status)
       VALUES (@conversation_id, @title, @created_at, @created_by, @settings, @status)`,
    ),
    getConversation: db.prepare(`SELECT ${META_COLUMNS} FROM conversations c WHERE c.conversation_id = ?`),
    updateStatus: db.prepare('UPDATE conversations SET status = ? WHERE conversation_id = ?'),
    // @include_left = 1 includes conversations the user has left; @type NULL: any participant type.
    listForUser: db.prepare(
      `SELECT ${META_COLUMNS} FROM participants p JOIN conversations c ON c.conversation_id = p.conversation_id
       WHERE p.participant_id = @user AND (@include_left = 1 OR p.has_left = 0)
         AND (@type IS NULL OR p.participant_type = @type)
       ORDER BY c.created_at DESC, c.conversation_id ASC`,
    ),
    // The listForUser filter, each conversation's last record (PK lookups), ranked as compareActivity (BINARY
    // collation: byte order) after the cursor (@after_at, @after_id; NULL: from the top), @limit rows; then the
    // preview (the latest previewable id among the last PREVIEW_SCAN, a PK range) only for the rows of the page.
    listActivity: db.prepare(
      `WITH mine AS (
         SELECT ${META_COLUMNS}, COALESCE(l.sequence_id, 0) AS last_sequence_id, COALESCE(l.timestamp, c.created_at) AS activity_at
         FROM participants p JOIN conversations c ON c.conversation_id = p.conversation_id
         LEFT JOIN messages l ON l.conversation_id = c.conversation_id
           AND l.sequence_id = (SELECT MAX(sequence_id) FROM messages WHERE conversation_id = c.conversation_id)
         WHERE p.participant_id = @user AND (@include_left = 1 OR p.has_left = 0) AND (@type IS NULL OR p.participant_type = @type)
       ), page AS (
         SELECT * FROM mine
         WHERE @after_at IS NULL OR activity_at < @after_at OR (activity_at = @after_at AND conversation_id > @after_id)
         ORDER BY activity_at DESC, conversation_id ASC LIMIT @limit
       )
       SELECT page.*, ${PREVIEW_COLUMNS}
       FROM page LEFT JOIN messages pv ON pv.conversation_id = page.conversation_id AND pv.sequence_id = (
         SELECT MAX(r.sequence_id) FROM messages r WHERE r.conversation_id = page.conversation_id
           AND r.sequence_id > page.last_sequence_id - ${PREVIEW_SCAN} AND r.message_type IN (${PREVIEW_TYPES_SQL}))
       ORDER BY page.activity_at DESC, page.conversation_id ASC`,
    ),
    listCreatedBefore: db
      .prepare('SELECT conversation_id FROM conversations WHERE created_at < ? ORDER BY created_at ASC, conversation_id ASC')
      .pluck(),
    deleteMessages: db.prepare('DELETE FROM messages WHERE conversation_id = ?'),
    deleteParticipants: db.prepare('DELETE FROM participants WHERE conversation_id = ?'),
    deleteConversation: db.prepare('DELETE FROM conversations WHERE conversation_id = ?'),
    getParticipants: db.prepare(
      `SELECT participant_id, participant_type, display_name, joined_at_sequence, role, agent_id FROM participants
       WHERE conversation_id = ? AND has_left = 0 ORDER BY joined_at_sequence ASC, participant_id ASC`,
    ),
    upsertParticipant: db.prepare(
      `INSERT INTO participants (conversation_id, participant_id, participant_type, display_name, joined_at_sequence, role, agent_id, has_left)
       VALUES (@conversation_id, @participant_id, @participant_type, @display_name, @joined_at_sequence, @role, @agent_id, 0)
       ON CONFLICT (conversation_id, participant_id) DO UPDATE SET
         participant_type = excluded.participant_type, display_name = excluded.display_name,
         joined_at_sequence = excluded.joined_at_sequence, role = excluded.role, agent_id = excluded.agent_id, has_left = 0`,
    ),
    markLeft: db.prepare('UPDATE participants SET has_left = 1 WHERE conversation_id = ? AND participant_id = ?'),
    lastSequence: db.prepare('SELECT COALESCE(MAX(sequence_id), 0) FROM messages WHERE conversation_id = ?').pluck(),
    insertMessage: db.prepare(
      `INSERT INTO messages (${MESSAGE_COLUMNS})
       VALUES (@message_id, @conversation_id, @sequence_id, @sender_id, @sender_type, @message_type, @content, @timestamp, @metadata)`,
    ),
    readMessages: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND sequence_id > ? ORDER BY sequence_id ASC LIMIT ?`,
    ),
    readLatest: db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY sequence_id DESC LIMIT ?`),
    findSequence: db.prepare('SELECT sequence_id FROM messages WHERE conversation_id = ? AND sender_id = ? AND message_id = ?').pluck(),
    // 0 for an unknown conversation (the scalar subquery is NULL), like the memory store.
    getReservation: db.prepare('SELECT COALESCE((SELECT sequence_reservation FROM conversations WHERE conversation_id = ?), 0)').pluck(),
    // Updates nothing for an unknown conversation (a no-op, like the memory store) or under a stale fence
    // (@fence, NULL = none): the check and the write are one statement.
    setReservation: db.prepare(
      `UPDATE conversations SET sequence_reservation = @up_to
       WHERE conversation_id = @conversation_id AND (@fence IS NULL OR owner_epoch = @fence)`,
    ),
    // The epoch, or undefined for an unknown conversation.
    ownerEpoch: db.prepare('SELECT owner_epoch FROM conversations WHERE conversation_id = ?').pluck(),
    getClaim: db.prepare('SELECT owner_id, owner_epoch, owner_expires_at, owner_address FROM conversations WHERE conversation_id = ?'),
    setClaim: db.prepare(
      `UPDATE conversations SET owner_id = @ownerId, owner_epoch = @epoch, owner_expires_at = @expiresAt, owner_address = @address
       WHERE conversation_id = @conversation_id`,
    ),
    // One statement however many conversations the owner holds (the partial index on owner_id).
    renewClaims: db.prepare('UPDATE conversations SET owner_expires_at = ? WHERE owner_id = ? RETURNING conversation_id, owner_epoch'),
    // Keeps the epoch (the next claim raises it past every write made under this one).
    releaseClaim: db.prepare(
      `UPDATE conversations SET owner_id = NULL, owner_expires_at = 0, owner_address = NULL
       WHERE conversation_id = ? AND owner_id = ? AND owner_epoch = ?`,
    ),
    // Members' read positions (schema v4), 0 = none saved.
    getReadPositions: db.prepare('SELECT participant_id, read_up_to FROM participants WHERE conversation_id = ? AND read_up_to > 0'),
    getReadPositionsOf: db.prepare(
      `SELECT conversation_id, read_up_to FROM participants
       WHERE participant_id = @participant_id AND conversation_id IN (SELECT value FROM json_each(@ids)) AND read_up_to > 0`,
    ),
    // Raises only: a lower or equal position updates nothing; an id that is no participant row updates nothing.
    raiseReadPosition: db.prepare(
      `UPDATE participants SET read_up_to = @up_to
       WHERE conversation_id = @conversation_id AND participant_id = @participant_id AND read_up_to < @up_to`,
    ),
    // The one write that lowers (ChatStore.lowerReadPositions): positions above @up_to taken down to it; 0 reads as none.
    lowerReadPositions: db.prepare(
      'UPDATE participants SET read_up_to = @up_to WHERE conversation_id = @conversation_id AND read_up_to > @up_to',
    ),
    // Unread to @reader (storage-providers/read-positions.ts, isUnreadFor) in (@after, @up_to], at most @limit: a PK range.
    countUnread: db
      .prepare(
        `SELECT count(*) FROM (SELECT 1 FROM messages
         WHERE conversation_id = @conversation_id AND sequence_id > @after AND sequence_id <= @up_to
           AND sender_id <> @reader AND message_type IN (${PREVIEW_TYPES_SQL})
           AND NOT ${continuesAnswerSql('sender_type', SQLITE_METADATA_PART)} LIMIT @limit)`,
      )
      .pluck(),
    // A redaction changes only records not redacted yet (a redaction is final) and names those that were apart, in
    // the same IMMEDIATE transaction, so each redaction is announced once (message-edits.ts). Only records up to
    // @up_to: those sequenced after the redaction was asked are not its to take (ChatStore.redactMessages).
    redactByIds: db
      .prepare(
        `UPDATE messages SET content = @marker, metadata = json_set(metadata, '$.redacted', json('true'))
       WHERE conversation_id = @conversation_id AND sequence_id <= @up_to AND message_id IN (SELECT value FROM json_each(@ids))
         AND json_type(metadata, '$.redacted') IS NOT 'true' RETURNING sequence_id`,
      )
      .pluck(),
    redactedByIds: db
      .prepare(
        `SELECT sequence_id FROM messages WHERE conversation_id = @conversation_id AND sequence_id <= @up_to
         AND message_id IN (SELECT value FROM json_each(@ids)) AND json_type(metadata, '$.redacted') = 'true'`,
      )
      .pluck(),
    // A member's edit or delete of its own message (replaceMessageContent): the store checks the record first, in the
    // same IMMEDIATE transaction, and writes the metadata it merged.
    replaceContent: db.prepare(
      `UPDATE messages SET content = @content, metadata = @metadata WHERE conversation_id = @conversation_id AND sequence_id = @sequence_id`,
    ),
    redactBySender: db
      .prepare(
        `UPDATE messages SET content = @marker, metadata = json_set(metadata, '$.redacted', json('true'))
       WHERE conversation_id = @conversation_id AND sender_id = @sender_id AND sequence_id <= @up_to
         AND json_type(metadata, '$.redacted') IS NOT 'true' RETURNING sequence_id`,
      )
      .pluck(),
    redactedBySender: db
      .prepare(
        `SELECT sequence_id FROM messages WHERE conversation_id = @conversation_id AND sender_id = @sender_id
         AND sequence_id <= @up_to AND json_type(metadata, '$.redacted') = 'true'`,
      )
      .pluck(),
  };
}

type StatementName =
  | 'ping'
  | 'conversationExists'
  | 'insertConversation'
  | 'getConversation'
  | 'updateStatus'
  | 'listForUser'
  | 'listActivity'
  | 'listCreatedBefore'
  | 'deleteMessages'
  | 'deleteParticipants'
  | 'deleteConversation'
  | 'getParticipants'
  | 'upsertParticipant'
  | 'markLeft'
  | 'lastSequence'
  | 'insertMessage'
  | 'readMessages'
  | 'readLatest'
  | 'findSequence'
  | 'getReservation'
  | 'setReservation'
  | 'ownerEpoch'
  | 'getClaim'
  | 'setClaim'
  | 'renewClaims'
  | 'releaseClaim'
  | 'getReadPositions'
  | 'getReadPositionsOf'
  | 'raiseReadPosition'
  | 'lowerReadPositions'
  | 'countUnread'
  | 'redactByIds'
  | 'replaceContent'
  | 'redactBySender'
  | 'redactedByIds'
  | 'redactedBySender';

export type SqliteStatements = Readonly<Record<StatementName, Database.Statement>>;
