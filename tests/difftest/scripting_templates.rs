//! Scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT): difftest templates. The scripts cover Redis's
//! RESP<->Lua conversions, the error texts with their `script: ..., on @user_script:N.` suffix, the sandbox
//! (protected globals, removed functions), shebang flags and read-only refusals; they run on the stream's
//! keys, so type errors and missing keys come up too.

use super::{Template, cmd, t};

const SCRIPTS: &[&str] = &[
    "return redis.call('incr','a')",
    "error('foo')",
    "return redis.pcall('incr','a')",
    "return {1,2,3,'x',nil,4}",
    "return 3.99",
    "return true",
    "return false",
    "return {err='boom'}",
    "return {ok='fine'}",
    "return redis.error_reply('My Error')",
    "return redis.error_reply('boom')",
    "return redis.status_reply('X')",
    "return redis.call('nosuch')",
    // Blocking commands in scripts: refused, answered at once, or (XREAD BLOCK) refused by its own text.
    "return redis.call('BLPOP','nolist',0)",
    "return redis.call('BZPOPMIN','nozset',0)",
    "return redis.call('XREAD','BLOCK','0','STREAMS','nostream','$')",
    "return redis.call('xreadgroup','GROUP','g','c','BLOCK','0','STREAMS','nostream','>')",
    "return redis.call('XREAD','COUNT','1','STREAMS','nostream','0')",
    "return redis.call('eval','return 1','0')",
    "return x",
    "y=1",
    "return redis.call()",
    "return redis.call('get')",
    "return redis.call({})",
    "return redis.sha1hex('')",
    "return redis.REDIS_VERSION_NUM",
    "return loadfile",
    "string.foo=1",
    "rawset(_G,'x',1)",
    "setmetatable(_G,{})",
    "return redis.pcall('nosuch')",
    "return redis.call('set','a',{})",
    "return {1,2,{err='e'},redis.call('ping')}",
    "return 1 +",
    "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}",
    "return 1",
    "#!lua flags=no-writes\nreturn redis.call('set','a','b')",
    "#!lua flags=bad\nreturn 1",
    "#!lu\nreturn 1",
    "redis.call('set','f',0.1); return redis.call('get','f')",
    "redis.setresp(3); return redis.call('hgetall','nohash')",
    "redis.setresp(3); return redis.call('hgetall','h')",
    "return redis.call('hgetall','h')",
    "redis.setresp(4)",
    "return {double=3.5}",
    "return {big_number='123'}",
    "return {map={a=1}}",
    "return {set={a=true}}",
    "return redis.call('get','nokey')",
    "return type(redis.call('get','nokey'))",
    "return redis.call('select','1')",
    "return redis.set_repl(9)",
    "local g = getmetatable(_G); g.__index = {}",
    "redis = function() return 1 end",
    "_G = {}",
    "return loadstring('return 1')()",
    "loadstring('x=1')()",
    "return redis.call('blpop','nolist','0')",
    "return pcall(function() error({err='x'}) end)",
    "local ok, e = pcall(redis.call, 'nosuch'); return e",
    "return redis.call('hgetall')",
    "return tonumber('0x10')",
    "return string.format('%d', 5)",
    "return redis.call('ping', 'x')",
    "return redis.call('get', KEYS[1])",
    "return redis.call('incr', KEYS[1])",
    "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])",
    "return redis.call('lpush', KEYS[1], ARGV[1])",
    "redis.setresp(3); return {redis.call('get', KEYS[1]), redis.call('exists', KEYS[1])}",
    "return redis.pcall('incr', KEYS[1])",
    "return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
    // A RESP3 script's booleans and verbatim strings go back to the client as such (or downgraded).
    "redis.setresp(3); return false",
    "redis.setresp(3); return {true, false}",
    "redis.setresp(3); return {verbatim_string={format='txt', string='some text'}}",
    "return {verbatim_string={format='mkd', string='x'}}",
    // A set sorted BY a constant comes out ordered in a script (ALPHA), with GET patterns still applied.
    "redis.call('del','sortset'); redis.call('sadd','sortset','c','a','b','aa'); return redis.call('sort','sortset','by','nosort')",
    "redis.call('del','sortset'); redis.call('sadd','sortset','z','y'); return redis.call('sort','sortset','by','_','get','#','get','_:*')",
    // Arguments: an explicit trailing nil is refused (it counts), numbers become their %.17g text.
    "return redis.call('get', 'a', nil)",
    "return redis.pcall('get', nil)",
    "return redis.call('echo', 0.5)",
    "return redis.call('echo', 12345678901234)",
    "return redis.call('mset', 'm1', 1, 'm2', 2, 'm3', 3, 'm4', 4, 'm5', 5)",
    "math.randomseed(7); return {math.random(), math.random(100), math.random(5, 9)}",
    "return {bit.band(7, 3), bit.tohex(255), bit.tohex(-1, -4), bit.bnot(0), bit.lshift(1, 33), bit.tobit(2^32 + 5)}",
    "return bit.band()",
    "bit.band = nil",
    "return loadstring(string.dump(function() return 1 end))()",
];

