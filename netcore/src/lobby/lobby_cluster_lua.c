/* The Lua scripts that change the cluster's state in Redis. Each runs
 * atomically (Redis runs one script at a time), checks what the request
 * needs, changes the keys and publishes the resulting room state on nc:ev,
 * so that the first of two racing requests wins and every node hears the
 * outcome in the same order. Keys and formats: docs/lobby-cluster.md.
 *
 * Client, room, match and game server ids stay strings throughout: Lua
 * numbers are doubles and would round 64-bit ids. Every script answers
 * {0, ...} or {lobby error code, text}. */
#include "lobby/lobby_cluster.h"

#include <string.h>

/* Shared helpers, put before every script (two arrays: ISO C promises
 * string literals of 4095 bytes only). */
static const char prelude_rooms[] =
    "local P = 'nc:'\n"
    "local function now_ms()\n"
    "  local t = redis.call('TIME')\n"
    "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "end\n"
    "local function room_text(rid, cause, subject, seq)\n"
    "  local rk = P .. 'room:' .. rid\n"
    "  local h = redis.call('HMGET', rk, 'name', 'max', 'priv', 'pw', 'meta', 'owner', 'match',"
    " 'gs', 'gaddr', 'endr')\n"
    "  local head = rid .. '\\t' .. cause .. '\\t' .. subject .. '\\t' .. seq .. '\\n'\n"
    "  if not h[1] then return 'D\\t' .. head end\n"
    "  local out = {'S\\t' .. head,\n"
    "    'P\\t' .. h[1] .. '\\t' .. h[2] .. '\\t' .. h[3] .. '\\t' .. ((h[4] ~= '') and '1' or"
    " '0') .. '\\n',\n"
    "    'O\\t' .. h[6] .. '\\t' .. h[7] .. '\\t' .. h[8] .. '\\t' .. h[9] .. '\\t' .. h[10] .."
    " '\\n', h[5]}\n"
    "  for _, cid in ipairs(redis.call('LRANGE', rk .. ':m', 0, -1)) do\n"
    "    local m = redis.call('HMGET', P .. 'sess:' .. cid, 'nick', 'ready', 'conn')\n"
    "    out[#out + 1] = 'M\\t' .. cid .. '\\t' .. (m[1] or '?') .. '\\t' .. (m[2] or '0') .."
    " '\\t' .. (m[3] or '0') .. '\\n'\n"
    "  end\n"
    "  return table.concat(out)\n"
    "end\n"
    /* Every room event carries the next number of nc:seq, also kept in the
     * room: a node that loads a snapshot tells older events from newer. */
    "local function room_event(rid, cause, subject)\n"
    "  local seq = redis.call('INCR', P .. 'seq')\n"
    "  if redis.call('EXISTS', P .. 'room:' .. rid) == 1 then\n"
    "    redis.call('HSET', P .. 'room:' .. rid, 'seq', seq)\n"
    "  end\n"
    "  redis.call('PUBLISH', P .. 'ev', room_text(rid, cause, subject, seq))\n"
    "end\n"
    /* Takes a member out of its room; the first remaining member becomes
     * owner if the owner left; an empty room is deleted. */
    "local function remove_member(cid, cause, subject)\n"
    "  local sk = P .. 'sess:' .. cid\n"
    "  local rid = redis.call('HGET', sk, 'room')\n"
    "  if not rid or rid == '0' then return nil end\n"
    "  local rk = P .. 'room:' .. rid\n"
    "  redis.call('LREM', rk .. ':m', 0, cid)\n"
    "  redis.call('HSET', sk, 'room', '0', 'ready', '0')\n"
    "  if redis.call('LLEN', rk .. ':m') == 0 then\n"
    "    redis.call('DEL', rk, rk .. ':m')\n"
    "    redis.call('SREM', P .. 'rooms', rid)\n"
    "  elseif redis.call('HGET', rk, 'owner') == cid then\n"
    "    redis.call('HSET', rk, 'owner', redis.call('LINDEX', rk .. ':m', 0))\n"
    "  end\n"
    "  room_event(rid, cause, subject)\n"
    "  return rid\n"
    "end\n"
    "local function drop_session(cid)\n"
    "  local sk = P .. 'sess:' .. cid\n"
    "  remove_member(cid, 1, cid)\n"
    "  local f = redis.call('HMGET', sk, 'tok', 'node')\n"
    "  if f[1] then redis.call('DEL', P .. 'tok:' .. f[1]) end\n"
    "  if f[2] then redis.call('SREM', P .. 'node:' .. f[2] .. ':s', cid) end\n"
    "  redis.call('ZREM', P .. 'lost', cid)\n"
    "  redis.call('DEL', sk)\n"
    "end\n";

