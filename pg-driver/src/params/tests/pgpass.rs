use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::params::pgpass::{find, host_key, lookup};
use crate::params::{Host, Keywords, PgpassWarning};

fn pw(contents: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    find(contents.as_bytes(), host, port, db, user)
}

#[test]
fn first_matching_line_wins() {
    let file = "h:5432:db:u:first\nh:5432:db:u:second\n*:*:*:*:fallback\n";
    assert_eq!(pw(file, "h", 5432, "db", "u").as_deref(), Some("first"));
    assert_eq!(pw(file, "other", 1, "x", "y").as_deref(), Some("fallback"));
    assert_eq!(pw("h:5432:db:u:p", "h", 5433, "db", "u"), None);
    assert_eq!(pw("h:5432:db:u:p", "h", 5432, "db", "v"), None);
}

#[test]
fn wildcards_per_field() {
    let file = "*:5432:db:u:a\nh:*:db:u:b\nh:1:*:u:c\nh:1:x:*:d\n";
    assert_eq!(pw(file, "any", 5432, "db", "u").as_deref(), Some("a"));
    assert_eq!(pw(file, "h", 9, "db", "u").as_deref(), Some("b"));
    assert_eq!(pw(file, "h", 1, "zz", "u").as_deref(), Some("c"));
    assert_eq!(pw(file, "h", 1, "x", "who").as_deref(), Some("d"));
    // An escaped star is a literal star, and `*` only counts as a whole field.
    assert_eq!(pw(r"\*:1:x:u:lit", "h", 1, "x", "u"), None);
    assert_eq!(
        pw(r"\*:1:x:u:lit", "*", 1, "x", "u").as_deref(),
        Some("lit")
    );
    assert_eq!(pw("h*:1:x:u:p", "hx", 1, "x", "u"), None);
}

#[test]
fn escapes_comments_and_line_ends() {
    let file = "# h:1:x:u:commented\n\n\
                a\\:b:1:x:u:colon\\:pass\\\\word\r\n\
                c\\\\d:1:x:u:back:trailing-field-ignored\n";
    assert_eq!(pw(file, "h", 1, "x", "u"), None);
    assert_eq!(
        pw(file, "a:b", 1, "x", "u").as_deref(),
        Some("colon:pass\\word")
    );
    assert_eq!(pw(file, "c\\d", 1, "x", "u").as_deref(), Some("back"));
    assert_eq!(pw("h:1:x:u:", "h", 1, "x", "u").as_deref(), Some(""));
    assert_eq!(pw("h:1:x:u", "h", 1, "x", "u"), None, "four fields");
    assert_eq!(pw("h:1:x:u:p\\", "h", 1, "x", "u").as_deref(), Some("p\\"));
    assert_eq!(pw("h:1:x:u:p", "h", 1, "", "u"), None, "no database");
    let mut bytes = b"\xff\xfe:1:x:u:bad\n".to_vec();
    bytes.extend_from_slice(b"h:1:x:u:good\n");
    assert_eq!(find(&bytes, "h", 1, "x", "u").as_deref(), Some("good"));
}

#[test]
fn localhost_matches_default_unix_sockets() {
    let file = "localhost:5432:db:u:local\n/srv/sock:5432:db:u:custom\n";
    assert_eq!(
        pw(file, "localhost", 5432, "db", "u").as_deref(),
        Some("local")
    );
    assert_eq!(
        pw(file, "/var/run/postgresql", 5432, "db", "u").as_deref(),
        Some("local")
    );
    assert_eq!(pw(file, "", 5432, "db", "u").as_deref(), Some("local"));
    assert_eq!(
        pw(file, "/srv/sock", 5432, "db", "u").as_deref(),
        Some("custom")
    );
    assert_eq!(host_key(&Host::unix("/tmp", 5432)), "localhost");
    assert_eq!(
        host_key(&Host::unix("/tmp/.s.PGSQL.5432", 5432)),
        "localhost"
    );
    assert_eq!(
        host_key(&Host::unix("/srv/sock/.s.PGSQL.5432", 5432)),
        "/srv/sock"
    );
    assert_eq!(host_key(&Host::tcp("db.example", 5432)), "db.example");
}

fn write(dir: &Path, name: &str, contents: &str, mode: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn file_permissions_and_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good", "h:1:x:u:secret\n", 0o600);
    let found = lookup(&good, "h", 1, "x", "u").unwrap();
    assert_eq!(found.as_deref(), Some("secret"));
    assert_eq!(lookup(&good, "h", 2, "x", "u"), Ok(None));
    let open = write(dir.path(), "open", "h:1:x:u:secret\n", 0o640);
    let warning = lookup(&open, "h", 1, "x", "u").unwrap_err();
    assert!(
        matches!(&warning, PgpassWarning::Permissions { mode: 0o640, .. }),
        "{warning:?}"
    );
    assert!(warning.to_string().contains("group or world"), "{warning}");
    let world = write(dir.path(), "world", "h:1:x:u:secret\n", 0o604);
    assert!(matches!(
        lookup(&world, "h", 1, "x", "u"),
        Err(PgpassWarning::Permissions { .. })
    ));
    let warning = lookup(dir.path(), "h", 1, "x", "u").unwrap_err();
    assert_eq!(
        warning,
        PgpassWarning::NotRegularFile {
            path: dir.path().to_path_buf()
        }
    );
    assert_eq!(
        lookup(&dir.path().join("missing"), "h", 1, "x", "u"),
        Ok(None)
    );
}

#[test]
fn params_consult_their_passfile() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "pgpass",
        "h:5433:db:u:from-file\nlocalhost:*:*:*:local\n",
        0o600,
    );
    let p = Keywords::parse("postgresql://u@h:5433,%2Ftmp/db")
        .unwrap()
        .passfile(&file)
        .build_with(&super::defaults())
        .unwrap();
    let first = p.passfile_password(&p.hosts()[0]).unwrap();
    assert_eq!(
        first.map(|p| p.expose().to_owned()).as_deref(),
        Some("from-file")
    );
    let second = p.passfile_password(&p.hosts()[1]).unwrap();
    assert_eq!(
        second.map(|p| p.expose().to_owned()).as_deref(),
        Some("local")
    );
}
