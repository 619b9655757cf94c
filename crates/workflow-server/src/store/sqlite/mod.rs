//! A SQLite file in WAL mode. One writer thread commits batches in order; batches queued
//! while a commit runs share the next one (group commit), so one fsync covers many changes.
//! Runs are read back, and lists and counts answered, on a second connection, which sees
//! every committed batch.

mod visibility;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::{
    Batch, BatchNumber, Loaded, RunDelete, Store, StoreError, StoredRun, StoredState, Ticket,
    new_secret,
};
use crate::visibility::{Count, Entry, Filter, Page, Query};

/// Most batches one transaction takes.
const MAX_GROUP: usize = 512;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY,
    record BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    namespace TEXT NOT NULL,
    run_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (namespace, run_id)
);
CREATE TABLE IF NOT EXISTS events (
    namespace TEXT NOT NULL,
    run_id TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    event BLOB NOT NULL,
    PRIMARY KEY (namespace, run_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS current_runs (
    namespace TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (namespace, workflow_id)
) WITHOUT ROWID;
";

/// The layout version this server writes, kept in SQLite's `user_version`. A file of a
/// later version is refused rather than misread. Version 2 added the visibility table.
pub const SCHEMA_VERSION: i64 = 2;

enum Job {
    Write(Batch, BatchNumber, oneshot::Sender<Result<(), String>>),
    /// Checkpoint the WAL into the file, close, and stop taking writes.
    Close(oneshot::Sender<Result<(), String>>),
}

/// The SQLite backend.
#[derive(Debug)]
pub struct SqliteStore {
    path: std::path::PathBuf,
    /// The writer's queue, and the number the next batch gets.
    writer: Mutex<(mpsc::Sender<Job>, BatchNumber)>,
    /// The highest batch number committed, set by the writer thread.
    durable: Arc<AtomicU64>,
    reader: Mutex<Connection>,
}

/// Names what is wrong with the file when SQLite's answer says it.
fn open_error(path: &Path, error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let path = path.to_path_buf();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path },
        _ => StoreError::Open {
            path,
            source: error,
        },
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let failed = |e| open_error(path, e);
    let connection = Connection::open(path).map_err(failed)?;
    // SQLite quietly opens a file it cannot write read-only; every write would then fail.
    if connection.is_readonly(rusqlite::MAIN_DB).map_err(failed)? {
        return Err(StoreError::ReadOnly {
            path: path.to_path_buf(),
        });
    }
    // FULL: a commit is on disk before the request is answered, even across power loss.
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
        )
        .map_err(failed)?;
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(failed)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    connection.execute_batch(SCHEMA).map_err(failed)?;
    connection
        .execute_batch(visibility::SCHEMA)
        .map_err(failed)?;
    if version < SCHEMA_VERSION {
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(failed)?;
    }
    Ok(connection)
}

impl SqliteStore {
    /// Opens (or creates) the file and starts its writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connection = connect(path)?;
        let reader = connect(path)?;
        let (sender, receiver) = mpsc::channel::<Job>();
        let durable = Arc::new(AtomicU64::new(0));
        let committed = Arc::clone(&durable);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(connection, receiver, &committed))
            .map_err(StoreError::Thread)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new((sender, 1)),
            durable,
            reader: Mutex::new(reader),
        })
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a job; a write gets the next batch number, answered with it.
    fn send(&self, job: impl FnOnce(BatchNumber) -> Job) -> BatchNumber {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let number = writer.1;
        writer.1 += 1;
        if let Err(mpsc::SendError(job)) = writer.0.send(job(number)) {
            let (Job::Write(_, _, done) | Job::Close(done)) = job;
            let _ = done.send(Err(StoreError::Closed.to_string()));
        }
        number
    }
}

