//! A server that lies, played by a fake one on 127.0.0.1 (`support/fake_server.rs`): the
//! things a real server never does, and which the client must refuse with a typed error in
//! bounded time, never a panic or a hang.
//!
//! - SCRAM cut short: AuthenticationOk before the server proved it knows the password
//!   (AuthenticationSASLFinal with a verified signature), and a wrong signature; under
//!   `channel_binding=require` a method other than a completed SCRAM-SHA-256-PLUS.
//! - `require_auth`: each method the list refuses, and a server that skips authentication
//!   when the list requires some.
//! - A message length of 2^31 or more (negative as a signed 32-bit length), on each of the
//!   paths an answer is read by: the handle that wrote the request, and the connection task.
//! - Other malformed answers (a length below 4, a DataRow field longer than its message or a
//!   negative field count, a RowDescription cut short, a ReadyForQuery without its status, a
//!   CommandComplete or ErrorResponse without its end), on both paths: a ProtocolError in
//!   bounded time, and then a connection that is closed or still answers its own questions.
//! - Not a lie, but a shape a real server rarely makes on loopback: a value many times the
//!   client's read chunk arriving in small pieces, its header split too, on both read paths.

#[allow(dead_code)]
#[path = "support/fake_server.rs"]
mod fake;

use std::future::Future;
use std::time::{Duration, Instant};

use fake::{FakeServer, Peer, msg, script};
use futures::StreamExt;
use pg_driver::params::{ChannelBindingMode, Keywords};
use pg_driver::{AuthMethod, Connection};
use pg_exceptions::{
    AuthenticationMethodError, ConnectionDoesNotExistError, Error, InsecurityError, ProtocolError,
    Source,
};

/// How long anything here may take; a hang fails the test instead of stalling CI.
const BOUND: Duration = Duration::from_secs(5);

async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(BOUND, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {BOUND:?}"))
}

async fn connect(what: &str, kw: Keywords) -> Result<Connection, Error> {
    bounded(what, pg_driver::connect(kw)).await
}

