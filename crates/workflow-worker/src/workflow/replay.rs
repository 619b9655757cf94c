//! Replaying saved histories against workflow code, to catch nondeterministic changes before
//! they reach running workflows.

use std::path::{Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt};
use prost::Message;
use temporalio_protos::temporal::api::history::v1::{History, history_event::Attributes};
use workflow_client::Client;
use workflow_core::workflow::Workflow;
use workflow_core::workflow::runtime::WorkflowFactory;

use super::{RunIdentity, RunMachine, TaskError, WorkflowRegistry};

/// Why a history did not replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The code issues other commands than the history recorded.
    #[error("nondeterminism: {0}")]
    Nondeterminism(String),
    /// The history's workflow type is not registered with the replayer.
    #[error("workflow type {workflow_type:?} is not registered; registered: [{registered}]")]
    UnknownWorkflowType {
        /// The type in the history.
        workflow_type: String,
        /// The registered types, comma-separated.
        registered: String,
    },
    /// The workflow code failed a task (a panic, an undecodable input).
    #[error("workflow task failed: {0}")]
    TaskFailed(String),
    /// The history is not one this SDK can read.
    #[error("malformed history: {0}")]
    History(String),
    /// A saved history or its folder could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl From<TaskError> for ReplayError {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::Nondeterminism(m) => Self::Nondeterminism(m),
            TaskError::Activation(e) => Self::TaskFailed(e.to_string()),
            TaskError::History(m) => Self::History(m),
        }
    }
}

/// Replays histories against the registered workflow code.
///
/// ```no_run
/// use workflow_worker::Replayer;
/// # use workflow_core::prelude::*;
/// # struct Greeter;
/// # impl Workflow for Greeter {
/// #     const NAME: &'static str = "Greeter";
/// #     type Input = String;
/// #     type Output = String;
/// #     fn new(_: &WorkflowInfo, _: &String) -> Self { Greeter }
/// #     async fn run(_: WorkflowContext<Self>, name: String) -> WorkflowResult<String> { Ok(name) }
/// # }
/// # fn check(history: workflow_core::protos::temporal::api::history::v1::History) {
/// let replayer = Replayer::new().register_workflow::<Greeter>();
/// replayer.replay(&history).expect("the new code replays old histories");
/// # }
/// ```
#[derive(Default, Clone)]
pub struct Replayer {
    registry: WorkflowRegistry,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("workflows", &self.registry.names())
            .finish()
    }
}

impl Replayer {
    /// A replayer with no workflow registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a workflow type.
    pub fn register_workflow<W: Workflow>(mut self) -> Self {
        self.registry.register(WorkflowFactory::of::<W>());
        self
    }

    /// Replays a whole history: every recorded workflow task is run again and its commands
    /// compared with the recorded ones.
    pub fn replay(&self, history: &History) -> Result<(), ReplayError> {
        let Some(Attributes::WorkflowExecutionStartedEventAttributes(started)) =
            history.events.first().and_then(|e| e.attributes.as_ref())
        else {
            return Err(ReplayError::History(
                "the first event is not WorkflowExecutionStarted".into(),
            ));
        };
        let workflow_type = started
            .workflow_type
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let factory =
            self.registry
                .get(&workflow_type)
                .ok_or_else(|| ReplayError::UnknownWorkflowType {
                    workflow_type: workflow_type.clone(),
                    registered: self.registry.names().join(", "),
                })?;
        let identity = RunIdentity {
            namespace: "default".into(),
            workflow_id: "replay".into(),
            run_id: started.original_execution_run_id.clone(),
        };
        let mut machine = RunMachine::new(factory, identity);
        // A history that ends in a started task runs that task as new work.
        let last_started = history
            .events
            .last()
            .filter(|e| {
                matches!(
                    e.attributes,
                    Some(Attributes::WorkflowTaskStartedEventAttributes(_))
                )
            })
            .map_or(0, |e| e.event_id);
        machine.apply(&history.events, last_started)?;
        machine.check_all_matched()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

/// The file extension of a history saved as protobuf (a `History` message).
pub const PROTOBUF_EXTENSION: &str = "binpb";

/// What replaying a folder of saved histories found, file by file.
#[derive(Debug)]
pub struct ReplayReport {
    /// Each history file, in name order, with how its replay went.
    pub files: Vec<(PathBuf, Result<(), ReplayError>)>,
}

impl ReplayReport {
    /// The files that did not replay.
    pub fn failures(&self) -> impl Iterator<Item = (&Path, &ReplayError)> {
        self.files
            .iter()
            .filter_map(|(path, result)| result.as_ref().err().map(|e| (path.as_path(), e)))
    }

    /// Whether every history replayed.
    pub fn all_replayed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// Panics, listing every file that did not replay and why; for tests.
    #[track_caller]
    pub fn assert_all_replayed(&self) {
        let failures: Vec<String> = self
            .failures()
            .map(|(path, error)| format!("  {}: {error}", path.display()))
            .collect();
        assert!(
            failures.is_empty(),
            "{} of {} saved histories did not replay:\n{}",
            failures.len(),
            self.files.len(),
            failures.join("\n")
        );
    }
}

impl Replayer {
    /// Replays every history saved in a folder: `*.binpb` files (a protobuf `History`, as
    /// [`download_histories`] writes them) and `*.json` files (as `temporal workflow show
    /// --output json` writes them; needs the `history-json` feature), in name order. Other
    /// files are skipped. A file that cannot be read or replayed is reported in the result
    /// and does not stop the others; only a folder that cannot be listed is an error.
    ///
    /// ```no_run
    /// # use workflow_worker::Replayer;
    /// # fn check(replayer: Replayer) {
    /// replayer.replay_dir("tests/histories").unwrap().assert_all_replayed();
    /// # }
    /// ```
    pub fn replay_dir(&self, dir: impl AsRef<Path>) -> Result<ReplayReport, ReplayError> {
        let dir = dir.as_ref();
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
            let path = entry.map_err(|e| io_error(dir, e))?.path();
            let extension = path.extension().and_then(|e| e.to_str());
            if path.is_file() && matches!(extension, Some(PROTOBUF_EXTENSION | "json")) {
                paths.push(path);
            }
        }
        paths.sort();
        let files = paths
            .into_iter()
            .map(|path| {
                let result = read_history(&path).and_then(|history| self.replay(&history));
                (path, result)
            })
            .collect();
        Ok(ReplayReport { files })
    }
}

/// Reads a saved history by its extension: `.json` as protobuf JSON, anything else as a
/// protobuf `History`.
pub fn read_history(path: &Path) -> Result<History, ReplayError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    if path.extension().is_some_and(|e| e == "json") {
        #[cfg(feature = "history-json")]
        {
            let text = String::from_utf8(bytes)
                .map_err(|_| ReplayError::History("the JSON history is not UTF-8".into()))?;
            history_from_json(&text)
        }
        #[cfg(not(feature = "history-json"))]
        Err(ReplayError::History(
            "reading JSON histories needs the `history-json` feature of workflow-worker".into(),
        ))
    } else {
        History::decode(bytes.as_slice())
            .map_err(|e| ReplayError::History(format!("history protobuf: {e}")))
    }
}

