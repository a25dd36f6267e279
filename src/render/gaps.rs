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
    if spec.networking.route.as_ref().is_some_and(|r| r.enabled) {
        let reason = if platform.openshift {
            "Routes are not rendered by this version of the operator yet; use networking.ingress meanwhile"
        } else {
            "this cluster serves no OpenShift Routes (route.openshift.io); use networking.ingress"
        };
        gaps.push(Gap {
            field: "spec.networking.route.enabled".to_string(),
            reason: reason.to_string(),
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
    gaps
}
