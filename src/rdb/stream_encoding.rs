//! Streams in RDB (rdb.c's RDB_TYPE_STREAM_LISTPACKS_2, and the older RDB_TYPE_STREAM_LISTPACKS on load).
//!
//! Each node is saved as Redis lays it out: its 16-byte big-endian key and a listpack holding the master
//! entry (live count, deleted count, the first entry's fields, a 0 terminator) and then each entry (flags,
//! ms and seq relative to the key, the fields unless they equal the master's, the values, and the entry's
//! element count), deleted entries included. Then the length, last ID, first ID, max deleted ID,
//! entries-added, and the groups with their PEL (ID, delivery time, delivery count) and consumers (name,
//! seen time, owned IDs). Loading rebuilds the nodes with the configured node sizes and drops tombstones.

use std::collections::BTreeMap;

use super::decode::{self, Reader, Result};
use super::encode::{self, Options};
use super::{Element, listpack, types};
use crate::db::Value;
use crate::types::stream_group::{Consumer, ENTRIES_READ_UNKNOWN, Group, Nack};
use crate::types::stream_object::{Item, Stream, StreamId};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn raw_id(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.to_be_bytes());
}

fn id_len(out: &mut Vec<u8>, id: StreamId) {
    encode::len(out, id.ms);
    encode::len(out, id.seq);
}

/// The listpack of one node, as streamAppendItem builds it.
fn node_listpack<'a>(
    key: StreamId,
    entries: impl Iterator<Item = (bool, crate::types::stream_object::EntryRef<'a>)>,
) -> Vec<u8> {
    let entries: Vec<_> = entries.collect();
    let master: Vec<Item<'_>> = entries.first().map_or(Vec::new(), |(_, e)| e.items().step_by(2).collect());
    let live = entries.iter().filter(|(deleted, _)| !deleted).count();
    let mut lp = listpack::Writer::default();
    lp.push_int(live as i64);
    lp.push_int((entries.len() - live) as i64);
    lp.push_int(master.len() as i64);
    master.iter().for_each(|field| lp.push(field));
    lp.push_int(0);
    for (deleted, entry) in entries {
        let fields: Vec<Item<'_>> = entry.items().step_by(2).collect();
        let same = fields == master;
        let mut flags = if deleted { FLAG_DELETED } else { 0 };
        if same {
            flags |= FLAG_SAMEFIELDS;
        }
        lp.push_int(flags);
        lp.push_int((entry.id.ms - key.ms) as i64);
        lp.push_int(entry.id.seq.wrapping_sub(key.seq) as i64);
        if same {
            entry.items().skip(1).step_by(2).for_each(|value| lp.push(&value));
        } else {
            lp.push_int(entry.pairs() as i64);
            entry.items().for_each(|item| lp.push(&item));
        }
        lp.push_int(if same { 3 + entry.pairs() as i64 } else { 4 + 2 * entry.pairs() as i64 });
    }
    lp.finish()
}

