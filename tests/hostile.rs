//! Hostile input and secrets: text that looks like SQL stays data, NUL bytes are refused with a
//! clear error, and a password never shows in Debug, Display, errors or written-back IRIs.

mod common;

use pg_cluster::{AuthMethod, Role, Temporal};
use pg_driver::Connector;
use pg_driver::params::Keywords;
use pg_exceptions::ParameterError;

const PASSWORD: &str = "Pw-7Zq!s3cr3t";

#[tokio::test]
async fn nul_bytes_in_text_parameters_are_refused_clearly() {
    let db = common::connect().await;
    let ps = db.prepare("SELECT $1::text, $2::varchar").await.unwrap();
    let error = ps.call(("a\0b", "fine")).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    assert!(
        error.message().contains("$1") && error.message().contains("NUL"),
        "{error}"
    );
    let error = ps.call(("fine", "x\0")).await.unwrap_err();
    assert!(error.message().contains("$2"), "{error}");
    // bytea may hold NUL; the connection is usable after the refusals.
    let bytes = db.prepare("SELECT $1::bytea").await.unwrap();
    let back: Vec<u8> = bytes.first((vec![0u8, 1, 0],)).await.unwrap();
    assert_eq!(back, [0, 1, 0]);
    assert_eq!(ps.call(("a", "b")).await.unwrap().rows.len(), 1);
    // NUL in SQL text itself is refused before anything is sent.
    assert!(db.execute("SELECT 1\0; DROP TABLE x").await.is_err());
    assert!(db.prepare("SELECT '\0'").await.is_err());
}

#[tokio::test]
async fn sql_lookalikes_stay_data() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE canary (i int)").await.unwrap();
    let hostile = [
        "'; DROP TABLE canary; --",
        "\"; DROP TABLE canary; --",
        "$$; DROP TABLE canary; $$",
        "\\'; DROP TABLE canary; --",
        "x'); DROP TABLE canary; --",
    ];
    let echo = db.prepare("SELECT $1::text").await.unwrap();
    for text in hostile {
        assert_eq!(echo.first::<String, _>((text,)).await.unwrap(), text);
        db.settings().set("application_name", text).await.unwrap();
        assert_eq!(
            db.settings()
                .get("application_name")
                .await
                .unwrap()
                .as_deref(),
            Some(text)
        );
        db.notify([(text, text)]).await.unwrap();
        assert!(db.settings().get(text).await.unwrap().is_none());
        assert!(db.xact_with(Some(text), None).start().await.is_err());
        assert!(db.proc(text).await.is_err());
    }
    db.listen(hostile).await.unwrap();
    let mut channels = db.listening_channels().await.unwrap();
    channels.sort();
    let mut expected: Vec<String> = hostile.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(channels, expected);
    db.execute("SELECT * FROM canary")
        .await
        .expect("the canary table survived");
}

#[tokio::test]
async fn passwords_never_show() {
    let t = Temporal::builder()
        .role(
            Role::new("secretive")
                .password(PASSWORD)
                .auth(AuthMethod::ScramSha256),
        )
        .build()
        .unwrap();
    let iri = format!(
        "pq://secretive:{}@127.0.0.1:{}/test",
        "Pw-7Zq%21s3cr3t",
        t.port()
    );
    let params = Keywords::parse(&iri).and_then(|k| k.build()).unwrap();
    assert_eq!(params.password().unwrap().expose(), PASSWORD);
    let connector = Connector::new(params.clone());
    let db = connector.connect().await.unwrap();
    let mut shown = vec![
        format!("{params:?}"),
        format!("{connector:?}"),
        connector.iri(),
        format!("{db:?}"),
        params.to_iri(true),
    ];
    // Errors carry the connector's context: a failing statement, a wrong database.
    shown.push(db.execute("SELECT 1/0").await.unwrap_err().to_string());
    let wrong_db = Keywords::parse(&iri.replace("/test", "/no_such_db"))
        .and_then(|k| k.build())
        .unwrap();
    let error = Connector::new(wrong_db).connect().await.unwrap_err();
    shown.push(error.to_string());
    shown.push(format!("{error:?}"));
    // A wrong password: the server's class, and the attempted password is not echoed either.
    let wrong = Keywords::parse(&iri.replace("Pw-7Zq%21s3cr3t", "Wr0ng-Pa55"))
        .and_then(|k| k.build())
        .unwrap();
    let error = Connector::new(wrong).connect().await.unwrap_err();
    assert!(error.is_a(&pg_exceptions::InvalidPasswordError), "{error}");
    shown.push(error.to_string());
    for text in &shown {
        assert!(!text.contains(PASSWORD), "the password shows in: {text}");
        assert!(
            !text.contains("Pw-7Zq%21s3cr3t"),
            "the encoded password shows in: {text}"
        );
        assert!(
            !text.contains("Wr0ng-Pa55"),
            "a tried password shows in: {text}"
        );
    }
    assert!(connector.iri().contains("***"), "{}", connector.iri());
    // Written back unobscured only when asked, and then it parses to the same parameters.
    let written = params.to_iri(false);
    let again = Keywords::parse(&written).and_then(|k| k.build()).unwrap();
    assert_eq!(again, params);
}
