//! Facts about the cluster that change what the operator renders. Discovered once by the controller; plain data
//! here so that rendering never needs a client.
use crate::api::names::DEFAULT_ZOT_IMAGE;

/// What the cluster offers, as rendering needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    /// OpenShift APIs are served (route.openshift.io, security.openshift.io): pods get no fixed UID, GID or
    /// fsGroup, so that the restricted-v2 SCC assigns them from the namespace's range.
    pub openshift: bool,
    /// The cluster's apps domain (ingresses.config.openshift.io/cluster), for default Route hosts.
    pub apps_domain: Option<String>,
    /// The monitoring.coreos.com ServiceMonitor CRD is installed.
    pub service_monitor_crd: bool,
    /// zot image used when a store names none: the operator's RELATED_IMAGE_ZOT, else [`DEFAULT_ZOT_IMAGE`].
    pub default_image: String,
}

impl Platform {
    /// A vanilla Kubernetes cluster without the Prometheus Operator.
    pub fn kubernetes() -> Self {
        Self {
            openshift: false,
            apps_domain: None,
            service_monitor_crd: false,
            default_image: DEFAULT_ZOT_IMAGE.to_string(),
        }
    }

    /// An OpenShift cluster with the given apps domain; OpenShift ships the Prometheus Operator.
    pub fn openshift(apps_domain: Option<String>) -> Self {
        Self {
            openshift: true,
            apps_domain,
            service_monitor_crd: true,
            default_image: DEFAULT_ZOT_IMAGE.to_string(),
        }
    }
}
