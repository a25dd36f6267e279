//! The ZotArtifactStore controller: watches, leader election and the reconcile pipeline.
mod children;
mod context;
mod error;
mod reconcile;
mod scope;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PartialObjectMeta};
use kube::core::DeserializeGuard;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use tokio::sync::watch;
use tracing::{info, warn};

pub use children::Children;
pub use context::Context;
pub use error::{Blocked, Error};
pub use reconcile::{error_policy, reconcile};
pub use scope::{Scope, ScopeError};

use crate::api::v1alpha1::ZotArtifactStore;
use crate::http::Readiness;
use crate::leader::{Election, LeaseConfig, Role};
use crate::metrics::Metrics;
use crate::validate;

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
}

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
    #[error("lost the leader lease; stopping so that the new leader alone reconciles")]
    LostLease,
}

/// How often the start-up looks whether every cache has listed once.
const CACHE_SYNC_POLL: Duration = Duration::from_millis(100);

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

    let platform = crate::openshift::discover(&client, config.default_image.clone(), proxy)
        .await
        .map_err(RunError::Discovery)?;
    info!(openshift = platform.openshift, apps_domain = ?platform.apps_domain, service_monitors = platform.service_monitor_crd, "platform discovered");

    let mut election = config
        .lease
        .clone()
        .map(|lease| Election::start(client.clone(), lease));
    if let Some(campaign) = election.as_mut() {
        // A standby is ready: it serves probes and waits for the lease.
        readiness.set_synced(true);
        info!("waiting to become the leader");
        let stopped = tokio::select! {
            _ = campaign.until_leader() => false,
            _ = wait_for(shutdown.clone()) => true,
        };
        if stopped {
            if let Some(e) = election {
                e.release().await;
            }
            return Ok(());
        }
        readiness.set_synced(false);
    }
    readiness.set_leader(true);
    info!(scope = %config.scope, "leading: starting the controller");

    let role = election.as_ref().map(Election::subscribe);
    let mut platform = platform;
    let result = loop {
        let stopped = control(
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
            Ok(Stopped::PlatformChanged(next)) => {
                info!(openshift = next.openshift, apps_domain = ?next.apps_domain, service_monitors = next.service_monitor_crd, "the platform changed: restarting the controller");
                readiness.set_synced(false);
                platform = next;
            }
            Ok(Stopped::Shutdown) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    if let Some(e) = election {
        e.release().await;
    }
    let _ = http.await;
    result
}

async fn control(
    client: Client,
    platform: crate::platform::Platform,
    metrics: Metrics,
    readiness: Readiness,
    config: &RunConfig,
    shutdown: watch::Receiver<bool>,
    role: Option<watch::Receiver<Role>>,
) -> Result<Stopped, RunError> {
    let lost = lost_lease(role);
    let scope = &config.scope;
    let (changed_tx, mut changed_rx) = watch::channel(None::<crate::platform::Platform>);
    let default_image = platform.default_image.clone();
    let watched = platform.clone();
    let discovery_client = client.clone();
    let platform_watch = tokio::spawn(async move {
        if let Some(next) = platform_change(discovery_client, watched, default_image).await {
            let _ = changed_tx.send(Some(next));
        }
    });
    let (service_accounts, sa_changes) = children::cache::<ServiceAccount>(&client, scope);
    let (secrets, secret_changes) = children::cache::<Secret>(&client, scope);
    let (config_maps, cm_changes) = children::cache::<ConfigMap>(&client, scope);
    let (claims, claim_changes) = children::cache::<PersistentVolumeClaim>(&client, scope);
    let (services, service_changes) = children::cache::<Service>(&client, scope);
    let (network_policies, np_changes) = children::cache::<NetworkPolicy>(&client, scope);
    let (disruption_budgets, pdb_changes) = children::cache::<PodDisruptionBudget>(&client, scope);
    let (ingresses, ingress_changes) = children::cache::<Ingress>(&client, scope);
    let (statefulsets, sts_changes) = children::cache::<StatefulSet>(&client, scope);
    let (deployments, deploy_changes) = children::cache::<Deployment>(&client, scope);
    let (autoscalers, hpa_changes) = children::cache::<HorizontalPodAutoscaler>(&client, scope);
    let monitor_resource = crate::render::service_monitor_resource();
    let monitors = platform
        .service_monitor_crd
        .then(|| children::dynamic_cache(&client, scope, &monitor_resource));

    let stores: Api<DeserializeGuard<ZotArtifactStore>> = scope.api(&client);
    let (main_store, main_writer) = kube::runtime::reflector::store();
    let main_changes = watcher(stores, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(main_writer)
        .applied_objects();
    let mut controller = Controller::for_stream(main_changes, main_store.clone())
        .owns_stream(sa_changes)
        .owns_stream(secret_changes)
        .owns_stream(cm_changes)
        .owns_stream(claim_changes)
        .owns_stream(service_changes)
        .owns_stream(np_changes)
        .owns_stream(pdb_changes)
        .owns_stream(ingress_changes)
        .owns_stream(sts_changes)
        .owns_stream(deploy_changes)
        .owns_stream(hpa_changes);
    let routes = match platform
        .openshift
        .then(|| children::cache::<crate::openshift::route::Route>(&client, scope))
    {
        Some((store, changes)) => {
            controller = controller.owns_stream(changes);
            Some(store)
        }
        None => None,
    };
    let service_monitors = match monitors {
        Some((store, changes)) => {
            controller = controller.owns_stream_with(changes, monitor_resource.clone());
            Some((monitor_resource, store))
        }
        None => None,
    };
    // Secrets the stores reference (credentials, certificates): a change re-renders the stores that name them,
    // so that a missing Secret, once created, recovers the store and a rotated one rolls its pods.
    let store_cache = main_store.clone();
    let referenced = watcher(
        scope.api::<PartialObjectMeta<Secret>>(&client),
        watcher::Config::default().any_semantic(),
    )
    .default_backoff()
    .touched_objects();
    controller = controller.watches_stream(referenced, move |secret: PartialObjectMeta<Secret>| {
        stores_referencing(&store_cache, &secret)
    });

    let children = Children {
        service_accounts,
        secrets,
        config_maps,
        claims,
        services,
        network_policies,
        disruption_budgets,
        ingresses,
        statefulsets,
        deployments,
        autoscalers,
        routes,
        service_monitors,
    };
    let reporter = Reporter {
        controller: "zot-operator".into(),
        instance: config.instance.clone(),
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let ctx = Arc::new(Context::new(
        client,
        platform,
        children.clone(),
        recorder,
        metrics,
    ));

    // Look rather than wait (see Children::synced; the controller itself waits on the stores' readiness), and tell
    // the reconciles and /readyz once every cache has listed.
    let ready_flag = readiness.clone();
    let synced_ctx = ctx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CACHE_SYNC_POLL);
        loop {
            tick.tick().await;
            let children_ready = children.synced();
            let stores_ready = main_store.wait_until_ready().now_or_never();
            match (children_ready, stores_ready) {
                (Some(Ok(())), Some(Ok(()))) => {
                    synced_ctx.mark_caches_synced();
                    ready_flag.set_synced(true);
                    info!("caches synced");
                    break;
                }
                (Some(Err(e)), _) | (_, Some(Err(e))) => {
                    warn!(error = %e, "a cache stopped before it synced");
                    break;
                }
                _ => {}
            }
        }
    });

    let (lost_tx, mut lost_rx) = watch::channel(false);
    tokio::spawn(async move {
        if lost.await {
            let _ = lost_tx.send(true);
        }
    });
    let mut lost_rx2 = lost_rx.clone();
    let mut changed_rx2 = changed_rx.clone();
    controller
        .graceful_shutdown_on(wait_for(shutdown))
        .graceful_shutdown_on(async move {
            let _ = lost_rx2.wait_for(|v| *v).await;
        })
        .graceful_shutdown_on(async move {
            let _ = changed_rx2.wait_for(Option::is_some).await;
        })
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                match e {
                    kube::runtime::controller::Error::ReconcilerFailed(..) => {}
                    other => warn!(error = %other, "controller event"),
                }
            }
        })
        .await;
    info!("controller stopped");
    platform_watch.abort();
    if *lost_rx.borrow_and_update() {
        return Err(RunError::LostLease);
    }
    if let Some(next) = changed_rx.borrow_and_update().clone() {
        return Ok(Stopped::PlatformChanged(next));
    }
    Ok(Stopped::Shutdown)
}

