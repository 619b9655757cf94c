//! Persistence: one trait, two backends. The store is the source of truth: the engine hands
//! each change to it as one write, made durable before the request that caused it is
//! answered, and keeps in memory only the runs it is working on, reading the others back
//! when they are asked for. The store also answers list and count: each run's visibility
//! [`Entry`] is written with the run, so a file store keeps none of them in memory.

mod sqlite;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tokio::sync::oneshot;

pub use sqlite::SqliteStore;

use crate::visibility::{Count, Entry, Filter, Index, Page, Query};

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
    /// Whether this run has just become the latest of its workflow id.
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
    /// The visibility entries of runs whose entry changed, by namespace.
    pub entries: Vec<(String, Entry)>,
    /// Runs deleted, with their events and entries.
    pub deleted: Vec<RunDelete>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
            && self.namespaces.is_empty()
            && self.entries.is_empty()
            && self.deleted.is_empty()
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
    /// Whether the visibility entries are missing (a file written before they were
    /// stored): the engine writes every run's entry again.
    pub reindex: bool,
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
    /// Writes visibility entries at once, before the store takes batches: start-up's
    /// rebuild of a file's entries when `Loaded::reindex` says they are missing.
    fn reindex(&self, entries: Vec<(String, Entry)>) -> Result<(), StoreError>;
    /// The latest run of a workflow id, as the durable batches left it.
    fn current_run(&self, namespace: &str, workflow_id: &str)
    -> Result<Option<String>, StoreError>;
    /// The visibility entry of a run, as the durable batches left it.
    fn entry(&self, namespace: &str, run_id: &str) -> Result<Option<Entry>, StoreError>;
    /// How many runs of `namespace` match `filter`.
    fn count(&self, namespace: &str, filter: &Filter) -> Result<Count, StoreError>;
    /// The runs of `namespace` that match `query`, in its order, `skip` of them skipped and
    /// at most `limit` returned.
    fn page(
        &self,
        namespace: &str,
        query: &Query,
        skip: usize,
        limit: usize,
    ) -> Result<Page, StoreError>;
    /// The closed runs that closed at or before their namespace's `cutoff` (`None`: keep
    /// the namespace's runs).
    fn closed_before(
        &self,
        cutoff: &dyn Fn(&str) -> Option<SystemTime>,
    ) -> Result<Vec<RunDelete>, StoreError>;
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
    /// The latest run of each workflow id, by `(namespace, workflow id)`.
    current: HashMap<(String, String), String>,
    index: Index,
    batches: BatchNumber,
}

impl MemoryStore {
    fn contents(&self) -> std::sync::MutexGuard<'_, MemoryContents> {
        self.contents.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    fn load(&self) -> Result<Loaded, StoreError> {
        // Empty in a new process; what it holds later, for readers that scan it.
        let contents = self.contents();
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
        Ok(self
            .contents()
            .runs
            .get(&(namespace.to_string(), run_id.to_string()))
            .cloned())
    }

    fn durable(&self) -> BatchNumber {
        self.contents().batches
    }

    fn token_secret(&self) -> Result<Vec<u8>, StoreError> {
        // Nothing outlives the process, so neither need its tokens.
        Ok(new_secret())
    }

    fn commit(&self, batch: Batch) -> Ticket {
        if batch.is_empty() {
            return Ticket::done();
        }
        let mut contents = self.contents();
        for gone in batch.deleted {
            contents.index.remove(&gone.namespace, &gone.run_id);
            let id = (gone.namespace.clone(), gone.workflow_id);
            if contents.current.get(&id) == Some(&gone.run_id) {
                contents.current.remove(&id);
            }
            contents.runs.remove(&(gone.namespace, gone.run_id));
        }
        for (namespace, entry) in batch.entries {
            contents.index.upsert(&namespace, entry);
        }
        for write in batch.runs {
            if write.current {
                contents.current.insert(
                    (write.namespace.clone(), write.workflow_id),
                    write.run_id.clone(),
                );
            }
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

    fn reindex(&self, entries: Vec<(String, Entry)>) -> Result<(), StoreError> {
        let mut contents = self.contents();
        for (namespace, entry) in entries {
            contents.index.upsert(&namespace, entry);
        }
        Ok(())
    }

    fn current_run(
        &self,
        namespace: &str,
        workflow_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .contents()
            .current
            .get(&(namespace.to_string(), workflow_id.to_string()))
            .cloned())
    }

    fn entry(&self, namespace: &str, run_id: &str) -> Result<Option<Entry>, StoreError> {
        Ok(self.contents().index.get(namespace, run_id).cloned())
    }

    fn count(&self, namespace: &str, filter: &Filter) -> Result<Count, StoreError> {
        Ok(self.contents().index.count(namespace, filter))
    }

    fn page(
        &self,
        namespace: &str,
        query: &Query,
        skip: usize,
        limit: usize,
    ) -> Result<Page, StoreError> {
        Ok(self.contents().index.page(namespace, query, skip, limit))
    }

    fn closed_before(
        &self,
        cutoff: &dyn Fn(&str) -> Option<SystemTime>,
    ) -> Result<Vec<RunDelete>, StoreError> {
        Ok(self
            .contents()
            .index
            .closed()
            .filter(|(namespace, entry)| {
                entry
                    .close_time
                    .zip(cutoff(namespace))
                    .is_some_and(|(closed, cutoff)| closed <= cutoff)
            })
            .map(|(namespace, entry)| RunDelete {
                namespace: namespace.to_string(),
                run_id: entry.run_id.to_string(),
                workflow_id: entry.workflow_id.clone(),
            })
            .collect())
    }
}

/// Opens the store a `--db-filename` names, or memory when there is none.
pub fn open(path: Option<&Path>) -> Result<Box<dyn Store>, StoreError> {
    Ok(match path {
        Some(path) => Box::new(SqliteStore::open(path)?),
        None => Box::new(MemoryStore::default()),
    })
}
