//! The RESP request parser on arbitrary bytes: no panic, and the same requests however the input is split.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrokv::fuzzing::resp_requests(data));
