//! Task tokens: what a worker hands back to answer the task it polled.
//!
//! A token names the task (namespace, run, scheduled event, attempt; or a query's id) and
//! carries an HMAC-SHA256 tag made with a secret only this server knows, so a client cannot
//! build one from ids it has seen, nor alter one it was given. The secret is kept in the
//! store, so tokens handed out before a restart stay valid after it. A token also names its
//! kind, so a workflow task's token cannot answer an activity, and its namespace, which must
//! be the one the request names.
//!
//! Layout: one version byte, the protobuf-encoded [`Sealed`] fields, then the 32-byte tag
//! over everything before it.

use prost::Message;
use ring::hmac;

use super::record::RunKey;
use crate::store::new_secret;

/// The layout's version, the token's first byte.
const VERSION: u8 = 1;
/// Bytes of the tag at the end.
const TAG_LEN: usize = 32;
/// Longest token accepted: a token carries two names of at most a few kilobytes.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskKind {
    Workflow = 1,
    Activity = 2,
    Query = 3,
}

impl TaskKind {
    fn from_u32(value: u32) -> Option<Self> {
        Some(match value {
            1 => Self::Workflow,
            2 => Self::Activity,
            3 => Self::Query,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Workflow => "a workflow task",
            Self::Activity => "an activity task",
            Self::Query => "a query task",
        }
    }
}

/// A workflow or activity task, as its token names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskToken {
    pub namespace: String,
    pub run_id: String,
    pub scheduled_event_id: i64,
    pub attempt: i32,
}

impl TaskToken {
    pub fn key(&self) -> RunKey {
        (self.namespace.clone(), self.run_id.clone())
    }
}

/// The fields a token carries.
#[derive(Clone, PartialEq, prost::Message)]
struct Sealed {
    #[prost(uint32, tag = "1")]
    kind: u32,
    #[prost(string, tag = "2")]
    namespace: String,
    #[prost(string, tag = "3")]
    run_id: String,
    #[prost(int64, tag = "4")]
    scheduled_event_id: i64,
    #[prost(int32, tag = "5")]
    attempt: i32,
    #[prost(string, tag = "6")]
    query_id: String,
}

/// Why a token was refused. Each answers INVALID_ARGUMENT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("task_token is malformed or was not issued by this server")]
    Forged,
    #[error("task_token is {found}, not {expected}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("task_token belongs to namespace {token:?}, but the request names {request:?}")]
    WrongNamespace { token: String, request: String },
}

/// Seals and opens tokens with one server's secret.
#[derive(Clone)]
pub(crate) struct TokenSigner {
    key: hmac::Key,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl Default for TokenSigner {
    /// A signer with a fresh secret: tokens it seals die with it.
    fn default() -> Self {
        Self::new(&new_secret())
    }
}

impl TokenSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    fn seal(&self, fields: &Sealed) -> Vec<u8> {
        let mut token = Vec::with_capacity(1 + fields.encoded_len() + TAG_LEN);
        token.push(VERSION);
        fields.encode(&mut token).expect("a Vec grows as needed");
        let tag = hmac::sign(&self.key, &token);
        token.extend_from_slice(tag.as_ref());
        token
    }

    /// Checks the tag and the namespace; answers the fields.
    fn open(&self, token: &[u8], namespace: &str) -> Result<Sealed, TokenError> {
        if token.len() < 1 + TAG_LEN || token.len() > MAX_TOKEN_LEN || token[0] != VERSION {
            return Err(TokenError::Forged);
        }
        let (body, tag) = token.split_at(token.len() - TAG_LEN);
        hmac::verify(&self.key, body, tag).map_err(|_| TokenError::Forged)?;
        let fields = Sealed::decode(&body[1..]).map_err(|_| TokenError::Forged)?;
        if fields.namespace != namespace {
            return Err(TokenError::WrongNamespace {
                token: fields.namespace,
                request: namespace.to_string(),
            });
        }
        Ok(fields)
    }

    fn open_kind(
        &self,
        token: &[u8],
        namespace: &str,
        expected: TaskKind,
    ) -> Result<Sealed, TokenError> {
        let fields = self.open(token, namespace)?;
        match TaskKind::from_u32(fields.kind) {
            Some(kind) if kind == expected => Ok(fields),
            // A tag we made over a kind we do not know: only a newer server writes that.
            None => Err(TokenError::Forged),
            Some(found) => Err(TokenError::WrongKind {
                expected: expected.name(),
                found: found.name(),
            }),
        }
    }