fn refused(what: &str, result: Result<Connection, Error>) -> Error {
    match result {
        Ok(db) => panic!(
            "{what}: connected (auth {:?}) but should have been refused",
            db.auth_method()
        ),
        Err(e) => {
            assert_eq!(e.source_kind(), Source::Client, "{what}: {e}");
            assert!(!e.to_string().contains(fake::PASSWORD), "{what}: {e}");
            e
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SCRAM completeness and channel binding.

/// Offers `mechanisms`, reads the client-first message, and says AuthenticationOk at once.
async fn ok_after_client_first(mut peer: Peer, mechanisms: &[&str]) -> std::io::Result<()> {
    fake::scram_begin(&mut peer, mechanisms).await?;
    peer.trust().await?;
    peer.closed_by_client().await;
    Ok(())
}

/// Offers `mechanisms`, answers the client-first message, reads the client-final one, and
/// says AuthenticationOk without AuthenticationSASLFinal.
async fn ok_after_client_final(mut peer: Peer, mechanisms: &[&str]) -> std::io::Result<()> {
    let (_, _, first) = fake::scram_begin(&mut peer, mechanisms).await?;
    peer.send(&msg::sasl_continue(&first)).await?;
    peer.recv().await?;
    peer.trust().await?;
    peer.closed_by_client().await;
    Ok(())
}

#[tokio::test]
async fn channel_binding_require_refuses_plus_exchange_cut_short() {
    const PLUS: &[&str] = &["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"];
    for (what, server) in [
        (
            "AuthenticationOk after the client-first message",
            FakeServer::start_tls(script(|peer| ok_after_client_first(peer, PLUS))).await,
        ),
        (
            "AuthenticationOk after the client-final message",
            FakeServer::start_tls(script(|peer| ok_after_client_final(peer, PLUS))).await,
        ),
    ] {
        let kw = server
            .keywords()
            .channel_binding(ChannelBindingMode::Require);
        let e = refused(what, connect(what, kw).await);
        assert!(e.is_a(&InsecurityError), "{what}: {e}");
        assert!(
            e.message().contains("SCRAM") && e.message().contains("server"),
            "{what}: {}",
            e.message()
        );
    }
}

#[tokio::test]
async fn scram_cut_short_is_refused_whatever_channel_binding_says() {
    for (what, plus) in [("SCRAM-SHA-256", false), ("SCRAM-SHA-256-PLUS", true)] {
        let mechanisms: &'static [&'static str] = if plus {
            &["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]
        } else {
            &["SCRAM-SHA-256"]
        };
        for cut in [false, true] {
            let s = move |peer| async move {
                match cut {
                    false => ok_after_client_first(peer, mechanisms).await,
                    true => ok_after_client_final(peer, mechanisms).await,
                }
            };
            let server = match plus {
                true => FakeServer::start_tls(script(s)).await,
                false => FakeServer::start(script(s)).await,
            };
            for binding in [ChannelBindingMode::Prefer, ChannelBindingMode::Disable] {
                let what = format!("{what}, cut after client-final: {cut}, {binding}");
                let kw = server.keywords().channel_binding(binding);
                let e = refused(&what, connect(&what, kw).await);
                assert!(e.is_a(&InsecurityError), "{what}: {e}");
            }
        }
    }
}

#[tokio::test]
async fn scram_wrong_server_signature_is_refused() {
    for plus in [false, true] {
        let mechanisms: &'static [&'static str] = if plus {
            &["SCRAM-SHA-256-PLUS"]
        } else {
            &["SCRAM-SHA-256"]
        };
        let s = move |mut peer: Peer| async move {
            fake::scram_complete(&mut peer, mechanisms, true).await?;
            peer.closed_by_client().await;
            Ok(())
        };
        let server = match plus {
            true => FakeServer::start_tls(script(s)).await,
            false => FakeServer::start(script(s)).await,
        };
        let what = format!("forged signature, PLUS: {plus}");
        let e = refused(&what, connect(&what, server.keywords()).await);
        assert!(e.is_a(&InsecurityError), "{what}: {e}");
        assert!(e.message().contains("signature"), "{what}: {e}");
    }
}

#[tokio::test]
async fn scram_out_of_order_messages_are_refused() {
    // SASLFinal with no SASLContinue before it; SASLContinue before the client chose a
    // mechanism; a second SASL offer in the middle of an exchange.
    let final_first = FakeServer::start(script(|mut peer: Peer| async move {
        fake::scram_begin(&mut peer, &["SCRAM-SHA-256"]).await?;
        peer.send(&msg::sasl_final(b"v=AAAA")).await?;
        peer.trust().await?;
        peer.closed_by_client().await;
        Ok(())
    }))
    .await;
    let continue_first = FakeServer::start(script(|mut peer: Peer| async move {
        peer.send(&msg::sasl_continue(b"r=x,s=AAAA,i=4096")).await?;
        peer.closed_by_client().await;
        Ok(())
    }))
    .await;
    let offered_twice = FakeServer::start(script(|mut peer: Peer| async move {
        fake::scram_begin(&mut peer, &["SCRAM-SHA-256"]).await?;
        fake::scram_complete(&mut peer, &["SCRAM-SHA-256"], false).await?;
        peer.closed_by_client().await;
        Ok(())
    }))
    .await;
    for (what, server) in [
        ("SASLFinal before SASLContinue", final_first),
        ("SASLContinue unasked", continue_first),
        ("a second SASL offer", offered_twice),
    ] {
        let e = refused(what, connect(what, server.keywords()).await);
        assert!(
            e.is_a(&InsecurityError) || e.is_a(&ProtocolError),
            "{what}: {e}"
        );
    }
}

#[tokio::test]
async fn complete_scram_exchanges_are_accepted() {
    // The fake server's SCRAM is right: a complete exchange, verified, logs in.
    let plain = FakeServer::start(script(|mut peer: Peer| async move {
        fake::scram_complete(&mut peer, &["SCRAM-SHA-256"], false).await?;
        peer.closed_by_client().await;
        Ok(())
    }))
    .await;
    let db = connect("SCRAM-SHA-256", plain.keywords())
        .await
        .unwrap_or_else(|e| panic!("SCRAM-SHA-256: {e}"));
    assert_eq!(db.auth_method(), AuthMethod::ScramSha256);
    db.close();

    let plus = FakeServer::start_tls(script(|mut peer: Peer| async move {
        fake::scram_complete(&mut peer, &["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"], false).await?;
        peer.closed_by_client().await;
        Ok(())
    }))
    .await;
    let kw = plus.keywords().channel_binding(ChannelBindingMode::Require);
    let db = connect("SCRAM-SHA-256-PLUS", kw)
        .await
        .unwrap_or_else(|e| panic!("SCRAM-SHA-256-PLUS: {e}"));
    assert_eq!(db.auth_method(), AuthMethod::ScramSha256Plus);
    db.close();
}

#[tokio::test]
async fn channel_binding_require_refuses_other_methods_before_answering() {
    type Step = fn() -> Vec<u8>;
    let cases: [(&str, Step); 3] = [
        ("a cleartext password", msg::auth_cleartext),
        ("an MD5 password", || msg::auth_md5(*b"salt")),
        ("AuthenticationOk at once", msg::auth_ok),
    ];
    for (what, first) in cases {
        let server = FakeServer::start_tls(script(move |mut peer: Peer| async move {
            peer.send(&first()).await?;
            if first() == msg::auth_ok() {
                peer.finish_startup().await?;
            }
            peer.closed_by_client().await;
            Ok(())
        }))
        .await;
        let kw = server
            .keywords()
            .channel_binding(ChannelBindingMode::Require);
        let e = refused(what, connect(what, kw).await);
        assert!(e.is_a(&InsecurityError), "{what}: {e}");
        assert!(e.message().contains("channel binding"), "{what}: {e}");
        // No password went to a server that cannot bind it to the channel.
        assert!(!server.seen_tags().contains(&b'p'), "{what}: answered");
    }
}

// ---------------------------------------------------------------------------------------------
// require_auth.

/// A server that asks for `method` (or says AuthenticationOk at once for "none") and then
/// accepts whatever the client answers.
fn asking(method: &'static str) -> fake::Script {
    script(move |mut peer: Peer| async move {
        match method {
            "password" | "md5" => {
                let ask = match method {
                    "password" => msg::auth_cleartext(),
                    _ => msg::auth_md5(*b"salt"),
                };
                peer.send(&ask).await?;
                peer.recv().await?;
                peer.trust().await?;
            }
            "gss" => peer.send(&msg::auth_gss()).await?,
            "sspi" => peer.send(&msg::auth_sspi()).await?,
            "scram-sha-256" => fake::scram_complete(&mut peer, &["SCRAM-SHA-256"], false).await?,
            _ => peer.trust().await?,
        }
        peer.closed_by_client().await;
        Ok(())
    })
}

fn require_auth(server: &FakeServer, list: &str) -> Keywords {
    let mut kw = server.keywords();
    kw.set("require_auth", list).expect("a valid require_auth");
    kw
}

#[tokio::test]
async fn require_auth_refuses_each_method_not_listed() {
    // (the server's method, a require_auth that does not allow it)
    let cases = [
        ("password", "scram-sha-256"),
        ("password", "md5,scram-sha-256"),
        ("password", "!password"),
        ("password", "none"),
        ("md5", "scram-sha-256"),
        ("md5", "password,none"),
        ("md5", "!md5,!none"),
        ("gss", "scram-sha-256"),
        ("gss", "!gss"),
        ("sspi", "password"),
        ("sspi", "!sspi"),
        ("scram-sha-256", "password,md5"),
        ("scram-sha-256", "!scram-sha-256"),
        ("scram-sha-256", "none"),
    ];
    for (method, list) in cases {
        let server = FakeServer::start(asking(method)).await;
        let what = format!("server asks for {method}, require_auth={list}");
        let e = refused(&what, connect(&what, require_auth(&server, list)).await);
        assert!(e.is_a(&AuthenticationMethodError), "{what}: {e}");
        assert!(
            e.message().contains("require_auth") && e.message().contains(list),
            "{what}: {}",
            e.message()
        );
        // Refused before anything was answered.
        assert!(!server.seen_tags().contains(&b'p'), "{what}: answered");
    }
}

#[tokio::test]
async fn require_auth_refuses_a_server_that_skips_authentication() {
    for list in [
        "scram-sha-256",
        "password",
        "md5",
        "md5,scram-sha-256",
        "!none",
        "!md5,!none",
    ] {
        let server = FakeServer::start(asking("none")).await;
        let what = format!("AuthenticationOk at once, require_auth={list}");
        let e = refused(&what, connect(&what, require_auth(&server, list)).await);
        assert!(e.is_a(&AuthenticationMethodError), "{what}: {e}");
        assert!(
            e.message().contains("did not complete authentication"),
            "{what}: {}",
            e.message()
        );
    }
    // Cut short SCRAM does not count as SCRAM, even where none would be allowed.
    for list in ["scram-sha-256", "scram-sha-256,none"] {
        let server = FakeServer::start(script(|peer| {
            ok_after_client_final(peer, &["SCRAM-SHA-256"])
        }))
        .await;
        let what = format!("SCRAM cut short, require_auth={list}");
        let e = refused(&what, connect(&what, require_auth(&server, list)).await);
        assert!(
            e.is_a(&AuthenticationMethodError) || e.is_a(&InsecurityError),
            "{what}: {e}"
        );
    }
}

#[tokio::test]
async fn require_auth_accepts_what_it_allows() {
    // (the server's method, a require_auth that allows it, the method reported)
    let cases = [
        ("password", "password", AuthMethod::Password),
        ("password", "!md5", AuthMethod::Password),
        ("md5", "md5,scram-sha-256", AuthMethod::Md5),
        ("scram-sha-256", "scram-sha-256", AuthMethod::ScramSha256),
        (
            "scram-sha-256",
            "!password,!md5,!none",
            AuthMethod::ScramSha256,
        ),
        ("none", "none", AuthMethod::Trust),
        ("none", "md5,none", AuthMethod::Trust),
        ("none", "!scram-sha-256", AuthMethod::Trust),
    ];
    for (method, list, reported) in cases {
        let server = FakeServer::start(asking(method)).await;
        let what = format!("server asks for {method}, require_auth={list}");
        let db = connect(&what, require_auth(&server, list))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(db.auth_method(), reported, "{what}");
        db.close();
    }
}

// ---------------------------------------------------------------------------------------------
// Negative message lengths.

/// A length no server may send: 2^31 + 16, negative as the protocol's signed 32 bits.
const NEGATIVE: u32 = 0x8000_0010;

/// Answers simple queries: `SELECT 1` with one row, anything else with a header whose length
/// is [`NEGATIVE`]; then waits for the client to hang up.
async fn bad_answer_to_second_query(mut peer: Peer) -> std::io::Result<()> {
    peer.trust().await?;
    loop {
        let (tag, body) = peer.recv().await?;
        if tag != b'Q' {
            continue;
        }
        if body.starts_with(b"SELECT 1\0") {
            let mut out = msg::row_description("one");
            out.extend(msg::data_row("1"));
            out.extend(msg::command_complete("SELECT 1"));
            out.extend(msg::ready(b'I'));
            peer.send(&out).await?;
        } else {
            peer.send(&msg::header(b'T', NEGATIVE)).await?;
            peer.closed_by_client().await;
            return Ok(());
        }
    }
}

/// Checks that `e` is the protocol error and that the connection now knows it is closed.
async fn failed_and_closed(what: &str, db: &Connection, e: Error) {
    assert!(e.is_a(&ProtocolError), "{what}: {e}");
    assert_eq!(e.source_kind(), Source::Client, "{what}");
    let begun = Instant::now();
    while !db.closed() {
        assert!(
            begun.elapsed() < BOUND,
            "{what}: the connection is not marked closed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let again = bounded(what, db.simple("SELECT 1")).await.unwrap_err();
    assert!(
        again.is_a(&ConnectionDoesNotExistError) || again.is_a(&ProtocolError),
        "{what}: {again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_length_on_the_handles_own_read_path() {
    let server = FakeServer::start(script(bad_answer_to_second_query)).await;
    let db = connect("connect", server.keywords()).await.unwrap();
    // A first round trip, so the task is idle and has parked its reading end: the next
    // request's handle reads its own answer (the loan path).
    let first = bounded("first query", db.simple("SELECT 1")).await.unwrap();
    assert_eq!(first[0].rows[0][0].as_deref(), Some("1"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let e = bounded("the bad answer", db.simple("SELECT 2"))
        .await
        .unwrap_err();
    failed_and_closed("loan path", &db, e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_length_while_idle_closes_the_connection() {
    let server = FakeServer::start(script(|mut peer: Peer| async move {
        peer.trust().await?;
        // Unasked, once the client is idle.
        tokio::time::sleep(Duration::from_millis(200)).await;
        peer.send(&msg::header(b'A', NEGATIVE)).await?;
        peer.closed_by_client().await;
        Ok(())
    }))
    .await;
    let db = connect("connect", server.keywords()).await.unwrap();
    let begun = Instant::now();
    while !db.closed() {
        assert!(
            begun.elapsed() < BOUND,
            "the connection is not marked closed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let e = bounded("after", db.simple("SELECT 1")).await.unwrap_err();
    assert!(e.is_a(&ProtocolError), "the reason it closed: {e}");
    failed_and_closed("idle", &db, e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_length_in_a_streamed_answer() {
    // Extended protocol: Parse/Describe/Sync is answered properly, then Bind/Execute/Sync of
    // the stream gets BindComplete and the bad header.
    let server = FakeServer::start(script(|mut peer: Peer| async move {
        peer.trust().await?;
        let mut out = Vec::new();
        loop {
            let (tag, _) = peer.recv().await?;
            match tag {
                b'P' => out.extend(msg::frame(b'1', &[])),
                b'D' => {
                    out.extend(msg::frame(b't', &[0, 0]));
                    out.extend(msg::row_description("x"));
                }
                b'B' => out.extend(msg::frame(b'2', &[])),
                b'E' => {
                    out.extend(msg::data_row("a"));
                    out.extend(msg::header(b'D', NEGATIVE));
                    peer.send(&out).await?;
                    peer.closed_by_client().await;
                    return Ok(());
                }
                b'C' => out.extend(msg::frame(b'3', &[])),
                b'S' => {
                    out.extend(msg::ready(b'I'));
                    peer.send(&std::mem::take(&mut out)).await?;
                }
                b'X' => return Ok(()),
                _ => {}
            }
        }
    }))
    .await;
    let db = connect("connect", server.keywords()).await.unwrap();
    let ps = bounded("prepare", db.prepare("SELECT x FROM t"))
        .await
        .unwrap();
    let mut rows = ps.rows(()).unwrap();
    let mut error = None;
    while let Some(row) = bounded("rows", rows.next()).await {
        if let Err(e) = row {
            error = Some(e);
            break;
        }
    }
    let e = error.expect("the stream fails");
    failed_and_closed("stream", &db, e).await;
}

// ---------------------------------------------------------------------------------------------
// Malformed answers of other kinds, on the handle's own read path and the task's.

/// Answers a real server never gives, each standing for the answer to one query; the fake
/// server follows each with a proper end (CommandComplete, ReadyForQuery), so a client that
/// passed over it would still finish the query.
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let mut with_columns = msg::row_description("x");
    // One field that claims 100 bytes, in a message that has 1.
    with_columns.extend(msg::frame(b'D', &[0, 1, 0, 0, 0, 100, b'x']));
    vec![
        ("a length below 4", msg::header(b'C', 3)),
        ("a DataRow field longer than its message", with_columns),
        (
            "a RowDescription cut short",
            msg::frame(b'T', &[0, 1, b'x']),
        ),
        ("a ReadyForQuery without its status", msg::frame(b'Z', &[])),
        (
            "a CommandComplete without its end",
            msg::frame(b'C', b"SELECT 1"),
        ),
        (
            "an ErrorResponse without its end",
            msg::frame(b'E', b"SERROR"),
        ),
        ("a DataRow of -2 fields", {
            let mut m = msg::row_description("x");
            m.extend(msg::frame(b'D', &[0xff, 0xfe]));
            m
        }),
    ]
}

/// Serves `bad` as the answer to the second query (simple or extended), good answers to the
/// rest.
async fn serve_one_bad_answer(mut peer: Peer, bad: Vec<u8>) -> std::io::Result<()> {
    peer.trust().await?;
    let mut queries = 0;
    let mut out = Vec::new();
    loop {
        let (tag, _) = peer.recv().await?;
        let end = match tag {
            b'Q' => true,
            b'P' => {
                out.extend(msg::frame(b'1', &[]));
                false
            }
            b'D' => {
                out.extend(msg::frame(b't', &[0, 0]));
                out.extend(msg::row_description("x"));
                false
            }
            b'B' => {
                out.extend(msg::frame(b'2', &[]));
                false
            }
            b'S' => {
                out.extend(msg::ready(b'I'));
                peer.send(&std::mem::take(&mut out)).await?;
                continue;
            }
            b'E' => false,
            b'X' => return Ok(()),
            _ => continue,
        };
        if tag == b'E' || end {
            queries += 1;
            if queries == 2 {
                out.extend(&bad);
            } else {
                if end {
                    out.extend(msg::row_description("x"));
                }
                out.extend(msg::data_row("1"));
            }
            out.extend(msg::command_complete("SELECT 1"));
            if end {
                out.extend(msg::ready(b'I'));
                peer.send(&std::mem::take(&mut out)).await?;
            }
        }
    }
}

/// After a malformed answer: a typed error in bounded time, and a connection either closed
/// or still answering its own questions.
async fn settled(what: &str, db: &Connection, answer: Result<(), Error>) {
    let e = match answer {
        Ok(()) => panic!("{what}: the malformed answer was taken as a good one"),
        Err(e) => e,
    };
    assert_eq!(e.source_kind(), Source::Client, "{what}: {e}");
    assert!(e.is_a(&ProtocolError), "{what}: {e}");
    let next = bounded(what, db.simple("SELECT 1")).await;
    match next {
        Ok(results) => assert_eq!(results[0].rows[0][0].as_deref(), Some("1"), "{what}"),
        Err(e) => assert!(db.closed(), "{what}: neither in sync nor closed: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_on_the_handles_own_read_path() {
    for (what, bad) in malformed() {
        let server =
            FakeServer::start(script(move |peer| serve_one_bad_answer(peer, bad.clone()))).await;
        let db = connect(what, server.keywords()).await.unwrap();
        bounded(what, db.simple("SELECT 1")).await.unwrap();
        // Idle again: the next request's handle reads its own answer.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let answer = bounded(what, db.simple("SELECT 2")).await.map(drop);
        settled(what, &db, answer).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_in_a_streamed_answer() {
    // An Execute is not answered with a RowDescription: its reader passes over one without
    // reading it, malformed or not (the statement's columns came from its Describe).
    let read_here = |what: &str| what != "a RowDescription cut short";
    for (what, bad) in malformed().into_iter().filter(|(what, _)| read_here(what)) {
        let server =
            FakeServer::start(script(move |peer| serve_one_bad_answer(peer, bad.clone()))).await;
        let db = connect(what, server.keywords()).await.unwrap();
        bounded(what, db.simple("SELECT 1")).await.unwrap();
        let answer = bounded(what, async {
            let ps = db.prepare("SELECT x").await?;
            let mut rows = ps.rows(())?;
            while let Some(row) = rows.next().await {
                row?.value(0)?;
            }
            Ok::<_, Error>(())
        })
        .await;
        settled(what, &db, answer).await;
    }
}

// ---------------------------------------------------------------------------------------------
// A big value arriving in pieces.

/// A text value of 3 MiB and a few bytes: many times the read chunk (64 KiB), and not a
/// multiple of anything.
fn big_value() -> String {
    (0..(3 << 20) + 7)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

/// Sends `bytes` in pieces of uneven sizes (the first cutting a message header in two),
/// with pauses, so the client reads each message in many parts.
async fn send_in_pieces(peer: &mut Peer, bytes: &[u8]) -> std::io::Result<()> {
    const SIZES: [usize; 6] = [3, 2, 4093, 70_001, 1, 150_000];
    let (mut at, mut piece) = (0, 0);
    while at < bytes.len() {
        let end = (at + SIZES[piece % SIZES.len()]).min(bytes.len());
        peer.send(&bytes[at..end]).await?;
        if piece % 2 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        (at, piece) = (end, piece + 1);
    }
    Ok(())
}

/// Answers every query, simple or extended, with two rows: the big value, then `small`;
/// every answer is sent in pieces.
async fn serve_big_values(mut peer: Peer) -> std::io::Result<()> {
    peer.trust().await?;
    let big = big_value();
    let mut rows = msg::data_row(&big);
    rows.extend(msg::data_row("small"));
    rows.extend(msg::command_complete("SELECT 2"));
    let mut out = Vec::new();
    loop {
        let (tag, _) = peer.recv().await?;
        match tag {
            b'Q' => {
                out.extend(msg::row_description("x"));
                out.extend(&rows);
                out.extend(msg::ready(b'I'));
                send_in_pieces(&mut peer, &std::mem::take(&mut out)).await?;
            }
            b'P' => out.extend(msg::frame(b'1', &[])),
            b'D' => {
                out.extend(msg::frame(b't', &[0, 0]));
                out.extend(msg::row_description("x"));
            }
            b'B' => out.extend(msg::frame(b'2', &[])),
            b'E' => out.extend(&rows),
            b'C' => out.extend(msg::frame(b'3', &[])),
            b'S' => {
                out.extend(msg::ready(b'I'));
                send_in_pieces(&mut peer, &std::mem::take(&mut out)).await?;
            }
            b'X' => return Ok(()),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_bigger_than_the_read_chunk_arrives_in_pieces() {
    let server = FakeServer::start(script(serve_big_values)).await;
    let db = connect("connect", server.keywords()).await.unwrap();
    let big = big_value();
    let both = |what: &str, first: Option<&str>, second: Option<&str>| {
        assert!(first == Some(big.as_str()), "{what}: the big value differs");
        assert_eq!(second, Some("small"), "{what}");
    };
    // Twice: the second, sent once the task is idle, is read by the handle that wrote it
    // (the loan path).
    for what in ["simple, first", "simple, idle"] {
        let results = bounded(what, db.simple("SELECT x FROM big")).await.unwrap();
        let rows = &results[0].rows;
        both(what, rows[0][0].as_deref(), rows[1][0].as_deref());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ps = bounded("prepare", db.prepare("SELECT x FROM big"))
        .await
        .unwrap();
    // All at once (the loan path), then streamed (the task, with its throttle).
    let results = bounded("call", ps.call(())).await.unwrap();
    let texts: Vec<String> = (results.rows.iter())
        .map(|row| row.get::<String>(0))
        .collect();
    both("call", Some(&texts[0]), Some(&texts[1]));
    let mut stream = ps.rows(()).unwrap();
    let mut texts = Vec::new();
    while let Some(row) = bounded("rows", stream.next()).await {
        texts.push(row.unwrap().get::<String>(0));
    }
    assert_eq!(texts.len(), 2);
    both("rows", Some(&texts[0]), Some(&texts[1]));
    // In step after all of it.
    let again = bounded("after", db.simple("SELECT x FROM big"))
        .await
        .unwrap();
    assert_eq!(again[0].rows.len(), 2);
}
