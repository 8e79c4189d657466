//! Keyspace micro-benchmark: insert and lookup cost, and the worst single insert while a database grows.
//!
//! The worst insert is the figure that matters for tail latency: a plain hashbrown table rehashes everything at
//! once when it grows, which at millions of keys stalls for tens of milliseconds. Run with
//! `cargo bench --bench keyspace` (KEYS=n sets the size, default 2,000,000).

use ferrokv::db::{Db, Value};
use std::time::{Duration, Instant};

fn main() {
    let keys: usize = std::env::var("KEYS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000_000);
    let names: Vec<Vec<u8>> = (0..keys).map(|i| format!("key:{i:012}").into_bytes()).collect();

    let mut db = Db::default();
    let mut worst = Duration::ZERO;
    let mut over_1ms = 0;
    let started = Instant::now();
    for name in &names {
        let t = Instant::now();
        db.insert_new(name, Value::from_arg(b"xxx"));
        let took = t.elapsed();
        worst = worst.max(took);
        over_1ms += usize::from(took > Duration::from_millis(1));
    }
    let insert = started.elapsed();

    let started = Instant::now();
    let mut found = 0;
    for name in &names {
        found += usize::from(db.get(name, 0).is_some());
    }
    let lookup = started.elapsed();
    assert_eq!(found, keys);

    let mut table = hashbrown::HashMap::new();
    let mut worst_plain = Duration::ZERO;
    for name in &names {
        let t = Instant::now();
        table.insert(name.clone().into_boxed_slice(), Value::from_arg(b"xxx"));
        worst_plain = worst_plain.max(t.elapsed());
    }

    println!("keys: {keys}");
    println!(
        "insert: {:.1} ns/key, worst single insert {:?}, inserts over 1 ms: {over_1ms}",
        insert.as_nanos() as f64 / keys as f64,
        worst
    );
    println!("lookup: {:.1} ns/key", lookup.as_nanos() as f64 / keys as f64);
    println!("one plain hashbrown table for comparison: worst single insert {worst_plain:?}");
}
