//! The HTTP request reader (heads, bodies, browser checks, targets) on arbitrary bytes: no panic, and the
//! same requests however the input is split.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrokv::fuzzing::http_requests(data));
