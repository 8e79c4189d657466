-- Redis 7.0's sandbox, run once on a new Lua state with the real globals table `G` and the Rust-made
-- `raw_call(raise, ...)` dispatcher. Redis marks every reachable table read-only in its patched Lua; stock
-- Lua 5.1 has no such flag, so each protected table is replaced by an empty proxy whose metatable reads
-- through to the real table and refuses writes, and the functions that bypass metatables (rawset,
-- setmetatable, rawget, next, pairs) are wrapped to see through proxies and refuse to change them.
local G, hooks = ...
local real_of = setmetatable({}, {__mode = 'k'})
local rawset, rawget, setmetatable, next, error, type, tostring, select, setfenv, loadstring, load =
  G.rawset, G.rawget, G.setmetatable, G.next, G.error, G.type, G.tostring, G.select, G.setfenv, G.loadstring, G.load

local function refuse() error('Attempt to modify a readonly table', 2) end
local function protect(real)
  local proxy = {}
  local mt = {__index = real, __newindex = refuse}
  mt.__metatable = setmetatable({}, {__index = mt, __newindex = refuse})
  real_of[mt.__metatable] = mt
  setmetatable(proxy, mt)
  real_of[proxy] = real
  return proxy, mt
end

G.rawset = function(t, k, v)
  if real_of[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
G.setmetatable = function(t, mt)
  if real_of[t] then error('Attempt to modify a readonly table', 0) end
  return setmetatable(t, mt)
end
G.rawget = function(t, k) return rawget(real_of[t] or t, k) end
local function see_through_next(t, k) return next(real_of[t] or t, k) end
G.next = see_through_next
G.pairs = function(t) return see_through_next, t, nil end
-- Code compiled at run time runs in the sandbox too, not in the real globals.
-- Binary chunks are refused, as Redis's Lua does.
G.loadstring = function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then return nil, 'attempt to load a binary chunk' end
  local f, err = loadstring(s, name)
  if f then setfenv(f, G._G) end
  return f, err
end
G.load = function(...)
  local f, err = load(...)
  if f then setfenv(f, G._G) end
  return f, err
end

-- luaPushErrorBuff: "-CODE msg" keeps its code, anything else gets ERR; CR/LF trimmed from the ends.
local function error_table(msg)
  local code, text = 'ERR', msg
  if msg:sub(1, 1) == '-' then
    local space = msg:find(' ', 1, true)
    if space then code, text = msg:sub(2, space - 1), msg:sub(space + 1) else text = msg:sub(2) end
  end
  text = (text:gsub('^[\r\n]+', ''))
  text = (text:gsub('[\r\n]+$', ''))
  return {err = code .. ' ' .. text}
end
hooks.error_table = error_table

-- Errors raised by the Rust functions (redis.call, setresp...) travel as mlua errors; the Redis error
-- table they stand for (or, for the C libraries' errors, their text) waits in hooks.pending. Redis's pcall
-- gives a table error's `err` text.
local pcall = G.pcall
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'userdata' and hooks.pending then e = hooks.pending; hooks.pending = nil end
  if type(e) == 'table' then
    local t = type(rawget(e, 'err'))
    if t == 'string' or t == 'number' then e = rawget(e, 'err') end
  end
  return false, e
end
G.pcall = function(...) return pcall_result(pcall(...)) end
local redis = G.redis
redis.error_reply = function(...)
  local msg = ...
  if select('#', ...) ~= 1 or type(msg) ~= 'string' then return error_table('wrong number or type of arguments') end
  if msg:sub(1, 1) ~= '-' then msg = '-' .. msg end
  return error_table(msg)
end
redis.status_reply = function(...)
  local msg = ...
  if select('#', ...) ~= 1 or type(msg) ~= 'string' then return error_table('wrong number or type of arguments') end
  return {ok = msg}
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3

-- redis.call and redis.pcall, C functions made once (redis_call.rs).
redis.call, redis.pcall = hooks.raw_call, hooks.raw_pcall
hooks.raw_call, hooks.raw_pcall = nil, nil

local xpcall, handler = G.xpcall, G.__redis__err__handler

-- FUNCTION LOAD: a library's code runs with only the load API in sight (Redis switches the globals'
-- __index to it for the load), and registers its functions in `registered`.
local function reg_error(msg) error({err = 'ERR ' .. msg}, 0) end
local known_flags = {['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true, ['no-cluster'] = true,
  ['allow-cross-slot-keys'] = true}
local registered
-- The arguments' types were checked by register_function, with the texts of the form they came in.
local function register(name, callback, flags, description)
  local flag_list = {}
  if flags ~= nil then
    for _, flag in G.ipairs(flags) do
      if type(flag) ~= 'string' or not known_flags[flag] then reg_error('unknown flag given') end
      flag_list[#flag_list + 1] = flag
    end
  end
  if name == '' or name:find('[^%w_]') then
    reg_error('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
  end
  for _, f in G.ipairs(registered) do
    if f.name:lower() == name:lower() then reg_error('Function already exists in the library') end
  end
  registered[#registered + 1] = {name = name, callback = callback, flags = flag_list, description = description}
end
local load_redis = {
  register_function = function(...)
    -- A function that kept the load API (a library's upvalue) and calls it at FCALL time.
    if registered == nil then reg_error('redis.register_function can only be called on FUNCTION LOAD command') end
    local n = select('#', ...)
    if n == 1 then
      local t = ...
      if type(t) ~= 'table' then
        reg_error('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
      end
      -- luaRegisterFunctionReadNamedArgs: each field checked as the table's traversal meets it.
      local args = {}
      for k, v in next, t do
        if k == 'function_name' then
          if type(v) ~= 'string' then reg_error('function_name argument given to redis.register_function must be a string') end
        elseif k == 'callback' then
          if type(v) ~= 'function' then reg_error('callback argument given to redis.register_function must be a function') end
        elseif k == 'description' then
          if type(v) ~= 'string' then reg_error('description argument given to redis.register_function must be a string') end
        elseif k == 'flags' then
          if type(v) ~= 'table' then reg_error('flags argument to redis.register_function must be a table representing function flags') end
        else
          reg_error('unknown argument given to redis.register_function')
        end
        args[k] = v
      end
      if args.function_name == nil then reg_error('redis.register_function must get a function name argument') end
      if args.callback == nil then reg_error('redis.register_function must get a callback argument') end
      return register(args.function_name, args.callback, args.flags, args.description)
    elseif n == 2 then
      local name, callback = ...
      if type(name) ~= 'string' then reg_error('first argument to redis.register_function must be a string') end
      if type(callback) ~= 'function' then reg_error('second argument to redis.register_function must be a function') end
      return register(name, callback)
    end
    reg_error('wrong number of arguments to redis.register_function')
  end,
  log = redis.log,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
}
local function missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
setmetatable(load_redis, {__index = missing, __newindex = refuse})
local load_api = setmetatable({redis = protect(load_redis)}, {__index = missing, __newindex = refuse})

-- The libraries and the globals, read-only.
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'redis', 'bit', 'cjson', 'cmsgpack', 'struct'}) do
  rawset(G, name, protect(G[name]))
end
local globals = protect(G)
rawset(G, '_G', globals)
-- Functions get a view of their own, whose reads go to the load API while a library loads.
local functions_env, functions_mt = protect(G)
hooks.functions_env = functions_env
hooks.load_library = function(chunk)
  registered = {}
  functions_mt.__index = load_api
  local ok, err = xpcall(chunk, handler)
  functions_mt.__index = G
  local result = registered
  registered = nil
  if ok then return true, result end
  return false, err
end
rawset(G, 'setfenv', nil)
setmetatable(G, {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = refuse,
})
return globals
