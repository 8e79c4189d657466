//! Round trips of every encoding through `snapshot` and `payload`, and bounded mutation tests: no input,
//! however corrupt, panics or loads.

use super::load_input::Input;
use super::snapshot::{self, LoadOptions, SaveOptions};
use super::{Limits, Options, payload, types};
use crate::db::{Db, Value};
use crate::types::hash_object::{self, Hash};
use crate::types::list_object::{End, List};
use crate::types::set_object::{self, Set};
use crate::util::rng::Rng;

fn limits() -> Limits {
    Limits {
        hash: hash_object::Limits { entries_max: 128, value_max: 64 },
        set: set_object::Limits::default(),
        list_fill: -2,
        zset: crate::types::zset_object::Limits { entries_max: 128, value_max: 64 },
        stream: crate::types::stream_object::NodeLimits { max_entries: 100, max_bytes: 4096 },
        deep_sanitize: true,
    }
}

fn list(items: impl IntoIterator<Item = Vec<u8>>) -> Value {
    let mut list = List::new(-2);
    items.into_iter().for_each(|i| list.push(End::Back, &i));
    Value::List(Box::new(list))
}

fn hash(pairs: usize, value_len: usize) -> Value {
    let mut hash = Hash::new();
    for i in 0..pairs {
        hash.set(format!("f{i}").as_bytes(), &vec![b'v'; value_len], limits().hash);
    }
    Value::Hash(hash)
}

fn set(members: impl IntoIterator<Item = Vec<u8>>) -> Value {
    let mut set = Set::new();
    members.into_iter().for_each(|m| {
        set.add(&m, &limits().set);
    });
    Value::Set(set)
}

/// One value of every type and encoding, by name.
fn samples() -> Vec<(&'static str, Value)> {
    let n = |range: std::ops::Range<i64>| range.map(|i| i.to_string().into_bytes()).collect::<Vec<_>>();
    vec![
        ("int", Value::from_arg(b"12345")),
        ("bigint", Value::from_arg(b"-9223372036854775808")),
        ("embstr", Value::from_arg(b"hello")),
        ("zeros", Value::from_arg(b"007")),
        ("compressible", Value::from_arg(&b"abc".repeat(1000))),
        ("binary", Value::from_bytes(&(0..=255).collect::<Vec<u8>>())),
        ("raw", {
            let mut v = Value::from_arg(b"x");
            v.make_raw().unwrap().extend_from_slice(b"yz");
            v
        }),
        ("list", list(n(0..10).into_iter().chain([b"a".to_vec(), vec![0xff; 300]]))),
        ("biglist", list(n(0..20_000))),
        ("hash_listpack", hash(5, 10)),
        ("hash_table", hash(500, 10)),
        ("hash_longvalue", hash(2, 100)),
        ("intset", set(n(-5..100))),
        ("set_table", set(n(0..1000))),
        ("set_strings", set([b"a".to_vec(), b"b".to_vec(), b"123".to_vec()])),
        ("stream", stream()),
    ]
}

/// A stream over three nodes, fields changing midway (so both entry forms occur), with a group whose PEL is
/// split between two consumers and a consumer that owns nothing.
fn stream() -> Value {
    use crate::types::stream_group::Group;
    use crate::types::stream_object::{NodeLimits, Stream, StreamId};
    let mut stream = Stream::new();
    for i in 1..=250u64 {
        let fields: Vec<Vec<u8>> = if i < 120 {
            vec![b"f".to_vec(), i.to_string().into_bytes()]
        } else {
            vec![b"g".to_vec(), b"x".repeat(i as usize % 7), b"h".to_vec(), b"-3".to_vec()]
        };
        stream.append(StreamId::new(i * 10, i % 2), &fields, NodeLimits { max_entries: 100, max_bytes: 4096 });
    }
    stream.max_deleted_id = StreamId::new(5, 0);
    stream.entries_added = 300;
    let mut group = Group::new(StreamId::new(40, 0), 4);
    for (i, name) in [(1u64, &b"alice"[..]), (2, b"bob"), (3, b"alice")] {
        group.consumer(name, 1_000 + i as i64);
        group.deliver(StreamId::new(i * 10, i % 2), name, 5_000, true);
    }
    group.consumer(b"idle", 7);
    stream.groups.insert(b"g".to_vec().into(), group);
    stream.groups.insert(b"empty".to_vec().into(), Group::new(StreamId::MIN, -1));
    Value::Stream(Box::new(stream))
}