    /// The token of a workflow or activity task.
    pub fn seal_task(&self, kind: TaskKind, task: &TaskToken) -> Vec<u8> {
        debug_assert_ne!(kind, TaskKind::Query);
        self.seal(&Sealed {
            kind: kind as u32,
            namespace: task.namespace.clone(),
            run_id: task.run_id.clone(),
            scheduled_event_id: task.scheduled_event_id,
            attempt: task.attempt,
            query_id: String::new(),
        })
    }

    /// Opens the token of a workflow or activity task a request in `namespace` carries.
    pub fn open_task(
        &self,
        kind: TaskKind,
        token: &[u8],
        namespace: &str,
    ) -> Result<TaskToken, TokenError> {
        let fields = self.open_kind(token, namespace, kind)?;
        Ok(TaskToken {
            namespace: fields.namespace,
            run_id: fields.run_id,
            scheduled_event_id: fields.scheduled_event_id,
            attempt: fields.attempt,
        })
    }

    /// The token of a legacy query task.
    pub fn seal_query(&self, namespace: &str, query_id: &str) -> Vec<u8> {
        self.seal(&Sealed {
            kind: TaskKind::Query as u32,
            namespace: namespace.to_string(),
            query_id: query_id.to_string(),
            ..Default::default()
        })
    }

    /// Opens a query task's token; answers the query's id.
    pub fn open_query(&self, token: &[u8], namespace: &str) -> Result<String, TokenError> {
        Ok(self.open_kind(token, namespace, TaskKind::Query)?.query_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> TaskToken {
        TaskToken {
            namespace: "default".into(),
            run_id: "run-1".into(),
            scheduled_event_id: 5,
            attempt: 2,
        }
    }

    #[test]
    fn a_sealed_token_opens_to_what_was_sealed() {
        let signer = TokenSigner::new(&new_secret());
        let token = signer.seal_task(TaskKind::Activity, &task());
        assert_eq!(
            signer.open_task(TaskKind::Activity, &token, "default"),
            Ok(task())
        );
        let query = signer.seal_query("default", "q-7");
        assert_eq!(signer.open_query(&query, "default").as_deref(), Ok("q-7"));
    }

    #[test]
    fn a_token_built_without_the_secret_is_refused() {
        let signer = TokenSigner::new(&new_secret());
        let other = TokenSigner::new(&new_secret());
        let forged = other.seal_task(TaskKind::Activity, &task());
        assert_eq!(
            signer.open_task(TaskKind::Activity, &forged, "default"),
            Err(TokenError::Forged)
        );
        // The plain-text layout this server once used.
        assert_eq!(
            signer.open_task(TaskKind::Activity, b"default\nrun-1\n5\n2", "default"),
            Err(TokenError::Forged)
        );
        for garbage in [&b""[..], &[VERSION], &[0; 64], &[VERSION; 40]] {
            assert_eq!(
                signer.open_task(TaskKind::Workflow, garbage, "default"),
                Err(TokenError::Forged)
            );
        }
    }

    #[test]
    fn every_altered_byte_is_noticed() {
        let signer = TokenSigner::new(&new_secret());
        let token = signer.seal_task(TaskKind::Workflow, &task());
        for i in 0..token.len() {
            let mut altered = token.clone();
            altered[i] ^= 0x01;
            assert_eq!(
                signer.open_task(TaskKind::Workflow, &altered, "default"),
                Err(TokenError::Forged),
                "byte {i}"
            );
        }
    }

    #[test]
    fn a_token_answers_only_its_own_namespace_and_kind() {
        let signer = TokenSigner::new(&new_secret());
        let token = signer.seal_task(TaskKind::Workflow, &task());
        assert_eq!(
            signer.open_task(TaskKind::Workflow, &token, "other"),
            Err(TokenError::WrongNamespace {
                token: "default".into(),
                request: "other".into()
            })
        );
        let error = signer
            .open_task(TaskKind::Activity, &token, "default")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "task_token is a workflow task, not an activity task"
        );
    }

    #[test]
    fn the_same_secret_opens_tokens_across_restarts() {
        let secret = new_secret();
        let token = TokenSigner::new(&secret).seal_task(TaskKind::Activity, &task());
        assert_eq!(
            TokenSigner::new(&secret).open_task(TaskKind::Activity, &token, "default"),
            Ok(task())
        );
    }
}
