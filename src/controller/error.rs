//! What can go wrong in a reconcile, named after the step that failed.
use crate::status::Observed;
use crate::validate::Refusal;

/// A failed reconcile step. Refusals of the spec are not errors: they become `Ready=False` and wait for a change.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a Secret the store references.
    #[error("reading Secret {name}: {source}")]
    ReadSecret {
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Reading a ConfigMap the store needs (the service CA of a reencrypt Route).
    #[error("reading ConfigMap {name}: {source}")]
    ReadConfigMap {
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Reading the store's namespace.
    #[error("reading Namespace {name}: {source}")]
    ReadNamespace {
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Server-side apply of a child.
    #[error("applying {kind} {name}: {source}")]
    Apply {
        kind: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Deleting a child that is no longer wanted.
    #[error("pruning {kind} {name}: {source}")]
    Prune {
        kind: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Writing the store's status.
    #[error("patching the status: {0}")]
    PatchStatus(#[source] kube::Error),
    /// Serializing an object for the API server.
    #[error("serializing {what}: {source}")]
    Serialize {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// An object without the metadata every stored object has.
    #[error("the stored object has no {0}")]
    MissingMetadata(&'static str),
}

impl Error {
    /// A fixed label for metrics and spans (never derived from `Debug`).
    pub fn category(&self) -> &'static str {
        match self {
            Error::ReadSecret { .. } => "read_secret",
            Error::ReadConfigMap { .. } => "read_config_map",
            Error::ReadNamespace { .. } => "read_namespace",
            Error::Apply { .. } => "apply",
            Error::Prune { .. } => "prune",
            Error::PatchStatus(_) => "patch_status",
            Error::Serialize { .. } => "serialize",
            Error::MissingMetadata(_) => "missing_metadata",
        }
    }

    /// What a store's status says when this failure persists: applying or pruning a child the API server keeps
    /// refusing (a ResourceQuota, an admission webhook, an exhausted Service IP range, a missing permission) is
    /// the user's to see, not only the operator's log. The API server's own message, not the client's debug dump.
    pub fn as_blocked(&self) -> Option<Blocked> {
        let (reason, what, source) = match self {
            Error::Apply { kind, name, source } => {
                ("ApplyFailed", format!("applying {kind} {name}"), source)
            }
            Error::Prune { kind, name, source } => {
                ("PruneFailed", format!("deleting {kind} {name}"), source)
            }
            _ => return None,
        };
        let why = match source {
            kube::Error::Api(status) => format!("{} (HTTP {})", status.message, status.code),
            other => other.to_string(),
        };
        Some(Blocked {
            reason,
            message: format!("{what} failed: {why}; retrying with backoff"),
        })
    }
}

/// Why a store cannot be rendered now: shown as `ConfigReady=False` / `Ready=False` with this reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// CamelCase reason for the condition.
    pub reason: &'static str,
    /// The field at fault and what to do.
    pub message: String,
}

impl From<Blocked> for Observed {
    fn from(b: Blocked) -> Self {
        Observed::Blocked {
            reason: b.reason.to_string(),
            message: b.message,
        }
    }
}

impl From<Refusal> for Blocked {
    fn from(r: Refusal) -> Self {
        Blocked {
            reason: "InvalidSpec",
            message: r.to_string(),
        }
    }
}
