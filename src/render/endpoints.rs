//! The addresses at which a store is reachable, for zot's external URL and the store's status.
use crate::api::v1alpha1::Endpoints;
use crate::platform::Platform;
use crate::validate::ValidatedStore;

/// In-cluster address (`<store>.<namespace>.svc:<port>`) and the address published by the Ingress or, on
/// OpenShift, the Route.
pub fn endpoints(store: &ValidatedStore, platform: &Platform) -> Endpoints {
    let networking = &store.spec.networking;
    let internal = format!(
        "{}.{}.svc:{}",
        store.name, store.namespace, networking.service.port
    );
    let ingress = networking
        .ingress
        .as_ref()
        .filter(|i| i.enabled)
        .and_then(|i| {
            let scheme = if i.tls.as_ref().is_some_and(|t| t.enabled) {
                "https"
            } else {
                "http"
            };
            i.host.as_ref().map(|host| format!("{scheme}://{host}"))
        });
    let route = networking
        .route
        .as_ref()
        .filter(|r| r.enabled && platform.openshift)
        .and_then(|r| {
            r.host.clone().or_else(|| {
                platform
                    .apps_domain
                    .as_ref()
                    .map(|domain| format!("{}-{}.{domain}", store.name, store.namespace))
            })
        })
        .map(|host| format!("https://{host}"));
    Endpoints {
        internal: Some(internal),
        external: ingress.or(route),
    }
}
