import crypto from 'node:crypto';
import { ACTIVITY_LUA } from './redis-activity-lua';

/**
 * The Redis provider's Lua scripts. Redis runs a script alone (no other command in between), so each write that must
 * check something first (contiguity, uniqueness, the claim epoch of a fenced write, the claim rule) checks and writes
 * in one script: the check cannot be overtaken. Answers are status strings the store maps to coded errors.
 *
 * Keys are named as redis-keys.ts names them. Most scripts get theirs as KEYS; those that reach keys they only learn
 * inside (a deleted conversation's members' indexes, a claim's previous holder, the conversations a runtime claimed)
 * build them from the prefix (ARGV[1]) with the same layout. That is fine on one Redis server (with or without
 * replicas), not on Redis Cluster, whose scripts must name every key up front: the provider does not support Cluster.
 *
 * Numbers: Lua 5.1 numbers are doubles, exact to 2^53 (every sequence id, epoch and epoch-ms time here); they are
 * written back with string.format so Redis never sees an exponent.
 */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  /** SHA-1 of the text: EVALSHA runs it without sending it, once Redis has it. */
  readonly sha: string;
  /** Whether it changes anything (a read-only store refuses those). */
  readonly writes: boolean;
}

export function script(name: string, writes: boolean, lua: string): LuaScript {
  return Object.freeze({ name, lua, writes, sha: crypto.createHash('sha1').update(lua).digest('hex') });
}

/** Redis's clock in epoch ms: servers sharing one Redis agree on claim expiry whatever their own clocks say. */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: conversation, records, message ids. ARGV: fence epoch ('' = none), first sequence id, timestamp of the last
 * record, prefix, conversation id, then per record its `sender \0 message_id` and its JSON. The checks in the order
 * every store makes them. The batch's last timestamp is the conversation's activity: its members' index entries move.
 */
export const APPEND = script(
  'append',
  true,
  `${ACTIVITY_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local conv = redis.call('HMGET', KEYS[1], 'owner_epoch', 'last', 'last_at', 'created_at')
local epoch = tonumber(conv[1] or '0')
if ARGV[1] ~= '' and epoch ~= tonumber(ARGV[1]) then return {'fenced', string.format('%d', epoch)} end
local last = tonumber(conv[2] or '0')
local first = tonumber(ARGV[2])
if first <= last then return {'duplicate_sequence', string.format('%d', last)} end
if first ~= last + 1 then return {'sequence_gap', string.format('%d', last)} end
local n = (#ARGV - 5) / 2
local seen = {}
for i = 0, n - 1 do
  local key = ARGV[6 + 2 * i]
  if seen[key] or redis.call('HEXISTS', KEYS[3], key) == 1 then return {'duplicate_message', key} end
  seen[key] = true
end
for i = 0, n - 1 do
  local seq = string.format('%d', first + i)
  redis.call('HSET', KEYS[2], seq, ARGV[7 + 2 * i])
  redis.call('HSET', KEYS[3], ARGV[6 + 2 * i], seq)
end
redis.call('HSET', KEYS[1], 'last', string.format('%d', first + n - 1), 'last_at', ARGV[3])
local was = (last > 0 and conv[3]) or conv[4]
if was ~= ARGV[3] then moveEntries(ARGV[4], ARGV[5], rankOf(was, ARGV[5]), rankOf(ARGV[3], ARGV[5])) end
return {'ok'}`,
);

/**
 * Records by sequence id, in order, skipping ids without one. KEYS: conversation, records. ARGV: after, limit, and
 * 'latest' for the last `limit` (after is then ignored). HMGET in chunks: Lua's unpack takes at most a few thousand.
 */
export const READ_RANGE = script(
  'read_range',
  false,
  `local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local from, to
if ARGV[3] == 'latest' then
  from = math.max(1, last - tonumber(ARGV[2]) + 1)
  to = last
else
  from = tonumber(ARGV[1]) + 1
  to = math.min(last, tonumber(ARGV[1]) + tonumber(ARGV[2]))
end
local out = {}
local s = from
while s <= to do
  local e = math.min(to, s + 999)
  local fields = {}
  for q = s, e do fields[#fields + 1] = string.format('%d', q) end
  local got = redis.call('HMGET', KEYS[2], unpack(fields))
  for i = 1, #got do
    if got[i] then out[#out + 1] = got[i] end
  end
  s = e + 1
end
return out`,
);

/**
 * KEYS: conversation, members, created index, left, records, message ids, read positions. ARGV: id, created entry,
 * title, created_at, created_by, settings, status, prefix, then per participant its id and JSON (ids distinct). Leftovers under the id (damage) are removed first, so the
 * conversation starts empty at sequence 1. Each participant gets its activity index entry (created_at: no record yet).
 */
