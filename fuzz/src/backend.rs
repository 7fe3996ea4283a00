//! The `backend` target: fuzzed server bytes through the driver's startup conversation,
//! connection task (framing, routing, side channels) and the code reading each answer.
//!
//! Input: one byte, then the script the server plays. The byte's high bit runs the startup
//! conversation first (the script then starts with the server's answer to the startup
//! packet); without it the session starts established, with the parameters of the
//! ParameterStatus messages the script starts with (what a startup reported). The byte's
//! other bits pick the operation ([`crate::ops::OPS`]) the driver performs.

use std::collections::HashMap;
use std::sync::{Arc, Once};
use std::time::Duration;

use bytes::BytesMut;
use pg_driver::params::{Defaults, Keywords};
use postgres_protocol::message::backend::Message;
use tokio::net::UnixStream;

/// Runs one input; panics only when the driver does (or hangs, which is reported as a panic).
pub fn backend(data: &[u8]) {
    let _ = replay(data);
}

/// Runs one input and returns how many of the operation's calls failed; `None` when the
/// connection did not start.
pub fn replay(data: &[u8]) -> Option<usize> {
    static QUIET: Once = Once::new();
    // Notices go nowhere (rendered first, so their Display is exercised too).
    QUIET.call_once(|| {
        pg_driver::set_process_message_hook(Some(Arc::new(|m| {
            let _ = m.to_string();
            true
        })))
    });
    let (&selector, script) = data.split_first()?;
    let startup = selector & 0x80 != 0;
    let (established, script) = if startup {
        (None, script)
    } else {
        let (parameters, rest) = reported(script);
        (Some(parameters), rest)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (client, server) = UnixStream::pair().expect("a socket pair");
        let script = script.to_vec();
        tokio::spawn(async move { crate::server::serve(server, &script, startup).await });
        let session = async {
            let params = Keywords::new()
                .user("fuzz")
                .password("secret")
                .database("fuzz")
                .build_with(&Defaults::new(
                    Some("fuzz".into()),
                    Some("/nonexistent".into()),
                ))
                .expect("valid parameters");
            let db = pg_driver::fuzzing::connect_over(client, params, established)
                .await
                .ok()?;
            let failures = crate::ops::run(&db, selector & 0x7f).await;
            db.close();
            Some(failures)
        };
        // The server closes once its script is spent, so nothing may wait for long. The clock
        // is paused: this is an hour of waiting with nothing else to do, at no real cost.
        tokio::time::timeout(Duration::from_secs(3600), session)
            .await
            .unwrap_or_else(|_| panic!("the driver hung on a closed connection"))
    })
}

/// The parameters of the ParameterStatus messages `script` starts with, and the rest.
pub fn reported(script: &[u8]) -> (HashMap<String, String>, &[u8]) {
    let mut parameters = HashMap::new();
    let mut at = 0;
    while script.get(at) == Some(&b'S') {
        let Some(len) = script.get(at + 1..at + 5) else {
            break;
        };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        let Some(end) = usize::try_from(len)
            .ok()
            .and_then(|len| (at + 1).checked_add(len))
            .filter(|&end| end <= script.len())
        else {
            break;
        };
        let mut frame = BytesMut::from(&script[at..end]);
        let Ok(Some(Message::ParameterStatus(body))) = Message::parse(&mut frame) else {
            break;
        };
        let (Ok(name), Ok(value)) = (body.name(), body.value()) else {
            break;
        };
        parameters.insert(name.to_owned(), value.to_owned());
        at = end;
    }
    (parameters, &script[at..])
}