/// Values as a reload must give them back: a string's bytes (its `raw` form is not kept, as in Redis), a
/// collection whole.
fn normal(value: Option<Value>) -> Option<Value> {
    value.map(|v| v.with_str(Value::from_arg).unwrap_or(v))
}

fn save(dbs: &[Db], compress: bool) -> Vec<u8> {
    let opts = SaveOptions {
        encode: Options { compress },
        checksum: true,
        aof_base: false,
        now_s: 1_700_000_000,
        used_mem: 1,
        key_save_delay_us: 0,
        functions: Vec::new(),
        access: snapshot::AccessRecord::None,
    };
    snapshot::write(Vec::new(), dbs, &opts).unwrap().0
}

fn load_options() -> LoadOptions {
    LoadOptions { limits: limits(), databases: 16, now_ms: 1_000, policy: Default::default() }
}

fn load(bytes: &[u8]) -> Result<snapshot::Loaded, super::decode::Error> {
    snapshot::load(bytes, &load_options())
}

/// Hands a load exactly the bytes it asks for and no more, so that records straddle the window's end
/// everywhere and every record is read again after a widening.
struct Dribble<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Input for Dribble<'_> {
    fn input_len(&self) -> usize {
        self.bytes.len()
    }

    fn min_read(&self) -> usize {
        1
    }

    fn read_more(&mut self, window: &mut Vec<u8>, at_least: usize) -> std::io::Result<()> {
        let n = at_least.min(self.bytes.len() - self.at);
        window.extend_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(())
    }

    fn checksum(&mut self, body_len: usize, _window: &[u8], _window_base: usize) -> std::io::Result<u64> {
        Ok(super::crc64::checksum(&self.bytes[..body_len]))
    }
}

fn load_dribbled(bytes: &[u8]) -> Result<snapshot::Loaded, super::decode::Error> {
    snapshot::load_from(&mut Dribble { bytes, at: 0 }, &load_options())
}

/// A key's value and deadline, as a test compares them.
type Live = (Option<Value>, Option<Option<i64>>, Vec<u8>);

/// Every live key of `db` with its value and deadline, in key order.
fn live(db: &mut Db) -> Vec<Live> {
    let mut keys = Vec::new();
    db.for_each(1_000, |e| keys.push(e.key().to_vec()));
    keys.sort();
    keys.into_iter().map(|k| (normal(db.get(&k, 1_000).cloned()), db.expire_at(&k, 1_000), k)).collect()
}

#[test]
fn payloads_round_trip_every_encoding() {
    for compress in [false, true] {
        for (name, value) in samples() {
            let dumped = payload::dump(&value, Options { compress });
            let restored = payload::restore(&dumped, &limits()).unwrap().unwrap();
            assert_eq!(normal(Some(restored.clone())), normal(Some(value.clone())), "{name}");
            if name != "raw" {
                assert_eq!(restored.encoding(), value.encoding(), "{name}");
            }
        }
    }
}

#[test]
fn type_bytes_are_redis_7_0s() {
    let expected = [
        ("int", types::STRING),
        ("list", types::LIST_QUICKLIST_2),
        ("hash_listpack", types::HASH_LISTPACK),
        ("hash_table", types::HASH),
        ("intset", types::SET_INTSET),
        ("set_strings", types::SET),
    ];
    let samples = samples();
    for (name, byte) in expected {
        let value = &samples.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(super::encode::type_byte(value), byte, "{name}");
    }
}