fn write_loop(mut connection: Connection, jobs: mpsc::Receiver<Job>, durable: &AtomicU64) {
    let mut closing = None;
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Write(batch, number, done) => group.push((batch, number, done)),
                Job::Close(done) => {
                    closing = Some(done);
                    break;
                }
            }
            if group.len() < MAX_GROUP {
                next = jobs.try_recv().ok();
            }
        }
        if !group.is_empty() {
            let outcome = write_group(&mut connection, group.iter().map(|(batch, ..)| batch))
                .map_err(|e| e.to_string());
            match &outcome {
                Ok(()) => {
                    let last = group.iter().map(|(_, number, _)| *number).max();
                    durable.fetch_max(last.unwrap_or(0), Ordering::Release);
                }
                Err(message) => {
                    tracing::error!(error = %message, "a write to the SQLite store failed")
                }
            }
            for (.., done) in group {
                let _ = done.send(outcome.clone());
            }
        }
        if closing.is_some() {
            break;
        }
    }
    // The channel closed (the store was dropped) or a close was asked for: either way,
    // leave one self-contained file behind, so copying the `.db` alone loses nothing.
    let outcome = close(connection).map_err(|e| e.to_string());
    if let Err(message) = &outcome {
        tracing::error!(error = %message, "the SQLite store did not close cleanly");
    }
    if let Some(done) = closing {
        let _ = done.send(outcome);
    }
}

/// Moves everything in the WAL into the database file and closes it; SQLite removes the
/// `-wal` and `-shm` files when the last connection closes after a full checkpoint.
fn close(connection: Connection) -> Result<(), rusqlite::Error> {
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    connection.close().map_err(|(_, error)| error)
}

fn write_group<'a>(
    connection: &mut Connection,
    batches: impl Iterator<Item = &'a Batch>,
) -> Result<(), rusqlite::Error> {
    let tx = connection.transaction()?;
    {
        let mut namespace = tx.prepare_cached(
            "INSERT INTO namespaces (name, record) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET record = excluded.record",
        )?;
        let mut run = tx.prepare_cached(
            "INSERT INTO runs (namespace, run_id, workflow_id, state) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (namespace, run_id) DO UPDATE SET state = excluded.state",
        )?;
        let mut event = tx.prepare_cached(
            "INSERT INTO events (namespace, run_id, event_id, event) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut current = tx.prepare_cached(
            "INSERT INTO current_runs (namespace, workflow_id, run_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (namespace, workflow_id) DO UPDATE SET run_id = excluded.run_id",
        )?;
        let mut delete_events =
            tx.prepare_cached("DELETE FROM events WHERE namespace = ?1 AND run_id = ?2")?;
        let mut delete_run =
            tx.prepare_cached("DELETE FROM runs WHERE namespace = ?1 AND run_id = ?2")?;
        let mut delete_current = tx.prepare_cached(
            "DELETE FROM current_runs WHERE namespace = ?1 AND workflow_id = ?2 AND run_id = ?3",
        )?;
        for batch in batches {
            for gone in &batch.deleted {
                visibility::delete(&tx, &gone.namespace, &gone.run_id)?;
                delete_events.execute(params![gone.namespace, gone.run_id])?;
                delete_run.execute(params![gone.namespace, gone.run_id])?;
                delete_current.execute(params![gone.namespace, gone.workflow_id, gone.run_id])?;
            }
            for (name, record) in &batch.namespaces {
                namespace.execute(params![name, record])?;
            }
            for (namespace, entry) in &batch.entries {
                visibility::upsert(&tx, namespace, entry)?;
            }
            for write in &batch.runs {
                run.execute(params![
                    write.namespace,
                    write.run_id,
                    write.workflow_id,
                    write.state
                ])?;
                for (id, bytes) in &write.events {
                    event.execute(params![write.namespace, write.run_id, id, bytes])?;
                }
                if write.current {
                    current.execute(params![write.namespace, write.workflow_id, write.run_id])?;
                }
            }
        }
    }
    tx.commit()
}

