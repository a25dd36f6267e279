//! The kinds of object a store owns, declared once and in the order the operator applies them (and `render`
//! prints them): identity and configuration first, workloads last, the autoscaler after its workload.
//!
//! Everything that goes over the kinds comes from [`with_child_kinds`]: the desired [`Objects`], the caches and
//! `owns` watches of the controller, `apply_all` and its pruning, `Desired`'s Debug and the CLI's output. A kind
//! added here is cached, watched, applied, pruned and printed; one left out is none of these.
use std::fmt::Debug;
use std::hash::Hash;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DynamicObject, GroupVersionKind};
use kube::core::ApiResource;
use kube::runtime::reflector::Store;
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cached::Cached;
use crate::openshift::route::Route;
use crate::platform::Platform;
use crate::scope::Scope;

/// Calls the macro `$m` with the child kinds as `field: Type` pairs, in apply order. The one list of child kinds.
macro_rules! with_child_kinds {
    ($m:ident) => {
        $m! {
            service_accounts: k8s_openapi::api::core::v1::ServiceAccount,
            secrets: k8s_openapi::api::core::v1::Secret,
            config_maps: k8s_openapi::api::core::v1::ConfigMap,
            claims: k8s_openapi::api::core::v1::PersistentVolumeClaim,
            services: k8s_openapi::api::core::v1::Service,
            network_policies: k8s_openapi::api::networking::v1::NetworkPolicy,
            disruption_budgets: k8s_openapi::api::policy::v1::PodDisruptionBudget,
            ingresses: k8s_openapi::api::networking::v1::Ingress,
            routes: $crate::openshift::route::Route,
            service_monitors: kube::api::DynamicObject,
            statefulsets: k8s_openapi::api::apps::v1::StatefulSet,
            deployments: k8s_openapi::api::apps::v1::Deployment,
            autoscalers: k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
        }
    };
}
pub(crate) use with_child_kinds;

/// What the operator needs to know of a child kind. `DynamicObject` stands for the one kind known only at run
/// time, the ServiceMonitor (its CRD may be absent).
pub trait ChildKind:
    Resource<DynamicType: Clone + Debug + Eq + Hash + Send + Sync + 'static>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The kind, as a fixed string for spans, metrics and Events.
    const KIND: &'static str;
    /// The kind's type information (`()` for compiled-in kinds).
    fn dyntype() -> Self::DynamicType;
    /// Whether the platform serves the kind (Routes only on OpenShift, ServiceMonitors only with their CRD).
    fn served(_platform: &Platform) -> bool {
        true
    }
    /// The kind's objects in one namespace.
    fn api(client: &Client, namespace: &str) -> Api<Self>;
    /// The kind's objects in the namespaces of `scope`.
    fn scope_api(client: &Client, scope: &Scope) -> Api<Self>;
    /// [`ChildKind::scope_api`], read into the caches' form.
    fn cache_api(client: &Client, scope: &Scope) -> Api<Cached<Self>>;
}

macro_rules! compiled_in_kinds {
    ($($kind:ty => $name:literal),* $(,)?) => {$(
        impl ChildKind for $kind {
            const KIND: &'static str = $name;
            fn dyntype() -> Self::DynamicType {}
            fn api(client: &Client, namespace: &str) -> Api<Self> {
                Api::namespaced(client.clone(), namespace)
            }
            fn scope_api(client: &Client, scope: &Scope) -> Api<Self> {
                scope.api(client)
            }
            fn cache_api(client: &Client, scope: &Scope) -> Api<Cached<Self>> {
                scope.api(client)
            }
        }
    )*};
}

compiled_in_kinds! {
    ServiceAccount => "ServiceAccount",
    Secret => "Secret",
    ConfigMap => "ConfigMap",
    PersistentVolumeClaim => "PersistentVolumeClaim",
    Service => "Service",
    NetworkPolicy => "NetworkPolicy",
    PodDisruptionBudget => "PodDisruptionBudget",
    Ingress => "Ingress",
    StatefulSet => "StatefulSet",
    Deployment => "Deployment",
    HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
}

