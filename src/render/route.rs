//! The OpenShift Route publishing the registry: on OpenShift by default, unless the store publishes itself
//! through an Ingress (which OpenShift turns into a Route of its own).
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::names::ZOT_PORT_NAME;
use crate::api::v1alpha1::RouteTermination;
use crate::openshift::route::{
    Route, RoutePort, RouteSpec, RouteTls, RouteTlsInsecureEdgeTerminationPolicy,
    RouteTlsTermination, RouteTo, RouteToKind, RouteWildcardPolicy,
};
use crate::platform::Platform;
use crate::validate::ValidatedStore;

use super::{Inputs, meta};

/// The router's timeout annotation: HAProxy's default of 30s cuts off a push whose last request waits for zot
/// to store and hash a multi-gigabyte layer.
pub const ROUTER_TIMEOUT_ANNOTATION: &str = "haproxy.router.openshift.io/timeout";
/// Value of [`ROUTER_TIMEOUT_ANNOTATION`].
pub const ROUTER_TIMEOUT: &str = "1h";

/// The Route a store gets, resolved against the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePlan {
    /// networking.route.host, else `<store>-<namespace>.<apps domain>`; None when neither is known (OpenShift
    /// then picks the host).
    pub host: Option<String>,
    /// The termination the Route gets: as asked, except that edge becomes reencrypt when zot serves TLS (the
    /// default; not with tls.enabled: false), since the router would otherwise send plain HTTP to an HTTPS server.
    pub termination: RouteTermination,
}

/// Longest DNS label: a Route host is refused with a longer one.
const MAX_LABEL: usize = 63;

/// `<store>-<namespace>`, the first label of the default host.
fn default_label(store: &ValidatedStore) -> String {
    format!("{}-{}", store.name, store.namespace)
}

/// `<store>-<namespace>.<apps domain>`, the host OpenShift itself would give the Route.
pub fn default_host(store: &ValidatedStore, platform: &Platform) -> Option<String> {
    platform
        .apps_domain
        .as_ref()
        .map(|domain| format!("{}.{domain}", default_label(store)))
}

/// When the store wants a Route without a host but `<store>-<namespace>` is too long for a DNS label, the
/// label: OpenShift would refuse the Route (its own default host is the same), so none is rendered.
pub fn default_label_too_long(store: &ValidatedStore, platform: &Platform) -> Option<String> {
    let (host, _) = asked(store, platform)?;
    let label = default_label(store);
    (host.is_none() && label.len() > MAX_LABEL).then_some(label)
}

/// The host of networking.ingress when it is enabled.
pub fn ingress_host(store: &ValidatedStore) -> Option<&str> {
    store
        .spec
        .networking
        .ingress
        .as_ref()
        .filter(|i| i.enabled)
        .and_then(|i| i.host.as_deref())
}

fn ingress_enabled(store: &ValidatedStore) -> bool {
    store
        .spec
        .networking
        .ingress
        .as_ref()
        .is_some_and(|i| i.enabled)
}

/// The host and termination asked for on `platform`: networking.route as written, or the default Route of a
/// store that names neither Route nor Ingress.
fn asked(
    store: &ValidatedStore,
    platform: &Platform,
) -> Option<(Option<String>, RouteTermination)> {
    if !platform.openshift {
        return None;
    }
    match &store.spec.networking.route {
        Some(route) if route.enabled => Some((route.host.clone(), route.termination)),
        Some(_) => None,
        None if ingress_enabled(store) => None,
        None => Some((None, RouteTermination::Edge)),
    }
}

/// The termination networking.route asks for (edge for the default Route), before TLS turns edge into
/// reencrypt; None when no Route is asked for on `platform`.
pub fn asked_termination(store: &ValidatedStore, platform: &Platform) -> Option<RouteTermination> {
    asked(store, platform).map(|(_, termination)| termination)
}

/// The Route wanted on `platform` before the Ingress is taken into account.
fn requested(store: &ValidatedStore, platform: &Platform) -> Option<RoutePlan> {
    if default_label_too_long(store, platform).is_some() {
        return None;
    }
    let (host, asked) = asked(store, platform)?;
    let termination = match asked {
        RouteTermination::Edge if store.spec.tls.on() => RouteTermination::Reencrypt,
        other => other,
    };
    Some(RoutePlan {
        host: host.or_else(|| default_host(store, platform)),
        termination,
    })
}

/// The Route the store gets on `platform`: None off OpenShift, when networking.route.enabled is false, when the
/// store names no Route but an Ingress, when the Ingress already publishes the Route's host, and when the default
/// host would be invalid ([`default_label_too_long`]).
pub fn route_plan(store: &ValidatedStore, platform: &Platform) -> Option<RoutePlan> {
    requested(store, platform)
        .filter(|plan| plan.host.is_none() || plan.host.as_deref() != ingress_host(store))
}

/// Whether the store asked for a Route whose host its Ingress already publishes (see [`super::gaps`]).
pub fn shadowed_by_ingress(store: &ValidatedStore, platform: &Platform) -> Option<String> {
    let plan = requested(store, platform)?;
    plan.host
        .filter(|host| Some(host.as_str()) == ingress_host(store))
}

/// Whether the Route re-encrypts although networking.route asked for edge and tls.enabled: true (explicitly): with
/// TLS on by default, an edge Route re-encrypting is the documented default and no gap.
pub fn edge_became_reencrypt(store: &ValidatedStore, platform: &Platform) -> bool {
    let asked_edge = store
        .spec
        .networking
        .route
        .as_ref()
        .is_some_and(|r| r.enabled && r.termination == RouteTermination::Edge);
    asked_edge && store.spec.tls.enabled == Some(true) && route_plan(store, platform).is_some()
}

/// The Route `<store>` to the main Service's `http` port: TLS terminated as planned, plain HTTP redirected to
/// HTTPS, a long router timeout; a reencrypt Route carries the CA of zot's certificate
/// ([`Inputs::destination_ca`]; without it the router checks against the service CA).
pub fn route(store: &ValidatedStore, platform: &Platform, inputs: &Inputs) -> Option<Route> {
    let plan = route_plan(store, platform)?;
    let mut metadata = meta::owned(store, store.names().base());
    metadata.annotations = Some(BTreeMap::from([(
        ROUTER_TIMEOUT_ANNOTATION.to_string(),
        ROUTER_TIMEOUT.to_string(),
    )]));
    let termination = match plan.termination {
        RouteTermination::Edge => RouteTlsTermination::Edge,
        RouteTermination::Reencrypt => RouteTlsTermination::Reencrypt,
        RouteTermination::Passthrough => RouteTlsTermination::Passthrough,
    };
    let destination_ca_certificate = (plan.termination == RouteTermination::Reencrypt)
        .then(|| inputs.destination_ca.clone())
        .flatten();
    Some(Route {
        metadata,
        spec: RouteSpec {
            host: plan.host,
            to: RouteTo {
                kind: RouteToKind::Service,
                name: store.names().base(),
                weight: Some(100),
            },
            port: Some(RoutePort {
                target_port: IntOrString::String(ZOT_PORT_NAME.to_string()),
            }),
            tls: Some(RouteTls {
                termination,
                insecure_edge_termination_policy: Some(
                    RouteTlsInsecureEdgeTerminationPolicy::Redirect,
                ),
                destination_ca_certificate,
                ca_certificate: None,
                certificate: None,
                external_certificate: None,
                key: None,
            }),
            wildcard_policy: Some(RouteWildcardPolicy::None),
            alternate_backends: None,
            http_headers: None,
            path: None,
            subdomain: None,
        },
        status: None,
    })
}
