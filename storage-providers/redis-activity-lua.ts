/**
 * Lua shared by the Redis provider's scripts that keep the activity index (docs/storage.md, Redis): per participant
 * and participant type, a sorted set of the conversations it is a member of (`activity:<type>:<id>`) and one of those
 * it left (`activity:<type>-left:<id>`), every score 0, so Redis orders the entries by their bytes. An entry is
 *
 *   rank = invert(escape(activityAt)) .. "\xFF\xFE" .. conversation_id
 *
 * where escape(s) writes a 0 byte as 00 FF (then every inverted 0 is FF 00), invert maps each byte b to 255 - b, and
 * FF FE (the inverted 00 01 terminator) ends the time. The escaped and terminated time is prefix-free and keeps byte
 * order, so inverting it reverses the order: ascending entries are the latest activity first, then the smaller id
 * (compareActivity), in UTF-8 byte order, as PostgreSQL's COLLATE "C". A page is then one ZRANGEBYLEX from the entry
 * of its `after`. The time is inverted rather than the id so that the id is the plain tail of the entry.
 *
 * The entry is a function of the conversation's hash (activity: `last_at` once it has a record, else `created_at`),
 * so each script that changes activity or membership recomputes the old entry from the hash, in the same script as
 * the change: the index cannot drift from the conversations under concurrent writers.
 */
export const ACTIVITY_LUA = `local function rankOf(at, id)
  local out = {}
  for i = 1, #at do
    local b = string.byte(at, i)
    if b == 0 then out[i] = '\\255\\0' else out[i] = string.char(255 - b) end
  end
  return table.concat(out) .. '\\255\\254' .. id
end
local function idOfRank(rank)
  local i = 1
  while i < #rank do
    if string.byte(rank, i) ~= 255 then
      i = i + 1
    elseif string.byte(rank, i + 1) == 254 then
      return string.sub(rank, i + 2)
    else
      i = i + 2
    end
  end
  return nil
end
local function activityKey(prefix, pid, ptype, left)
  return prefix .. 'activity:' .. tostring(ptype) .. (left and '-left:' or ':') .. pid
end
local function activityAtOf(convKey)
  local c = redis.call('HMGET', convKey, 'created_at', 'last', 'last_at')
  if not c[1] then return nil end
  if tonumber(c[2] or '0') > 0 and c[3] then return c[3] end
  return c[1]
end
local function moveEntries(prefix, id, from, to)
  local left = {}
  for _, pid in ipairs(redis.call('SMEMBERS', prefix .. 'left:' .. id)) do left[pid] = true end
  local members = redis.call('HGETALL', prefix .. 'members:' .. id)
  for i = 1, #members, 2 do
    local key = activityKey(prefix, members[i], cjson.decode(members[i + 1]).participant_type, left[members[i]])
    if from then redis.call('ZREM', key, from) end
    if to then redis.call('ZADD', key, 0, to) end
  end
end
`;
