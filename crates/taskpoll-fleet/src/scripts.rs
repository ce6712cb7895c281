//! The Lua scripts: each runs atomically in Redis, on the server's clock (`TIME`).
//!
//! Keys are built inside the scripts from a prefix (`{ns}:{vendor}`), which standalone
//! Redis allows and Redis Cluster does not. Numbers written back are formatted with
//! `%d` so that large millisecond timestamps never turn into `1.7e+12`.

use std::sync::LazyLock;

use redis::Script;

/// The server's clock in milliseconds, as a local `now`.
const NOW: &str = "local t = redis.call('TIME')\n\
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

fn script(body: &str) -> Script {
    with(&[], body)
}

/// A script whose body calls the Lua functions `fragments` define (after `now`).
fn with(fragments: &[&str], body: &str) -> Script {
    Script::new(&format!("{NOW}{}{body}", fragments.concat()))
}

/// `each(first, size, f)`: calls `f(i)` for each group of `size` arguments from
/// ARGV[first] on (ARGV[i] the group's first); returns the list of its answers (an
/// answer of nil adds nothing).
const EACH: &str = r"
local function each(first, size, f)
  local out = {}
  local i = first
  while i + size - 1 <= #ARGV do
    out[#out + 1] = f(i)
    i = i + size
  end
  return out
end
";

/// `held(wk)`: what a worker gets of a wait it holds (params, enqueued_ms, deadline_ms,
/// progress; enqueued_ms is false when the wait is gone), and `push(out, id, f)`, which
/// appends the wait's id and those fields to `out`.
const HELD_FIELDS: &str = r"
local function held(wk)
  return redis.call('HMGET', wk, 'params', 'enqueued_ms', 'deadline_ms', 'progress')
end
local function push(out, id, f)
  out[#out + 1] = id
  for k = 1, 4 do out[#out + 1] = f[k] end
end
";

/// `persist_all(prefix, wid)`: writes the progress in ARGV[3..] (per wait: id, next
/// ms, polls, last status, progress) of each wait worker `wid` holds; returns the ids
/// it does not hold.
const PERSIST_ALL: &str = r"
local function persist_all(prefix, wid)
  return each(3, 5, function(i)
    local id = ARGV[i]
    local wk = prefix .. ':wait:' .. id
    if redis.call('HGET', wk, 'owner') ~= wid then return id end
    redis.call('HSET', wk, 'next_ms', ARGV[i + 1], 'polls', ARGV[i + 2],
      'status', ARGV[i + 3], 'progress', ARGV[i + 4])
  end)
end
";

/// `hand_back(prefix, w)`: puts every wait worker `w` holds back in the due set at its
/// next due time (now if it has none) and ends its lease; returns how many.
const HAND_BACK: &str = r"
local function hand_back(prefix, w)
  local owned = prefix .. ':owned:' .. w
  local due = prefix .. ':due'
  local n = 0
  for _, id in ipairs(redis.call('SMEMBERS', owned)) do
    local wk = prefix .. ':wait:' .. id
    if redis.call('HGET', wk, 'owner') == w then
      local nx = redis.call('HGET', wk, 'next_ms') or string.format('%d', now)
      redis.call('HDEL', wk, 'owner')
      redis.call('ZADD', due, nx, id)
      n = n + 1
    end
  end
  redis.call('DEL', owned)
  redis.call('ZREM', prefix .. ':workers', w)
  return n
end
";

/// One request of a shared budget: a sliding window, paced.
///
/// KEYS: window (sorted set of grants, scored by grant time), pause (pause-until ms),
/// pace (hash: the tokens of the burst allowance and when they were counted).
/// ARGV: limit (0: none), window ms, a member unique to this grant.
/// Returns `{1, 0}` granted, or `{0, ms}` ask again in `ms`.
///
/// Paced as the in-process budget is: after a burst of a tenth of N, grants are
/// window/N apart, so the budget is spent across its window rather than in one burst
/// followed by a window of silence.
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local pause = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if pause > now then return {0, pause - now} end
local limit = tonumber(ARGV[1])
if limit > 0 then
  local window = tonumber(ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    local wait = math.ceil(tonumber(oldest[2]) + window - now)
    if wait < 1 then wait = 1 end
    return {0, wait}
  end
  local gap = window / limit
  local burst = math.max(1, math.floor(limit / 10))
  local pace = redis.call('HMGET', KEYS[3], 'tokens', 'at')
  local tokens = burst
  if pace[1] and pace[2] then
    tokens = math.min(burst, tonumber(pace[1]) + (now - tonumber(pace[2])) / gap)
  end
  if tokens < 1 then
    redis.call('HSET', KEYS[3], 'tokens', tostring(tokens), 'at', string.format('%d', now))
    redis.call('PEXPIRE', KEYS[3], math.ceil(window) + 1000)
    return {0, math.max(1, math.ceil(gap * (1 - tokens)))}
  end
  redis.call('HSET', KEYS[3], 'tokens', tostring(tokens - 1), 'at', string.format('%d', now))
  redis.call('PEXPIRE', KEYS[3], math.ceil(window) + 1000)
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window) + 1000)
end
return {1, 0}
",
    )
});

