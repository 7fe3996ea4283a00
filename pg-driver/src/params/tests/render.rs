use std::time::Duration;

use super::{defaults, params};
use crate::params::{ConnectParams, Keywords, SslMode};

fn build(kw: Keywords) -> ConnectParams {
    kw.build_with(&defaults()).unwrap()
}

fn round_trips(p: &ConnectParams) {
    let iri = p.to_iri(false);
    let again = Keywords::from_iri(&iri).and_then(|kw| kw.build_with(&defaults()));
    assert_eq!(again.as_ref(), Ok(p), "{iri}");
}

#[test]
fn renders_exact_iris() {
    let cases = [
        ("pq://u@h/db", "pq://u@h/db"),
        ("pq://", "pq://osuser@/osuser?[unix]=/run/pg"),
        (
            "pq://u:p%40ss@[::1]:5433/d%2Fb",
            "pq://u:p%40ss@[::1]:5433/d%2Fb",
        ),
        (
            "postgresql://u@a:1,b/db?sslmode=require",
            "pq://u@a:1,b/db?[sslmode]=require",
        ),
        ("postgresql://u@%2Ftmp:5433,h/db", "pq://u@%2Ftmp:5433,h/db"),
        ("postgresql://u@:5433/db", "pq://u@:5433/db?[unix]=/run/pg"),
        (
            "pq://u@h/db?x=1&[connect_timeout]=3&[zz]=z#MySchema,public",
            "pq://u@h/db?[connect_timeout]=3&[zz]=z&x=1#MySchema,public",
        ),
        (
            "postgresql://u@h/db?hostaddr=::1&options=-c%20a%3Db&keepalives=0",
            "pq://u@h/db?[hostaddr]=::1&[keepalives]=0&options=-c%20a%3Db",
        ),
    ];
    for (input, rendered) in cases {
        let p = params(input);
        assert_eq!(p.to_iri(false), rendered, "{input}");
        round_trips(&p);
    }
}

#[test]
fn obscured_password() {
    let p = params("pq://u:hunter2@h/db");
    assert_eq!(p.to_iri(true), "pq://u:***@h/db");
    assert_eq!(p.to_iri(false), "pq://u:hunter2@h/db");
    assert!(!format!("{p:?}").contains("hunter2"));
    assert_eq!(format!("{:?}", p.password().unwrap()), "***");
}

#[test]
fn search_path_forms() {
    let p = build(Keywords::new().search_path(["My Schema", "public", "a,b", "$user"]));
    assert_eq!(
        p.setting("search_path"),
        Some(r#""My Schema",public,"a,b","$user""#)
    );
    assert_eq!(
        p.to_iri(false),
        "pq://osuser@/osuser?[unix]=/run/pg#My%20Schema,public,a%2Cb,$user"
    );
    round_trips(&p);
    // A value the fragment cannot reproduce stays a plain setting.
    let p = build(
        Keywords::new()
            .host("h")
            .setting("search_path", "Public, x"),
    );
    assert_eq!(
        p.to_iri(false),
        "pq://osuser@h/osuser?search_path=Public,%20x"
    );
    round_trips(&p);
    // Only a trailing search_path goes to the fragment, keeping the order.
    let p = build(
        Keywords::new()
            .host("h")
            .search_path(["s"])
            .setting("a", "1"),
    );
    assert_eq!(p.to_iri(false), "pq://osuser@h/osuser?search_path=s&a=1");
    round_trips(&p);
}

#[test]
fn everything_round_trips() {
    let kw = Keywords::new()
        .hosts(["db1", "::1", "/sock dir", "@abstract"])
        .ports([1, 2, 3, 4])
        .user("us er:@/")
        .password("p@ss:w/rd#?%")
        .database("d b/#?")
        .setting("[odd]", "&=#%")
        .setting("timezone", "UTC")
        .application_name("app")
        .ssl_mode(SslMode::VerifyFull)
        .ssl_root_cert("/ca")
        .ssl_client_cert("/c", "/k")
        .connect_timeout(Duration::from_millis(1500))
        .keepalives(false)
        .passfile("/p")
        .search_path(["a", "B"]);
    let mut kw = kw;
    kw.extra.insert("sslcrl".into(), "/crl".into());
    kw.extra.insert("custom]=".into(), "v&".into());
    kw.keepalives_idle = Some(Duration::from_secs(7));
    kw.keepalives_count = Some(2);
    let p = build(kw);
    assert_eq!(p.connect_timeout(), Some(Duration::from_secs(2)));
    round_trips(&p);
    round_trips(&params(
        "pq://u@h/db?[target_session_attrs]=prefer-standby&[channel_binding]=disable",
    ));
    round_trips(&params(
        "postgresql:///db?host=a,b&hostaddr=10.0.0.1,&load_balance_hosts=random",
    ));
    round_trips(&params("pq://u@/db?[unix]=/var/run/pg/.s.PGSQL.6000"));
    // to_keywords is the inverse of build, too.
    assert_eq!(p.to_keywords().build_with(&defaults()), Ok(p));
}
