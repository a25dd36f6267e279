//! The NetworkPolicy of the store.
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::names::{self, ZOT_PORT};
use crate::validate::ValidatedStore;

use super::meta;

/// Admits TCP to zot's port from any source (clients, nodes pulling images, ingress controllers, Prometheus)
/// and nothing else, when networking.networkPolicy.enabled.
pub fn network_policy(store: &ValidatedStore) -> Option<NetworkPolicy> {
    store
        .spec
        .networking
        .network_policy
        .enabled
        .then(|| NetworkPolicy {
            metadata: meta::owned(store, store.names().base()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector {
                    match_labels: Some(names::selector_labels(&store.name)),
                    ..LabelSelector::default()
                }),
                policy_types: Some(vec!["Ingress".to_string()]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: None,
                    ports: Some(vec![NetworkPolicyPort {
                        port: Some(IntOrString::Int(ZOT_PORT)),
                        protocol: Some("TCP".to_string()),
                        ..NetworkPolicyPort::default()
                    }]),
                }]),
                ..NetworkPolicySpec::default()
            }),
        })
}