pub fn encode(out: &mut Vec<u8>, stream: &Stream, opts: Options) {
    encode::len(out, stream.node_count() as u64);
    for (key, entries) in stream.raw_nodes() {
        encode::string(out, &key.to_be_bytes(), opts);
        encode::string(out, &node_listpack(key, entries), opts);
    }
    encode::len(out, stream.len() as u64);
    id_len(out, stream.last_id);
    id_len(out, stream.first_id());
    id_len(out, stream.max_deleted_id);
    encode::len(out, stream.entries_added);
    encode::len(out, stream.groups.len() as u64);
    for (name, group) in &stream.groups {
        encode::string(out, name, opts);
        id_len(out, group.last_id);
        encode::len(out, group.entries_read as u64);
        encode::len(out, group.pel.len() as u64);
        for (id, nack) in &group.pel {
            raw_id(out, *id);
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            encode::len(out, nack.delivery_count);
        }
        encode::len(out, group.consumers.len() as u64);
        for (consumer_name, consumer) in &group.consumers {
            encode::string(out, consumer_name, opts);
            out.extend_from_slice(&consumer.seen_time.to_le_bytes());
            encode::len(out, consumer.pending.len() as u64);
            consumer.pending.iter().for_each(|id| raw_id(out, *id));
        }
    }
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId> {
    Ok(StreamId::new(r.length()?, r.length()?))
}

fn read_raw_id(r: &mut Reader<'_>) -> Result<StreamId> {
    let b = r.take(16)?;
    let ms = u64::from_be_bytes(b[..8].try_into().unwrap_or_default());
    let seq = u64::from_be_bytes(b[8..].try_into().unwrap_or_default());
    Ok(StreamId::new(ms, seq))
}

/// A listpack element as an owned string (integers formatted), and as an integer.
fn text(element: Element<'_>) -> Vec<u8> {
    element.with_bytes(<[u8]>::to_vec)
}

fn int(element: &[u8]) -> std::result::Result<i64, String> {
    crate::util::num::parse_i64(element).ok_or_else(|| "stream listpack: integer expected".to_string())
}

/// Decodes one node's listpack into `stream` (live entries only), checking IDs increase.
fn load_node(
    stream: &mut Stream,
    key: StreamId,
    lp: &[u8],
    limits: &decode::Limits,
) -> std::result::Result<(), String> {
    let mut items = Vec::new();
    listpack::entries(lp, limits.deep_sanitize, |e| {
        items.push(text(e));
        Ok(())
    })?;
    let mut at = items.iter();
    let mut next = || at.next().map(Vec::as_slice).ok_or_else(|| "stream listpack ends early".to_string());
    let (live, deleted, master_len) = (int(next()?)?, int(next()?)?, int(next()?)?);
    let too_many = |n: i64| n < 0 || n as usize > items.len();
    if too_many(live) || too_many(deleted) || too_many(master_len) {
        return Err("stream listpack: bad master entry".into());
    }
    let master: Vec<Vec<u8>> =
        (0..master_len).map(|_| next().map(<[u8]>::to_vec)).collect::<std::result::Result<_, _>>()?;
    if int(next()?)? != 0 {
        return Err("stream listpack: master entry not terminated".into());
    }
    let mut seen = 0;
    while seen < live + deleted {
        seen += 1;
        let flags = int(next()?)?;
        let ms = key.ms.checked_add(int(next()?)? as u64).ok_or("stream listpack: bad ID")?;
        let seq = key.seq.wrapping_add(int(next()?)? as u64);
        let id = StreamId::new(ms, seq);
        let mut entry = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for field in &master {
                entry.push(field.clone());
                entry.push(next()?.to_vec());
            }
        } else {
            let pairs = int(next()?)?;
            if pairs < 0 || pairs as usize > items.len() {
                return Err("stream listpack: bad field count".into());
            }
            for _ in 0..pairs * 2 {
                entry.push(next()?.to_vec());
            }
        }
        next()?;
        if flags & FLAG_DELETED != 0 {
            continue;
        }
        if !stream.is_empty() && id <= stream.last_id {
            return Err("stream listpack: IDs out of order".into());
        }
        if entry.is_empty() {
            return Err("stream listpack: entry without fields".into());
        }
        stream.append(id, &entry, limits.stream);
    }
    if next().is_ok() {
        return Err("stream listpack: trailing elements".into());
    }
    Ok(())
}