/// Why the controller stopped without an error.
enum Stopped {
    Shutdown,
    /// An API group the rendering depends on appeared or disappeared: run again with the new facts.
    PlatformChanged(crate::platform::Platform),
}

/// Resolves with the new platform when a CRD that platform discovery depends on (the ServiceMonitor CRD, an
/// `*.openshift.io` CRD) is added or removed, or, on OpenShift, when ingresses.config.openshift.io/cluster changes
/// (a new apps domain moves default Route hosts), and discovery then answers differently. Event-driven: watches,
/// no polling.
async fn platform_change(
    client: Client,
    current: crate::platform::Platform,
    default_image: String,
) -> Option<crate::platform::Platform> {
    let crds: Api<PartialObjectMeta<CustomResourceDefinition>> = Api::all(client.clone());
    let crd_changes = watcher(crds, watcher::Config::default())
        .default_backoff()
        .filter_map(|event| async move {
            match event {
                Ok(watcher::Event::Apply(crd)) | Ok(watcher::Event::Delete(crd)) => {
                    let name = crd.name_any();
                    (name.starts_with("servicemonitors.") || name.ends_with(".openshift.io"))
                        .then_some(())
                }
                _ => None,
            }
        });
    let domain_changes = if current.openshift {
        let ingresses: Api<crate::openshift::generated::config_ingress::Ingress> =
            Api::all(client.clone());
        let config = watcher::Config::default().fields(&format!(
            "metadata.name={}",
            crate::openshift::CLUSTER_INGRESS
        ));
        watcher(ingresses, config)
            .default_backoff()
            .filter_map(|event| async move {
                matches!(
                    event,
                    Ok(watcher::Event::Apply(_)) | Ok(watcher::Event::Delete(_))
                )
                .then_some(())
            })
            .boxed()
    } else {
        futures::stream::empty().boxed()
    };
    let mut signals = futures::stream::select(crd_changes.boxed(), domain_changes);
    while signals.next().await.is_some() {
        // The API server serves a new CRD's group a moment after the CRD object changes.
        tokio::time::sleep(Duration::from_secs(2)).await;
        match crate::openshift::discover(&client, default_image.clone(), current.proxy.clone())
            .await
        {
            Ok(next) if next != current => return Some(next),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "re-discovering the platform failed"),
        }
    }
    None
}

