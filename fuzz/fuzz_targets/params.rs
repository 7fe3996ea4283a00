//! cargo fuzz target `params`: see `pg_fuzz::params`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pg_fuzz::params(data));