impl ChildKind for Route {
    const KIND: &'static str = "Route";
    fn dyntype() -> Self::DynamicType {}
    fn served(platform: &Platform) -> bool {
        platform.openshift
    }
    fn api(client: &Client, namespace: &str) -> Api<Self> {
        Api::namespaced(client.clone(), namespace)
    }
    fn scope_api(client: &Client, scope: &Scope) -> Api<Self> {
        scope.api(client)
    }
    fn cache_api(client: &Client, scope: &Scope) -> Api<Cached<Self>> {
        scope.api(client)
    }
}

impl ChildKind for DynamicObject {
    const KIND: &'static str = "ServiceMonitor";
    fn dyntype() -> Self::DynamicType {
        service_monitor_resource()
    }
    fn served(platform: &Platform) -> bool {
        platform.service_monitor_crd
    }
    fn api(client: &Client, namespace: &str) -> Api<Self> {
        Api::namespaced_with(client.clone(), namespace, &service_monitor_resource())
    }
    fn scope_api(client: &Client, scope: &Scope) -> Api<Self> {
        scope.dynamic_api(client, &service_monitor_resource())
    }
    fn cache_api(client: &Client, scope: &Scope) -> Api<Cached<Self>> {
        scope.dynamic_api(client, &service_monitor_resource())
    }
}

/// The API resource of monitoring.coreos.com/v1 ServiceMonitors.
pub fn service_monitor_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("monitoring.coreos.com", "v1", "ServiceMonitor"),
        "servicemonitors",
    )
}

/// Something done with the objects of every kind in turn, in apply order (see [`Objects::visit`]).
pub trait Visitor {
    type Error;
    fn visit<K: ChildKind>(&mut self, objects: Vec<K>) -> Result<(), Self::Error>;
}

macro_rules! define_tables {
    ($($field:ident: $kind:ty),* $(,)?) => {
        /// The kinds a store owns, in apply order.
        pub const KINDS: &[&str] = &[$(<$kind as ChildKind>::KIND),*];

        /// Objects of every child kind, one list per kind.
        #[derive(Clone, Default, PartialEq)]
        pub struct Objects {
            $(pub $field: Vec<$kind>,)*
        }

        impl Objects {
            /// The names of the objects of each kind, in apply order (kinds without objects left out).
            pub fn names(&self) -> Vec<(&'static str, Vec<String>)> {
                let mut out = Vec::new();
                $(
                    if !self.$field.is_empty() {
                        out.push((
                            <$kind as ChildKind>::KIND,
                            self.$field.iter().map(|o| o.name_any()).collect(),
                        ));
                    }
                )*
                out
            }

            /// Hands the objects of each kind to `visitor`, in apply order.
            pub fn visit<V: Visitor>(self, visitor: &mut V) -> Result<(), V::Error> {
                $(visitor.visit(self.$field)?;)*
                Ok(())
            }
        }

        /// The controller's cache of each child kind ([`Cached`] objects); None where the platform does not
        /// serve the kind.
        #[derive(Clone, Default)]
        pub struct Caches {
            $(pub $field: Option<Store<Cached<$kind>>>,)*
        }
    };
}
with_child_kinds!(define_tables);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_with_configuration_before_workloads() {
        let mut unique = KINDS.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), KINDS.len(), "{KINDS:?}");
        let at = |kind: &str| KINDS.iter().position(|k| *k == kind);
        assert_eq!(at("ServiceAccount"), Some(0));
        assert!(at("ConfigMap") < at("StatefulSet"));
        assert!(at("Secret") < at("Deployment"));
        assert!(at("Deployment") < at("HorizontalPodAutoscaler"));
        assert_eq!(KINDS.last(), Some(&"HorizontalPodAutoscaler"));
    }

    #[test]
    fn routes_and_service_monitors_are_served_only_where_their_apis_are() {
        let vanilla = Platform::kubernetes();
        let openshift = Platform::openshift(None);
        assert!(!Route::served(&vanilla));
        assert!(Route::served(&openshift));
        assert!(!DynamicObject::served(&vanilla));
        assert!(Secret::served(&vanilla));
    }

    #[test]
    fn names_follow_the_apply_order() {
        let mut objects = Objects::default();
        let mut sts = StatefulSet::default();
        sts.metadata.name = Some("zot".into());
        let mut sa = ServiceAccount::default();
        sa.metadata.name = Some("zot".into());
        objects.statefulsets.push(sts);
        objects.service_accounts.push(sa);
        let kinds: Vec<_> = objects.names().into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, ["ServiceAccount", "StatefulSet"]);
    }
}
