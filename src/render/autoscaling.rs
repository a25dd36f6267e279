//! The HorizontalPodAutoscaler (autoscaling/v2).
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};

use crate::validate::ValidatedStore;

use super::meta;

/// Average CPU utilization kept when autoscaling names no target.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

fn utilization(resource: &str, percent: i32) -> MetricSpec {
    MetricSpec {
        type_: "Resource".to_string(),
        resource: Some(ResourceMetricSource {
            name: resource.to_string(),
            target: MetricTarget {
                type_: "Utilization".to_string(),
                average_utilization: Some(percent),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    }
}

/// The HorizontalPodAutoscaler of zot's Deployment when autoscaling.enabled (validation guarantees remote
/// storage, hence a Deployment).
pub fn horizontal_pod_autoscaler(store: &ValidatedStore) -> Option<HorizontalPodAutoscaler> {
    let spec = &store.spec.autoscaling;
    if !spec.enabled {
        return None;
    }
    let mut metrics: Vec<MetricSpec> = [
        spec.target_cpu_utilization.map(|p| utilization("cpu", p)),
        spec.target_memory_utilization
            .map(|p| utilization("memory", p)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if metrics.is_empty() {
        metrics.push(utilization("cpu", DEFAULT_CPU_UTILIZATION));
    }
    Some(HorizontalPodAutoscaler {
        metadata: meta::owned(store, store.names().base()),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".to_string()),
                kind: "Deployment".to_string(),
                name: store.names().base(),
            },
            min_replicas: Some(spec.min_replicas),
            max_replicas: spec.max_replicas,
            metrics: Some(metrics),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    })
}
