//! The copy manager's blocking form: [`crate::CopyManager`] run to its end for blocking
//! connections.
//!
//! Each blocking connection's task runs only while something drives its runtime. A transfer
//! moves data between several connections at once, so while it runs every receiver's
//! connection is driven by a thread of its own (scoped to the call), and the producer's by
//! the calling thread, which also runs the async manager.

use std::sync::Arc;

use pg_exceptions::{Error, OperationError};

use super::{Host, Statement};
use crate::{CallReceiver, CopyReport, NullProducer, Progress};

/// Where a blocking copy manager sends the data.
#[derive(Debug)]
pub enum CopyReceiver {
    /// A COPY … FROM STDIN statement, on a connection of its own.
    Statement(Statement),
    /// A closure.
    Call(CallReceiver),
}

impl From<&Statement> for CopyReceiver {
    fn from(statement: &Statement) -> CopyReceiver {
        CopyReceiver::Statement(statement.clone())
    }
}

impl From<Statement> for CopyReceiver {
    fn from(statement: Statement) -> CopyReceiver {
        CopyReceiver::Statement(statement)
    }
}

impl From<CallReceiver> for CopyReceiver {
    fn from(call: CallReceiver) -> CopyReceiver {
        CopyReceiver::Call(call)
    }
}

/// Where a blocking copy manager's data comes from.
#[derive(Debug)]
pub enum CopyProducer {
    /// A COPY … TO STDOUT statement.
    Statement(Statement),
    /// No data.
    Null(NullProducer),
}

impl From<&Statement> for CopyProducer {
    fn from(statement: &Statement) -> CopyProducer {
        CopyProducer::Statement(statement.clone())
    }
}

impl From<NullProducer> for CopyProducer {
    fn from(null: NullProducer) -> CopyProducer {
        CopyProducer::Null(null)
    }
}

/// The blocking form of [`crate::CopyManager`]: one COPY … TO STDOUT feeding COPY … FROM
/// STDIN receivers (and closures), run to its end by [`CopyManager::run`] (all or nothing)
/// or [`CopyManager::report`] (going on past receiver faults).
#[derive(Debug)]
pub struct CopyManager {
    producer: CopyProducer,
    receivers: Vec<CopyReceiver>,
}

impl CopyManager {
    /// A producer statement and receiver statements, each on a connection of its own.
    pub fn new(producer: &Statement, receivers: &[Statement]) -> CopyManager {
        CopyManager::with(producer, receivers.iter().map(CopyReceiver::from))
    }

    /// Any producer ([`NullProducer`] too) and receivers of either kind.
    pub fn with<I>(producer: impl Into<CopyProducer>, receivers: I) -> CopyManager
    where
        I: IntoIterator,
        I::Item: Into<CopyReceiver>,
    {
        CopyManager {
            producer: producer.into(),
            receivers: receivers.into_iter().map(Into::into).collect(),
        }
    }

    /// Runs the whole copy, as [`crate::CopyManager::run`]: a fault of any kind stops it and
    /// no receiver commits. Returns what moved and each receiver's rows.
    pub fn run(self) -> Result<(Progress, Vec<u64>), Error> {
        self.drive(|manager| async move { manager.run().await })?
    }

    /// Runs the whole copy going on past receiver faults (a faulted receiver leaves, the
    /// others go on and commit), then reports each receiver's rows, outcome and errors (see
    /// [`crate::CopyManager::finish`]). A producer fault fails every receiver's COPY.
    pub fn report(self) -> Result<CopyReport, Error> {
        self.drive(|mut manager| async move {
            while let Some(step) = manager.next().await {
                match step {
                    Ok(_) | Err(crate::CopyFault::Receiver { .. }) => {}
                    Err(_) => break,
                }
            }
            manager.finish().await
        })
    }

    /// Runs `work` on the async manager, with every connection involved driven meanwhile.
    fn drive<F, Fut, T>(self, work: F) -> Result<T, Error>
    where
        F: FnOnce(crate::CopyManager) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let mut hosts: Vec<Arc<Host>> = Vec::new();
        let mut add = |host: &Arc<Host>| {
            if !hosts.iter().any(|h| Arc::ptr_eq(h, host)) {
                hosts.push(host.clone());
            }
        };
        if let CopyProducer::Statement(statement) = &self.producer {
            add(&statement.conn.host);
        }
        for receiver in &self.receivers {
            if let CopyReceiver::Statement(statement) = receiver {
                add(&statement.conn.host);
            }
        }
        let producer = match self.producer {
            CopyProducer::Statement(statement) => {
                crate::CopyProducer::Statement(statement.as_async().clone())
            }
            CopyProducer::Null(null) => crate::CopyProducer::Null(null),
        };
        let receivers: Vec<crate::CopyReceiver> = self
            .receivers
            .into_iter()
            .map(|receiver| match receiver {
                CopyReceiver::Statement(statement) => statement.as_async().clone().into(),
                CopyReceiver::Call(call) => call.into(),
            })
            .collect();
        // The calling thread drives the first connection (or a runtime of its own when only
        // closures receive and nothing produces); threads drive the others.
        let own;
        let main = match hosts.first().and_then(|h| h.rt.as_ref()) {
            Some(rt) => rt,
            None => {
                own = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        Error::client(&OperationError, "cannot start a runtime for the copy")
                            .with_cause(e)
                    })?;
                &own
            }
        };
        super::outside_runtime()?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        std::thread::scope(|scope| {
            for host in hosts.iter().skip(1) {
                let mut stopped = stopped.clone();
                scope.spawn(move || {
                    if let Some(rt) = &host.rt {
                        rt.block_on(async {
                            while !*stopped.borrow_and_update() {
                                if stopped.changed().await.is_err() {
                                    break;
                                }
                            }
                        });
                    }
                });
            }
            let outcome = main.block_on(async move {
                let manager = crate::CopyManager::with(producer, receivers)?;
                Ok(work(manager).await)
            });
            let _ = stop.send(true);
            outcome
        })
    }
}

/// Copies the output of a COPY … TO STDOUT statement into every COPY … FROM STDIN receiver,
/// with blocking connections (py-postgresql's `copyman.transfer`): all or nothing.
pub fn transfer(producer: &Statement, receivers: &[Statement]) -> Result<Progress, Error> {
    CopyManager::new(producer, receivers)
        .run()
        .map(|(progress, _)| progress)
}
