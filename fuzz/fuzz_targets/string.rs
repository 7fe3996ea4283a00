//! cargo fuzz target `string`: see `pg_fuzz::string`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pg_fuzz::string(data));
