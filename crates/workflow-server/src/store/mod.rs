//! Persistence: one trait, two backends. The engine keeps every execution in memory and
//! hands each change to the store as one write; the store makes it durable before the
//! request that caused it is answered.

mod sqlite;

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

/// Everything stored, as read at start-up.
#[derive(Debug, Default)]
pub struct Loaded {
    pub namespaces: Vec<Vec<u8>>,
    pub runs: Vec<LoadedRun>,
    /// `(namespace, workflow id, run id)` of each workflow id's latest run.
    pub current: Vec<(String, String, String)>,
}

/// One stored run.
#[derive(Debug)]
pub struct LoadedRun {
    pub namespace: String,
    pub state: Vec<u8>,
    pub events: Vec<Vec<u8>>,
}

/// Resolves once a batch is durable.
#[must_use = "a write is durable only once its ticket resolves"]
pub struct Ticket(Option<oneshot::Receiver<Result<(), String>>>);

impl Ticket {
    /// Already durable (or nothing to make durable).
    pub fn done() -> Self {
        Self(None)
    }

    /// Waits for the write.
    pub async fn wait(self) -> Result<(), StoreFailure> {
        match self.0 {
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
    /// Reads everything stored.
    fn load(&self) -> Result<Loaded, StoreError>;
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

/// Keeps nothing: the engine's memory is the only copy.
#[derive(Debug, Default)]
pub struct MemoryStore;

impl Store for MemoryStore {
    fn load(&self) -> Result<Loaded, StoreError> {
        Ok(Loaded::default())
    }

    fn token_secret(&self) -> Result<Vec<u8>, StoreError> {
        // Nothing outlives the process, so neither need its tokens.
        Ok(new_secret())
    }

    fn commit(&self, _batch: Batch) -> Ticket {
        Ticket::done()
    }

    fn close(&self) -> Ticket {
        Ticket::done()
    }
}

/// Opens the store a `--db-filename` names, or memory when there is none.
pub fn open(path: Option<&Path>) -> Result<Box<dyn Store>, StoreError> {
    Ok(match path {
        Some(path) => Box::new(SqliteStore::open(path)?),
        None => Box::new(MemoryStore),
    })
}
