//! Persistence: one trait, two backends. The store is the source of truth: the engine hands
//! each change to it as one write, made durable before the request that caused it is
//! answered, and keeps in memory only the runs it is working on, reading the others back
//! when they are asked for.

mod sqlite;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tokio::sync::oneshot;

pub use sqlite::SqliteStore;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file is something other than a SQLite database.
    #[error("{} is not a SQLite database; point --db-filename at a database this server wrote, or at a new file", path.display())]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file cannot be written.
    #[error("{} is read-only; the server must be able to write it and to create files beside it (-wal, -shm)", path.display())]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer version of this server.
    #[error("{} has schema version {found}, newer than the {supported} this server knows; use the newer server, or a new file", path.display())]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest this server reads.
        supported: i64,
    },
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's answer.
        #[source]
        source: rusqlite::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the store's writer thread: {0}")]
    Thread(#[source] std::io::Error),
    /// SQLite refused an operation.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored record does not decode.
    #[error("a stored {what} does not decode: {source}")]
    Corrupt {
        /// Which record.
        what: &'static str,
        /// The decoder's complaint.
        #[source]
        source: prost::DecodeError,
    },
    /// The writer thread is gone.
    #[error("the store's writer stopped")]
    Closed,
}

/// One run's change: its state record, and the events appended since the last write.
#[derive(Debug, Clone)]
pub struct RunWrite {
    pub namespace: String,
    pub run_id: String,
    pub workflow_id: String,
    /// The encoded `RunState`.
    pub state: Vec<u8>,
    /// `(event id, encoded HistoryEvent)`, in order.
    pub events: Vec<(i64, Vec<u8>)>,
    /// Whether this run is the latest of its workflow id.
    pub current: bool,
}

/// A closed run past its namespace's retention, deleted with its events.
#[derive(Debug, Clone)]
pub struct RunDelete {
    pub namespace: String,
    pub run_id: String,
    pub workflow_id: String,
}

/// What one transaction writes.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub runs: Vec<RunWrite>,
    /// Encoded `NamespaceRecord`s, by name.
    pub namespaces: Vec<(String, Vec<u8>)>,
    pub deleted: Vec<RunDelete>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.namespaces.is_empty() && self.deleted.is_empty()
    }
}

/// What start-up reads: every namespace, every run's state record (events are read per
/// run, when a run is needed), and each workflow id's latest run.
#[derive(Debug, Default)]
pub struct Loaded {
    pub namespaces: Vec<Vec<u8>>,
    pub runs: Vec<StoredState>,
    /// `(namespace, workflow id, run id)` of each workflow id's latest run.
    pub current: Vec<(String, String, String)>,
}

/// One run's encoded `RunState`.
#[derive(Debug, Clone)]
pub struct StoredState {
    pub namespace: String,
    pub run_id: String,
    pub state: Vec<u8>,
}

/// One run read back whole: its encoded `RunState` and its encoded events, in order.
#[derive(Debug, Clone, Default)]
pub struct StoredRun {
    pub state: Vec<u8>,
    pub events: Vec<Vec<u8>>,
}

/// The number of a queued batch: batches are numbered from 1 in the order they are queued.
pub type BatchNumber = u64;

/// Resolves once a batch is durable.
#[must_use = "a write is durable only once its ticket resolves"]
pub struct Ticket {
    receiver: Option<oneshot::Receiver<Result<(), String>>>,
    batch: BatchNumber,
}

impl Ticket {
    /// Already durable (or nothing to make durable).
    pub fn done() -> Self {
        Self {
            receiver: None,
            batch: 0,
        }
    }

    /// The batch this ticket waits for; 0 when it waits for none.
    pub fn batch(&self) -> BatchNumber {
        self.batch
    }

    /// Waits for the write.
    pub async fn wait(self) -> Result<(), StoreFailure> {
        match self.receiver {
            None => Ok(()),
            Some(receiver) => match receiver.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => Err(StoreFailure(message)),
                Err(_) => Err(StoreFailure(StoreError::Closed.to_string())),
            },
        }
    }
}

