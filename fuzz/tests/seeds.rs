//! Runs every target over its committed seeds (and any crash inputs kept as regressions)
//! without libFuzzer, so the harnesses stay working on a stable compiler.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [
        root.join("seeds").join(target),
        root.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            let data = std::fs::read(&path).expect("a seed file");
            eprintln!("{target}: {}", path.display());
            run(&data);
            count += 1;
        }
    }
    assert!(count > 0, "no seeds for {target}");
}

#[test]
fn backend_seeds() {
    replay("backend", pg_fuzz::backend);
}

#[test]
fn decode_seeds() {
    replay("decode", pg_fuzz::decode);
}

#[test]
fn data_row_seeds() {
    replay("data_row", pg_fuzz::data_row);
}

#[test]
fn string_seeds() {
    replay("string", pg_fuzz::string);
}

#[test]
fn params_seeds() {
    replay("params", pg_fuzz::params);
}
