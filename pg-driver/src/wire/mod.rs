//! The wire engine: the socket (TCP, unix, TLS), startup and authentication, the connection
//! task that owns the socket, and the requests and answers that pass between the task and the
//! handles.
//!
//! It knows PostgreSQL's messages and nothing of the object model above it (statements,
//! cursors, transactions, settings): nothing here imports from outside `wire` but connection
//! parameters (`params`). A request carries everything the task needs to finish it whatever
//! becomes of its caller: its messages or the body that streams them, how many terminators end
//! its answer, the abort that replaces the rest of a body its producer did not finish
//! ([`task::BodyStream`]), and whether the server may be told to cancel it when its caller
//! gives up while it runs ([`abandon`]).

pub(crate) mod abandon;
pub(crate) mod answers;
pub(crate) mod auth;
pub(crate) mod cancel;
pub(crate) mod error;
pub(crate) mod gather;
pub(crate) mod hooks;
pub(crate) mod marks;
pub(crate) mod responses;
pub(crate) mod scram;
pub(crate) mod shared;
pub(crate) mod socket;
pub(crate) mod startup;
pub(crate) mod task;
#[cfg(feature = "tls")]
pub(crate) mod tls;
pub(crate) mod transport;
