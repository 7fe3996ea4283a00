//! cargo fuzz target `backend`: see `pg_fuzz::backend`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pg_fuzz::backend(data));
