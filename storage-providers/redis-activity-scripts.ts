import { ACTIVITY_LUA } from './redis-activity-lua';
import { script } from './redis-scripts';

/** The conversation hash fields a list returns, in this order (LIST_ACTIVITY adds `last` and `last_at`). */
export const LISTED_FIELDS = ['title', 'created_at', 'created_by', 'settings', 'status', 'last', 'last_at'] as const;

const HMGET_LISTED = `redis.call('HMGET', ARGV[1] .. 'conv:' .. id, ${LISTED_FIELDS.map((f) => `'${f}'`).join(', ')})`;

/**
 * Lua: whether `rank` is the entry the conversation's hash gives now (`fields`: LISTED_FIELDS as read). Every script of
 * this build moves an entry with its conversation, but a server of the build before the indexes (a rolling deploy,
 * which docs/storage.md says to avoid) changes the hash and leaves the entry where it was; this build's next change
 * then moves only the entry the hash names, and the old one stays, after a delete too. Lists skip such an entry, so
 * a conversation is listed once, at its place, and a gone one not at all.
 */
const CURRENT_ENTRY_LUA = `local function isCurrent(rank, id, fields)
  if not fields[2] then return false end
  local at = fields[2]
  if tonumber(fields[6] or '0') > 0 and fields[7] then at = fields[7] end
  return rankOf(at, id) == rank
end`;

/**
 * One page of a user's activity list (listConversationActivity). KEYS: the activity indexes the member filter names
 * (1 to 4). ARGV: prefix, limit, preview scan, '1' when there is an `after` ('' else), its activityAt, its id. Each
 * index is read `limit` entries at a time from `after`; the entries are merged in byte order (Lua's own string
 * comparison follows the server's locale), those not current (isCurrent) skipped, and the first `limit` answered as
 * {id, LISTED_FIELDS, the last `preview scan` records}. The commands are one range per index and two per entry,
 * however many conversations the user has (plus a range per `limit` entries skipped).
 */
export const LIST_ACTIVITY = script(
  'list_activity',
  false,
  `${ACTIVITY_LUA}
${CURRENT_ENTRY_LUA}
local limit = tonumber(ARGV[2])
local min = '-'
if ARGV[4] == '1' then min = '(' .. rankOf(ARGV[5], ARGV[6]) end
local lists, heads = {}, {}
local function fill(k, from)
  lists[k] = redis.call('ZRANGEBYLEX', KEYS[k], from, '+', 'LIMIT', 0, limit)
  heads[k] = 1
end
local function headOf(k)
  local list = lists[k]
  if list[heads[k]] == nil and #list == limit then fill(k, '(' .. list[#list]) end
  return lists[k][heads[k]]
end
for k = 1, #KEYS do fill(k, min) end
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local out = {}
while #out < limit do
  local best, rank
  for k = 1, #KEYS do
    local r = headOf(k)
    if r and (not best or before(r, rank)) then best, rank = k, r end
  end
  if not best then break end
  heads[best] = heads[best] + 1
  local id = idOfRank(rank)
  if id then
    local fields = ${HMGET_LISTED}
    if isCurrent(rank, id, fields) then
      local last = tonumber(fields[6] or '0')
      local records = {}
      if last > 0 then
        local seqs = {}
        for s = math.max(1, last - tonumber(ARGV[3]) + 1), last do seqs[#seqs + 1] = string.format('%d', s) end
        records = redis.call('HMGET', ARGV[1] .. 'msgs:' .. id, unpack(seqs))
      end
      out[#out + 1] = {id, fields, records}
    end
  end
end
return out`,
);

/**
 * Every conversation of the indexes named (KEYS) as {id, LISTED_FIELDS}: the unpaged listConversationsForUser.
 * Entries not current (isCurrent) are skipped, as in LIST_ACTIVITY.
 */
export const LIST_INDEXED = script(
  'list_indexed',
  false,
  `${ACTIVITY_LUA}
${CURRENT_ENTRY_LUA}
local out = {}
for k = 1, #KEYS do
  for _, rank in ipairs(redis.call('ZRANGE', KEYS[k], 0, -1)) do
    local id = idOfRank(rank)
    if id then
      local fields = ${HMGET_LISTED}
      if isCurrent(rank, id, fields) then out[#out + 1] = {id, fields} end
    end
  end
end
return out`,
);

/**
 * The layout migration to version 2 (redis-migrations.ts): adds the index entries of each conversation named (ARGV:
 * prefix, ids) from its hash and members, as the writing scripts would have, and removes its members' version 1
 * `user:<id>` sets (the conversations of a participant, which the indexes replace). Idempotent, so servers opening at
 * once may each run it; a conversation deleted meanwhile is skipped.
 */
export const INDEX_CONVERSATIONS = script(
  'index_conversations',
  true,
  `${ACTIVITY_LUA}
local indexed = 0
for i = 2, #ARGV do
  local at = activityAtOf(ARGV[1] .. 'conv:' .. ARGV[i])
  if at then
    moveEntries(ARGV[1], ARGV[i], nil, rankOf(at, ARGV[i]))
    for _, pid in ipairs(redis.call('HKEYS', ARGV[1] .. 'members:' .. ARGV[i])) do redis.call('UNLINK', ARGV[1] .. 'user:' .. pid) end
    indexed = indexed + 1
  end
end
return indexed`,
);

/** KEYS: the version key. ARGV: the version found (0: none), the new one. Sets it only if it is still the one found. */
export const MARK_VERSION = script(
  'mark_version',
  true,
  `if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end
return 'ok'`,
);
