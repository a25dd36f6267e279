//! The PodDisruptionBudget.
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::names;
use crate::validate::ValidatedStore;

use super::meta;

/// The PodDisruptionBudget when podDisruptionBudget.enabled; maxUnavailable 1 when neither bound is set.
pub fn pod_disruption_budget(store: &ValidatedStore) -> Option<PodDisruptionBudget> {
    let spec = &store.spec.pod_disruption_budget;
    if !spec.enabled {
        return None;
    }
    let max_unavailable = match (&spec.min_available, &spec.max_unavailable) {
        (None, None) => Some(IntOrString::Int(1)),
        (_, max) => max.clone(),
    };
    Some(PodDisruptionBudget {
        metadata: meta::owned(store, store.names().base()),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(LabelSelector {
                match_labels: Some(names::selector_labels(&store.name)),
                ..LabelSelector::default()
            }),
            min_available: spec.min_available.clone(),
            max_unavailable,
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}