impl Store for SqliteStore {
    fn load(&self) -> Result<Loaded, StoreError> {
        let connection = connect(&self.path)?;
        let mut loaded = Loaded::default();
        let mut statement = connection.prepare("SELECT record FROM namespaces ORDER BY name")?;
        loaded.namespaces = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut statement = connection.prepare(
            "SELECT namespace, workflow_id, run_id FROM current_runs ORDER BY namespace, workflow_id",
        )?;
        loaded.current = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut runs = connection.prepare("SELECT namespace, run_id, state FROM runs")?;
        loaded.runs = runs
            .query_map([], |row| {
                Ok(StoredState {
                    namespace: row.get(0)?,
                    run_id: row.get(1)?,
                    state: row.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        loaded.reindex = visibility::missing(&connection)?;
        Ok(loaded)
    }

    fn read_run(&self, namespace: &str, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        let connection = self.reader();
        // One read transaction, so the state and the events come from the same commit.
        connection.execute_batch("BEGIN")?;
        let read = read_run(&connection, namespace, run_id);
        connection.execute_batch("COMMIT")?;
        read
    }

    fn durable(&self) -> BatchNumber {
        self.durable.load(Ordering::Acquire)
    }

    fn token_secret(&self) -> Result<Vec<u8>, StoreError> {
        let connection = connect(&self.path)?;
        // Made once, on the file's first start; every later start reads the same one.
        connection.execute(
            "INSERT INTO secrets (name, value) VALUES ('task_tokens', ?1) ON CONFLICT (name) DO NOTHING",
            params![new_secret()],
        )?;
        Ok(connection.query_row(
            "SELECT value FROM secrets WHERE name = 'task_tokens'",
            [],
            |row| row.get(0),
        )?)
    }

    fn commit(&self, batch: Batch) -> Ticket {
        if batch.is_empty() {
            return Ticket::done();
        }
        let (done, receiver) = oneshot::channel();
        let batch = self.send(|number| Job::Write(batch, number, done));
        Ticket {
            receiver: Some(receiver),
            batch,
        }
    }

    fn close(&self) -> Ticket {
        let (done, receiver) = oneshot::channel();
        self.send(|_| Job::Close(done));
        Ticket {
            receiver: Some(receiver),
            batch: 0,
        }
    }

    fn reindex(&self, entries: Vec<(String, Entry)>) -> Result<(), StoreError> {
        let mut connection = connect(&self.path)?;
        let tx = connection.transaction()?;
        for (namespace, entry) in &entries {
            visibility::upsert(&tx, namespace, entry)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn current_run(
        &self,
        namespace: &str,
        workflow_id: &str,
    ) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .reader()
            .prepare_cached(
                "SELECT run_id FROM current_runs WHERE namespace = ?1 AND workflow_id = ?2",
            )?
            .query_row(params![namespace, workflow_id], |row| row.get(0))
            .optional()?)
    }

    fn entry(&self, namespace: &str, run_id: &str) -> Result<Option<Entry>, StoreError> {
        visibility::entry(&self.reader(), namespace, run_id)
    }

    fn count(&self, namespace: &str, filter: &Filter) -> Result<Count, StoreError> {
        visibility::count(&self.reader(), namespace, filter)
    }

    fn page(
        &self,
        namespace: &str,
        query: &Query,
        skip: usize,
        limit: usize,
    ) -> Result<Page, StoreError> {
        visibility::page(&self.reader(), namespace, query, skip, limit)
    }

    fn closed_before(
        &self,
        cutoff: &dyn Fn(&str) -> Option<SystemTime>,
    ) -> Result<Vec<RunDelete>, StoreError> {
        visibility::closed_before(&self.reader(), cutoff)
    }
}

fn read_run(
    connection: &Connection,
    namespace: &str,
    run_id: &str,
) -> Result<Option<StoredRun>, StoreError> {
    use rusqlite::OptionalExtension;
    let state: Option<Vec<u8>> = connection
        .prepare_cached("SELECT state FROM runs WHERE namespace = ?1 AND run_id = ?2")?
        .query_row(params![namespace, run_id], |row| row.get(0))
        .optional()?;
    let Some(state) = state else {
        return Ok(None);
    };
    let events = connection
        .prepare_cached(
            "SELECT event FROM events WHERE namespace = ?1 AND run_id = ?2 ORDER BY event_id",
        )?
        .query_map(params![namespace, run_id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(StoredRun { state, events }))
}
