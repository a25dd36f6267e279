//! Horizontal autoscaling and disruption budget.
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use super::messages;

use super::rules;

/// A HorizontalPodAutoscaler for zot. While it is enabled the operator leaves the replica count to it.
/// Several replicas need s3, gcs or azure storage and a redis or dynamodb database.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.minReplicas <= self.maxReplicas")
    .message(messages::AUTOSCALING_RANGE))]
pub struct AutoscalingSpec {
    /// Create the HorizontalPodAutoscaler. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Fewest replicas. Defaults to 1.
    #[serde(default = "default_min")]
    #[schemars(range(min = 1))]
    pub min_replicas: i32,
    /// Most replicas. Defaults to 3.
    #[serde(default = "default_max")]
    #[schemars(range(min = 1, max = 100))]
    pub max_replicas: i32,
    /// Average CPU use, in percent of the CPU request, to keep. Defaults to 80 when no target is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    #[serde(rename = "targetCPUUtilization")]
    pub target_cpu_utilization: Option<i32>,
    /// Average memory use, in percent of the memory request, to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub target_memory_utilization: Option<i32>,
}

impl Default for AutoscalingSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            min_replicas: default_min(),
            max_replicas: default_max(),
            target_cpu_utilization: None,
            target_memory_utilization: None,
        }
    }
}

fn default_min() -> i32 {
    1
}

fn default_max() -> i32 {
    3
}

/// A PodDisruptionBudget for zot, limiting voluntary evictions (node drains). Set minAvailable or
/// maxUnavailable, not both; with neither, maxUnavailable is 1.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.minAvailable) && has(self.maxUnavailable))")
    .message(messages::PDB_EXCLUSIVE))]
pub struct PodDisruptionBudgetSpec {
    /// Create the PodDisruptionBudget. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Pods that must stay available, as a number or a percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = rules::count_or_percent())]
    pub min_available: Option<IntOrString>,
    /// Pods that may be unavailable at once, as a number or a percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = rules::count_or_percent())]
    pub max_unavailable: Option<IntOrString>,
}
