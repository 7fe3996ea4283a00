//! cargo fuzz target `decode`: see `pg_fuzz::decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pg_fuzz::decode(data));
