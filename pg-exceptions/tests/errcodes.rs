//! Checks the committed table against the installed PostgreSQL's `errcodes.txt`.

#[path = "../src/codegen.rs"]
mod codegen;

use std::path::PathBuf;
use std::process::Command;

use pg_exceptions::{lookup, lookup_any, lookup_warning};

/// `$(pg_config --sharedir)/errcodes.txt`, else the newest `/usr/share/postgresql/*/errcodes.txt`.
fn errcodes_path() -> PathBuf {
    let from_pg_config = Command::new("pg_config")
        .arg("--sharedir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        .map(|sharedir| sharedir.join("errcodes.txt"))
        .filter(|path| path.is_file());
    if let Some(path) = from_pg_config {
        return path;
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/share/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let path = entry.path().join("errcodes.txt");
            path.is_file().then_some((version, path))
        })
        .collect();
    candidates.sort();
    match candidates.pop() {
        Some((_, path)) => path,
        None => panic!(
            "errcodes.txt not found: neither `pg_config --sharedir` nor \
             /usr/share/postgresql/*/ has one; install the PostgreSQL server package"
        ),
    }
}

fn errcodes() -> String {
    let path = errcodes_path();
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

#[test]
fn every_code_of_errcodes_txt_has_its_own_class() {
    let text = errcodes();
    let mut checked = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [code, kind, macro_name, ..] = words.as_slice() else {
            continue;
        };
        if code.len() != 5 || !macro_name.starts_with("ERRCODE_") {
            continue;
        }
        let class = match *kind {
            "E" => lookup(code),
            "W" | "S" => lookup_warning(code),
            other => panic!("{code}: unknown kind {other}"),
        };
        assert_eq!(
            class.code(),
            *code,
            "{code} ({macro_name}) resolved to {class:?}"
        );
        assert_eq!(lookup_any(code), class, "{code}");
        checked += 1;
    }
    assert!(checked >= 260, "only {checked} codes in errcodes.txt");
}

#[test]
fn generator_reproduces_the_committed_table() {
    let generated = codegen::generate(&errcodes()).expect("errcodes.txt should parse");
    let committed = include_str!("../src/table.rs");
    if generated != committed {
        let line = generated
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the end".to_string(), |at| format!("line {}", at + 1));
        panic!(
            "src/table.rs differs from the generator's output (first at {line}); regenerate with\n  \
             cargo run -p pg-exceptions --example generate_table -- \
             \"$(pg_config --sharedir)/errcodes.txt\" > pg-exceptions/src/table.rs"
        );
    }
}

#[test]
fn parser_merges_duplicate_codes_and_rejects_garbage() {
    let text = "\
# comment
Section: Class 22 - Data Exception
22000    E    ERRCODE_DATA_EXCEPTION                     data_exception
2202E    E    ERRCODE_ARRAY_ELEMENT_ERROR
2202E    E    ERRCODE_ARRAY_SUBSCRIPT_ERROR              array_subscript_error
22P99    E    ERRCODE_SOMETHING_NEW
";
    let entries = codegen::parse(text).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1].code, "2202E");
    assert_eq!(entries[1].macro_name, "ERRCODE_ARRAY_ELEMENT_ERROR");
    assert_eq!(
        entries[1].condition.as_deref(),
        Some("array_subscript_error")
    );
    assert_eq!(entries[1].section, "Class 22 - Data Exception");
    assert_eq!(entries[2].condition, None);
    assert_eq!(entries[2].kind, 'E');

    // The fixed part of the hierarchy needs the warning root and class 42.
    assert_eq!(
        codegen::generate(text).unwrap_err(),
        "TypeError: unknown parent SEARVError"
    );
    let text = format!(
        "{text}01000 W ERRCODE_WARNING warning\n\
         42000 E ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION syntax_error_or_access_rule_violation\n\
         57014 E ERRCODE_QUERY_CANCELED query_canceled\n"
    );
    // A code with no condition name is named after its macro, under its class code.
    let table = codegen::generate(&text).unwrap();
    assert!(
        table.contains("pub static SomethingNewError: ErrorClass"),
        "{table}"
    );
    assert!(table.contains("    parent: Some(&DataError),"));

    assert!(codegen::parse("").is_err());
    assert!(codegen::parse("2200 E ERRCODE_X x").is_err());
    assert!(codegen::parse("22000 Q ERRCODE_X x").is_err());
    assert!(codegen::parse("22000 E").is_err());
}
