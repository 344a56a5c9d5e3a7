/** SQL text of the PostgreSQL provider for one (quoted) schema. */
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
const POSTGRES_METADATA_PART = "CASE WHEN jsonb_typeof(m.metadata -> 'part') = 'number' THEN (m.metadata ->> 'part')::numeric END";
const PARTICIPANT_COLUMNS = 'participant_id, participant_type, display_name, joined_at_sequence, role, agent_id';

/**
 * Now in epoch ms on the database clock: every server on one database agrees on it, whatever their
 * own clocks say. clock_timestamp(), not now(): the time of the statement, not of its transaction.
 */
const DB_NOW_MS = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';
const CLAIM_COLUMNS = 'owner_id, owner_epoch, owner_expires_at, owner_address';

export function postgresSql(s: string) {
  return {
    insertConversation: `INSERT INTO ${s}.conversations (conversation_id, title, created_at, created_by, settings, status)
      VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
    getConversation: `SELECT ${META_COLUMNS} FROM ${s}.conversations c WHERE c.conversation_id = $1`,
    updateStatus: `UPDATE ${s}.conversations SET status = $2 WHERE conversation_id = $1`,
    listForUser: `SELECT ${META_COLUMNS} FROM ${s}.participants p JOIN ${s}.conversations c ON c.conversation_id = p.conversation_id
      WHERE p.participant_id = $1 AND ($2 OR NOT p.has_left) AND ($3::text IS NULL OR p.participant_type = $3)
      ORDER BY c.created_at DESC, c.conversation_id ASC`,
    // The listForUser filter ($1..$3), each conversation's last record (one PK probe each), ranked as compareActivity
    // (byte-wise, COLLATE "C") after the cursor ($4 activity, $5 id; NULL: from the top), $6 rows; then the preview
    // (the latest previewable id among the last PREVIEW_SCAN, a PK range) only for the rows of the page.
    listActivity: `WITH mine AS (
        SELECT ${META_COLUMNS}, COALESCE(l.sequence_id, 0) AS last_sequence_id,
          COALESCE(l.timestamp COLLATE "C", c.created_at) AS activity_at
        FROM ${s}.participants p JOIN ${s}.conversations c ON c.conversation_id = p.conversation_id
        LEFT JOIN LATERAL (SELECT m.sequence_id, m.timestamp FROM ${s}.messages m WHERE m.conversation_id = c.conversation_id
          ORDER BY m.sequence_id DESC LIMIT 1) l ON true
        WHERE p.participant_id = $1 AND ($2 OR NOT p.has_left) AND ($3::text IS NULL OR p.participant_type = $3)
      ), page AS (
        SELECT * FROM mine
        WHERE $4::text IS NULL OR activity_at < $4::text COLLATE "C" OR (activity_at = $4::text COLLATE "C" AND conversation_id > $5::text)
        ORDER BY activity_at DESC, conversation_id ASC LIMIT $6
      )
      SELECT page.*, ${PREVIEW_COLUMNS}
      FROM page LEFT JOIN ${s}.messages pv ON pv.conversation_id = page.conversation_id AND pv.sequence_id = (
        SELECT MAX(r.sequence_id) FROM ${s}.messages r WHERE r.conversation_id = page.conversation_id
          AND r.sequence_id > page.last_sequence_id - ${PREVIEW_SCAN} AND r.message_type IN (${PREVIEW_TYPES_SQL}))
      ORDER BY page.activity_at DESC, page.conversation_id ASC`,
    listCreatedBefore: `SELECT conversation_id FROM ${s}.conversations WHERE created_at < $1 ORDER BY created_at ASC, conversation_id ASC`,
    // The conversation row is deleted (and so locked) first: the same lock order as appends.
    deleteConversation: `DELETE FROM ${s}.conversations WHERE conversation_id = $1`,
    deleteMessages: `DELETE FROM ${s}.messages WHERE conversation_id = $1`,
    deleteParticipants: `DELETE FROM ${s}.participants WHERE conversation_id = $1`,
    getParticipants: `SELECT ${PARTICIPANT_COLUMNS} FROM ${s}.participants WHERE conversation_id = $1 AND NOT has_left
      ORDER BY joined_at_sequence ASC, participant_id ASC`,
    getParticipantsOf: `SELECT conversation_id, ${PARTICIPANT_COLUMNS} FROM ${s}.participants
      WHERE conversation_id = ANY($1::text[]) AND NOT has_left
      ORDER BY conversation_id ASC, joined_at_sequence ASC, participant_id ASC`,
    // Parallel arrays ($2..$7), so one statement inserts any number of members; nothing if the conversation is missing.
    upsertParticipants: `INSERT INTO ${s}.participants (conversation_id, ${PARTICIPANT_COLUMNS}, has_left)
      SELECT $1, p.*, false FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS p
      WHERE EXISTS (SELECT 1 FROM ${s}.conversations WHERE conversation_id = $1)
      ON CONFLICT (conversation_id, participant_id) DO UPDATE SET participant_type = EXCLUDED.participant_type,
        display_name = EXCLUDED.display_name, joined_at_sequence = EXCLUDED.joined_at_sequence, role = EXCLUDED.role,
        agent_id = EXCLUDED.agent_id, has_left = false`,
    markLeft: `UPDATE ${s}.participants SET has_left = true WHERE conversation_id = $1 AND participant_id = $2`,
    // Serialises appends per conversation for the contiguity check (row lock until COMMIT); the epoch is
    // read under the same lock, so a claim (which needs that row lock) cannot commit between check and insert.
    lockConversation: `SELECT owner_epoch FROM ${s}.conversations WHERE conversation_id = $1 FOR UPDATE`,
    lastSequence: `SELECT COALESCE(MAX(sequence_id), 0) AS last FROM ${s}.messages WHERE conversation_id = $1`,
    // One statement per batch whatever its size; metadata travels as text and is cast per row.
    insertMessages: `INSERT INTO ${s}.messages (${MESSAGE_COLUMNS})
      SELECT m.message_id, $1, m.sequence_id, m.sender_id, m.sender_type, m.message_type, m.content, m.timestamp, m.metadata::jsonb
      FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
        AS m (message_id, sequence_id, sender_id, sender_type, message_type, content, timestamp, metadata)`,
    // Fast path, one round trip: the same insert, done only when the conversation exists (row locked)
    // and the stored maximum is first - 1 ($10). The maximum comes from the statement's snapshot, so a
    // concurrent writer can only make this insert nothing or hit a key: the caller then takes the
    // locked path for the exact answer. It can never store a gap or a duplicate.
    // The fence ($11, NULL = none) is checked on the locked row: FOR UPDATE waits for a claim holding
    // the row and then re-reads the committed version, so the epoch compared is the current one, and
    // no claim commits before this insert does. A fenced batch inserts nothing (the locked path says why).
    appendFast: `WITH conv AS (SELECT owner_epoch FROM ${s}.conversations WHERE conversation_id = $1 FOR UPDATE),
        prev AS (SELECT COALESCE(MAX(sequence_id), 0) AS last FROM ${s}.messages WHERE conversation_id = $1)
      INSERT INTO ${s}.messages (${MESSAGE_COLUMNS})
      SELECT m.message_id, $1, m.sequence_id, m.sender_id, m.sender_type, m.message_type, m.content, m.timestamp, m.metadata::jsonb
      FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
        AS m (message_id, sequence_id, sender_id, sender_type, message_type, content, timestamp, metadata)
      WHERE EXISTS (SELECT 1 FROM conv WHERE $11::bigint IS NULL OR owner_epoch = $11::bigint)
        AND (SELECT last FROM prev) = $10::bigint - 1`,
    readMessages: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages WHERE conversation_id = $1 AND sequence_id > $2
      ORDER BY sequence_id ASC LIMIT $3`,
    readLatest: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages WHERE conversation_id = $1 ORDER BY sequence_id DESC LIMIT $2`,
    findSequence: `SELECT sequence_id FROM ${s}.messages WHERE conversation_id = $1 AND sender_id = $2 AND message_id = $3`,
    // Always one row: 0 for an unknown conversation, like the memory store.
    getReservation: `SELECT COALESCE((SELECT sequence_reservation FROM ${s}.conversations WHERE conversation_id = $1), 0) AS reserved`,
    // Updates nothing for an unknown conversation (a no-op, like the memory store) or under a stale
    // fence ($3, NULL = none): the UPDATE re-checks the epoch on the row version it locks.
    setReservation: `UPDATE ${s}.conversations SET sequence_reservation = $2
      WHERE conversation_id = $1 AND ($3::bigint IS NULL OR owner_epoch = $3::bigint)`,
    // decideClaim (conversation-claims.ts) as one statement, so racing claims serialise on the row lock
    // and exactly one wins: free when nobody holds it, the claimant holds it, or the claim expired at
    // the database's now; then owner = claimant, epoch + 1, expiry = now + ttl ($3), address ($4).
    // The clock CTE is volatile, so it is evaluated once (one now for the test and the new expiry).
    // A claim that waits for a concurrent one re-checks this condition on the row it committed.
    // No row back: refused or unknown conversation; the caller reads claimState to tell which.
    claim: `WITH clock AS (SELECT ${DB_NOW_MS} AS now_ms)
      UPDATE ${s}.conversations c SET owner_id = $2, owner_epoch = c.owner_epoch + 1,
        owner_expires_at = clock.now_ms + $3::bigint, owner_address = $4
      FROM clock
      WHERE c.conversation_id = $1 AND (c.owner_id IS NULL OR c.owner_id = $2 OR c.owner_expires_at <= clock.now_ms)
      RETURNING c.owner_epoch`,
    claimState: `SELECT ${CLAIM_COLUMNS}, ${DB_NOW_MS} AS now_ms FROM ${s}.conversations WHERE conversation_id = $1`,
    // One statement however many conversations the owner holds (the partial index on owner_id).
    renewClaims: `WITH clock AS (SELECT ${DB_NOW_MS} AS now_ms)
      UPDATE ${s}.conversations c SET owner_expires_at = clock.now_ms + $2::bigint FROM clock
      WHERE c.owner_id = $1 RETURNING c.conversation_id, c.owner_epoch`,
    // Keeps the epoch (the next claim raises it past every write made under this one).
    releaseClaim: `UPDATE ${s}.conversations SET owner_id = NULL, owner_expires_at = 0, owner_address = NULL
      WHERE conversation_id = $1 AND owner_id = $2 AND owner_epoch = $3`,
    ownerEpoch: `SELECT owner_epoch FROM ${s}.conversations WHERE conversation_id = $1`,
    // Members' read positions (schema v4), 0 = none saved.
    getReadPositions: `SELECT participant_id, read_up_to FROM ${s}.participants WHERE conversation_id = $1 AND read_up_to > 0`,
    getReadPositionsOf: `SELECT conversation_id, read_up_to FROM ${s}.participants
      WHERE participant_id = $1 AND conversation_id = ANY($2::text[]) AND read_up_to > 0`,
    // Parallel arrays ($2 ids, $3 positions): one statement for the batch. Raises only (GREATEST would also write an
    // unchanged row: the WHERE skips it); an id that is no participant row updates nothing.
    raiseReadPositions: `UPDATE ${s}.participants p SET read_up_to = r.up_to
      FROM unnest($2::text[], $3::bigint[]) AS r (participant_id, up_to)
      WHERE p.conversation_id = $1 AND p.participant_id = r.participant_id AND p.read_up_to < r.up_to`,
    // The one write that lowers (ChatStore.lowerReadPositions): positions above $2 taken down to it; 0 reads as none.
    lowerReadPositions: `UPDATE ${s}.participants SET read_up_to = $2 WHERE conversation_id = $1 AND read_up_to > $2`,
    // Unread to $1 (storage-providers/read-positions.ts, isUnreadFor) per range ($2 ids, $3 after, $4 up to), at most
    // $5 each: one round trip for a whole list page, each count a PK range of its conversation.
    countUnread: `SELECT r.conversation_id, (SELECT count(*) FROM (SELECT 1 FROM ${s}.messages m
        WHERE m.conversation_id = r.conversation_id AND m.sequence_id > r.after AND m.sequence_id <= r.up_to
          AND m.sender_id <> $1 AND m.message_type IN (${PREVIEW_TYPES_SQL})
          AND NOT ${continuesAnswerSql('m.sender_type', POSTGRES_METADATA_PART)} LIMIT $5) x) AS unread
      FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS r (conversation_id, after, up_to)`,
    // A redaction changes only records not redacted yet (a redaction is final) and names those that were apart
    // (\`already\`), so each redaction is announced once (message-edits.ts). The rows are locked as read: an edit
    // landing meanwhile waits, and the flag is read from the row as it is when the lock is taken. Fenced by $4.
    redactByIds: redaction(s, 'message_id = ANY($3::text[])'),
    // A member's edit or delete of its own message (replaceMessageContent): one statement checks the fence ($6), the
    // sender and that the record is not redacted, and sets the keys of $5 (top-level, as the other stores do).
    replaceContent: `WITH ${fencedConversation(s, '$1', '$6')}
      UPDATE ${s}.messages SET content = $4, metadata = metadata || $5::jsonb
      WHERE conversation_id = $1 AND sequence_id = $2 AND sender_id = $3 AND (metadata -> 'redacted') IS DISTINCT FROM 'true'::jsonb
        AND EXISTS (SELECT 1 FROM conv)
      RETURNING ${MESSAGE_COLUMNS}`,
    redactBySender: redaction(s, 'sender_id = $3'),
  } as const;
}

/**
 * CTE `conv`: the conversation's row when the fence (`fence`, NULL = none) is its epoch, locked FOR SHARE. A claim
 * updates that row, so it waits for this statement to commit, or this lock waits for the claim and then re-checks the
 * epoch on the committed row (READ COMMITTED): a change of records joined to `conv` is never made under a stale fence.
 * An empty `conv` changes nothing; the caller reads the epoch to tell a fenced call from one that matched nothing.
 */
function fencedConversation(s: string, conversationId: string, fence: string): string {
  return `conv AS (
      SELECT 1 FROM ${s}.conversations WHERE conversation_id = ${conversationId} AND (${fence}::bigint IS NULL OR owner_epoch = ${fence}::bigint)
      FOR SHARE
    )`;
}

/**
 * The redaction of the records of conversation $2 matching `match` ($3), fenced by $4, sequenced by $5 (the point the
 * redaction was asked at: later records are not its to take): content $1; rows (sequence_id, already).
 */
function redaction(s: string, match: string): string {
  return `WITH ${fencedConversation(s, '$2', '$4')}, matched AS (
      SELECT sequence_id, (metadata -> 'redacted') IS NOT DISTINCT FROM 'true'::jsonb AS already
      FROM ${s}.messages WHERE conversation_id = $2 AND sequence_id <= $5::bigint AND ${match} AND EXISTS (SELECT 1 FROM conv)
      FOR UPDATE
    ), changed AS (
      UPDATE ${s}.messages m SET content = $1, metadata = m.metadata || '{"redacted": true}'::jsonb
      FROM matched WHERE m.conversation_id = $2 AND m.sequence_id = matched.sequence_id AND NOT matched.already
      RETURNING m.sequence_id
    )
    SELECT sequence_id, false AS already FROM changed
    UNION ALL SELECT sequence_id, true AS already FROM matched WHERE already`;
}

export type PostgresSql = ReturnType<typeof postgresSql>;
