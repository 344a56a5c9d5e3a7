/** SQL text of the PostgreSQL provider for one (quoted) schema. */

const MESSAGE_COLUMNS = 'message_id, conversation_id, sequence_id, sender_id, sender_type, message_type, content, timestamp, metadata';
const META_COLUMNS = 'c.conversation_id, c.title, c.created_at, c.created_by, c.settings, c.status';
const PARTICIPANT_COLUMNS = 'participant_id, participant_type, display_name, joined_at_sequence, role, agent_id';

export function postgresSql(s: string) {
  return {
    insertConversation: `INSERT INTO ${s}.conversations (conversation_id, title, created_at, created_by, settings, status)
      VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
    getConversation: `SELECT ${META_COLUMNS} FROM ${s}.conversations c WHERE c.conversation_id = $1`,
    updateStatus: `UPDATE ${s}.conversations SET status = $2 WHERE conversation_id = $1`,
    listForUser: `SELECT ${META_COLUMNS} FROM ${s}.participants p JOIN ${s}.conversations c ON c.conversation_id = p.conversation_id
      WHERE p.participant_id = $1 AND ($2 OR NOT p.has_left) ORDER BY c.created_at DESC, c.conversation_id ASC`,
    listCreatedBefore: `SELECT conversation_id FROM ${s}.conversations WHERE created_at < $1 ORDER BY created_at ASC, conversation_id ASC`,
    // The conversation row is deleted (and so locked) first: the same lock order as appends.
    deleteConversation: `DELETE FROM ${s}.conversations WHERE conversation_id = $1`,
    deleteMessages: `DELETE FROM ${s}.messages WHERE conversation_id = $1`,
    deleteParticipants: `DELETE FROM ${s}.participants WHERE conversation_id = $1`,
    getParticipants: `SELECT ${PARTICIPANT_COLUMNS} FROM ${s}.participants WHERE conversation_id = $1 AND NOT has_left
      ORDER BY joined_at_sequence ASC, participant_id ASC`,
    // Parallel arrays ($2..$7), so one statement inserts any number of members; nothing if the conversation is missing.
    upsertParticipants: `INSERT INTO ${s}.participants (conversation_id, ${PARTICIPANT_COLUMNS}, has_left)
      SELECT $1, p.*, false FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS p
      WHERE EXISTS (SELECT 1 FROM ${s}.conversations WHERE conversation_id = $1)
      ON CONFLICT (conversation_id, participant_id) DO UPDATE SET participant_type = EXCLUDED.participant_type,
        display_name = EXCLUDED.display_name, joined_at_sequence = EXCLUDED.joined_at_sequence, role = EXCLUDED.role,
        agent_id = EXCLUDED.agent_id, has_left = false`,
    markLeft: `UPDATE ${s}.participants SET has_left = true WHERE conversation_id = $1 AND participant_id = $2`,
    // Serialises appends per conversation for the contiguity check (row lock until COMMIT).
    lockConversation: `SELECT 1 FROM ${s}.conversations WHERE conversation_id = $1 FOR UPDATE`,
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
    appendFast: `WITH conv AS (SELECT 1 FROM ${s}.conversations WHERE conversation_id = $1 FOR UPDATE),
        prev AS (SELECT COALESCE(MAX(sequence_id), 0) AS last FROM ${s}.messages WHERE conversation_id = $1)
      INSERT INTO ${s}.messages (${MESSAGE_COLUMNS})
      SELECT m.message_id, $1, m.sequence_id, m.sender_id, m.sender_type, m.message_type, m.content, m.timestamp, m.metadata::jsonb
      FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
        AS m (message_id, sequence_id, sender_id, sender_type, message_type, content, timestamp, metadata)
      WHERE EXISTS (SELECT 1 FROM conv) AND (SELECT last FROM prev) = $10::bigint - 1`,
    readMessages: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages WHERE conversation_id = $1 AND sequence_id > $2
      ORDER BY sequence_id ASC LIMIT $3`,
    readLatest: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages WHERE conversation_id = $1 ORDER BY sequence_id DESC LIMIT $2`,
    findSequence: `SELECT sequence_id FROM ${s}.messages WHERE conversation_id = $1 AND sender_id = $2 AND message_id = $3`,
    // Always one row: 0 for an unknown conversation, like the memory store.
    getReservation: `SELECT COALESCE((SELECT sequence_reservation FROM ${s}.conversations WHERE conversation_id = $1), 0) AS reserved`,
    // Updates nothing for an unknown conversation (a no-op, like the memory store).
    setReservation: `UPDATE ${s}.conversations SET sequence_reservation = $2 WHERE conversation_id = $1`,
    redactByIds: `UPDATE ${s}.messages SET content = $1, metadata = metadata || '{"redacted": true}'::jsonb
      WHERE conversation_id = $2 AND message_id = ANY($3::text[]) RETURNING sequence_id`,
    redactBySender: `UPDATE ${s}.messages SET content = $1, metadata = metadata || '{"redacted": true}'::jsonb
      WHERE conversation_id = $2 AND sender_id = $3 RETURNING sequence_id`,
  } as const;
}

export type PostgresSql = ReturnType<typeof postgresSql>;