static const char prelude_matches[] =
    "local function end_match(rid, reason)\n"
    "  local rk = P .. 'room:' .. rid\n"
    "  local old = redis.call('HGET', rk, 'match')\n"
    "  if not old or old == '0' then return false end\n"
    "  for _, cid in ipairs(redis.call('LRANGE', rk .. ':m', 0, -1)) do\n"
    "    if redis.call('EXISTS', P .. 'sess:' .. cid) == 1 then\n"
    "      redis.call('HSET', P .. 'sess:' .. cid, 'ready', '0')\n"
    "    end\n"
    "  end\n"
    "  redis.call('HSET', rk, 'match', '0', 'gs', '0', 'gaddr', '-', 'endr', reason)\n"
    "  room_event(rid, 4, old)\n"
    "  return true\n"
    "end\n"
    "local function gs_lost(gid)\n"
    "  local n = 0\n"
    "  for _, rid in ipairs(redis.call('SMEMBERS', P .. 'rooms')) do\n"
    "    if redis.call('HGET', P .. 'room:' .. rid, 'gs') == gid and end_match(rid, '1') then\n"
    "      n = n + 1\n"
    "    end\n"
    "  end\n"
    "  local node = redis.call('HGET', P .. 'gs:' .. gid, 'node')\n"
    "  if node then redis.call('SREM', P .. 'node:' .. node .. ':g', gid) end\n"
    "  redis.call('DEL', P .. 'gs:' .. gid)\n"
    "  redis.call('SREM', P .. 'gss', gid)\n"
    "  return n\n"
    "end\n"
    "local function mark_lost(cid, now)\n"
    "  local sk = P .. 'sess:' .. cid\n"
    "  redis.call('HSET', sk, 'conn', '0', 'lost', now)\n"
    "  redis.call('ZADD', P .. 'lost', now, cid)\n"
    "  local rid = redis.call('HGET', sk, 'room')\n"
    "  if rid and rid ~= '0' then return rid end\n"
    "  return nil\n"
    "end\n"
    "local function room_of(cid)\n"
    "  local rid = redis.call('HGET', P .. 'sess:' .. cid, 'room')\n"
    "  if not rid then return nil, {19, 'session unknown to the cluster store'} end\n"
    "  if rid == '0' then return nil, {11, 'not in a room'} end\n"
    "  return rid, nil\n"
    "end\n";

/* ARGV: node, client, nickname, token hash. After a WELCOME on this node. */
static const char script_session[] =
    "local node, cid, nick, tok = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
    "local sk = P .. 'sess:' .. cid\n"
    "local f = redis.call('HMGET', sk, 'tok', 'node', 'room')\n"
    "if f[1] and f[1] ~= tok then redis.call('DEL', P .. 'tok:' .. f[1]) end\n"
    "if f[2] and f[2] ~= node then redis.call('SREM', P .. 'node:' .. f[2] .. ':s', cid) end\n"
    "local rid = f[3] or '0'\n"
    "if rid ~= '0' and redis.call('EXISTS', P .. 'room:' .. rid) == 0 then rid = '0' end\n"
    "if not f[3] then redis.call('HSET', sk, 'ready', '0') end\n"
    "redis.call('HSET', sk, 'node', node, 'nick', nick, 'tok', tok, 'conn', '1', 'lost', '0',"
    " 'room', rid)\n"
    "redis.call('SET', P .. 'tok:' .. tok, cid)\n"
    "redis.call('SADD', P .. 'node:' .. node .. ':s', cid)\n"
    "redis.call('ZREM', P .. 'lost', cid)\n"
    "if rid ~= '0' then room_event(rid, 0, cid) end\n"
    "return {0}\n";