export const CREATE = script(
  'create',
  true,
  `${ACTIVITY_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('DEL', KEYS[2], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
redis.call('HSET', KEYS[1], 'title', ARGV[3], 'created_at', ARGV[4], 'created_by', ARGV[5], 'settings', ARGV[6],
  'status', ARGV[7], 'last', '0', 'reservation', '0', 'owner_epoch', '0', 'owner_expires_at', '0')
redis.call('ZADD', KEYS[3], 0, ARGV[2])
local rank = rankOf(ARGV[4], ARGV[1])
for i = 0, (#ARGV - 8) / 2 - 1 do
  local pid, json = ARGV[9 + 2 * i], ARGV[10 + 2 * i]
  redis.call('HSET', KEYS[2], pid, json)
  redis.call('ZADD', activityKey(ARGV[8], pid, cjson.decode(json).participant_type, false), 0, rank)
end
return 'ok'`,
);

/** KEYS: conversation. ARGV: status. */
export const UPDATE_STATUS = script(
  'update_status',
  true,
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
return 'ok'`,
);

/**
 * KEYS: conversation, members, left. ARGV: conversation id, participant id, JSON, prefix. The index entry moves from where the previous entry (type, left or not) put it to the member's of its type.
 */
export const PUT_PARTICIPANT = script(
  'put_participant',
  true,
  `${ACTIVITY_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
local rank = rankOf(activityAtOf(KEYS[1]), ARGV[1])
local was = redis.call('HGET', KEYS[2], ARGV[2])
if was then
  local left = redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1
  redis.call('ZREM', activityKey(ARGV[4], ARGV[2], cjson.decode(was).participant_type, left), rank)
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('ZADD', activityKey(ARGV[4], ARGV[2], cjson.decode(ARGV[3]).participant_type, false), 0, rank)
return 'ok'`,
);

/**
 * KEYS: members, left, conversation. ARGV: participant id, prefix, conversation id. Only a member can leave (nothing is
 * kept for others); its index entry moves to the left ones of its type.
 */
export const REMOVE_PARTICIPANT = script(
  'remove_participant',
  true,
  `${ACTIVITY_LUA}
local json = redis.call('HGET', KEYS[1], ARGV[1])
if json and redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  local at = activityAtOf(KEYS[3])
  if at then
    local rank = rankOf(at, ARGV[3])
    local ptype = cjson.decode(json).participant_type
    redis.call('ZREM', activityKey(ARGV[2], ARGV[1], ptype, false), rank)
    redis.call('ZADD', activityKey(ARGV[2], ARGV[1], ptype, true), 0, rank)
  end
end
return 'ok'`,
);

/**
 * KEYS: conversation, records, message ids, members, left, read positions, created index. ARGV: prefix, id. Removes
 * the id from its members' activity indexes and its holder's set too. UNLINK frees a long journal's memory
 * off Redis's main thread.
 */
export const DELETE = script(
  'delete',
  true,
  `${ACTIVITY_LUA}
local at = activityAtOf(KEYS[1])
if at then moveEntries(ARGV[1], ARGV[2], rankOf(at, ARGV[2]), nil) end
local conv = redis.call('HMGET', KEYS[1], 'created_at', 'owner_id')
if conv[1] then redis.call('ZREM', KEYS[7], conv[1] .. '\\0' .. ARGV[2]) end
if conv[2] then redis.call('SREM', ARGV[1] .. 'owner:' .. conv[2], ARGV[2]) end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
return 'ok'`,
);

/** KEYS: conversation. ARGV: reservation, fence epoch ('' = none). An unknown conversation is a no-op. */
export const SET_RESERVATION = script(
  'set_reservation',
  true,
  `if redis.call('EXISTS', KEYS[1]) == 0 then return {'ok'} end
if ARGV[2] ~= '' then
  local epoch = tonumber(redis.call('HGET', KEYS[1], 'owner_epoch') or '0')
  if epoch ~= tonumber(ARGV[2]) then return {'fenced', string.format('%d', epoch)} end
end
redis.call('HSET', KEYS[1], 'reservation', ARGV[1])
return {'ok'}`,
);

/**
 * How long a runtime's set of claimed conversations (`owner:<id>`) outlives its last claim or renewal: this many times
 * the ttl given, at least OWNER_SET_MIN_TTL_MS, never shortened. Only the runtime itself reads the set (RENEW), and
 * only CLAIM by another runtime and RELEASE take ids out of it, so the set of a server that died would otherwise stay
 * until each of its conversations is claimed again, which for one nobody opens is never. Each claim in it expires
 * after one ttl; a runtime silent ten times that long is taken for dead (were it not, its next renewal answers none of
 * those long-expired claims and it stops their conversations as taken over, the fenced-safe outcome).
 */
export const OWNER_SET_TTL_FACTOR = 10;
export const OWNER_SET_MIN_TTL_MS = 600_000;

/** Lua: extends the expiry of a runtime's claim set (only ever later) for a claim or renewal of `ttl` ms. */
const KEEP_OWNER_SET = `local function keepOwnerSet(set, ttl)
  local want = math.max(${OWNER_SET_TTL_FACTOR} * ttl, ${OWNER_SET_MIN_TTL_MS})
  if redis.call('PTTL', set) < want then redis.call('PEXPIRE', set, string.format('%.0f', want)) end
end`;

/**
 * decideClaim (conversation-claims.ts) on Redis's clock. KEYS: conversation. ARGV: prefix, id, claimant, ttl ms,
 * '1' with an address / '0', address. Refused: the stored claim and now, so the caller applies decideClaim itself
 * to say who holds it. Claimed: the new epoch; the id moves from the previous holder's set to the claimant's.
 */
export const CLAIM = script(
  'claim',
  true,
  `${KEEP_OWNER_SET}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
${NOW_MS}
local c = redis.call('HMGET', KEYS[1], 'owner_id', 'owner_epoch', 'owner_expires_at', 'owner_address')
local holder = c[1]
local expires = tonumber(c[3] or '0')
if holder and holder ~= ARGV[3] and expires > now then
  return {'held', holder, c[2] or '0', string.format('%.0f', expires), string.format('%.0f', now), c[4] and '1' or '0', c[4] or ''}
end
local epoch = tonumber(c[2] or '0') + 1
redis.call('HSET', KEYS[1], 'owner_id', ARGV[3], 'owner_epoch', string.format('%d', epoch),
  'owner_expires_at', string.format('%.0f', now + tonumber(ARGV[4])))
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'owner_address', ARGV[6]) else redis.call('HDEL', KEYS[1], 'owner_address') end
if holder and holder ~= ARGV[3] then redis.call('SREM', ARGV[1] .. 'owner:' .. holder, ARGV[2]) end
redis.call('SADD', ARGV[1] .. 'owner:' .. ARGV[3], ARGV[2])
keepOwnerSet(ARGV[1] .. 'owner:' .. ARGV[3], tonumber(ARGV[4]))
return {'claimed', string.format('%d', epoch)}`,
);

/**
 * ARGV: prefix, owner, ttl ms. Extends each claim the owner still holds (expired ones too, while nobody took them);
 * answers id, epoch, id, epoch ... and drops the ids it no longer holds from its set, whose expiry it extends.
 */
export const RENEW = script(
  'renew',
  true,
  `${KEEP_OWNER_SET}
${NOW_MS}
local set = ARGV[1] .. 'owner:' .. ARGV[2]
local expires = string.format('%.0f', now + tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', set)) do
  local key = ARGV[1] .. 'conv:' .. id
  local c = redis.call('HMGET', key, 'owner_id', 'owner_epoch')
  if c[1] == ARGV[2] then
    redis.call('HSET', key, 'owner_expires_at', expires)
    out[#out + 1] = id
    out[#out + 1] = c[2]
  else
    redis.call('SREM', set, id)
  end
end
keepOwnerSet(set, tonumber(ARGV[3]))
return out`,
);

/** KEYS: conversation, the owner's set. ARGV: id, owner, epoch. Keeps the epoch; a claim taken over is left alone. */
export const RELEASE = script(
  'release',
  true,
  `local c = redis.call('HMGET', KEYS[1], 'owner_id', 'owner_epoch')
if c[1] == ARGV[2] and tonumber(c[2]) == tonumber(ARGV[3]) then
  redis.call('HDEL', KEYS[1], 'owner_id', 'owner_address')
  redis.call('HSET', KEYS[1], 'owner_expires_at', '0')
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 'ok'`,
);

/** KEYS: members, read positions. ARGV: participant id, position, ... Raises only, and only members' (former too). */
export const SAVE_READ_POSITIONS = script(
  'save_read_positions',
  true,
  `for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    local current = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
    if current < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
  end
end
return 'ok'`,
);

/**
 * KEYS: read positions. ARGV: up to. The one write that lowers (ChatStore.lowerReadPositions): each position above it
 * is taken down to it (to none at 0, as a member that never marked); answers how many.
 */
export const LOWER_READ_POSITIONS = script(
  'lower_read_positions',
  true,
  `local up_to = tonumber(ARGV[1])
local stored = redis.call('HGETALL', KEYS[1])
local lowered = 0
for i = 1, #stored, 2 do
  if tonumber(stored[i + 1]) > up_to then
    if up_to == 0 then redis.call('HDEL', KEYS[1], stored[i]) else redis.call('HSET', KEYS[1], stored[i], ARGV[1]) end
    lowered = lowered + 1
  end
end
return lowered`,
);

/**
 * KEYS: records, conversation. ARGV: fence epoch ('' = none), then sequence id, the JSON read, the new JSON, ... Each
 * is written only if the record is still the one read (compare and set): a redaction or an edit racing a delete and
 * re-create of the id, or another edit, never overwrites what it did not read. Answers {'fenced', epoch} (nothing
 * written) when the conversation was claimed since the fence's claim, else {'ok', ...} with the sequence ids it did
 * not write (changed or gone since the read).
 */
export const REPLACE_RECORDS = script(
  'replace_records',
  true,
  `if ARGV[1] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  local epoch = tonumber(redis.call('HGET', KEYS[2], 'owner_epoch') or '0')
  if epoch ~= tonumber(ARGV[1]) then return {'fenced', string.format('%d', epoch)} end
end
local missed = {'ok'}
for i = 2, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  else
    missed[#missed + 1] = ARGV[i]
  end
end
return missed`,
);
