//! The bodies of the fuzz targets, shared by the libFuzzer binaries in `fuzz_targets/`, the
//! seed recorder (`src/bin/record_seeds.rs`) and the seed replay test (`tests/seeds.rs`), so
//! every target also runs without libFuzzer: `cargo test --manifest-path fuzz/Cargo.toml`.
//!
//! The rule every target checks is the same: no input panics, hangs, or makes the code
//! allocate more than the input justifies (libFuzzer's `-malloc_limit_mb` catches that).

pub mod backend;
pub mod ops;
pub mod server;
pub mod text;
pub mod types;
pub mod values;

pub use backend::backend;
pub use text::{params, string};
pub use values::{data_row, decode};