/* ARGV: node, hash of the presented token. The token is spent: the
 * WELCOME that follows brings a new one (session script). */
static const char script_claim[] =
    "local node, old = ARGV[1], ARGV[2]\n"
    "local cid = redis.call('GET', P .. 'tok:' .. old)\n"
    "if not cid then return {18, 'unknown or expired session'} end\n"
    "redis.call('DEL', P .. 'tok:' .. old)\n"
    "local sk = P .. 'sess:' .. cid\n"
    "local f = redis.call('HMGET', sk, 'nick', 'room', 'node')\n"
    "if not f[1] then return {18, 'unknown or expired session'} end\n"
    "if f[3] then redis.call('SREM', P .. 'node:' .. f[3] .. ':s', cid) end\n"
    "redis.call('HSET', sk, 'node', node, 'tok', '', 'conn', '1', 'lost', '0')\n"
    "redis.call('SADD', P .. 'node:' .. node .. ':s', cid)\n"
    "redis.call('ZREM', P .. 'lost', cid)\n"
    /* Before the room state: the node that held it lets go first. */
    "redis.call('PUBLISH', P .. 'ev', 'T\\t' .. cid .. '\\t' .. node .. '\\n')\n"
    "if f[2] ~= '0' then room_event(f[2], 0, cid) end\n"
    "return {0, cid, f[1], f[2]}\n";

/* ARGV: node, client. A connection lost without GOODBYE. */
static const char script_lost[] =
    "if redis.call('HGET', P .. 'sess:' .. ARGV[2], 'node') ~= ARGV[1] then return {0} end\n"
    "local rid = mark_lost(ARGV[2], now_ms())\n"
    "if rid then room_event(rid, 0, ARGV[2]) end\n"
    "return {0}\n";

/* ARGV: node, client. GOODBYE, or a session this node evicts. */
static const char script_bye[] =
    "if redis.call('HGET', P .. 'sess:' .. ARGV[2], 'node') ~= ARGV[1] then return {0} end\n"
    "drop_session(ARGV[2])\n"
    "return {0}\n";

/* ARGV: client, name, max players, private, password, meta lines, max rooms. */
static const char script_create[] =
    "local cid = ARGV[1]\n"
    "local sk = P .. 'sess:' .. cid\n"
    "local room = redis.call('HGET', sk, 'room')\n"
    "if not room then return {19, 'session unknown to the cluster store'} end\n"
    "if room ~= '0' then return {12, 'already in a room'} end\n"
    "if redis.call('SCARD', P .. 'rooms') >= tonumber(ARGV[7]) then return {16, 'too many rooms'}"
    " end\n"
    "local rid\n"
    "repeat\n"
    "  rid = redis.call('INCR', P .. 'room_seq')\n"
    "  if rid > 4294967295 then redis.call('SET', P .. 'room_seq', '0'); rid = 0 end\n"
    "  rid = tostring(rid)\n"
    "until rid ~= '0' and redis.call('EXISTS', P .. 'room:' .. rid) == 0\n"
    "local rk = P .. 'room:' .. rid\n"
    "redis.call('HSET', rk, 'name', ARGV[2], 'max', ARGV[3], 'priv', ARGV[4], 'pw', ARGV[5],"
    " 'meta', ARGV[6], 'owner', cid, 'match', '0', 'gs', '0', 'gaddr', '-', 'endr', '0')\n"
    "redis.call('RPUSH', rk .. ':m', cid)\n"
    "redis.call('SADD', P .. 'rooms', rid)\n"
    "redis.call('HSET', sk, 'room', rid, 'ready', '0')\n"
    "room_event(rid, 0, cid)\n"
    "return {0, rid}\n";

