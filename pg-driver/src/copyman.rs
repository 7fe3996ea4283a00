//! The copy manager (py-postgresql's copyman): one COPY … TO STDOUT feeding any number of
//! COPY … FROM STDIN receivers on other connections, piece by piece, with progress.
//!
//! Each statement receiver runs its COPY FROM as a task fed through a bounded channel, so a
//! slow receiver holds the producer back instead of piling data up. A receiver whose COPY fails
//! is a [`CopyFault::Receiver`]: it leaves the set and the others go on; [`CopyManager::reconcile`]
//! brings it back with a new COPY that receives from then on. A producer that fails is a
//! [`CopyFault::Producer`]; when no receiver is left the copy fails ([`CopyFault::NoReceivers`]).
//!
//! Receivers are COPY … FROM STDIN statements or closures ([`CallReceiver`], py-postgresql's
//! `CallReceiver`), and the producer may be [`NullProducer`] (no data: it tries the receivers).
//! [`CopyManager::finish`] gives a [`CopyReport`]: each receiver's rows, how it ended and
//! every error it met.
//!
//! A receiver's COPY commits only when the manager ends it on purpose ([`CopyManager::finish`],
//! or the end of [`CopyManager::run`]): a transfer that fails (`run`, [`transfer`]), whose
//! producer fails, or that is dropped or given up part-way fails every receiver's COPY
//! (CopyFail), so nothing of it commits anywhere.

use std::fmt;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::ReadyChunks;
use pg_exceptions::{Error, OperationError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{CopyStream, Statement};

/// A closure a copy manager gives each cycle's pieces of COPY data (lines, for text and
/// CSV), in order: py-postgresql's `CallReceiver`. An error faults the receiver.
pub type ReceiverFn = dyn FnMut(&[Bytes]) -> Result<(), Error> + Send;

/// How many pieces one cycle moves at most.
const CYCLE_PIECES: usize = 1024;
/// How many cycles may wait for a receiver.
const RECEIVER_QUEUE: usize = 4;

/// Why a step of a copy failed.
#[derive(Debug)]
pub enum CopyFault {
    /// A receiver's COPY failed; it has left the set of receivers.
    Receiver {
        /// The receiver's index in the list the manager was made with.
        receiver: usize,
        /// Its statement text, to name it.
        statement: String,
        /// What went wrong.
        error: Error,
    },
    /// The producer failed.
    Producer(Error),
    /// No receiver is left to give the data to.
    NoReceivers,
}

impl fmt::Display for CopyFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyFault::Receiver {
                receiver,
                statement,
                error,
            } => write!(
                f,
                "receiver {receiver} ({statement}) failed: {}",
                error.message()
            ),
            CopyFault::Producer(error) => write!(f, "the producer failed: {}", error.message()),
            CopyFault::NoReceivers => f.write_str("the copy failed: no receiver is left"),
        }
    }
}

impl std::error::Error for CopyFault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CopyFault::Receiver { error, .. } | CopyFault::Producer(error) => Some(error),
            CopyFault::NoReceivers => None,
        }
    }
}

impl From<CopyFault> for Error {
    fn from(fault: CopyFault) -> Error {
        match fault {
            CopyFault::Producer(error) => error,
            CopyFault::Receiver { ref error, .. } => {
                error.clone().with_context("copy", fault.to_string())
            }
            CopyFault::NoReceivers => Error::client(&OperationError, fault.to_string()),
        }
    }
}

/// What one cycle moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// COPY messages (lines, for text and CSV).
    pub messages: u64,
    /// Bytes of COPY data.
    pub bytes: u64,
}

/// What a receiver's COPY is fed: data, or the word that it is whole. A feed that ends
/// without [`Feed::End`] (the manager failed, or was dropped) fails the COPY: it commits
/// nothing.
enum Feed {
    Pieces(Vec<Bytes>),
    End,
}

/// Why a receiver's COPY was failed: the transfer stopped before the end.
#[derive(Debug)]
struct Abandoned;

impl fmt::Display for Abandoned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the copy was abandoned before its end")
    }
}

/// A receiver that is a closure (see [`ReceiverFn`]).
pub struct CallReceiver(Box<ReceiverFn>);

impl CallReceiver {
    /// A receiver calling `f` with each cycle's pieces.
    pub fn new(f: impl FnMut(&[Bytes]) -> Result<(), Error> + Send + 'static) -> CallReceiver {
        CallReceiver(Box::new(f))
    }
}

impl fmt::Debug for CallReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallReceiver")
    }
}

/// Where a copy manager sends the data.
#[derive(Debug)]
pub enum CopyReceiver {
    /// A COPY … FROM STDIN statement, on a connection of its own.
    Statement(Statement),
    /// A closure.
    Call(CallReceiver),
}

