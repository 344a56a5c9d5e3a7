import type { ParticipantType } from '../actors/message-types';

/**
 * Where the Redis provider keeps each thing, under one key prefix (config: chat.storage.redis.key_prefix). Every key
 * is `<prefix><kind>:<id>`: the kind comes before the id, so ids may hold any character (":" included) without two
 * kinds meeting. Two deployments sharing one Redis need prefixes of which neither starts the other.
 */
export interface RedisKeys {
  readonly prefix: string;
  /** String: this layout's version (REDIS_SCHEMA_VERSION). */
  readonly version: string;
  /** Sorted set (all scores 0) of `created_at \0 conversation_id`, in byte order: the retention listing. */
  readonly created: string;
  /**
   * Hash: the conversation's metadata (title, created_at, created_by, settings as JSON, status), `last` (last sequence
   * id) and `last_at` (its timestamp), `reservation`, and the claim (owner_id, owner_epoch, owner_expires_at,
   * owner_address). It exists exactly while the conversation does.
   */
  conversation(conversationId: string): string;
  /** Hash: sequence id -> the record as JSON. */
  records(conversationId: string): string;
  /** Hash: `sender_id \0 message_id` -> sequence id (the uniqueness rule, and findSequenceByMessageId). */
  messageIds(conversationId: string): string;
  /** Hash: participant id -> the participant as JSON, former members included. */
  members(conversationId: string): string;
  /** Set: the participant ids that left. */
  left(conversationId: string): string;
  /** Hash: participant id -> the highest sequence id it has read. */
  readPositions(conversationId: string): string;
  /**
   * Sorted set (all scores 0): the conversations the participant is a member of as `type` (`left`: was, and left), by
   * activity (the entries are redis-activity-lua.ts's ranks). Since layout version 2.
   */
  activity(participantId: string, type: ParticipantType, left: boolean): string;
  /** Set: the conversations a runtime holds a claim on (renewClaims); entries may be stale, the hash decides. */
  claimedBy(ownerId: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return Object.freeze({
    prefix,
    version: `${prefix}schema_version`,
    created: `${prefix}created`,
    conversation: (id: string) => `${prefix}conv:${id}`,
    records: (id: string) => `${prefix}msgs:${id}`,
    messageIds: (id: string) => `${prefix}ids:${id}`,
    members: (id: string) => `${prefix}members:${id}`,
    left: (id: string) => `${prefix}left:${id}`,
    readPositions: (id: string) => `${prefix}read:${id}`,
    claimedBy: (id: string) => `${prefix}owner:${id}`,
    activity: (id: string, type: ParticipantType, left: boolean) => `${prefix}activity:${type}${left ? '-left' : ''}:${id}`,
  });
}

/** The activity indexes holding a user's conversations that pass the member filter (a type, or both; left ones too). */
export function activityKeysOf(
  keys: RedisKeys,
  userId: string,
  filter: { readonly includeLeft: boolean; readonly participantType: ParticipantType | undefined },
): string[] {
  const types: ParticipantType[] = filter.participantType === undefined ? ['human', 'ai'] : [filter.participantType];
  const states = filter.includeLeft ? [false, true] : [false];
  return types.flatMap((type) => states.map((left) => keys.activity(userId, type, left)));
}

/** Member of the `created` index for a conversation: NUL sorts before any character of a later created_at. */
export function createdEntry(createdAt: string, conversationId: string): string {
  return `${createdAt}\u0000${conversationId}`;
}

/** The conversation id of a `created` index member. */
export function idOfCreatedEntry(entry: string): string {
  return entry.slice(entry.indexOf('\u0000') + 1);
}