/* ARGV: client, room, password. */
static const char script_join[] =
    "local cid, rid = ARGV[1], ARGV[2]\n"
    "local sk = P .. 'sess:' .. cid\n"
    "local room = redis.call('HGET', sk, 'room')\n"
    "if not room then return {19, 'session unknown to the cluster store'} end\n"
    "if room ~= '0' then return {12, 'already in a room'} end\n"
    "local rk = P .. 'room:' .. rid\n"
    "local h = redis.call('HMGET', rk, 'max', 'pw', 'match')\n"
    "if not h[1] then return {8, 'no such room'} end\n"
    "if h[3] ~= '0' then return {15, 'room is in a match'} end\n"
    "if redis.call('LLEN', rk .. ':m') >= tonumber(h[1]) then return {9, 'room full'} end\n"
    "if h[2] ~= ARGV[3] then return {10, 'bad password'} end\n"
    "redis.call('RPUSH', rk .. ':m', cid)\n"
    "redis.call('HSET', sk, 'room', rid, 'ready', '0')\n"
    "room_event(rid, 0, cid)\n"
    "return {0}\n";

/* ARGV: client. */
static const char script_leave[] = "local rid, err = room_of(ARGV[1])\n"
                                   "if not rid then return err end\n"
                                   "remove_member(ARGV[1], 1, ARGV[1])\n"
                                   "return {0, rid}\n";

/* ARGV: owner, target. */
static const char script_kick[] =
    "local cid, target = ARGV[1], ARGV[2]\n"
    "local rid, err = room_of(cid)\n"
    "if not rid then return err end\n"
    "local h = redis.call('HMGET', P .. 'room:' .. rid, 'owner', 'match')\n"
    "if h[1] ~= cid then return {13, 'not the owner'} end\n"
    "if h[2] ~= '0' then return {15, 'room is in a match'} end\n"
    "if target == cid or redis.call('HGET', P .. 'sess:' .. target, 'room') ~= rid then\n"
    "  return {17, 'no such member'}\n"
    "end\n"
    "remove_member(target, 2, target)\n"
    "return {0, rid}\n";

/* ARGV: client, '0' or '1'. */
static const char script_ready[] =
    "local rid, err = room_of(ARGV[1])\n"
    "if not rid then return err end\n"
    "if redis.call('HGET', P .. 'room:' .. rid, 'match') ~= '0' then\n"
    "  return {15, 'room is in a match'}\n"
    "end\n"
    "redis.call('HSET', P .. 'sess:' .. ARGV[1], 'ready', ARGV[2])\n"
    "room_event(rid, 0, ARGV[1])\n"
    "return {0}\n";

/* ARGV: owner, new match id, the node's configured game address. The least
 * loaded registered game server with room, as a share of its capacity;
 * the configured address when none is registered. */
static const char script_start[] =
    "local cid = ARGV[1]\n"
    "local rid, err = room_of(cid)\n"
    "if not rid then return err end\n"
    "local rk = P .. 'room:' .. rid\n"
    "local h = redis.call('HMGET', rk, 'owner', 'match')\n"
    "if h[1] ~= cid then return {13, 'not the owner'} end\n"
    "if h[2] ~= '0' then return {15, 'room is in a match'} end\n"
    "local members = redis.call('LRANGE', rk .. ':m', 0, -1)\n"
    "for _, m in ipairs(members) do\n"
    "  local f = redis.call('HMGET', P .. 'sess:' .. m, 'ready', 'conn')\n"
    "  if f[1] ~= '1' or f[2] ~= '1' then return {14, 'not everyone is ready'} end\n"
    "end\n"
    "local best, bestload, bestcap, any = nil, 0, 1, false\n"
    "for _, gid in ipairs(redis.call('SMEMBERS', P .. 'gss')) do\n"
    "  local g = redis.call('HMGET', P .. 'gs:' .. gid, 'cap', 'players', 'assigned')\n"
    "  if g[1] then\n"
    "    any = true\n"
    "    local cap, load = tonumber(g[1]), tonumber(g[2]) + tonumber(g[3])\n"
    "    if load + #members <= cap and (not best or load * bestcap < bestload * cap) then\n"
    "      best, bestload, bestcap = gid, load, cap\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if any and not best then return {20, 'every game server is full'} end\n"
    "local gs, gaddr = '0', ARGV[3]\n"
    "if best then\n"
    "  gs = best\n"
    "  gaddr = redis.call('HGET', P .. 'gs:' .. best, 'addr')\n"
    "  redis.call('HINCRBY', P .. 'gs:' .. best, 'assigned', #members)\n"
    "end\n"
    "redis.call('HSET', rk, 'match', ARGV[2], 'gs', gs, 'gaddr', gaddr, 'endr', '0')\n"
    "room_event(rid, 3, cid)\n"
    "return {0, rid}\n";

