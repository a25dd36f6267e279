//! What every reconcile shares: the client, the platform facts, the caches, the event recorder and the metrics.
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::api::v1alpha1::{ZotArtifactStore, ZotArtifactStoreStatus};
use crate::children::Caches;
use crate::metrics::Metrics;
use crate::platform::Platform;

pub struct Context {
    pub client: Client,
    pub platform: Platform,
    pub children: Caches,
    /// The stores' zot pods, trimmed to their container statuses.
    pub pods: Store<Pod>,
    pub recorder: Recorder,
    pub metrics: Metrics,
    /// The operator's own S3 requests (bucket provisioning and clean-up).
    pub s3: crate::s3::Client,
    /// The operator's own questions to Keycloak (realm, issuer, scopes, client secret) before zot uses them.
    pub keycloak: crate::keycloak::Client,
    /// Buckets this operator created, per store UID: the status records them, but a reconcile may start from a
    /// cached store whose status predates that record.
    created_buckets: Mutex<HashMap<String, (String, String)>>,
    /// Recent answers of the registries of zot's vulnerability databases.
    pub registry_answers: super::scanner::Answers,
    /// Verdicts on signing key pairs already checked.
    pub signing_verdicts: super::signing::Verdicts,
    /// Consecutive transient failures per store, for the backoff.
    failures: Mutex<HashMap<(String, String), u32>>,
    /// Whether every cache of `children` has listed once (set by the one task that waits for them: a reflector's
    /// readiness wakes only its latest waiter, so reconciles read this flag instead of waiting themselves).
    caches_synced: AtomicBool,
    /// Lifetime of the serving certificates the stores' own CAs sign ([`crate::pki::SERVING_LIFETIME`] unless
    /// `--serving-cert-lifetime` says otherwise).
    pub serving_lifetime: std::time::Duration,
    /// Children this operator applied a moment ago that the caches may not show yet.
    pub applied: crate::writes::AppliedChildren,
    /// Statuses this operator wrote a moment ago that the store cache may not show yet.
    pub statuses: crate::writes::Recent<(String, String), ZotArtifactStoreStatus>,
    /// When each store's status was last written (the status changes of a store coming up are gathered).
    pub status_writes: crate::writes::LastWrites,
}

impl Context {
    // One argument per piece of the controller's shared state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: Client,
        platform: Platform,
        children: Caches,
        pods: Store<Pod>,
        recorder: Recorder,
        metrics: Metrics,
        s3: crate::s3::Client,
        keycloak: crate::keycloak::Client,
    ) -> Self {
        Self {
            client,
            platform,
            children,
            pods,
            recorder,
            metrics,
            s3,
            keycloak,
            created_buckets: Mutex::default(),
            signing_verdicts: super::signing::Verdicts::default(),
            registry_answers: super::scanner::Answers::default(),
            failures: Mutex::default(),
            caches_synced: AtomicBool::new(false),
            serving_lifetime: crate::pki::SERVING_LIFETIME,
            applied: crate::writes::AppliedChildren::default(),
            statuses: crate::writes::Recent::default(),
            status_writes: crate::writes::LastWrites::default(),
        }
    }

    pub fn caches_synced(&self) -> bool {
        self.caches_synced.load(Ordering::Acquire)
    }

    pub fn mark_caches_synced(&self) {
        self.caches_synced.store(true, Ordering::Release);
    }

    /// Remembers that the store with `uid` got `bucket` at `endpoint` from this operator.
    pub fn remember_created_bucket(&self, uid: &str, bucket: &str, endpoint: &str) {
        if let Ok(mut created) = self.created_buckets.lock() {
            created.insert(uid.to_string(), (bucket.to_string(), endpoint.to_string()));
        }
    }

    /// Whether this operator created `bucket` at `endpoint` for the store with `uid`.
    pub fn created_bucket(&self, uid: &str, bucket: &str, endpoint: &str) -> bool {
        self.created_buckets.lock().ok().is_some_and(|created| {
            created
                .get(uid)
                .is_some_and(|(b, e)| b == bucket && e == endpoint)
        })
    }

    /// Counts one more failure of `store` and returns how many came before it.
    pub fn count_failure(&self, store: &ObjectRef<ZotArtifactStore>) -> u32 {
        let Ok(mut failures) = self.failures.lock() else {
            return 0;
        };
        let n = failures.entry(key(store)).or_insert(0);
        *n = n.saturating_add(1);
        *n - 1
    }

    /// How many consecutive failures of `store` were counted so far.
    pub fn failures(&self, store: &ObjectRef<ZotArtifactStore>) -> u32 {
        self.failures
            .lock()
            .ok()
            .and_then(|f| f.get(&key(store)).copied())
            .unwrap_or(0)
    }

    /// Forgets the failures of `store` (it reconciled, or it is gone).
    pub fn forget_failures(&self, store: &ObjectRef<ZotArtifactStore>) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&key(store));
        }
    }
}

fn key(store: &ObjectRef<ZotArtifactStore>) -> (String, String) {
    (
        store.namespace.clone().unwrap_or_default(),
        store.name.clone(),
    )
}