/// A write that did not become durable.
#[derive(Debug, thiserror::Error)]
#[error("the change was not stored: {0}")]
pub struct StoreFailure(pub String);

impl From<StoreFailure> for tonic::Status {
    fn from(failure: StoreFailure) -> Self {
        tonic::Status::unavailable(failure.to_string())
    }
}

/// Where executions are kept.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Reads what start-up needs: namespaces, run states and the latest run of each
    /// workflow id.
    fn load(&self) -> Result<Loaded, StoreError>;
    /// Reads one run back whole, as the durable batches left it; `None` when the store
    /// has no such run.
    fn read_run(&self, namespace: &str, run_id: &str) -> Result<Option<StoredRun>, StoreError>;
    /// The highest batch number that is durable (and so visible to `read_run`); every
    /// batch numbered up to it is too.
    fn durable(&self) -> BatchNumber;
    /// The secret task tokens are sealed with: the same on every start over the same store.
    fn token_secret(&self) -> Result<Vec<u8>, StoreError>;
    /// Queues a batch; the ticket resolves once it is durable. Batches become durable in
    /// the order they were queued.
    fn commit(&self, batch: Batch) -> Ticket;
    /// Writes what is queued, then releases the store: a file is left whole and alone (no
    /// write-ahead log beside it). Later commits fail.
    fn close(&self) -> Ticket;
}

/// A fresh 32-byte secret from the system's secure random source.
pub fn new_secret() -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut secret = vec![0; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut secret)
        .expect("the system's random source failed");
    secret
}

/// Keeps runs in the process's memory, encoded as a file would hold them: nothing outlives
/// the process, but a closed run costs only its encoded bytes.
#[derive(Debug, Default)]
pub struct MemoryStore {
    contents: std::sync::Mutex<MemoryContents>,
}

#[derive(Debug, Default)]
struct MemoryContents {
    /// By `(namespace, run id)`.
    runs: HashMap<(String, String), StoredRun>,
    batches: BatchNumber,
}

impl Store for MemoryStore {
    fn load(&self) -> Result<Loaded, StoreError> {
        // Empty in a new process; what it holds later, for readers that scan it.
        let contents = self.contents.lock().unwrap_or_else(|e| e.into_inner());
        let runs = contents
            .runs
            .iter()
            .map(|((namespace, run_id), run)| StoredState {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                state: run.state.clone(),
            })
            .collect();
        Ok(Loaded {
            runs,
            ..Loaded::default()
        })
    }

    fn read_run(&self, namespace: &str, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        let contents = self.contents.lock().unwrap_or_else(|e| e.into_inner());
        Ok(contents
            .runs
            .get(&(namespace.to_string(), run_id.to_string()))
            .cloned())
    }

    fn durable(&self) -> BatchNumber {
        self.contents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .batches
    }

    fn token_secret(&self) -> Result<Vec<u8>, StoreError> {
        // Nothing outlives the process, so neither need its tokens.
        Ok(new_secret())
    }

    fn commit(&self, batch: Batch) -> Ticket {
        if batch.is_empty() {
            return Ticket::done();
        }
        let mut contents = self.contents.lock().unwrap_or_else(|e| e.into_inner());
        for gone in batch.deleted {
            contents.runs.remove(&(gone.namespace, gone.run_id));
        }
        for write in batch.runs {
            let run = contents
                .runs
                .entry((write.namespace, write.run_id))
                .or_default();
            run.state = write.state;
            run.events
                .extend(write.events.into_iter().map(|(_, bytes)| bytes));
        }
        contents.batches += 1;
        Ticket {
            receiver: None,
            batch: contents.batches,
        }
    }

    fn close(&self) -> Ticket {
        Ticket::done()
    }
}

/// Opens the store a `--db-filename` names, or memory when there is none.
pub fn open(path: Option<&Path>) -> Result<Box<dyn Store>, StoreError> {
    Ok(match path {
        Some(path) => Box::new(SqliteStore::open(path)?),
        None => Box::new(MemoryStore::default()),
    })
}