/// Scripts over the bundled libraries (cjson, cmsgpack, struct) fed the stream's values and keys, so odd
/// input (binary, empty, huge numbers) meets the decoders; `tests/lua_libraries.rs` runs a fixed corpus.
const LIBRARY_SCRIPTS: &[&str] = &[
    "return cjson.encode(cjson.decode(ARGV[1]))",
    "return {pcall(cjson.decode, ARGV[1])}",
    "return cjson.encode({ARGV[1], tonumber(ARGV[1]), {[ARGV[1]] = ARGV[2]}})",
    // Ordered replies only: a script makes the order of a reply observable, and a big hash's or set's order is
    // its hash table's, which differs between servers (plain HGETALL is compared as unordered pairs).
    "return cjson.encode(redis.pcall('zrange', KEYS[1], 0, -1, 'withscores'))",
    "return cjson.encode(redis.pcall('lrange', KEYS[1], 0, -1))",
    "redis.call('set', KEYS[1], cjson.encode({v = ARGV[1], n = tonumber(ARGV[1])})) return redis.call('get', KEYS[1])",
    "return cjson.decode(redis.call('get', KEYS[1]))",
    "return cmsgpack.pack(ARGV[1], tonumber(ARGV[1]), {ARGV[1]})",
    "return {cmsgpack.unpack(ARGV[1])}",
    "return {cmsgpack.unpack_one(ARGV[1], tonumber(ARGV[2]) or 0)}",
    "return {cmsgpack.unpack_limit(ARGV[1], tonumber(ARGV[2]) or 1)}",
    "return {cmsgpack.unpack(cmsgpack.pack(redis.pcall('lrange', KEYS[1], 0, -1)))}",
    "return {struct.unpack('>I2', ARGV[1])}",
    "return {struct.unpack(ARGV[1], ARGV[2] or '')}",
    "return struct.pack('>i4', ARGV[1])",
    "return struct.pack(ARGV[1], 1, 2, 3)",
    "return struct.size(ARGV[1])",
];

/// JSON texts, valid and not, for `cjson.decode`.
const JSON_TEXTS: &[&str] = &[
    "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}",
    "[1,2,3]",
    "[]",
    "{}",
    "\"\\u00e9\\n\"",
    "1e400",
    "-0",
    "[1,]",
    "{\"a\" 1}",
    "NaN",
    "0x1F",
    "[[[[[[]]]]]]",
    "\"unterminated",
    "tru",
    "12.5e-3",
];

/// SHA-1s of the first scripts (EVALSHA finds them once EVAL or SCRIPT LOAD cached them), and a bad one.
const SHAS: &[&str] = &[
    "c9f3dee5d73c1008119b4067129338abc98620f3",
    "3636b3c71d6a755d5b3f0a4d22850f935598f38d",
    "0416ef3ca2ed594a6e7ed1d2287f8f31eb823e88",
    "bb5fd6eb6d1c3c0a4072e5928110366a3d959bca",
    "96a73eb2d11e2649f9191db08cadffa71d25fecf",
    "b36f6a251a4827a53c13e202f3feb7d9f4350dee",
    "b3c9422cbf2832b3c706cbb070d6c379b0f0fa1c",
    "af7b20b6c5d23748d551195c1ce7ba5b091cf4e5",
    "9a883d8317e6d7d8001bbec41950a593712dd6ed",
    "5fbd4eb382630e6b4df07eabf3ce666205bf1c1d",
    "d2c7d536b1af41ad259332b132df5bf0271722cc",
    "8a95f7d0bdb479564ebc43fd9cc5f6c0bfd829e4",
    "ffffffffffffffffffffffffffffffffffffffff",
];