impl From<Statement> for CopyReceiver {
    fn from(statement: Statement) -> CopyReceiver {
        CopyReceiver::Statement(statement)
    }
}

impl From<&Statement> for CopyReceiver {
    fn from(statement: &Statement) -> CopyReceiver {
        CopyReceiver::Statement(statement.clone())
    }
}

impl From<CallReceiver> for CopyReceiver {
    fn from(call: CallReceiver) -> CopyReceiver {
        CopyReceiver::Call(call)
    }
}

/// A producer of no data (py-postgresql's `NullProducer`): the receivers begin and end.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullProducer;

/// Where a copy manager's data comes from.
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

impl From<Statement> for CopyProducer {
    fn from(statement: Statement) -> CopyProducer {
        CopyProducer::Statement(statement)
    }
}

impl From<NullProducer> for CopyProducer {
    fn from(null: NullProducer) -> CopyProducer {
        CopyProducer::Null(null)
    }
}

/// How a receiver ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiverOutcome {
    /// It received everything: its COPY committed (a closure was given every piece).
    Finished,
    /// It faulted and was not brought back: its COPY committed nothing.
    Faulted,
    /// The copy failed (its producer did), so its COPY was failed: nothing committed.
    Aborted,
}

/// What became of one receiver.
#[derive(Debug)]
pub struct ReceiverReport {
    /// Its index in the list the manager was made with.
    pub receiver: usize,
    /// Its statement text, or `call receiver`.
    pub name: String,
    /// The rows its last COPY committed (pieces given, for a closure); 0 unless finished.
    pub rows: u64,
    /// How it ended.
    pub outcome: ReceiverOutcome,
    /// Every error it met, in order (a reconciled receiver keeps the faults it had).
    pub errors: Vec<Error>,
}

/// What [`CopyManager::finish`] found: every receiver's report, what moved, and the
/// producer's failure if it failed.
#[derive(Debug)]
pub struct CopyReport {
    /// What was moved.
    pub total: Progress,
    /// Each receiver, in the order the manager was made with.
    pub receivers: Vec<ReceiverReport>,
    /// The producer's error: then every receiver was aborted.
    pub producer_error: Option<Error>,
}

impl CopyReport {
    /// Each receiver's rows, in order.
    pub fn rows(&self) -> Vec<u64> {
        self.receivers.iter().map(|r| r.rows).collect()
    }

    /// Whether every receiver finished.
    pub fn is_complete(&self) -> bool {
        self.producer_error.is_none()
            && self
                .receivers
                .iter()
                .all(|r| r.outcome == ReceiverOutcome::Finished)
    }

    /// The rows of each receiver when every one finished; else the producer's error, or the
    /// first error of a receiver that did not finish.
    pub fn into_result(self) -> Result<Vec<u64>, Error> {
        if let Some(error) = self.producer_error {
            return Err(error);
        }
        let failed = self
            .receivers
            .iter()
            .find(|r| r.outcome != ReceiverOutcome::Finished);
        if let Some(failed) = failed {
            return Err(failed.errors.first().cloned().unwrap_or_else(|| {
                Error::client(
                    &OperationError,
                    format!("receiver {} did not finish", failed.receiver),
                )
            }));
        }
        Ok(self.rows())
    }
}

enum Sink {
    Copy {
        statement: Statement,
        feed: Option<mpsc::Sender<Feed>>,
        task: Option<JoinHandle<Result<u64, Error>>>,
    },
    Call(CallReceiver),
}

struct Receiver {
    sink: Sink,
    rows: u64,
    errors: Vec<Error>,
}

impl Receiver {
    fn new(receiver: CopyReceiver) -> Receiver {
        let sink = match receiver {
            CopyReceiver::Statement(statement) => Sink::Copy {
                statement,
                feed: None,
                task: None,
            },
            CopyReceiver::Call(call) => Sink::Call(call),
        };
        Receiver {
            sink,
            rows: 0,
            errors: Vec::new(),
        }
    }

    fn name(&self) -> String {
        match &self.sink {
            Sink::Copy { statement, .. } => statement.string().to_owned(),
            Sink::Call(_) => "call receiver".to_owned(),
        }
    }

    fn start(&mut self) {
        self.rows = 0;
        let Sink::Copy {
            statement,
            feed,
            task,
        } = &mut self.sink
        else {
            return;
        };
        let (sender, pieces) = mpsc::channel::<Feed>(RECEIVER_QUEUE);
        let statement = statement.clone();
        let source = tokio_stream_of(pieces);
        // A task of its own: dropped with the manager, it still ends its COPY (with CopyFail).
        *task = Some(tokio::spawn(
            async move { statement.copy_in((), source).await },
        ));
        *feed = Some(sender);
    }

