use super::*;

const SAMPLE: &str = "\
# -----------------------------
# PostgreSQL configuration file
# -----------------------------
#
# Memory units:  B  = bytes            Time units:  us  = microseconds
#                kB = kilobytes                     ms  = milliseconds

#listen_addresses = 'localhost'\t\t# what IP address(es) to listen on;
#port = 5432\t\t\t\t# (change requires restart)
max_connections = 100\t\t\t# (change requires restart)
shared_buffers = 128MB\t\t\t# min 128kB
#work_mem = 4MB\t\t\t\t# min 64kB
log_line_prefix = '%m [%p] %q%u@%d '\t\t# special values:
search_path = '\"$user\", public'
application_name = 'it''s'   # quoted quote
include_dir = 'conf.d'
#include = '...'\t\t\t# include file
datestyle = 'iso, mdy'
";

#[test]
fn parses_setting_lines() {
    let line = "#port = 5432\t\t# (change requires restart)\n";
    let p = parse_line(line).unwrap();
    assert!(p.commented);
    assert_eq!(&line[p.key.clone()], "port");
    assert_eq!(&line[p.value.clone()], "5432");
    assert_eq!(p.start, 0);

    let line = "  shared_buffers=128MB";
    let p = parse_line(line).unwrap();
    assert!(!p.commented);
    assert_eq!(p.start, 2);
    assert_eq!(&line[p.value.clone()], "128MB");

    let line = "log_line_prefix = '%m [%p] #not a comment'  # a comment\r\n";
    let p = parse_line(line).unwrap();
    assert_eq!(&line[p.value.clone()], "'%m [%p] #not a comment'");

    // The equals sign is optional on uncommented lines, as the server allows.
    let line = "include 'other.conf'\n";
    let p = parse_line(line).unwrap();
    assert_eq!(&line[p.key.clone()], "include");

    let line = "custom.setting = on";
    assert_eq!(&line[parse_line(line).unwrap().key], "custom.setting");
}

#[test]
fn rejects_non_settings() {
    for line in [
        "",
        "\n",
        "# PostgreSQL configuration file\n",
        "# Memory units:  B  = bytes            Time units:  us  = microseconds\n",
        "#                kB = kilobytes                     ms  = milliseconds\n",
        "#------------------------------------------------------------------------------\n",
        "port = 5432 junk\n",
        "port =\n",
        "port = 'unterminated\n",
        "= 5\n",
        "\u{00e9}t\u{00e9} = 1\n",
        "#comment without equals sign\n",
    ] {
        assert_eq!(parse_line(line), None, "{line:?}");
    }
}

#[test]
fn quoting_round_trips() {
    for value in ["plain", "it's", "a\\b", "", "''", "\"$user\", public"] {
        assert_eq!(unquote(&quote(value)), value, "{value:?}");
    }
    assert_eq!(unquote("128MB"), "128MB");
    assert_eq!(unquote("'it''s'"), "it's");
    assert_eq!(unquote("'tab\\there'"), "tab\there");
}

#[test]
fn reads_effective_values() {
    let settings = read_config(SAMPLE);
    assert_eq!(
        settings.get("max_connections").map(String::as_str),
        Some("100")
    );
    assert_eq!(
        settings.get("shared_buffers").map(String::as_str),
        Some("128MB")
    );
    assert_eq!(
        settings.get("log_line_prefix").map(String::as_str),
        Some("%m [%p] %q%u@%d ")
    );
    assert_eq!(
        settings.get("search_path").map(String::as_str),
        Some("\"$user\", public")
    );
    assert_eq!(
        settings.get("application_name").map(String::as_str),
        Some("it's")
    );
    assert_eq!(
        settings.get("datestyle").map(String::as_str),
        Some("iso, mdy")
    );
    assert_eq!(
        settings.get("port"),
        None,
        "commented lines are defaults, not settings"
    );
    assert_eq!(
        settings.get("include_dir"),
        None,
        "directives are not settings"
    );
    assert_eq!(settings.len(), 6);

    let later_wins = read_config("port = 1\nPORT = 2\n");
    assert_eq!(later_wins.get("port").map(String::as_str), Some("2"));
}

