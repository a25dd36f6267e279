//! The ZotArtifactStore controller: the run of the operator (wait for the CRD, discover the platform, lead, run
//! the controller, restart it when the platform changes) and the reconcile pipeline.
mod bucket;
mod caches;
mod context;
mod control;
mod deletion;
mod dereference;
mod error;
mod events;
mod identity;
mod leading;
mod observe;
mod platform_watch;
mod pods;
mod reconcile;
mod report;
mod scanner;
mod session;
mod signals;
mod signing;
mod tls;

use std::net::SocketAddr;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use tracing::info;

pub use context::Context;
pub use error::{Blocked, Error, MAX_BACKOFF, backoff, error_policy};
pub use leading::lease_config;
pub use reconcile::reconcile;

pub use crate::scope::{Scope, ScopeError};

use crate::http::Readiness;
use crate::leader::{Election, LeaseConfig};
use crate::metrics::Metrics;
use signals::{shutdown_signal, wait_for};

/// Name of the operator's CRD, awaited at start.
pub const CRD_NAME: &str = "zotartifactstores.artifact.zotregistry.io";

/// How `zot-operator run` is set up.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Address of /metrics, /healthz and /readyz.
    pub http_addr: SocketAddr,
    /// Lease to hold; None runs without leader election (one replica only).
    pub lease: Option<LeaseConfig>,
    /// zot image for stores that name none (RELATED_IMAGE_ZOT).
    pub default_image: String,
    /// Name of this replica in Events.
    pub instance: Option<String>,
    /// The namespaces whose stores are reconciled (WATCH_NAMESPACE).
    pub scope: Scope,
    /// Lifetime of the serving certificates the stores' own CAs sign (renewed after two thirds of it).
    pub serving_lifetime: std::time::Duration,
    /// How many stores are reconciled at once at most (`--max-concurrent-reconciles`).
    pub concurrency: u16,
}

/// Stores reconciled at once unless `--max-concurrent-reconciles` says otherwise: enough to keep a reconcile's
/// round trips overlapping, few enough that a thousand new stores queue instead of overloading the API server.
pub const DEFAULT_CONCURRENCY: u16 = 8;

/// Why the operator stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("connecting to the Kubernetes API: {0}")]
    Client(#[source] crate::client::ConnectError),
    #[error("waiting for the CRD {CRD_NAME}: {0}")]
    Crd(#[source] kube::runtime::wait::Error),
    #[error("discovering the platform: {0}")]
    Discovery(#[source] kube::Error),
    #[error("setting up metrics: {0}")]
    Metrics(String),
    #[error("setting up the S3 client: {0}")]
    S3Client(#[source] reqwest::Error),
    #[error("setting up the Keycloak client: {0}")]
    KeycloakClient(#[source] reqwest::Error),
    #[error("lost the leader lease; stopping so that the new leader alone reconciles")]
    LostLease,
}

/// Runs the operator until SIGTERM or Ctrl-C.
pub async fn run(config: RunConfig) -> Result<(), RunError> {
    let proxy = crate::platform::Proxy::from_env();
    let client = crate::client::connect(&proxy)
        .await
        .map_err(RunError::Client)?;
    let shutdown = shutdown_signal();
    let metrics = Metrics::new().map_err(|e| RunError::Metrics(e.to_string()))?;
    let readiness = Readiness::new();
    let http = tokio::spawn(crate::http::serve(
        config.http_addr,
        metrics.clone(),
        readiness.clone(),
        wait_for(shutdown.clone()),
    ));

    info!(crd = CRD_NAME, "waiting for the CRD to be established");
    // Until it is, /readyz says what is missing and what to do.
    readiness.set_problem(Some(format!(
        "waiting for the CRD {CRD_NAME} to be established: install it (zot-operator crd | kubectl apply \
         --server-side -f -, or kubectl apply -k config/default)"
    )));
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let established = kube::runtime::wait::await_condition(
        crds,
        CRD_NAME,
        kube::runtime::wait::conditions::is_crd_established(),
    );
    tokio::select! {
        r = established => { r.map_err(RunError::Crd)?; }
        _ = wait_for(shutdown.clone()) => return Ok(()),
    }
    readiness.set_problem(None);

    let platform = crate::openshift::discover(&client, config.default_image.clone(), proxy)
        .await
        .map_err(RunError::Discovery)?;
    info!(openshift = platform.openshift, apps_domain = ?platform.apps_domain, service_monitors = platform.service_monitor_crd, "platform discovered");

    let mut election = config
        .lease
        .clone()
        .map(|lease| Election::start(client.clone(), lease));
    if let Some(campaign) = election.as_mut()
        && let leading::Waited::ShutDown =
            leading::until_leader(campaign, &readiness, shutdown.clone()).await
    {
        if let Some(e) = election {
            e.release().await;
        }
        return Ok(());
    }
    readiness.set_leader(true);
    info!(scope = %config.scope, "leading: starting the controller");

    let role = election.as_ref().map(Election::subscribe);
    let mut platform = platform;
    let result = loop {
        let stopped = control::control(
            client.clone(),
            platform.clone(),
            metrics.clone(),
            readiness.clone(),
            &config,
            shutdown.clone(),
            role.clone(),
        )
        .await;
        match stopped {
            Ok(control::Stopped::PlatformChanged(next)) => {
                info!(openshift = next.openshift, apps_domain = ?next.apps_domain, service_monitors = next.service_monitor_crd, "the platform changed: restarting the controller");
                readiness.set_synced(false);
                platform = next;
            }
            Ok(control::Stopped::Shutdown) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    if let Some(e) = election {
        e.release().await;
    }
    let _ = http.await;
    result
}
