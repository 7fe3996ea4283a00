//! The copy manager (py-postgresql's copyman): one COPY … TO STDOUT feeding any number of
//! COPY … FROM STDIN receivers on other connections, piece by piece, with progress.
//!
//! Each statement receiver runs its COPY FROM as a task fed through a bounded channel, so a
//! slow receiver holds the producer back instead of piling data up. A receiver whose COPY fails
//! is a [`CopyFault::Receiver`]: it leaves the set and the others go on; [`CopyManager::reconcile`]
//! brings it back with a new COPY that receives from then on. A producer that fails is a
//! [`CopyFault::Producer`]; when no receiver is left the copy fails ([`CopyFault::NoReceivers`]).
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

struct Receiver {
    statement: Statement,
    feed: Option<mpsc::Sender<Feed>>,
    task: Option<JoinHandle<Result<u64, Error>>>,
    rows: u64,
}

impl Receiver {
    fn start(&mut self) {
        let (feed, pieces) = mpsc::channel::<Feed>(RECEIVER_QUEUE);
        let statement = self.statement.clone();
        let source = tokio_stream_of(pieces);
        // A task of its own: dropped with the manager, it still ends its COPY (with CopyFail).
        self.task = Some(tokio::spawn(
            async move { statement.copy_in((), source).await },
        ));
        self.feed = Some(feed);
    }

    /// Ends the receiver's COPY (CopyDone) and waits for its row count.
    async fn finish(&mut self) -> Result<u64, Error> {
        if let Some(feed) = self.feed.take() {
            // A COPY that ended already (the server failed it) says why below.
            let _ = feed.send(Feed::End).await;
        }
        self.join().await
    }

    /// Fails the receiver's COPY (CopyFail): nothing of it commits. Waits for it to end.
    async fn abort(&mut self) {
        self.feed = None;
        let _ = self.join().await;
    }

    async fn join(&mut self) -> Result<u64, Error> {
        match self.task.take() {
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
    producer: ReadyChunks<CopyStream>,
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
        let stream = producer.copy_rows(())?;
        let mut receivers: Vec<Receiver> = receivers
            .iter()
            .map(|statement| Receiver {
                statement: statement.clone(),
                feed: None,
                task: None,
                rows: 0,
            })
            .collect();
        receivers.iter_mut().for_each(Receiver::start);
        Ok(CopyManager {
            producer: stream.ready_chunks(CYCLE_PIECES),
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
        let Some(cycle) = self.producer.next().await else {
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
            let Some(feed) = &receiver.feed else { continue };
            if feed.send(Feed::Pieces(pieces.clone())).await.is_err() {
                // Its COPY ended early: the server failed it.
                let error = match receiver.finish().await {
                    Err(error) => error,
                    Ok(_) => Error::client(&OperationError, "the receiver stopped receiving"),
                };
                self.faulted.push(index);
                fault.get_or_insert(CopyFault::Receiver {
                    receiver: index,
                    statement: receiver.statement.string().to_owned(),
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

    /// Brings a faulted receiver back: a new COPY on its statement receives from now on.
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

    /// Ends every receiver's COPY and returns their row counts, in receiver order (0 for a
    /// faulted one); the first receiver error if any is still failing. Called after a
    /// receiver fault, it keeps what the other receivers received (the caller chose to go on
    /// past the fault). After a producer fault the data is incomplete: every receiver's COPY
    /// is failed, nothing commits, and the producer's error is returned.
    pub async fn finish(mut self) -> Result<Vec<u64>, Error> {
        if let Some(error) = self.producer_failed.take() {
            self.abort_all().await;
            return Err(error);
        }
        let mut first_error = None;
        for index in 0..self.receivers.len() {
            if self.faulted.contains(&index) {
                continue;
            }
            let receiver = &mut self.receivers[index];
            match receiver.finish().await {
                Ok(rows) => receiver.rows = rows,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(self.receivers.iter().map(|r| r.rows).collect()),
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
        Ok((total, self.finish().await?))
    }
}

/// Copies the output of a COPY … TO STDOUT statement into every COPY … FROM STDIN receiver
/// (py-postgresql's `copyman.transfer`), returning the messages and bytes moved.
pub async fn transfer(producer: &Statement, receivers: &[Statement]) -> Result<Progress, Error> {
    let (progress, _) = CopyManager::new(producer, receivers)?.run().await?;
    Ok(progress)
}