/// Pauses a shared budget: nobody is granted a request until now + ARGV[1] ms (a
/// shorter pause than one in force changes nothing). KEYS: pause. Returns the pause's
/// end (server ms).
pub(crate) static PAUSE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local d = tonumber(ARGV[1])
local till = now + d
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if till > cur then
  redis.call('SET', KEYS[1], string.format('%d', till), 'PX', string.format('%d', d + 1000))
  return till
end
return cur
",
    )
});

/// Enqueues waits. ARGV: prefix, then per wait: id, params (JSON), timeout ms (-1:
/// the worker's default), started ms (-1: now), policy summary (JSON). Returns per
/// wait `enqueued`, `joined` (a wait on that id exists) or `finished` (its outcome is
/// stored).
pub(crate) static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    with(
        &[EACH],
        r"
local prefix = ARGV[1]
local due = prefix .. ':due'
return each(2, 5, function(i)
  local id = ARGV[i]
  local params = ARGV[i + 1]
  local timeout = tonumber(ARGV[i + 2])
  local started = tonumber(ARGV[i + 3])
  local policy = ARGV[i + 4]
  local wk = prefix .. ':wait:' .. id
  if redis.call('EXISTS', prefix .. ':outcome:' .. id) == 1 then return 'finished' end
  if redis.call('EXISTS', wk) == 1 then return 'joined' end
  local enq = now
  if started >= 0 then enq = started end
  local e = string.format('%d', enq)
  redis.call('HSET', wk, 'task_id', id, 'params', params, 'policy', policy,
    'enqueued_ms', e, 'next_ms', e, 'polls', '0')
  if timeout >= 0 then
    redis.call('HSET', wk, 'deadline_ms', string.format('%d', enq + timeout))
  end
  redis.call('ZADD', due, enq, id)
  return 'enqueued'
end)
",
    )
});