    /// Gives the receiver a cycle's pieces; an error says it faulted (why).
    async fn feed(&mut self, pieces: &[Bytes]) -> Result<(), Error> {
        match &mut self.sink {
            Sink::Call(CallReceiver(f)) => {
                f(pieces)?;
                self.rows += pieces.len() as u64;
                Ok(())
            }
            Sink::Copy { feed, .. } => {
                let Some(sender) = feed else { return Ok(()) };
                if sender.send(Feed::Pieces(pieces.to_vec())).await.is_ok() {
                    return Ok(());
                }
                // Its COPY ended early: the server failed it.
                Err(match self.finish().await {
                    Err(error) => error,
                    Ok(_) => Error::client(&OperationError, "the receiver stopped receiving"),
                })
            }
        }
    }

    /// Ends the receiver's COPY (CopyDone) and waits for its row count.
    async fn finish(&mut self) -> Result<u64, Error> {
        let Sink::Copy { feed, .. } = &mut self.sink else {
            return Ok(self.rows);
        };
        if let Some(feed) = feed.take() {
            // A COPY that ended already (the server failed it) says why below.
            let _ = feed.send(Feed::End).await;
        }
        self.join().await
    }

    /// Fails the receiver's COPY (CopyFail): nothing of it commits. Waits for it to end.
    async fn abort(&mut self) {
        if let Sink::Copy { feed, .. } = &mut self.sink {
            *feed = None;
            let _ = self.join().await;
        }
    }

    async fn join(&mut self) -> Result<u64, Error> {
        let Sink::Copy { task, .. } = &mut self.sink else {
            return Ok(self.rows);
        };
        match task.take() {
            Some(task) => task.await.map_err(|e| {
                Error::client(&OperationError, "a copy receiver's task ended abnormally")
                    .with_cause(e)
            })?,
            None => Ok(0),
        }
    }
}

/// A receiver's feed as its COPY's source: the pieces until [`Feed::End`]; a feed closed
/// without it is an error, which makes the COPY fail.
fn tokio_stream_of(
    mut feed: mpsc::Receiver<Feed>,
) -> impl futures::Stream<Item = Result<Bytes, Abandoned>> {
    let mut over = false;
    futures::stream::poll_fn(move |cx| {
        if over {
            return std::task::Poll::Ready(None);
        }
        let next = std::task::ready!(feed.poll_recv(cx));
        std::task::Poll::Ready(match next {
            Some(Feed::Pieces(pieces)) => Some(Ok(pieces)),
            Some(Feed::End) => {
                over = true;
                None
            }
            None => {
                over = true;
                Some(Err(Abandoned))
            }
        })
    })
    .flat_map(|cycle| match cycle {
        Ok(pieces) => futures::stream::iter(pieces.into_iter().map(Ok).collect::<Vec<_>>()),
        Err(abandoned) => futures::stream::iter(vec![Err(abandoned)]),
    })
}

/// One COPY … TO STDOUT feeding COPY … FROM STDIN receivers.
pub struct CopyManager {
    producer: Option<ReadyChunks<CopyStream>>,
    receivers: Vec<Receiver>,
    faulted: Vec<usize>,
    total: Progress,
    done: bool,
    /// The producer's failure: the data is incomplete, so no receiver may commit.
    producer_failed: Option<Error>,
}

impl fmt::Debug for CopyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyManager")
            .field("receivers", &self.receivers.len())
            .field("faulted", &self.faulted)
            .field("total", &self.total)
            .finish()
    }
}

impl CopyManager {
    /// Starts the producer (a COPY … TO STDOUT statement) and every receiver (COPY … FROM
    /// STDIN statements, each on a connection of its own). Must run inside a tokio runtime.
    pub fn new(producer: &Statement, receivers: &[Statement]) -> Result<CopyManager, Error> {
        CopyManager::with(producer, receivers.iter().map(CopyReceiver::from))
    }

    /// Like [`CopyManager::new`], with any producer ([`NullProducer`] too) and receivers of
    /// either kind ([`CallReceiver`] too).
    pub fn with<I>(producer: impl Into<CopyProducer>, receivers: I) -> Result<CopyManager, Error>
    where
        I: IntoIterator,
        I::Item: Into<CopyReceiver>,
    {
        let producer = match producer.into() {
            CopyProducer::Statement(statement) => {
                Some(statement.copy_rows(())?.ready_chunks(CYCLE_PIECES))
            }
            CopyProducer::Null(_) => None,
        };
        let mut receivers: Vec<Receiver> = receivers
            .into_iter()
            .map(|r| Receiver::new(r.into()))
            .collect();
        receivers.iter_mut().for_each(Receiver::start);
        Ok(CopyManager {
            producer,
            receivers,
            faulted: Vec::new(),
            total: Progress::default(),
            done: false,
            producer_failed: None,
        })
    }