fn io_error(path: &Path, error: std::io::Error) -> ReplayError {
    ReplayError::Io {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// Why histories could not be downloaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The server refused or failed a call.
    #[error(transparent)]
    Client(#[from] workflow_client::Error),
    /// A history could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Saves the histories of the runs a visibility query matches into `dir` (created if
/// missing), one `<workflow id>__<run id>.binpb` file per run, for [`Replayer::replay_dir`];
/// returns the files written. Characters of the workflow id other than letters, digits, `-`,
/// `_` and `.` become `_` in the file name. At most `limit` runs are saved, the most recently
/// started first (the server's list order).
///
/// ```no_run
/// # async fn save(client: workflow_client::Client) -> Result<(), workflow_worker::DownloadError> {
/// let query = "WorkflowType = 'Checkout' AND ExecutionStatus = 'Completed'";
/// workflow_worker::download_histories(&client, query, "tests/histories", 50).await?;
/// # Ok(()) }
/// ```
pub async fn download_histories(
    client: &Client,
    query: &str,
    dir: impl AsRef<Path>,
    limit: usize,
) -> Result<Vec<PathBuf>, DownloadError> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|source| DownloadError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let runs: Vec<_> = client
        .list_workflows(query)
        .take(limit)
        .try_collect()
        .await?;
    let mut written = Vec::with_capacity(runs.len());
    for run in runs {
        let events = client
            .get_workflow_handle(&run.workflow_id)
            .with_run_id(&run.run_id)
            .fetch_history()
            .await?;
        let name: String = run
            .workflow_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}__{}.{PROTOBUF_EXTENSION}", run.run_id));
        std::fs::write(&path, History { events }.encode_to_vec()).map_err(|source| {
            DownloadError::Write {
                path: path.clone(),
                source,
            }
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(feature = "history-json")]
impl Replayer {
    /// Replays a history saved as protobuf JSON, as `temporal workflow show --output json`
    /// writes it.
    pub fn replay_json(&self, json: &str) -> Result<(), ReplayError> {
        self.replay(&history_from_json(json)?)
    }
}

/// Reads a history saved as protobuf JSON (`temporal workflow show --output json`).
#[cfg(feature = "history-json")]
pub fn history_from_json(json: &str) -> Result<History, ReplayError> {
    use prost_reflect::{DescriptorPool, DynamicMessage};
    use std::sync::OnceLock;

    static DESCRIPTORS: &[u8] = include_bytes!(env!("TEMPORAL_PROTO_DESCRIPTORS"));
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    let pool = POOL
        .get_or_init(|| DescriptorPool::decode(DESCRIPTORS).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ReplayError::History(format!("protobuf descriptors: {e}")))?;
    let descriptor = pool
        .get_message_by_name("temporal.api.history.v1.History")
        .ok_or_else(|| ReplayError::History("no History message in the descriptors".into()))?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize(descriptor, &mut deserializer)
        .map_err(|e| ReplayError::History(format!("history JSON: {e}")))?;
    History::decode(message.encode_to_vec().as_slice())
        .map_err(|e| ReplayError::History(format!("history protobuf: {e}")))
}