/// A worker's tick: renews its lease, hands the waits of workers whose lease expired
/// back to the due set, and claims due waits (at most its share: those due over the
/// live workers).
///
/// ARGV: prefix, worker, lease ms, most waits to claim, lookahead ms (claim waits due
/// that soon), first (1 on the worker's first tick).
/// Returns `{lost, reaped, now, then per claimed wait: id, params, enqueued_ms,
/// deadline_ms, progress}`; `lost` is 1 when the worker's lease had been taken away.
pub(crate) static TICK: LazyLock<Script> = LazyLock::new(|| {
    with(
        &[HELD_FIELDS, HAND_BACK],
        r"
local prefix = ARGV[1]
local wid = ARGV[2]
local lease = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local lookahead = tonumber(ARGV[5])
local first = ARGV[6] == '1'
local workers = prefix .. ':workers'
local due = prefix .. ':due'
local lost = 0
if not redis.call('ZSCORE', workers, wid) and not first then lost = 1 end
redis.call('ZADD', workers, now + lease, wid)
local reaped = 0
local dead = redis.call('ZRANGEBYSCORE', workers, '-inf', now, 'LIMIT', 0, 16)
for _, d in ipairs(dead) do
  if d ~= wid then reaped = reaped + hand_back(prefix, d) end
end
local out = {lost, reaped, now}
if max > 0 then
  -- A fair share: the waits due now over the live workers, so that workers started
  -- together split a burst instead of the first one taking it all.
  local share = math.ceil(redis.call('ZCOUNT', due, '-inf', now + lookahead) / redis.call('ZCARD', workers))
  if share < max then max = share end
end
if max > 0 then
  -- The earliest due first, in one pop; any not due within the lookahead go back.
  local popped = redis.call('ZPOPMIN', due, max)
  local owned = prefix .. ':owned:' .. wid
  for i = 1, #popped, 2 do
    local id = popped[i]
    local score = tonumber(popped[i + 1])
    if score > now + lookahead then
      redis.call('ZADD', due, popped[i + 1], id)
    else
      local wk = prefix .. ':wait:' .. id
      local f = held(wk)
      if f[2] then
        redis.call('HSET', wk, 'owner', wid)
        redis.call('SADD', owned, id)
        push(out, id, f)
      end
    end
  end
end
return out
",
    )
});

/// Every wait a worker holds, as [`TICK`] returns claimed ones (after a tick whose
/// answer was lost). ARGV: prefix, worker.
pub(crate) static HELD: LazyLock<Script> = LazyLock::new(|| {
    with(
        &[HELD_FIELDS],
        r"
local prefix = ARGV[1]
local wid = ARGV[2]
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', prefix .. ':owned:' .. wid)) do
  local wk = prefix .. ':wait:' .. id
  if redis.call('HGET', wk, 'owner') == wid then push(out, id, held(wk)) end
end
return out
",
    )
});

/// Progress of waits a worker holds. ARGV: prefix, worker, then per wait: id, next ms,
/// polls, last status, progress (JSON). Returns the ids the worker no longer holds.
pub(crate) static PERSIST: LazyLock<Script> = LazyLock::new(|| {
    with(
        &[EACH, PERSIST_ALL],
        "return persist_all(ARGV[1], ARGV[2])\n",
    )
});

/// Publishes outcomes, each exactly once: sets it only if absent (with its time to
/// live), removes the wait wherever it is, and publishes it on the vendor's channel
/// only when it was set. ARGV: prefix, TTL seconds, then per wait: id, outcome (JSON).
/// Returns per wait 1 (published) or 0 (it had an outcome already).
pub(crate) static FINISH: LazyLock<Script> = LazyLock::new(|| {
    with(
        &[EACH],
        r"
local prefix = ARGV[1]
local ttl = ARGV[2]
local due = prefix .. ':due'
local channel = prefix .. ':outcomes'
return each(3, 2, function(i)
  local id = ARGV[i]
  local json = ARGV[i + 1]
  local set = redis.call('SET', prefix .. ':outcome:' .. id, json, 'NX', 'EX', ttl)
  local wk = prefix .. ':wait:' .. id
  local owner = redis.call('HGET', wk, 'owner')
  if owner then
    redis.call('SREM', prefix .. ':owned:' .. owner, id)
  else
    redis.call('ZREM', due, id)
  end
  redis.call('DEL', wk)
  if not set then return 0 end
  redis.call('PUBLISH', channel, json)
  return 1
end)
",
    )
});

/// Hands a stopping worker's waits back: writes their progress (as [`PERSIST`]), puts
/// every wait it holds back in the due set at its next due time, and ends its lease.
/// ARGV: prefix, worker, then per wait as [`PERSIST`]. Returns how many were handed
/// back.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    with(
        &[EACH, PERSIST_ALL, HAND_BACK],
        r"
persist_all(ARGV[1], ARGV[2])
return hand_back(ARGV[1], ARGV[2])
",
    )
});