#[test]
fn redis_dump_payloads_restore_and_match() {
    // DUMP output of redis-server 7.0.15 for SET k 1, RPUSH l a 1, SADD s 1 2, HSET h f v, and a 24-byte
    // run of "a" (LZF-compressed by liblzf).
    let cases: [(&[u8], Value); 5] = [
        (b"\x00\xc0\x01\x0a\x00\x26\x78\xe7\xb6\xd1\x01\x11\xfc", Value::Int(1)),
        (
            b"\x12\x01\x02\x0c\x0c\x00\x00\x00\x02\x00\x81\x61\x02\x01\x01\xff\x0a\x00\x94\x96\x2b\x23\xac\x17\xaa\x85",
            list([b"a".to_vec(), b"1".to_vec()]),
        ),
        (
            b"\x0b\x0c\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x02\x00\x0a\x00\x6f\x79\x38\xb1\x34\xeb\x20\x2e",
            set([b"1".to_vec(), b"2".to_vec()]),
        ),
        (b"\x10\x0d\x0d\x00\x00\x00\x02\x00\x81\x66\x02\x81\x76\x02\xff\x0a\x00\x20\xf1\x3d\x44\x23\x54\x08\x9d", {
            let mut h = Hash::new();
            h.set(b"f", b"v", limits().hash);
            Value::Hash(h)
        }),
        (
            b"\x00\xc3\x09\x18\x01\x61\x61\xe0\x0b\x00\x01\x61\x61\x0a\x00\x58\x5c\xed\xc3\x8b\xe5\x46\xa5",
            Value::from_arg(&[b'a'; 24]),
        ),
    ];
    for (i, (bytes, value)) in cases.into_iter().enumerate() {
        assert_eq!(payload::restore(bytes, &limits()), Ok(Some(value.clone())), "case {i}");
        assert_eq!(payload::dump(&value, Options { compress: true }), bytes, "case {i}");
    }
}

#[test]
fn snapshots_round_trip_with_expiries_and_databases() {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::default()).collect();
    for (i, (name, value)) in samples().into_iter().enumerate() {
        let db = &mut dbs[i % 16];
        db.insert_expiring(name.as_bytes(), value.clone(), (i % 3 == 0).then_some(5_000_000_000_000 + i as i64));
        db.insert_expiring(b"gone", value, Some(10));
    }
    dbs[15].insert_new(&[0, 1, 2, 255], Value::Int(7));
    for compress in [false, true] {
        let bytes = save(&dbs, compress);
        assert_eq!(&bytes[..9], b"REDIS0010");
        let loaded = load(&bytes).unwrap();
        assert_eq!(loaded.aux_field(b"redis-ver"), Some(&b"7.0.15"[..]));
        let dribbled = load_dribbled(&bytes).unwrap();
        for (i, ((original, mut copy), mut copy_dribbled)) in
            dbs.iter_mut().zip(loaded.dbs).zip(dribbled.dbs).enumerate()
        {
            assert_eq!(live(original), live(&mut copy), "db {i}");
            assert_eq!(live(original), live(&mut copy_dribbled), "db {i}, loaded a few bytes at a time");
        }
    }
}

#[test]
fn checksum_version_and_truncation_are_refused() {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::default()).collect();
    dbs[0].insert_new(b"k", Value::from_arg(b"value"));
    let bytes = save(&dbs, true);
    let mut bad = bytes.clone();
    let crc_at = bad.len() - 8;
    bad[crc_at] ^= 1;
    assert_eq!(load(&bad).unwrap_err().what, "wrong RDB checksum");
    let mut zero_crc = bytes.clone();
    zero_crc[crc_at..].fill(0);
    assert!(load(&zero_crc).is_ok(), "a zero trailer means no checksum");
    let mut v11 = bytes.clone();
    v11[5..9].copy_from_slice(b"0011");
    assert!(load(&v11).unwrap_err().what.contains("can't handle RDB format version 11"));
    for cut in 0..bytes.len() {
        let refused = load(&bytes[..cut]).unwrap_err();
        assert_eq!(load_dribbled(&bytes[..cut]).unwrap_err(), refused, "cut at {cut}");
    }
}