pub const TEMPLATES: &[Template] = &[
    t("eval", 6, |g| {
        let keys = g.keys(0, 2);
        cmd("EVAL").arg(g.rng.pick(SCRIPTS)).arg(keys.len().to_string()).args(keys).args(g.values(0, 2))
    }),
    t("eval_ro", 2, |g| {
        let keys = g.keys(0, 2);
        cmd("EVAL_RO").arg(g.rng.pick(SCRIPTS)).arg(keys.len().to_string()).args(keys).args(g.values(0, 2))
    }),
    t("eval_lualib", 3, |g| {
        let keys = g.keys(1, 1);
        let mut args = g.values(1, 2);
        if g.rng.chance(0.4) {
            args[0] = g.rng.pick(JSON_TEXTS).as_bytes().to_vec();
        }
        cmd("EVAL").arg(g.rng.pick(LIBRARY_SCRIPTS)).arg("1").args(keys).args(args)
    }),
    t("evalsha", 3, |g| {
        let keys = g.keys(0, 2);
        cmd("EVALSHA").arg(g.rng.pick(SHAS)).arg(keys.len().to_string()).args(keys).args(g.values(0, 2))
    }),
    t("evalsha_ro", 1, |g| cmd("EVALSHA_RO").arg(g.rng.pick(SHAS)).arg("1").arg(g.key())),
    t("eval_numkeys", 1, |g| cmd("EVAL").arg("return KEYS").arg(g.rng.pick(&["-1", "3", "x", "01", "1"])).arg(g.key())),
    t("script", 2, |g| match g.rng.below(4) {
        0 => cmd("SCRIPT").arg("LOAD").arg(g.rng.pick(SCRIPTS)),
        1 => cmd("SCRIPT").arg("EXISTS").args(g.rng.pick(SHAS).as_bytes().chunks(40)).arg("nope"),
        2 => cmd("SCRIPT").arg("FLUSH").args(g.rng.chance(0.5).then_some(*g.rng.pick(&["ASYNC", "sync", "bad"]))),
        _ => cmd("SCRIPT").arg(g.rng.pick(&["HELP", "KILL"])),
    }),
];

/// Libraries for FUNCTION LOAD: valid ones (two share a function name), and refused ones.
const LIBRARIES: &[&str] = &[
    "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return redis.call('set', keys[1], args[1]) end)",
    "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}",
    "#!lua name=lib3\nredis.register_function('f1', function() return 1 end)",
    "#!lua name=lib4\nredis.register_function('f4', function(keys, args) return {keys, args, redis.pcall('incr', keys[1])} end)",
    "#!lua name=bad\nerror('x')",
    "#!lua name=bad\nreturn 1",
    "#!lua\nredis.register_function('f', function() end)",
    "no shebang",
];

pub const FUNCTION_TEMPLATES: &[Template] = &[
    t("function_load", 2, |g| {
        let library = *g.rng.pick(LIBRARIES);
        if g.rng.chance(0.3) {
            cmd("FUNCTION").arg("LOAD").arg("REPLACE").arg(library)
        } else {
            cmd("FUNCTION").arg("LOAD").arg(library)
        }
    }),
    t("fcall", 4, |g| {
        let keys = g.keys(0, 2);
        let name = *g.rng.pick(&["FCALL", "FCALL_RO"]);
        cmd(name)
            .arg(g.rng.pick(&["f1", "f2", "f4", "nosuch"]))
            .arg(keys.len().to_string())
            .args(keys)
            .args(g.values(0, 2))
    }),
    t("function", 1, |g| match g.rng.below(5) {
        0 => cmd("FUNCTION").arg("DELETE").arg(g.rng.pick(&["lib1", "lib2", "lib4", "nosuch"])),
        // One library at a time: Redis lists them in its dict's (seeded hash) order.
        1 => cmd("FUNCTION")
            .arg("LIST")
            .arg("LIBRARYNAME")
            .arg(g.rng.pick(&["lib1", "lib2", "lib4", "l*4"]))
            .args(g.rng.chance(0.5).then_some("WITHCODE")),
        2 => cmd("FUNCTION").arg("STATS"),
        3 => cmd("FUNCTION").arg("FLUSH").args(g.rng.chance(0.5).then_some(*g.rng.pick(&["ASYNC", "SYNC", "bad"]))),
        _ => cmd("FUNCTION").arg(g.rng.pick(&["HELP", "KILL"])),
    }),
];
