//! The connection service file, with files in temporary directories and the environment a
//! fake map.

use std::path::{Path, PathBuf};

use super::{defaults, fake_env};
use crate::params::{Host, Keywords, ParamsError, ServiceFiles};

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }
}

const MYDB: &str = "# comment\n[mydb]\nhost=somehost\nport=5433\nuser=admin\n";

fn resolve(text: &str, env: &[(&str, &str)]) -> Result<crate::params::ConnectParams, ParamsError> {
    Keywords::parse(text)?
        .with_env(fake_env(env))?
        .build_with(&defaults())
}

#[test]
fn explicit_parameters_override_the_service_and_the_service_the_environment() {
    let files = Files::new();
    files.write("user.conf", MYDB);
    let env = [
        ("PGSERVICEFILE", files.path("user.conf")),
        ("PGHOST", "envhost".into()),
        ("PGUSER", "envuser".into()),
        ("PGDATABASE", "envdb".into()),
        ("PGSYSCONFDIR", files.path("none")),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // libpq's own example: `service=mydb port=5434` is somehost, port 5434, user admin.
    let p = resolve("service=mydb port=5434", &env).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("somehost", 5434)]);
    assert_eq!(p.user(), "admin");
    assert_eq!(p.database(), "envdb");
    // The service is done with: nothing is reported ignored, nothing written back.
    assert!(p.extra().is_empty(), "{:?}", p.extra());
    assert!(p.ignored_parameters().is_empty());
    // PGSERVICE names it too; an explicit service wins over it.
    let mut with_pgservice = env.clone();
    with_pgservice.push(("PGSERVICE", "mydb"));
    let p = resolve("", &with_pgservice).unwrap();
    assert_eq!((p.hosts()[0].port(), p.user()), (5433, "admin"));
    let err = resolve("service=other", &with_pgservice).unwrap_err();
    assert!(matches!(err, ParamsError::ServiceNotFound { ref service, .. } if service == "other"));
    // An IRI's values are explicit too.
    let p = resolve("pq://iriuser@/?[service]=mydb", &env).unwrap();
    assert_eq!(
        (p.hosts()[0].clone(), p.user()),
        (Host::tcp("somehost", 5433), "iriuser")
    );
}

#[test]
fn the_user_file_comes_first_then_the_system_file() {
    let files = Files::new();
    files.write("home/.pg_service.conf", "[mydb]\nhost=userhost\n");
    files.write(
        "etc/pg_service.conf",
        "[mydb]\nhost=systemhost\nport=7777\n[other]\nhost=otherhost\n",
    );
    let home = files.path("home");
    let etc = files.path("etc");
    let env = [("HOME", home.as_str()), ("PGSYSCONFDIR", etc.as_str())];
    // Found in the user file: the system file's section is not read at all.
    let p = resolve("service=mydb", &env).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("userhost", 5432)]);
    // Not in the user file: the system file's.
    let p = resolve("service=other", &env).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("otherhost", 5432)]);
    // PGSERVICEFILE replaces ~/.pg_service.conf; one that does not exist is passed over.
    let missing = files.path("missing.conf");
    let env_missing = [
        ("HOME", home.as_str()),
        ("PGSYSCONFDIR", etc.as_str()),
        ("PGSERVICEFILE", missing.as_str()),
    ];
    let p = resolve("service=mydb", &env_missing).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("systemhost", 7777)]);
    // libpq 18's servicefile wins over PGSERVICEFILE.
    let other = files.write("other.conf", "[mydb]\nhost=fromkeyword\n");
    let text = format!("service=mydb servicefile={}", other.display());
    let p = resolve(&text, &env_missing).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("fromkeyword", 5432)]);
    // Nowhere: the error names the files looked in.
    match resolve("service=nowhere", &env).unwrap_err() {
        ParamsError::ServiceNotFound { service, searched } => {
            assert_eq!(service, "nowhere");
            assert_eq!(
                searched,
                [
                    Path::new(&home).join(".pg_service.conf"),
                    Path::new(&etc).join("pg_service.conf")
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    let located = ServiceFiles::locate(None, fake_env(&env));
    assert_eq!(located.system, Path::new(&etc).join("pg_service.conf"));
}

#[test]
fn the_format_is_libpqs() {
    let files = Files::new();
    let path = files.write(
        "s.conf",
        "  # indented comment\r\n\
         host=outside\n\
         [mydb2]\n\
         host=wrong\n\
         \n\
         [mydb] trailing text\r\n\
         \thost=right  \r\n\
         port=5439\n\
         port=1\n\
         application_name=svc app\n\
         options=-c geqo=off\n\
         password=s3cret=x\n\
         [next]\n\
         this line is not read\n",
    );
    let service = ServiceFiles::locate(Some(path.to_str().unwrap()), |_| None);
    let kw = service.service("mydb").unwrap();
    let p = kw.build_with(&defaults()).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("right", 5439)]);
    assert_eq!(p.setting("application_name"), Some("svc app"));
    assert_eq!(p.setting("options"), Some("-c geqo=off"));
    assert_eq!(p.password().unwrap().expose(), "s3cret=x");
    let syntax = |text: &str, want_line: usize, want: &str| {
        let path = files.write("bad.conf", text);
        let files = ServiceFiles::locate(Some(path.to_str().unwrap()), |_| None);
        match files.service("mydb").unwrap_err() {
            ParamsError::ServiceFile { line, reason, .. } => {
                assert_eq!(line, want_line, "{text}");
                assert!(reason.contains(want), "{text}: {reason}");
            }
            other => panic!("{text}: {other:?}"),
        }
    };
    syntax("[mydb]\nhost\n", 2, "without '='");
    syntax(
        "[mydb]\nhost = h\n",
        2,
        "unknown connection keyword \"host \"",
    );
    syntax("[mydb]\nfrobnicate=1\n", 2, "unknown");
    syntax("[mydb]\n\nservice=other\n", 3, "nested");
    syntax("[mydb]\nldap://ldap.example/dc=x?cn\n", 2, "LDAP");
    // Outside the service's section nothing is checked.
    syntax("[other]\nnonsense\n[mydb]\nbad\n", 4, "without '='");
    let path = files.write("value.conf", "[mydb]\nhost=h\nport=abc\n");
    let files = ServiceFiles::locate(Some(path.to_str().unwrap()), |_| None);
    match files.service("mydb").unwrap_err() {
        ParamsError::ServiceValue { line, error, .. } => {
            assert_eq!(line, 3);
            assert!(
                matches!(*error, ParamsError::InvalidValue { ref keyword, .. } if keyword == "port")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_never_show_a_line_of_the_file() {
    let files = Files::new();
    let path = files.write("s.conf", "[mydb]\npassword=Hush-1234\nHush-5678\n");
    let text = format!("service=mydb servicefile={}", path.display());
    let err = resolve(&text, &[]).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("Hush"), "{shown}");
    assert!(shown.contains("line 3"), "{shown}");
}

#[test]
fn build_reads_a_service_without_the_environment() {
    let files = Files::new();
    let path = files.write("s.conf", MYDB);
    let kw = Keywords::new()
        .service("mydb")
        .service_file(&path)
        .port(6000);
    let p = kw.build_with(&defaults()).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("somehost", 6000)]);
    assert_eq!(p.user(), "admin");
    assert!(p.extra().is_empty());
}
