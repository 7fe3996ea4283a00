use super::error;
use crate::params::ParamsError;

#[test]
fn iri_errors_name_the_part() {
    let syntax = |iri: &str, want_part: &str| match error(iri) {
        ParamsError::Syntax { part, .. } => assert_eq!(part, want_part, "{iri}"),
        other => panic!("{iri}: {other:?}"),
    };
    syntax("postgresql://h/db?a", "query");
    syntax("postgresql://h/db?a=b=c", "query");
    syntax("postgresql://h/db?port=1&&user=u", "query");
    syntax("pq://h/db?novalue", "query");
    syntax("postgresql://[::1", "host");
    syntax("postgresql://[]/db", "host");
    syntax("postgresql://[::1]x/db", "host");
    syntax("pq://h/db/extra", "path");
    let encoding = |iri: &str, want_part: &str| match error(iri) {
        ParamsError::Encoding { part, .. } => assert_eq!(part, want_part, "{iri}"),
        other => panic!("{iri}: {other:?}"),
    };
    encoding("postgresql://u:%zz@h", "password");
    encoding("postgresql://h/%00", "database");
    encoding("pq://h/%FF", "database");
    encoding("postgresql://h/db?sslmode=%2", "value of sslmode");
    encoding("pq://h/db#a,%00", "fragment");
    assert_eq!(
        error("http://h"),
        ParamsError::UnsupportedScheme {
            scheme: "http".into()
        }
    );
    assert_eq!(
        error("postgresql://h/db?foo=bar"),
        ParamsError::UnknownKeyword {
            keyword: "foo".into()
        }
    );
    assert!(
        matches!(error("postgresql://h:99999"), ParamsError::InvalidValue { ref keyword, .. } if keyword == "port")
    );
    assert!(matches!(
        error("postgresql://h:0"),
        ParamsError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("pq://h?[sslmode]=maybe"),
        ParamsError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("postgresql://h?connect_timeout=abc"),
        ParamsError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("postgresql://h?hostaddr=nope"),
        ParamsError::InvalidValue { .. }
    ));
    assert_eq!(
        error("postgresql:///db?host=a,b&port=1,2,3"),
        ParamsError::PortCount { hosts: 2, ports: 3 }
    );
    let e = error("postgresql:///db?host=a,b&hostaddr=1.1.1.1");
    assert_eq!(
        e,
        ParamsError::HostaddrCount {
            hosts: 2,
            hostaddrs: 1
        }
    );
    assert!(matches!(
        error("pq://h/db?user=x"),
        ParamsError::InvalidSetting { .. }
    ));
    // A password never appears in an error, even a malformed one.
    let e = error("postgresql://u:hunter2%zz@h").to_string();
    assert!(!e.contains("hunter2") && e.contains("password"), "{e}");
    let e = error("user:hunter2@host://x").to_string();
    assert!(!e.contains("hunter2"), "{e}");
}