/* ARGV: room, match id ('' any), owner ('' no check), game server ('' no
 * check), reason. */
static const char script_end[] =
    "local rk = P .. 'room:' .. ARGV[1]\n"
    "local h = redis.call('HMGET', rk, 'owner', 'match', 'gs')\n"
    "if not h[1] then return {8, 'no such room'} end\n"
    "if ARGV[3] ~= '' and h[1] ~= ARGV[3] then return {13, 'not the owner'} end\n"
    /* A game server's report crossing another end is normal: ignored. */
    "if h[2] == '0' or (ARGV[2] ~= '' and h[2] ~= ARGV[2]) then\n"
    "  if ARGV[4] ~= '' then return {0, 'ignored'} end\n"
    "  return {4, 'no match running'}\n"
    "end\n"
    "if ARGV[4] ~= '' and h[3] ~= ARGV[4] then return {4, 'match placed on another server'} end\n"
    "end_match(ARGV[1], ARGV[5])\n"
    "return {0}\n";

/* ARGV: node, game server id, address, capacity. */
static const char script_gs_add[] =
    "redis.call('HSET', P .. 'gs:' .. ARGV[2], 'node', ARGV[1], 'addr', ARGV[3], 'cap', ARGV[4],"
    " 'players', '0', 'assigned', '0')\n"
    "redis.call('SADD', P .. 'gss', ARGV[2])\n"
    "redis.call('SADD', P .. 'node:' .. ARGV[1] .. ':g', ARGV[2])\n"
    "return {0}\n";

/* ARGV: game server id, players, capacity ('0': unchanged). */
static const char script_gs_load[] =
    "local gk = P .. 'gs:' .. ARGV[1]\n"
    "if redis.call('EXISTS', gk) == 0 then return {0} end\n"
    "redis.call('HSET', gk, 'players', ARGV[2], 'assigned', '0')\n"
    "if ARGV[3] ~= '0' then redis.call('HSET', gk, 'cap', ARGV[3]) end\n"
    "return {0}\n";

/* ARGV: game server id. */
static const char script_gs_lost[] = "return {0, gs_lost(ARGV[1])}\n";

/* ARGV: node, node timeout ms, reconnect grace ms. The heartbeat, the
 * declaration of dead nodes and the end of expired graces. The fourth
 * answer is 1 when this node was not listed as alive (first tick, or
 * declared dead while it could not reach Redis): it then re-asserts its
 * sessions and game servers. */
static const char script_tick[] =
    "local node, timeout, grace = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local now = now_ms()\n"
    "local added = redis.call('ZADD', P .. 'nodes', now, node)\n"
    "local rooms = {}\n"
    "local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now - timeout, 'LIMIT', 0, 4)\n"
    "for _, d in ipairs(dead) do\n"
    "  local sk = P .. 'node:' .. d .. ':s'\n"
    "  for _, cid in ipairs(redis.call('SMEMBERS', sk)) do\n"
    "    local f = redis.call('HMGET', P .. 'sess:' .. cid, 'node', 'conn')\n"
    "    if f[1] == d and f[2] == '1' then\n"
    "      local rid = mark_lost(cid, now)\n"
    "      if rid then rooms[rid] = true end\n"
    "    end\n"
    "  end\n"
    "  for _, gid in ipairs(redis.call('SMEMBERS', P .. 'node:' .. d .. ':g')) do gs_lost(gid) end\n"
    "  redis.call('DEL', sk, P .. 'node:' .. d .. ':g')\n"
    "  redis.call('ZREM', P .. 'nodes', d)\n"
    "end\n"
    "for rid, _ in pairs(rooms) do room_event(rid, 0, '0') end\n"
    "local expired = redis.call('ZRANGEBYSCORE', P .. 'lost', '-inf', now - grace, 'LIMIT', 0, 256)\n"
    "for _, cid in ipairs(expired) do drop_session(cid) end\n"
    "return {0, #dead, #expired, added}\n";