/// Reads a stream of RDB type `type_byte` (STREAM_LISTPACKS or STREAM_LISTPACKS_2).
pub fn decode(r: &mut Reader<'_>, type_byte: u8, limits: &decode::Limits) -> Result<Value> {
    let v2 = type_byte == types::STREAM_LISTPACKS_2;
    let mut stream = Stream::new();
    let nodes = r.length()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let Ok(key) = <[u8; 16]>::try_from(&key[..]) else { return r.error("stream node key is not 16 bytes") };
        let key = StreamId::new(
            u64::from_be_bytes(key[..8].try_into().unwrap_or_default()),
            u64::from_be_bytes(key[8..].try_into().unwrap_or_default()),
        );
        let offset = r.offset();
        let lp = r.string()?;
        load_node(&mut stream, key, &lp, limits).map_err(|what| decode::Error { offset, what })?;
    }
    if r.length()? != stream.len() as u64 {
        return r.error("stream length disagrees with its entries");
    }
    stream.last_id = read_id(r)?;
    if stream.last_entry_id() > stream.last_id {
        return r.error("stream last ID below its last entry");
    }
    if v2 {
        read_id(r)?;
        stream.max_deleted_id = read_id(r)?;
        stream.entries_added = r.length()?;
    } else {
        stream.entries_added = stream.len() as u64;
    }
    let groups = r.length()?;
    for _ in 0..groups {
        let name: Box<[u8]> = r.string()?.into();
        let last_id = read_id(r)?;
        let entries_read = if v2 {
            r.length()? as i64
        } else {
            stream.estimate_entries_read(last_id).map_or(ENTRIES_READ_UNKNOWN, |n| n as i64)
        };
        let mut group = Group::new(last_id, entries_read);
        let mut owners: BTreeMap<StreamId, Box<[u8]>> = BTreeMap::new();
        let mut pel = Vec::new();
        for _ in 0..r.length()? {
            let id = read_raw_id(r)?;
            let delivery_time = r.u64_le()? as i64;
            pel.push((id, delivery_time, r.length()?));
        }
        for _ in 0..r.length()? {
            let consumer_name: Box<[u8]> = r.string()?.into();
            let seen_time = r.u64_le()? as i64;
            let mut consumer = Consumer { seen_time, ..Consumer::default() };
            for _ in 0..r.length()? {
                let id = read_raw_id(r)?;
                if owners.insert(id, consumer_name.clone()).is_some() {
                    return r.error("stream PEL entry owned by two consumers");
                }
                consumer.pending.insert(id);
            }
            if group.consumers.insert(consumer_name, consumer).is_some() {
                return r.error("duplicate stream consumer");
            }
        }
        for (id, delivery_time, delivery_count) in pel {
            let Some(consumer) = owners.remove(&id) else { return r.error("stream PEL entry without a consumer") };
            group.pel.insert(id, Nack { delivery_time, delivery_count, consumer });
        }
        if !owners.is_empty() {
            return r.error("consumer PEL entry not in its group's PEL");
        }
        if stream.groups.insert(name, group).is_some() {
            return r.error("duplicate stream consumer group");
        }
    }
    Ok(Value::Stream(Box::new(stream)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::stream_object::NodeLimits;

    /// The node sizes the stream keeps for `stream-node-max-bytes` are the lengths of the listpacks Redis
    /// would hold, over random fields (integers, short and long strings), changing field names and deletions.
    #[test]
    fn node_byte_accounting_is_the_listpack_length() {
        let mut rng = crate::util::rng::Rng::new(3);
        let limits = NodeLimits { max_entries: 0, max_bytes: 700 };
        let mut stream = Stream::new();
        let mut ms = 1u64;
        for _ in 0..2000 {
            let word = |rng: &mut crate::util::rng::Rng| match rng.below(5) {
                0 => (rng.below(1 << 20) as i64 - (1 << 19)).to_string().into_bytes(),
                1 => vec![b'x'; rng.below(100)],
                2 => (rng.next_u64()).to_string().into_bytes(),
                3 => b"007".to_vec(),
                _ => b"f".to_vec(),
            };
            let items: Vec<Vec<u8>> = (0..2 * (1 + rng.below(3))).map(|_| word(&mut rng)).collect();
            ms += rng.below(3) as u64 * 1000;
            let id = StreamId::new(ms, rng.below(1 << 16) as u64 + stream.last_id.seq + 1);
            stream.append(id, &items, limits);
            if rng.below(8) == 0 {
                stream.delete(StreamId::new(ms, stream.last_id.seq));
            }
        }
        let encoded: Vec<usize> = stream.raw_nodes().map(|(key, entries)| node_listpack(key, entries).len()).collect();
        assert!(encoded.len() > 10);
        assert_eq!(stream.node_listpack_bytes(), encoded);
    }
}
