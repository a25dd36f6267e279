//! Requests in a spec that the platform cannot serve (yet): nothing is dropped silently, so each becomes a
//! condition of the store (controller) or a comment of `zot-operator render`.
use crate::platform::Platform;
use crate::validate::ValidatedStore;

/// A request the rendering could not honour on this platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The field that asks for it, e.g. `spec.networking.route.enabled`.
    pub field: String,
    /// Why it was not rendered and what to do.
    pub reason: String,
}

/// Every request of `store` that rendering for `platform` leaves out.
pub fn gaps(store: &ValidatedStore, platform: &Platform) -> Vec<Gap> {
    let spec = &store.spec;
    let mut gaps = Vec::new();
    let route_asked = spec.networking.route.as_ref().is_some_and(|r| r.enabled);
    if route_asked && !platform.openshift {
        let instead = if let Some(ingress) = &spec.networking.ingress {
            if ingress.enabled {
                "networking.ingress publishes the store".to_string()
            } else {
                "networking.ingress.enabled is false, so nothing publishes the store outside the cluster".to_string()
            }
        } else if let Some(fallback) = super::ingress::route_fallback(store, platform) {
            match fallback.host {
                Some(host) => format!(
                    "an Ingress publishes {host} instead (default IngressClass, TLS with the ingress controller's default certificate); set networking.ingress to choose"
                ),
                None => "an Ingress for every host publishes the store instead (default IngressClass, plain HTTP); set networking.route.host or networking.ingress to choose".to_string(),
            }
        } else {
            "zot serves TLS itself (reencrypt, passthrough or tls.enabled), which no Ingress carries portably, so nothing publishes the store outside the cluster; set networking.ingress with your ingress controller's TLS annotations".to_string()
        };
        gaps.push(Gap {
            field: "spec.networking.route.enabled".to_string(),
            reason: format!(
                "this cluster serves no OpenShift Routes (route.openshift.io): no Route is created; {instead}"
            ),
        });
    }
    if let Some(host) = super::route::shadowed_by_ingress(store, platform) {
        gaps.push(Gap {
            field: "spec.networking.route.host".to_string(),
            reason: format!(
                "networking.ingress already publishes {host} and OpenShift turns that Ingress into a Route: no second Route is created for the same host"
            ),
        });
    }
    if let Some(label) = super::route::default_label_too_long(store, platform) {
        gaps.push(Gap {
            field: "spec.networking.route.host".to_string(),
            reason: format!(
                "the default Route host would start with {label}, {} characters, more than a DNS label may have (63): no Route is created; set networking.route.host",
                label.len()
            ),
        });
    }
    if super::route::edge_became_reencrypt(store, platform) {
        gaps.push(Gap {
            field: "spec.networking.route.termination".to_string(),
            reason: "edge termination would send plain HTTP to zot, which serves HTTPS only (tls.enabled): the Route re-encrypts instead; set termination: reencrypt to say so".to_string(),
        });
    }
    let prometheus = &spec.metrics.prometheus;
    let monitor = spec.metrics.enabled
        && prometheus.enabled
        && prometheus
            .service_monitor
            .as_ref()
            .is_some_and(|m| m.enabled);
    if monitor && !platform.service_monitor_crd {
        gaps.push(Gap {
            field: "spec.metrics.prometheus.serviceMonitor.enabled".to_string(),
            reason: "the monitoring.coreos.com ServiceMonitor CRD is not installed; install the Prometheus Operator or scrape the <store>-metrics Service directly".to_string(),
        });
    }
    if monitor && platform.service_monitor_crd && spec.rbac.enabled && !spec.rbac.anonymous_metrics
    {
        gaps.push(Gap {
            field: "spec.metrics.prometheus.serviceMonitor.enabled".to_string(),
            reason: "the ServiceMonitor scrapes without credentials, but with rbac.enabled zot serves /metrics only to rbac.metricsUsers; set rbac.anonymousMetrics: true".to_string(),
        });
    }
    if spec.rbac.enabled
        && spec.rbac.keycloak.is_some()
        && super::endpoints(store, platform).external.is_none()
    {
        gaps.push(Gap {
            field: "spec.rbac.keycloak".to_string(),
            reason: format!(
                "Keycloak sends the browser back to zot's external URL, and the store has none: zot would name http://0.0.0.0:{}/zot/auth/callback/oidc as its redirect URI, which no browser reaches; publish the store with a host ({})",
                crate::api::names::ZOT_PORT,
                if platform.openshift {
                    "networking.route.enabled, or networking.ingress.host"
                } else {
                    "networking.ingress.host"
                }
            ),
        });
    }
    gaps
}