/* ARGV: a random epoch, kept if Redis has none. The last event number,
 * Redis's epoch (a new one means Redis lost its data), then every room's
 * state, for a node that (re)connects. */
static const char script_snapshot[] =
    "local epoch = redis.call('GET', P .. 'epoch')\n"
    "if not epoch then epoch = ARGV[1]; redis.call('SET', P .. 'epoch', epoch) end\n"
    "local out = {0, redis.call('GET', P .. 'seq') or '0', epoch}\n"
    "for _, rid in ipairs(redis.call('SMEMBERS', P .. 'rooms')) do\n"
    "  local seq = redis.call('HGET', P .. 'room:' .. rid, 'seq') or '0'\n"
    "  out[#out + 1] = room_text(rid, 0, '0', seq)\n"
    "end\n"
    "return out\n";

/* ARGV: node, the client ids of the sessions it holds, the ids of its game
 * servers (each list space-separated). After Redis was out of reach, or
 * for a node restarted under the same id: a session Redis still files as
 * connected through this node but that the node no longer holds is marked
 * lost (its grace then runs as usual), and a game server it no longer
 * holds is lost. */
static const char script_sync[] =
    "local node = ARGV[1]\n"
    "local held, servers = {}, {}\n"
    "for id in string.gmatch(ARGV[2], '%d+') do held[id] = true end\n"
    "for id in string.gmatch(ARGV[3], '%d+') do servers[id] = true end\n"
    "local now, marked, rooms = now_ms(), 0, {}\n"
    "for _, cid in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node .. ':s')) do\n"
    "  local f = redis.call('HMGET', P .. 'sess:' .. cid, 'node', 'conn')\n"
    "  if not held[cid] and f[1] == node and f[2] == '1' then\n"
    "    local rid = mark_lost(cid, now)\n"
    "    if rid then rooms[rid] = true end\n"
    "    marked = marked + 1\n"
    "  end\n"
    "end\n"
    "for rid, _ in pairs(rooms) do room_event(rid, 0, '0') end\n"
    "for _, gid in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node .. ':g')) do\n"
    "  if not servers[gid] then gs_lost(gid) end\n"
    "end\n"
    "return {0, marked}\n";

static const char *const script_bodies[NCI_CLUSTER_SCRIPT_COUNT] = {
    [NCI_CLUSTER_SCRIPT_SESSION] = script_session, [NCI_CLUSTER_SCRIPT_CLAIM] = script_claim,
    [NCI_CLUSTER_SCRIPT_LOST] = script_lost,       [NCI_CLUSTER_SCRIPT_BYE] = script_bye,
    [NCI_CLUSTER_SCRIPT_CREATE] = script_create,   [NCI_CLUSTER_SCRIPT_JOIN] = script_join,
    [NCI_CLUSTER_SCRIPT_LEAVE] = script_leave,     [NCI_CLUSTER_SCRIPT_KICK] = script_kick,
    [NCI_CLUSTER_SCRIPT_READY] = script_ready,     [NCI_CLUSTER_SCRIPT_START] = script_start,
    [NCI_CLUSTER_SCRIPT_END] = script_end,         [NCI_CLUSTER_SCRIPT_GS_ADD] = script_gs_add,
    [NCI_CLUSTER_SCRIPT_GS_LOAD] = script_gs_load, [NCI_CLUSTER_SCRIPT_GS_LOST] = script_gs_lost,
    [NCI_CLUSTER_SCRIPT_TICK] = script_tick,       [NCI_CLUSTER_SCRIPT_SNAPSHOT] = script_snapshot,
    [NCI_CLUSTER_SCRIPT_SYNC] = script_sync,
};

size_t nci_lobby_cluster_script_text(uint32_t index, char *out, size_t capacity)
{
    if (index >= NCI_CLUSTER_SCRIPT_COUNT)
        return 0;
    const char *parts[3] = {prelude_rooms, prelude_matches, script_bodies[index]};
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (out && total + n < capacity)
            memcpy(out + total, parts[i], n);
        total += n;
    }
    if (out && total < capacity)
        out[total] = '\0';
    return total;
}
