//! The fuzzing entry point (feature `fuzzing`, not a public interface): a connection over a
//! socket whose other end the caller plays the server on, so that fuzzed server bytes go
//! through the same startup conversation, framing, routing and message decoding as a real
//! server's. The harnesses live in the workspace's `fuzz/` directory.

use std::collections::HashMap;
use std::path::PathBuf;

use pg_exceptions::Error;
use tokio::net::UnixStream;

use crate::connection::Connection;
use crate::connector::Connector;
use crate::link::Link;
use crate::params::ConnectParams;
use crate::wire::hooks::{Driver, HookChain, HookSlot};
use crate::wire::shared::Shared;
use crate::wire::socket::Socket;
use crate::wire::startup::{self, AuthMethod, Established, Startup};
use crate::wire::transport::PeerAddr;

/// Opens a connection over `stream`, as [`Connector::connect`] does over a socket it opened.
///
/// Without `established`, the startup conversation runs first with `params`' user, password,
/// database and settings; with it the session starts established and idle, with those
/// server parameters (what ParameterStatus reported) and no backend key. Must be called
/// inside a tokio runtime: the connection's task is spawned on it.
pub async fn connect_over(
    stream: UnixStream,
    params: ConnectParams,
    established: Option<HashMap<String, String>>,
) -> Result<Connection, Error> {
    let mut socket = Socket::Unix(stream);
    let established = if let Some(parameters) = established {
        Established {
            parameters,
            backend_key: None,
            notices: Vec::new(),
            read_buf: Default::default(),
            status: b'I',
            auth_method: AuthMethod::Trust,
        }
    } else {
        let password = params.password().map(|p| p.expose().to_owned());
        let startup = Startup {
            user: params.user(),
            password: password.as_deref(),
            database: Some(params.database()),
            settings: params.startup_settings(),
            channel_binding: params.channel_binding(),
            require_auth: params.require_auth(),
            encoding: params.server_encoding(),
            salted_passwords: &Default::default(),
        };
        startup::startup(&mut socket, &startup, None).await?
    };
    let hooks = HookChain {
        connection: HookSlot::default(),
        connector: None,
        driver: Driver::global(),
    };
    let shared = std::sync::Arc::new(Shared::new(established.parameters, hooks));
    shared.set_status(established.status);
    for notice in established.notices {
        shared.hooks.dispatch(None, &notice);
        shared.push_notice(notice);
    }
    let tx = crate::wire::task::spawn(socket, established.read_buf, shared.clone(), None);
    let link = Link {
        tx,
        shared,
        backend_key: established.backend_key,
        peer: PeerAddr::Unix(PathBuf::from("fuzz")),
        tls: false,
        auth_method: established.auth_method,
        client_addr: None,
        types: Default::default(),
        version: Default::default(),
        next_id: Default::default(),
        statements: Default::default(),
        xacts: Default::default(),
        session: Default::default(),
        resets: Default::default(),
        cleans: Default::default(),
        observe: Default::default(),
    };
    Ok(Connection::from_link(Connector::new(params), link))
}
