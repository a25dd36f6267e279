//! The addresses at which a store is reachable, for zot's external URL and the store's status.
use crate::api::v1alpha1::Endpoints;
use crate::platform::Platform;
use crate::validate::ValidatedStore;

/// In-cluster address (`<store>.<namespace>.svc:<port>`) and the address published by the Ingress or, on
/// OpenShift, the Route. A Route whose host OpenShift picks has no external address here: the controller reads
/// it from the admitted Route ([`crate::openshift::route::external_url`]).
pub fn endpoints(store: &ValidatedStore, platform: &Platform) -> Endpoints {
    let networking = &store.spec.networking;
    let internal = format!(
        "{}.{}.svc:{}",
        store.name, store.namespace, networking.service.port
    );
    let ingress = super::ingress::published_ingress(store, platform).and_then(|i| {
        let scheme = if i.tls.as_ref().is_some_and(|t| t.enabled) {
            "https"
        } else {
            "http"
        };
        i.host.as_ref().map(|host| format!("{scheme}://{host}"))
    });
    // Every Route the operator renders serves HTTPS (edge, reencrypt or passthrough).
    let route = super::route_plan(store, platform)
        .and_then(|plan| plan.host)
        .map(|host| format!("https://{host}"));
    Endpoints {
        internal: Some(internal),
        external: ingress.or(route),
    }
}
