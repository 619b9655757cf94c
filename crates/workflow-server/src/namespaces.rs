//! The server's namespaces. `default` always exists.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::{ArchivalState, NamespaceState};

use crate::engine::record::NamespaceRecord;
use temporalio_protos::temporal::api::namespace::v1::{NamespaceConfig, NamespaceInfo};
use temporalio_protos::temporal::api::replication::v1::{
    ClusterReplicationConfig, NamespaceReplicationConfig,
};
use temporalio_protos::temporal::api::workflowservice::v1::DescribeNamespaceResponse;

/// The name of the namespace every server has.
pub const DEFAULT_NAMESPACE: &str = "default";
const CLUSTER: &str = "active";
/// How long closed workflows are kept, as the Temporal dev server keeps them by default.
const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// A namespace as registered.
#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_email: String,
    pub retention: Duration,
}

impl Namespace {
    fn new(name: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            description: String::new(),
            owner_email: String::new(),
            retention: DEFAULT_RETENTION,
        }
    }

    /// The namespace as the store keeps it.
    pub fn record(&self) -> NamespaceRecord {
        NamespaceRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            owner_email: self.owner_email.clone(),
            retention: self.retention.try_into().ok(),
        }
    }

    /// The namespace as `DescribeNamespace` reports it.
    pub fn describe(&self) -> DescribeNamespaceResponse {
        DescribeNamespaceResponse {
            namespace_info: Some(NamespaceInfo {
                name: self.name.clone(),
                state: NamespaceState::Registered as i32,
                description: self.description.clone(),
                owner_email: self.owner_email.clone(),
                id: self.id.clone(),
                ..Default::default()
            }),
            config: Some(NamespaceConfig {
                workflow_execution_retention_ttl: self.retention.try_into().ok(),
                history_archival_state: ArchivalState::Disabled as i32,
                visibility_archival_state: ArchivalState::Disabled as i32,
                ..Default::default()
            }),
            replication_config: Some(NamespaceReplicationConfig {
                active_cluster_name: CLUSTER.to_string(),
                clusters: vec![ClusterReplicationConfig {
                    cluster_name: CLUSTER.to_string(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            is_global_namespace: false,
            ..Default::default()
        }
    }
}

/// Why a namespace could not be registered.
#[derive(Debug, PartialEq, Eq)]
pub enum RegisterError {
    AlreadyExists,
}

/// The namespaces, by name.
#[derive(Debug)]
pub struct Namespaces(RwLock<BTreeMap<String, Namespace>>);

impl Namespaces {
    pub fn get(&self, name: &str) -> Option<Namespace> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    pub fn get_by_id(&self, id: &str) -> Option<Namespace> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .find(|n| n.id == id)
            .cloned()
    }

    pub fn register(&self, namespace: Namespace) -> Result<(), RegisterError> {
        let mut all = self.0.write().unwrap_or_else(|e| e.into_inner());
        if all.contains_key(&namespace.name) {
            return Err(RegisterError::AlreadyExists);
        }
        all.insert(namespace.name.clone(), namespace);
        Ok(())
    }

    /// Namespaces after `after` (by name), at most `limit`.
    pub fn page(&self, after: Option<&str>, limit: usize) -> Vec<Namespace> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|n| after.is_none_or(|a| n.name.as_str() > a))
            .take(limit)
            .cloned()
            .collect()
    }

    /// The namespaces stored, plus `default` and `extra` where missing; returns the
    /// ones created, to store.
    pub fn restore<S: AsRef<str>>(
        stored: Vec<NamespaceRecord>,
        extra: impl IntoIterator<Item = S>,
    ) -> (Self, Vec<Namespace>) {
        let mut all: BTreeMap<String, Namespace> = stored
            .into_iter()
            .map(|r| {
                let namespace = Namespace {
                    id: r.id,
                    name: r.name.clone(),
                    description: r.description,
                    owner_email: r.owner_email,
                    retention: crate::engine::record::duration(&r.retention)
                        .unwrap_or(DEFAULT_RETENTION),
                };
                (r.name, namespace)
            })
            .collect();
        let mut created = Vec::new();
        for name in std::iter::once(DEFAULT_NAMESPACE.to_string())
            .chain(extra.into_iter().map(|s| s.as_ref().to_string()))
        {
            if let std::collections::btree_map::Entry::Vacant(slot) = all.entry(name) {
                let namespace = Namespace::new(slot.key());
                created.push(namespace.clone());
                slot.insert(namespace);
            }
        }
        (Self(RwLock::new(all)), created)
    }

    /// A namespace to register, with its defaults.
    pub fn template(name: &str) -> Namespace {
        Namespace::new(name)
    }
}
