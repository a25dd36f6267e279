//! What can go wrong in a reconcile, named after the step that failed, and what the controller then does.
use std::sync::Arc;
use std::time::Duration;

use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use tracing::{info, warn};

use super::context::Context;
use crate::api::v1alpha1::ZotArtifactStore;
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
    /// Applying or pruning a child.
    #[error(transparent)]
    Apply(#[from] crate::apply::Error),
    /// Using the store's object storage (the bucket before zot starts, or its clean-up on deletion).
    #[error(transparent)]
    Storage(#[from] crate::s3::Error),
    /// Keycloak, asked before zot uses its realm and client, refused or did not answer.
    #[error(transparent)]
    Keycloak(#[from] crate::keycloak::Error),
    /// Adding or removing the store's finalizer.
    #[error("updating the finalizers: {0}")]
    Finalizer(#[source] kube::Error),
    /// Stopping zot (deleting its Deployment) before its data is deleted.
    #[error("deleting zot's Deployment: {0}")]
    DeleteWorkload(#[source] kube::Error),
    /// Writing the store's status.
    #[error("patching the status: {0}")]
    PatchStatus(#[source] kube::Error),
    /// Generating the store's signing key pair.
    #[error("generating the signing key pair: {0}")]
    SigningKey(String),
    /// Creating the Secret of the store's signing key pair.
    #[error("creating Secret {name} for the signing key pair: {source}")]
    CreateSigningKey {
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Making the random keys of zot's session cookies (the operating system gave no random bytes).
    #[error("generating session keys: {0}")]
    GenerateSessionKeys(String),
    /// Making the store's CA or serving certificate.
    #[error("making the store's certificate: {0}")]
    Certificate(String),
    /// Applying the cert-manager Certificate of tls.issuerRef.
    #[error("applying the cert-manager Certificate: {0}")]
    ApplyCertificate(#[source] kube::Error),
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
            Error::Apply(e) => e.category(),
            Error::Storage(_) => "storage",
            Error::Keycloak(_) => "keycloak",
            Error::Finalizer(_) => "finalizer",
            Error::DeleteWorkload(_) => "delete_workload",
            Error::PatchStatus(_) => "patch_status",
            Error::MissingMetadata(_) => "missing_metadata",
            Error::SigningKey(_) => "signing_key",
            Error::CreateSigningKey { .. } => "create_signing_key",
            Error::GenerateSessionKeys(_) => "session_keys",
            Error::Certificate(_) => "certificate",
            Error::ApplyCertificate(_) => "apply_certificate",
        }
    }

    /// What a store's status says when this failure persists: applying or pruning a child the API server keeps
    /// refusing (a ResourceQuota, an admission webhook, an exhausted Service IP range, a missing permission) is
    /// the user's to see, not only the operator's log.
    pub fn as_blocked(&self) -> Option<Blocked> {
        match self {
            // An API server that sheds load refuses nothing, and a namespace being deleted takes the store with
            // it: neither is the user's to fix.
            _ if self.is_overload() || self.namespace_terminating() => None,
            Error::Apply(e) => {
                let (reason, message) = e.refusal();
                Some(Blocked { reason, message })
            }
            _ => None,
        }
    }
}

impl Error {
    /// The API server's answer, when the failure is one.
    fn api_status(&self) -> Option<&kube::core::Status> {
        let source = match self {
            Error::Apply(crate::apply::Error::Apply { source, .. })
            | Error::Apply(crate::apply::Error::Prune { source, .. })
            | Error::ReadSecret { source, .. }
            | Error::ReadConfigMap { source, .. }
            | Error::ReadNamespace { source, .. }
            | Error::CreateSigningKey { source, .. }
            | Error::Finalizer(source)
            | Error::DeleteWorkload(source)
            | Error::PatchStatus(source)
            | Error::ApplyCertificate(source) => source,
            _ => return None,
        };
        match source {
            kube::Error::Api(status) => Some(status),
            _ => None,
        }
    }

    /// The API server shed the request (API Priority and Fairness' 429, a 5xx such as etcd's 504 timeout): back off
    /// and try again, without a word in the store's status.
    pub fn is_overload(&self) -> bool {
        self.api_status()
            .is_some_and(|s| s.code == 429 || s.code >= 500)
    }

    /// The store's namespace is being deleted: nothing can be created in it any more (a child the namespace's
    /// deletion took is refused), and the store goes with it. Nothing to retry or to report.
    pub fn namespace_terminating(&self) -> bool {
        self.api_status()
            .and_then(|s| s.details.as_ref())
            .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
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

/// Longest wait between two attempts at a store that keeps failing.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The wait after a transient failure that had `failures` failures before it: 1 s, 2 s, 4 s … doubling up to
/// [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.min(9)).min(MAX_BACKOFF)
}

/// [`backoff`] stretched by a random 0–50 %, so that stores that failed together (an overloaded API server fails
/// hundreds at once) do not all come back in the same second.
pub fn jittered(wait: Duration) -> Duration {
    let spread = getrandom::u32().unwrap_or(0) % 501;
    wait + wait * spread / 1000
}

/// Transient failures back off exponentially per store ([`backoff`]); everything else waits for a change.
pub fn error_policy(
    guard: Arc<DeserializeGuard<ZotArtifactStore>>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    let key = match &guard.0 {
        Ok(store) => ObjectRef::from_obj(store),
        Err(_) => return Action::await_change(),
    };
    match error {
        Error::MissingMetadata(_) => Action::await_change(),
        _ if error.namespace_terminating() => {
            info!(store = %key.name, namespace = ?key.namespace, "the namespace is being deleted: leaving the store be");
            Action::await_change()
        }
        Error::ReadSecret { .. }
        | Error::ReadConfigMap { .. }
        | Error::ReadNamespace { .. }
        | Error::Apply(_)
        | Error::Storage(_)
        | Error::Keycloak(_)
        | Error::Finalizer(_)
        | Error::DeleteWorkload(_)
        | Error::GenerateSessionKeys(_)
        | Error::Certificate(_)
        | Error::ApplyCertificate(_)
        | Error::PatchStatus(_)
        | Error::SigningKey(_)
        | Error::CreateSigningKey { .. } => {
            let wait = jittered(backoff(ctx.count_failure(&key)));
            warn!(error = %error, category = error.category(), retry_in_s = wait.as_secs(), "reconcile failed");
            Action::requeue(wait)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_one_second_and_reaches_its_five_minute_cap() {
        let waits: Vec<u64> = (0..12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn a_jittered_wait_is_between_the_backoff_and_half_as_much_again() {
        let waits: Vec<Duration> = (0..50).map(|_| jittered(Duration::from_secs(8))).collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= Duration::from_secs(8) && *w <= Duration::from_secs(12))
        );
        assert!(waits.iter().any(|w| *w != waits[0]), "{waits:?}");
    }

    #[test]
    fn a_shed_request_is_an_overload_and_never_a_refusal_in_the_status() {
        let failed = |code: u16| {
            Error::Apply(crate::apply::Error::Apply {
                kind: "Service",
                name: "zot".into(),
                source: kube::Error::Api(Box::new(
                    kube::core::Status::failure("etcdserver: request timed out", "Timeout")
                        .with_code(code),
                )),
            })
        };
        for code in [429, 500, 504] {
            assert!(failed(code).is_overload(), "{code}");
            assert_eq!(failed(code).as_blocked(), None, "{code}");
        }
        assert!(!failed(403).is_overload());
        assert!(failed(403).as_blocked().is_some());
    }

    #[test]
    fn a_refusal_because_the_namespace_is_being_deleted_is_neither_retried_nor_reported() {
        let mut status = kube::core::Status::failure(
            "secrets \"zot-ca\" is forbidden: unable to create new content in namespace a because it is being terminated",
            "Forbidden",
        )
        .with_code(403);
        status.details = Some(serde_json::from_value(serde_json::json!({
            "name": "zot-ca", "kind": "secrets",
            "causes": [{"reason": "NamespaceTerminating", "message": "namespace a is being terminated", "field": "metadata.namespace"}],
        })).unwrap());
        let error = Error::Apply(crate::apply::Error::Apply {
            kind: "Secret",
            name: "zot-ca".into(),
            source: kube::Error::Api(Box::new(status)),
        });
        assert!(error.namespace_terminating());
        assert_eq!(error.as_blocked(), None);
    }
}