/// The stores in the Secret's namespace whose spec names it.
fn stores_referencing(
    stores: &kube::runtime::reflector::Store<DeserializeGuard<ZotArtifactStore>>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<DeserializeGuard<ZotArtifactStore>>> {
    let (Some(ns), name) = (secret.namespace(), secret.name_any()) else {
        return Vec::new();
    };
    stores
        .state()
        .iter()
        .filter_map(|guard| guard.0.as_ref().ok())
        .filter(|store| store.namespace().as_deref() == Some(ns.as_str()))
        .filter(|store| {
            validate::validate(store, &ns)
                .map(|v| v.referenced_secrets().contains(&name))
                .unwrap_or(false)
        })
        .map(|store| ObjectRef::new(&store.name_any()).within(&ns))
        .collect()
}

/// Resolves to true when the lease is lost after having been held (never, without election).
async fn lost_lease(role: Option<watch::Receiver<Role>>) -> bool {
    let Some(mut role) = role else {
        return std::future::pending().await;
    };
    loop {
        if *role.borrow_and_update() == Role::Standby {
            return true;
        }
        if role.changed().await.is_err() {
            return false;
        }
    }
}

/// A receiver that turns true on SIGTERM or Ctrl-C.
fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    warn!(error = %e, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
        info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

async fn wait_for(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|v| *v).await;
}

/// Default lease timings: renew every 5 s, taken over 15 s after the last renewal.
pub fn lease_config(namespace: String, name: String, identity: String) -> LeaseConfig {
    LeaseConfig {
        namespace,
        name,
        identity,
        lease_duration: Duration::from_secs(15),
        renew_every: Duration::from_secs(5),
    }
}
