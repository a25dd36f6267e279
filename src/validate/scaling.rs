//! Checks of replica scaling, disruption budgets and resources.
use crate::api::v1alpha1::{ZotArtifactStoreSpec, messages as msg};

use super::check::{Check, refuse_if};
use super::quantity;

pub(super) fn check_scaling(spec: &ZotArtifactStoreSpec) -> Check {
    let hpa = &spec.autoscaling;
    refuse_if(
        hpa.min_replicas < 1 || hpa.max_replicas > 100,
        "spec.autoscaling",
        "minReplicas must be at least 1 and maxReplicas at most 100",
    )?;
    refuse_if(
        hpa.min_replicas > hpa.max_replicas,
        "spec.autoscaling.minReplicas",
        msg::AUTOSCALING_RANGE,
    )?;
    for (field, target) in [
        (
            "spec.autoscaling.targetCPUUtilization",
            hpa.target_cpu_utilization,
        ),
        (
            "spec.autoscaling.targetMemoryUtilization",
            hpa.target_memory_utilization,
        ),
    ] {
        refuse_if(
            target.is_some_and(|t| !(1..=100).contains(&t)),
            field,
            "must be a percentage between 1 and 100",
        )?;
    }
    let pdb = &spec.pod_disruption_budget;
    refuse_if(
        pdb.min_available.is_some() && pdb.max_unavailable.is_some(),
        "spec.podDisruptionBudget",
        msg::PDB_EXCLUSIVE,
    )?;
    for (field, value) in [
        ("spec.podDisruptionBudget.minAvailable", &pdb.min_available),
        (
            "spec.podDisruptionBudget.maxUnavailable",
            &pdb.max_unavailable,
        ),
    ] {
        refuse_if(
            value
                .as_ref()
                .is_some_and(|v| !super::formats::is_count_or_percent(v)),
            field,
            "must be a number of pods (e.g. 2) or a percentage (e.g. 50%)",
        )?;
    }
    Ok(())
}
pub(super) fn check_resources(spec: &ZotArtifactStoreSpec) -> Check {
    let resources = spec.resources.as_ref();
    let requests = resources.and_then(|r| r.requests.as_ref());
    let limits = resources.and_then(|r| r.limits.as_ref());
    if let (Some(requests), Some(limits)) = (requests, limits) {
        for (name, request) in requests {
            let Some(limit) = limits.get(name) else {
                continue;
            };
            let (Some(r), Some(l)) = (quantity::value(request), quantity::value(limit)) else {
                continue;
            };
            refuse_if(
                r > l,
                &format!("spec.resources.requests.{name}"),
                &format!(
                    "the request ({}) exceeds the limit ({}); Kubernetes would refuse the pods",
                    request.0, limit.0
                ),
            )?;
        }
    }
    for (set, kind, field) in [
        (
            spec.autoscaling.target_cpu_utilization,
            "cpu",
            "spec.autoscaling.targetCPUUtilization",
        ),
        (
            spec.autoscaling.target_memory_utilization,
            "memory",
            "spec.autoscaling.targetMemoryUtilization",
        ),
    ] {
        let requested = requests.is_some_and(|r| r.contains_key(kind));
        refuse_if(
            spec.autoscaling.enabled && set.is_some() && !requested,
            field,
            &format!(
                "a utilization target is a percentage of the {kind} request: set resources.requests.{kind}"
            ),
        )?;
    }
    // With no target at all the HorizontalPodAutoscaler scales on CPU, which needs a CPU request too.
    let no_target = spec.autoscaling.target_cpu_utilization.is_none()
        && spec.autoscaling.target_memory_utilization.is_none();
    refuse_if(
        spec.autoscaling.enabled && no_target && !requests.is_some_and(|r| r.contains_key("cpu")),
        "spec.resources.requests.cpu",
        "autoscaling scales on CPU utilization by default, a percentage of the CPU request: set resources.requests.cpu",
    )
}
