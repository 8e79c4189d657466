//! A stream as commands (Redis's rewriteStreamObject): XADD per entry with its ID (an empty stream as XADD
//! MAXLEN 0 0-1), XSETID with entries-added and max-deleted-entry-id, then per group XGROUP CREATE
//! with ENTRIESREAD, an XCLAIM ... FORCE JUSTID per pending entry and XGROUP CREATECONSUMER for consumers
//! that own nothing.

use crate::state::propagation::{encode_bulk, encode_command, encode_header};
use crate::types::stream_object::{Stream, StreamId};

fn id(id: StreamId) -> Vec<u8> {
    id.format(&mut [0; 41]).to_vec()
}

fn num(n: impl itoa::Integer) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

pub fn write_stream(buf: &mut Vec<u8>, key: &[u8], stream: &Stream) {
    for entry in stream.range(StreamId::MIN, StreamId::MAX) {
        encode_header(buf, 3 + entry.pairs() * 2);
        encode_bulk(buf, b"XADD");
        encode_bulk(buf, key);
        encode_bulk(buf, &id(entry.id));
        entry.items().for_each(|item| encode_bulk(buf, &item));
    }
    if stream.is_empty() {
        // Redis's trick: an entry 0-1 trimmed at once; the XSETID below restores the IDs and counters.
        encode_command(buf, &[&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    let (last, added, deleted) = (id(stream.last_id), num(stream.entries_added), id(stream.max_deleted_id));
    encode_command(buf, &[&b"XSETID"[..], key, &last, b"ENTRIESADDED", &added, b"MAXDELETEDID", &deleted]);
    for (name, group) in &stream.groups {
        let (last, read) = (id(group.last_id), num(group.entries_read));
        encode_command(buf, &[&b"XGROUP"[..], b"CREATE", key, name, &last, b"ENTRIESREAD", &read]);
        for (pending, nack) in &group.pel {
            let (pid, time, count) = (id(*pending), num(nack.delivery_time), num(nack.delivery_count));
            let argv: [&[u8]; 12] = [
                b"XCLAIM",
                key,
                name,
                &nack.consumer,
                b"0",
                &pid,
                b"TIME",
                &time,
                b"RETRYCOUNT",
                &count,
                b"JUSTID",
                b"FORCE",
            ];
            encode_command(buf, &argv);
        }
        for (consumer, _) in group.consumers.iter().filter(|(_, c)| c.pending.is_empty()) {
            encode_command(buf, &[&b"XGROUP"[..], b"CREATECONSUMER", key, name, consumer]);
        }
    }
}
