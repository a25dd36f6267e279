//! One run of the kube-runtime Controller: the store watch, the child caches, the referenced-Secret watch, until
//! shutdown, a lost Lease, or a platform change.
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::PartialObjectMeta;
use kube::core::DeserializeGuard;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use tokio::sync::watch;
use tracing::{info, warn};

use super::context::Context;
use super::leading::lost_lease;
use super::platform_watch::platform_change;
use super::signals::wait_for;
use super::{RunConfig, RunError, caches, error_policy, reconcile};
use crate::api::v1alpha1::ZotArtifactStore;
use crate::http::Readiness;
use crate::leader::Role;
use crate::metrics::Metrics;
use crate::platform::Platform;
use crate::validate;

/// How often the start-up looks whether every cache has listed once.
const CACHE_SYNC_POLL: Duration = Duration::from_millis(100);

/// Why the controller stopped without an error.
pub enum Stopped {
    Shutdown,
    /// An API group the rendering depends on appeared or disappeared: run again with the new facts.
    PlatformChanged(Platform),
}

/// Runs the controller for `platform` until it stops.
pub async fn control(
    client: Client,
    platform: Platform,
    metrics: Metrics,
    readiness: Readiness,
    config: &RunConfig,
    shutdown: watch::Receiver<bool>,
    role: Option<watch::Receiver<Role>>,
) -> Result<Stopped, RunError> {
    let lost = lost_lease(role);
    let scope = &config.scope;
    let (changed_tx, mut changed_rx) = watch::channel(None::<Platform>);
    let platform_watch = tokio::spawn({
        let (client, watched) = (client.clone(), platform.clone());
        let default_image = platform.default_image.clone();
        async move {
            if let Some(next) = platform_change(client, watched, default_image).await {
                let _ = changed_tx.send(Some(next));
            }
        }
    });

    let stores = scope.api::<DeserializeGuard<ZotArtifactStore>>(&client);
    let (main_store, main_writer) = kube::runtime::reflector::store();
    let deleted = metrics.clone();
    let main_changes = watcher(stores, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|guard| {
            if let Ok(store) = guard.0.as_mut() {
                crate::apply::slim(&mut store.metadata);
            }
        })
        .reflect(main_writer)
        .inspect_ok(move |event| {
            // A deleted store leaves the per-store gauges.
            if let watcher::Event::Delete(store) = event {
                deleted.forget_store(&store.namespace().unwrap_or_default(), &store.name_any());
            }
        })
        .applied_objects();
    let controller = Controller::for_stream(main_changes, main_store.clone())
        .with_config(kube::runtime::controller::Config::default().concurrency(config.concurrency));
    let (children, controller) = caches::watch(&client, scope, &platform, controller);
    let (pods, mut controller) = super::pods::watch(&client, scope, controller);
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

    // Push and pull Secret requests: their own controllers, for as long as this one runs.
    let access = tokio::spawn(crate::access::controller::run(
        client.clone(),
        platform.clone(),
        scope.clone(),
        futures::future::pending::<()>(),
    ));

    let reporter = Reporter {
        controller: "zot-operator".into(),
        instance: config.instance.clone(),
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let mut ctx = Context::new(
        client,
        platform,
        children.clone(),
        pods,
        recorder,
        metrics,
        crate::s3::Client::new().map_err(RunError::S3Client)?,
        crate::keycloak::Client::new().map_err(RunError::KeycloakClient)?,
    );
    ctx.serving_lifetime = config.serving_lifetime;
    let ctx = Arc::new(ctx);
    tokio::spawn(mark_synced(
        children.clone(),
        main_store.clone(),
        ctx.clone(),
        readiness,
    ));
    let counting = tokio::spawn(count_cached(children, main_store, ctx.clone()));

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
    access.abort();
    platform_watch.abort();
    counting.abort();
    if *lost_rx.borrow_and_update() {
        return Err(RunError::LostLease);
    }
    if let Some(next) = changed_rx.borrow_and_update().clone() {
        return Ok(Stopped::PlatformChanged(next));
    }
    Ok(Stopped::Shutdown)
}

/// Looks (rather than waits: see [`caches::synced`]; the controller itself waits on the stores' readiness) until
/// every cache has listed, then tells the reconciles and /readyz.
async fn mark_synced(
    children: crate::children::Caches,
    stores: Store<DeserializeGuard<ZotArtifactStore>>,
    ctx: Arc<Context>,
    readiness: Readiness,
) {
    let mut tick = tokio::time::interval(CACHE_SYNC_POLL);
    loop {
        tick.tick().await;
        let children_ready = caches::synced(&children);
        let stores_ready = stores.wait_until_ready().now_or_never();
        match (children_ready, stores_ready) {
            (Some(Ok(())), Some(Ok(()))) => {
                ctx.mark_caches_synced();
                readiness.set_synced(true);
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
}

/// How often the cache gauges are brought up to date.
const CACHE_COUNT_PERIOD: Duration = Duration::from_secs(5);

/// Keeps `zot_operator_cache_objects` and `zot_operator_cache_text_bytes` up to date: how many objects each cache
/// holds, and how much text.
async fn count_cached(
    children: crate::children::Caches,
    stores: Store<DeserializeGuard<ZotArtifactStore>>,
    ctx: Arc<Context>,
) {
    let mut tick = tokio::time::interval(CACHE_COUNT_PERIOD);
    loop {
        tick.tick().await;
        for (kind, count, bytes) in caches::counts(&children) {
            ctx.metrics.set_cache_objects(kind, count);
            ctx.metrics.set_cache_text_bytes(kind, bytes);
        }
        ctx.metrics
            .set_cache_objects("ZotArtifactStore", stores.state().len());
        ctx.metrics.set_cache_objects("Pod", ctx.pods.state().len());
    }
}

/// The stores in the Secret's namespace whose spec names it.
fn stores_referencing(
    stores: &Store<DeserializeGuard<ZotArtifactStore>>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<DeserializeGuard<ZotArtifactStore>>> {
    let (Some(ns), name) = (secret.namespace(), secret.name_any()) else {
        return Vec::new();
    };
    // The operator's own Secrets reach their store through its `owns` watch: no need to validate every store of
    // the namespace for each of them.
    if secret
        .labels()
        .get(crate::api::names::label::MANAGED_BY)
        .map(String::as_str)
        == Some(crate::api::names::MANAGED_BY)
    {
        return Vec::new();
    }
    stores
        .state()
        .iter()
        .filter_map(|guard| guard.0.as_ref().ok())
        .filter(|store| store.namespace().as_deref() == Some(ns.as_str()))
        .filter(|store| {
            name == crate::api::names::Names::new(&store.name_any()).accounts_secret()
                || validate::validate(store, &ns)
                    .map(|v| {
                        // The Secret cert-manager issues tls.issuerRef's Certificate into: its arrival lets the
                        // store go on.
                        v.referenced_secrets().contains(&name)
                            || crate::render::issued_tls_name(&v) == name
                    })
                    .unwrap_or(false)
        })
        .map(|store| ObjectRef::new(&store.name_any()).within(&ns))
        .collect()
}