#[test]
fn edits_the_active_line_in_place() {
    let out = alter_config(SAMPLE, &[("shared_buffers", Some("32MB"))]);
    assert!(
        out.contains("shared_buffers = '32MB'\t\t\t# min 128kB\n"),
        "{out}"
    );
    assert_eq!(out.lines().count(), SAMPLE.lines().count());
    // Everything else is untouched.
    let changed: Vec<_> = SAMPLE
        .lines()
        .zip(out.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1);
}

#[test]
fn uncomments_the_documented_default() {
    let out = alter_config(
        SAMPLE,
        &[
            ("port", Some("5433")),
            ("LISTEN_ADDRESSES", Some("127.0.0.1")),
        ],
    );
    assert!(
        out.contains("\nport = '5433'\t\t\t\t# (change requires restart)\n"),
        "{out}"
    );
    assert!(
        out.contains("\nlisten_addresses = '127.0.0.1'\t\t# what IP"),
        "{out}"
    );
    assert_eq!(out.lines().count(), SAMPLE.lines().count());
    let settings = read_config(&out);
    assert_eq!(settings.get("port").map(String::as_str), Some("5433"));
    assert_eq!(
        settings.get("listen_addresses").map(String::as_str),
        Some("127.0.0.1")
    );
}

#[test]
fn appends_unknown_keys() {
    let out = alter_config(SAMPLE, &[("fsync", Some("off"))]);
    assert!(out.starts_with(SAMPLE));
    assert!(out.ends_with("\nfsync = 'off'\n"), "{out}");

    let no_newline = alter_config("port = 1", &[("fsync", Some("off"))]);
    assert_eq!(no_newline, "port = 1\nfsync = 'off'\n");
    assert_eq!(alter_config("", &[("a", Some("b"))]), "a = 'b'\n");
}

#[test]
fn quotes_awkward_values() {
    let out = alter_config(SAMPLE, &[("application_name", Some("o'brien # x"))]);
    assert!(
        out.contains("application_name = 'o''brien # x'   # quoted quote\n"),
        "{out}"
    );
    assert_eq!(
        read_config(&out)
            .get("application_name")
            .map(String::as_str),
        Some("o'brien # x")
    );
}

#[test]
fn removing_comments_out() {
    let out = alter_config(SAMPLE, &[("max_connections", None), ("port", None)]);
    assert!(out.contains("\n#max_connections = 100\t"), "{out}");
    assert!(
        out.contains("\n#port = 5432\t"),
        "already commented lines stay as they were"
    );
    assert_eq!(read_config(&out).get("max_connections"), None);

    let both = alter_config("a = 1\n  a = 2\n", &[("a", None)]);
    assert_eq!(both, "#a = 1\n  #a = 2\n");
}

#[test]
fn leaves_include_lines_alone() {
    let out = alter_config(SAMPLE, &[("include_dir", Some("x")), ("include", None)]);
    assert_eq!(out, SAMPLE);
}

#[test]
fn preserves_crlf() {
    let text = "port = 1\r\n#work_mem = 4MB\r\n";
    let out = alter_config(text, &[("port", Some("2")), ("work_mem", Some("8MB"))]);
    assert_eq!(out, "port = '2'\r\nwork_mem = '8MB'\r\n");
}

#[test]
fn config_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.conf");
    fs::write(&path, SAMPLE).unwrap();
    let file = ConfigFile::new(&path);
    file.update([("port", "6543"), ("fsync", "off")]).unwrap();
    assert_eq!(file.get("port").unwrap().as_deref(), Some("6543"));
    assert_eq!(file.get("FSYNC").unwrap().as_deref(), Some("off"));
    file.remove("fsync").unwrap();
    assert_eq!(file.get("fsync").unwrap(), None);
    let many = file.get_many(["port", "nope"]).unwrap();
    assert_eq!(many["port"].as_deref(), Some("6543"));
    assert_eq!(many["nope"], None);
    assert!(
        fs::read_to_string(&path)
            .unwrap()
            .contains("# PostgreSQL configuration file")
    );
    assert!(ConfigFile::new(dir.path().join("missing")).read().is_err());
}