#[test]
fn mutations_never_panic_or_load_silently_wrong_checksums() {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::default()).collect();
    for (name, value) in samples().into_iter().filter(|(n, _)| !n.starts_with("big") && *n != "set_table") {
        dbs[1].insert_new(name.as_bytes(), value);
    }
    let bytes = save(&dbs, true);
    let mut rng = Rng::new(42);
    for round in 0..3000 {
        let mut bad = bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bad.len());
            bad[at] = rng.below(256) as u8;
        }
        if round % 2 == 0 {
            // Without a checksum the decoder itself must hold.
            let crc_at = bad.len() - 8;
            bad[crc_at..].fill(0);
        }
        let outcome = load(&bad).map(|loaded| loaded.keys);
        assert_eq!(load_dribbled(&bad).map(|loaded| loaded.keys), outcome, "round {round}");
    }
    for (_, value) in samples().into_iter().filter(|(n, _)| !n.starts_with("big")) {
        let dumped = payload::dump(&value, Options { compress: true });
        for _ in 0..300 {
            let mut bad = dumped.clone();
            let body = bad.len() - 10;
            let at = rng.below(body);
            bad[at] = rng.below(256) as u8;
            // Restore the CRC so the corruption reaches the decoder.
            let crc = super::crc64::checksum(&bad[..bad.len() - 8]);
            let crc_at = bad.len() - 8;
            bad[crc_at..].copy_from_slice(&crc.to_le_bytes());
            let _ = payload::restore(&bad, &limits());
        }
    }
}

#[test]
fn packed_hashes_with_a_repeated_field_are_refused() {
    for fields in [2, 10, 128] {
        let mut body = Vec::new();
        super::encode::value(&mut body, &hash(fields, 3), Options { compress: false });
        let at = body.windows(3).position(|w| w == b"\x82f1").unwrap();
        let mut repeated = body.clone();
        repeated[at + 2] = b'0';
        let decode = |bytes: &[u8]| {
            let mut r = super::decode::Reader::new(bytes);
            super::decode::value(&mut r, types::HASH_LISTPACK, &limits())
                .map(|v| v.map(|v| if let Value::Hash(h) = v { h.len() } else { 0 }))
        };
        assert_eq!(decode(&body), Ok(Some(fields)), "{fields} fields");
        let refused = decode(&repeated).unwrap_err();
        assert_eq!(refused.what, "duplicate hash fields detected", "{fields} fields");
    }
}

#[test]
fn keys_in_many_batches_load_whole_and_the_first_problem_in_file_order_wins() {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::default()).collect();
    for i in 0..20_000 {
        dbs[i % 2].insert_new(format!("h:{i:05}").as_bytes(), hash(2, 3));
    }
    let bytes = save(&dbs, false);
    let loaded = load(&bytes).unwrap();
    assert_eq!(loaded.keys, 20_000);
    for (i, (original, mut copy)) in dbs.iter_mut().zip(loaded.dbs).enumerate() {
        assert_eq!(live(original), live(&mut copy), "db {i}");
    }
    // A listpack whose header is wrong, converted on the inserting side, is reported at its offset ...
    let blob_at = bytes.windows(7).position(|w| w == b"h:12345").unwrap() + 7;
    let mut bad = bytes.clone();
    bad[blob_at + 1] ^= 1;
    let refused = load(&bad).unwrap_err();
    assert_eq!(refused.offset, blob_at, "{refused}");
    // ... even when the parse fails later on (here the file ends early, and its checksum is wrong).
    let cut = &bad[..bad.len() - 100];
    assert_eq!(load(cut).unwrap_err(), refused);
    assert_eq!(load_dribbled(cut).unwrap_err(), refused);
}
