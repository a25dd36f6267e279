//! Caches of every child kind (reflectors over label-selected watches) and the streams that trigger reconciles
//! when a child changes. The caches make a reconcile's cost independent of how many stores exist: prune and status
//! read them instead of listing.
use std::fmt::Debug;

use futures::{FutureExt, Stream, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::DynamicObject;
use kube::core::ApiResource;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::Scope;
use crate::apply::managed_selector;
use crate::openshift::route::Route;

/// A boxed stream of changed children of one kind.
pub type Changes<K> = std::pin::Pin<Box<dyn Stream<Item = Result<K, watcher::Error>> + Send>>;

/// The caches of every kind a store owns.
#[derive(Clone)]
pub struct Children {
    pub service_accounts: Store<ServiceAccount>,
    pub secrets: Store<Secret>,
    pub config_maps: Store<ConfigMap>,
    pub claims: Store<PersistentVolumeClaim>,
    pub services: Store<Service>,
    pub network_policies: Store<NetworkPolicy>,
    pub disruption_budgets: Store<PodDisruptionBudget>,
    pub ingresses: Store<Ingress>,
    pub statefulsets: Store<StatefulSet>,
    pub deployments: Store<Deployment>,
    pub autoscalers: Store<HorizontalPodAutoscaler>,
    /// Only where route.openshift.io is served.
    pub routes: Option<Store<Route>>,
    /// Only where the ServiceMonitor CRD is installed, with its resource.
    pub service_monitors: Option<(ApiResource, Store<DynamicObject>)>,
}

/// A cache of the scope's `K` objects carrying the operator's label, trimmed by [`crate::apply::slim`], and the
/// stream of their changes.
pub fn cache<K>(client: &Client, scope: &Scope) -> (Store<K>, Changes<K>)
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let config = watcher::Config::default().labels(&managed_selector());
    let stream = watcher(scope.api::<K>(client), config)
        .default_backoff()
        .modify(|child| crate::apply::slim(child.meta_mut()))
        .reflect(writer)
        .touched_objects()
        .boxed();
    (reader, stream)
}

/// [`cache`] for a kind known at run time.
pub fn dynamic_cache(
    client: &Client,
    scope: &Scope,
    resource: &ApiResource,
) -> (Store<DynamicObject>, Changes<DynamicObject>) {
    let writer = reflector::store::Writer::new(resource.clone());
    let reader = writer.as_reader();
    let config = watcher::Config::default().labels(&managed_selector());
    let stream = watcher(scope.dynamic_api(client, resource), config)
        .default_backoff()
        .modify(|child| crate::apply::slim(&mut child.metadata))
        .reflect(writer)
        .touched_objects()
        .boxed();
    (reader, stream)
}

impl Children {
    /// Whether every cache has listed its objects once: `None` while one has not, an error when one stopped.
    ///
    /// It looks and never waits: a reflector's readiness is a oneshot that wakes only its latest waiter, so a
    /// second task waiting on it would starve the first (the controller waits on the stores' own).
    pub fn synced(&self) -> Option<Result<(), reflector::store::WriterDropped>> {
        self.ready().now_or_never()
    }

    async fn ready(&self) -> Result<(), reflector::store::WriterDropped> {
        self.service_accounts.wait_until_ready().await?;
        self.secrets.wait_until_ready().await?;
        self.config_maps.wait_until_ready().await?;
        self.claims.wait_until_ready().await?;
        self.services.wait_until_ready().await?;
        self.network_policies.wait_until_ready().await?;
        self.disruption_budgets.wait_until_ready().await?;
        self.ingresses.wait_until_ready().await?;
        self.statefulsets.wait_until_ready().await?;
        self.deployments.wait_until_ready().await?;
        self.autoscalers.wait_until_ready().await?;
        if let Some(routes) = &self.routes {
            routes.wait_until_ready().await?;
        }
        if let Some((_, monitors)) = &self.service_monitors {
            monitors.wait_until_ready().await?;
        }
        Ok(())
    }
}