    /// The indexes of the receivers still receiving.
    pub fn receivers(&self) -> Vec<usize> {
        (0..self.receivers.len())
            .filter(|i| !self.faulted.contains(i))
            .collect()
    }

    /// What has been moved so far.
    pub fn total(&self) -> Progress {
        self.total
    }

    /// Moves the next cycle of data to every receiver: None when the producer is done.
    pub async fn next(&mut self) -> Option<Result<Progress, CopyFault>> {
        if self.done {
            return None;
        }
        if self.receivers().is_empty() {
            self.done = true;
            return Some(Err(CopyFault::NoReceivers));
        }
        let next = match &mut self.producer {
            Some(producer) => producer.next().await,
            None => None,
        };
        let Some(cycle) = next else {
            self.done = true;
            return None;
        };
        let mut pieces = Vec::with_capacity(cycle.len());
        for piece in cycle {
            match piece {
                Ok(piece) => pieces.push(piece),
                Err(error) => {
                    self.done = true;
                    self.producer_failed = Some(error.clone());
                    self.abort_all().await;
                    return Some(Err(CopyFault::Producer(error)));
                }
            }
        }
        let progress = Progress {
            messages: pieces.len() as u64,
            bytes: pieces.iter().map(|p| p.len() as u64).sum(),
        };
        let mut fault = None;
        for index in self.receivers() {
            let receiver = &mut self.receivers[index];
            if let Err(error) = receiver.feed(&pieces).await {
                receiver.errors.push(error.clone());
                self.faulted.push(index);
                fault.get_or_insert(CopyFault::Receiver {
                    receiver: index,
                    statement: receiver.name(),
                    error,
                });
            }
        }
        self.total.messages += progress.messages;
        self.total.bytes += progress.bytes;
        Some(match fault {
            Some(fault) => Err(fault),
            None => Ok(progress),
        })
    }

    /// Brings a faulted receiver back: a new COPY on its statement receives from now on (a
    /// closure is simply given the pieces again).
    pub fn reconcile(&mut self, receiver: usize) -> Result<(), Error> {
        let Some(position) = self.faulted.iter().position(|r| *r == receiver) else {
            return Err(Error::client(
                &OperationError,
                format!("receiver {receiver} has not faulted"),
            ));
        };
        self.faulted.remove(position);
        self.receivers[receiver].start();
        Ok(())
    }

    /// Ends every receiver's COPY and reports: each receiver's rows, how it ended and every
    /// error it met ([`CopyReport::into_result`] for the rows or the first error). Called
    /// after a receiver fault, it keeps what the other receivers received (the caller chose to
    /// go on past the fault). After a producer fault the data is incomplete: every receiver's
    /// COPY is failed and nothing commits.
    pub async fn finish(mut self) -> CopyReport {
        let producer_error = self.producer_failed.take();
        if producer_error.is_some() {
            self.abort_all().await;
        }
        let mut reports = Vec::with_capacity(self.receivers.len());
        for (index, receiver) in self.receivers.iter_mut().enumerate() {
            let outcome = if producer_error.is_some() {
                ReceiverOutcome::Aborted
            } else if self.faulted.contains(&index) {
                ReceiverOutcome::Faulted
            } else {
                match receiver.finish().await {
                    Ok(rows) => {
                        receiver.rows = rows;
                        ReceiverOutcome::Finished
                    }
                    Err(error) => {
                        receiver.errors.push(error);
                        ReceiverOutcome::Faulted
                    }
                }
            };
            reports.push(ReceiverReport {
                receiver: index,
                name: receiver.name(),
                rows: if outcome == ReceiverOutcome::Finished {
                    receiver.rows
                } else {
                    0
                },
                outcome,
                errors: std::mem::take(&mut receiver.errors),
            });
        }
        CopyReport {
            total: self.total,
            receivers: reports,
            producer_error,
        }
    }

    /// Fails every receiver's COPY and waits for them: nothing commits.
    async fn abort_all(&mut self) {
        for receiver in &mut self.receivers {
            receiver.abort().await;
        }
    }

    /// Runs the whole copy; a fault of any kind stops it, and then no receiver commits.
    pub async fn run(mut self) -> Result<(Progress, Vec<u64>), Error> {
        while let Some(step) = self.next().await {
            if let Err(fault) = step {
                self.abort_all().await;
                return Err(fault.into());
            }
        }
        let total = self.total;
        Ok((total, self.finish().await.into_result()?))
    }
}

/// Copies the output of a COPY … TO STDOUT statement into every COPY … FROM STDIN receiver
/// (py-postgresql's `copyman.transfer`), returning the messages and bytes moved.
pub async fn transfer(producer: &Statement, receivers: &[Statement]) -> Result<Progress, Error> {
    let (progress, _) = CopyManager::new(producer, receivers)?.run().await?;
    Ok(progress)
}
