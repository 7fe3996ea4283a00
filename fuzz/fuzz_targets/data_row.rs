//! cargo fuzz target `data_row`: see `pg_fuzz::data_row`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pg_fuzz::data_row(data));
