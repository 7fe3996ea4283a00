use std::time::Duration;

use super::{error, params};
use crate::params::{Host, Keywords, ParamsError, SslMode};

#[test]
fn plain_pairs() {
    let p = params("host=localhost port=5432 dbname=x user=u connect_timeout=10 sslmode=disable");
    assert_eq!(p.hosts(), &[Host::tcp("localhost", 5432)]);
    assert_eq!((p.user(), p.database()), ("u", "x"));
    assert_eq!(p.connect_timeout(), Some(Duration::from_secs(10)));
    assert_eq!(p.ssl_mode(), SslMode::Disable);
}

#[test]
fn quoting_and_escapes() {
    let p = params(
        r"password='it\'s \\ secret' options='-c geqo=off' dbname=a\ b user='' host = h  port= 6",
    );
    assert_eq!(p.password().map(|p| p.expose()), Some(r"it's \ secret"));
    assert_eq!(p.setting("options"), Some("-c geqo=off"));
    assert_eq!(p.database(), "a b");
    assert_eq!(p.user(), "osuser");
    assert_eq!(p.hosts(), &[Host::tcp("h", 6)]);
    let p = params("\n\thost='' dbname=x application_name='my app'\r\n");
    assert_eq!(p.hosts(), &[Host::unix("/run/pg", 5432)]);
    assert_eq!(p.setting("application_name"), Some("my app"));
}

#[test]
fn lists_and_repeats() {
    let p = params("host=a,/sock,b port=1,2,3 hostaddr=10.0.0.1,,::1");
    assert_eq!(p.hosts().len(), 3);
    assert!(matches!(&p.hosts()[0], Host::Tcp { host, hostaddr: Some(_), port: 1 } if host == "a"));
    assert_eq!(p.hosts()[1], Host::unix("/sock", 2));
    assert!(matches!(&p.hosts()[2], Host::Tcp { hostaddr: Some(a), port: 3, .. } if a.is_ipv6()));
    // The last of a repeated keyword wins, as in libpq.
    assert_eq!(params("dbname=a dbname=b").database(), "b");
    assert_eq!(params("port=' 7 '").hosts()[0].port(), 7);
}

#[test]
fn conninfo_errors() {
    let syntax = |text: &str, at: usize| match error(text) {
        ParamsError::Syntax { part, position, .. } => {
            assert_eq!((part, position), ("connection string", at), "{text}");
        }
        other => panic!("{text}: {other:?}"),
    };
    // Without `=` after its first word the text is a locator, not a connection string.
    syntax("port=1 host", 7);
    syntax("host=h port", 7);
    syntax("=x", 0);
    syntax("host='unterminated", 0);
    assert_eq!(
        error("bogus=1"),
        ParamsError::UnknownKeyword {
            keyword: "bogus".into()
        }
    );
    assert!(matches!(
        error("port=abc"),
        ParamsError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("keepalives_idle=-1"),
        ParamsError::InvalidValue { .. }
    ));
    let e = error("password=sec\0ret").to_string();
    assert!(!e.contains("sec"), "{e}");
}

#[test]
fn parse_dispatches_on_the_scheme() {
    assert_eq!(Keywords::parse("").unwrap(), Keywords::new());
    assert_eq!(Keywords::parse("  ").unwrap(), Keywords::new());
    let kw = Keywords::parse("  postgresql://h").unwrap();
    assert_eq!(kw.host, Some(vec!["h".to_owned()]));
    let kw = Keywords::parse("host=h options='-c x=postgresql://y'").unwrap();
    assert_eq!(kw.host, Some(vec!["h".to_owned()]));
    assert_eq!(
        kw.settings,
        vec![("options".to_owned(), "-c x=postgresql://y".to_owned())]
    );
}

#[test]
fn keywords_set_reports_unknown() {
    let mut kw = Keywords::new();
    assert!(kw.set("gssencmode", "disable").is_ok());
    assert_eq!(
        kw.extra.get("gssencmode").map(String::as_str),
        Some("disable")
    );
    assert_eq!(
        kw.set("nope", "1"),
        Err(ParamsError::UnknownKeyword {
            keyword: "nope".into()
        })
    );
}
