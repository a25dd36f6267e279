//! The Kubernetes objects around the pods: workloads, Services, claims, policies, autoscaler, monitor.
use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

#[test]
fn autoscaling_leaves_the_replica_count_to_the_autoscaler() {
    let desired = k8s(&format!(
        "{S3_REDIS}replicas: 3\nautoscaling: {{enabled: true, minReplicas: 3, maxReplicas: 10}}\nresources: {{requests: {{cpu: 500m}}}}"
    ));
    assert_eq!(desired.deployment.unwrap().spec.unwrap().replicas, None);
    let hpa = desired.horizontal_pod_autoscaler.unwrap().spec.unwrap();
    assert_eq!((hpa.min_replicas, hpa.max_replicas), (Some(3), 10));
    assert_eq!(hpa.scale_target_ref.kind, "Deployment");
    assert_eq!(
        hpa.metrics.unwrap()[0]
            .resource
            .as_ref()
            .unwrap()
            .target
            .average_utilization,
        Some(80)
    );
}

#[test]
fn without_autoscaling_the_workload_runs_the_requested_replicas() {
    let desired = k8s(&format!("{S3_REDIS}replicas: 3"));
    assert_eq!(desired.deployment.unwrap().spec.unwrap().replicas, Some(3));
    assert_eq!(desired.horizontal_pod_autoscaler, None);
}

#[test]
fn the_metrics_service_listens_on_8081_and_targets_zots_port() {
    let desired = k8s("{}");
    let metrics = desired
        .services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some("zot-metrics"))
        .unwrap();
    let port = metrics.spec.as_ref().unwrap().ports.as_ref().unwrap()[0].clone();
    assert_eq!(port.port, 8081);
    assert_eq!(
        port.target_port,
        Some(IntOrString::String(names::ZOT_PORT_NAME.into()))
    );
    let container_port = pod_spec(&desired).containers[0].ports.clone().unwrap()[0].clone();
    assert_eq!(
        (
            container_port.name.as_deref(),
            container_port.container_port
        ),
        (Some("http"), 5000)
    );
    assert_eq!(
        config(&desired)["extensions"]["metrics"],
        json!({"enable": true, "prometheus": {"path": "/metrics"}})
    );
}

#[test]
fn filesystem_storage_runs_a_statefulset_whose_claims_follow_the_deletion_policy() {
    for (policy, expected) in [("Retain", "Retain"), ("Delete", "Delete")] {
        let sts = k8s(&format!(
            "storage: {{size: 50Gi, deletionPolicy: {policy}}}"
        ))
        .statefulset
        .unwrap()
        .spec
        .unwrap();
        let retention = sts.persistent_volume_claim_retention_policy.unwrap();
        assert_eq!(retention.when_deleted.as_deref(), Some(expected));
        assert_eq!(retention.when_scaled.as_deref(), Some("Retain"));
        let claim = &sts.volume_claim_templates.unwrap()[0];
        let size = &claim
            .spec
            .as_ref()
            .unwrap()
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap()["storage"];
        assert_eq!(size.0, "50Gi");
    }
}

#[test]
fn object_storage_runs_a_deployment_without_a_headless_service() {
    let desired = k8s(S3_REDIS);
    assert!(desired.statefulset.is_none());
    let names: Vec<_> = desired
        .services
        .iter()
        .map(|s| s.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["zot", "zot-metrics"]);
    assert_eq!(config(&desired)["storage"]["remoteCache"], true);
    assert_eq!(config(&desired)["storage"]["cacheDriver"]["name"], "redis");
}

#[test]
fn a_retained_database_volume_outlives_the_store_and_a_deleted_one_does_not() {
    let spec = "storage:\n  type: s3\n  deletionPolicy: DELETION\n  s3: {bucket: images}";
    let retained = k8s(&spec.replace("DELETION", "Retain"));
    assert_eq!(
        retained
            .database_claim
            .clone()
            .unwrap()
            .metadata
            .owner_references,
        None
    );
    let deleted = k8s(&spec.replace("DELETION", "Delete"));
    assert_eq!(
        deleted
            .database_claim
            .unwrap()
            .metadata
            .owner_references
            .unwrap()[0]
            .uid,
        "u-1"
    );
    let strategy = deleted.deployment.unwrap().spec.unwrap().strategy.unwrap();
    assert_eq!(
        strategy.type_.as_deref(),
        Some("Recreate"),
        "a ReadWriteOnce volume cannot be shared by a surge pod"
    );
    assert_eq!(config(&retained)["storage"]["remoteCache"], false);
}

#[test]
fn the_service_monitor_is_rendered_only_where_its_crd_exists() {
    let spec = "metrics:\n  prometheus:\n    serviceMonitor: {enabled: true, interval: 30s}";
    assert_eq!(k8s(spec).service_monitor, None);
    let platform = Platform {
        service_monitor_crd: true,
        ..Platform::kubernetes()
    };
    let monitor = desired(&store(spec), &platform, &Inputs::default())
        .service_monitor
        .unwrap();
    assert_eq!(monitor.types.unwrap().kind, "ServiceMonitor");
    assert_eq!(monitor.data["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor.data["spec"]["endpoints"][0]["interval"], "30s");
    assert_eq!(gaps(&store(spec), &Platform::kubernetes()).len(), 1);
}

#[test]
fn the_ingress_publishes_the_host_with_tls_and_sets_zots_external_url() {
    let desired = k8s(
        "networking:\n  ingress:\n    enabled: true\n    className: nginx\n    host: zot.example.com\n    tls: {enabled: true, secretName: zot-tls}",
    );
    let ingress = desired.ingress.clone().unwrap().spec.unwrap();
    assert_eq!(ingress.ingress_class_name.as_deref(), Some("nginx"));
    assert_eq!(
        ingress.tls.unwrap()[0].secret_name.as_deref(),
        Some("zot-tls")
    );
    assert_eq!(
        config(&desired)["http"]["externalUrl"],
        "https://zot.example.com"
    );
}

#[test]
fn the_network_policy_admits_only_zots_port() {
    let policy = k8s("{}").network_policy.unwrap().spec.unwrap();
    let rule = &policy.ingress.unwrap()[0];
    assert_eq!(rule.from, None);
    assert_eq!(
        rule.ports.as_ref().unwrap()[0].port,
        Some(IntOrString::Int(5000))
    );
    assert_eq!(
        k8s("networking:\n  networkPolicy: {enabled: false}").network_policy,
        None
    );
}

#[test]
fn a_disruption_budget_without_bounds_allows_one_pod_down() {
    let pdb = k8s("podDisruptionBudget: {enabled: true}")
        .pod_disruption_budget
        .unwrap()
        .spec
        .unwrap();
    assert_eq!(
        (pdb.min_available, pdb.max_unavailable),
        (None, Some(IntOrString::Int(1)))
    );
    let pdb = k8s("podDisruptionBudget: {enabled: true, minAvailable: 2}")
        .pod_disruption_budget
        .unwrap()
        .spec
        .unwrap();
    assert_eq!(
        (pdb.min_available, pdb.max_unavailable),
        (Some(IntOrString::Int(2)), None)
    );
}

#[test]
fn every_child_carries_the_standard_labels_and_the_owner() {
    let desired = k8s("{}");
    let meta = &desired.services[0].metadata;
    let labels = meta.labels.clone().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "zot-operator");
    assert_eq!(labels["app.kubernetes.io/instance"], "zot");
    assert_eq!(
        meta.owner_references.clone().unwrap()[0].kind,
        "ZotArtifactStore"
    );
}

#[test]
fn a_route_on_kubernetes_is_reported_not_dropped() {
    let gaps = gaps(
        &store("networking:\n  route: {enabled: true}"),
        &Platform::kubernetes(),
    );
    assert_eq!(gaps[0].field, "spec.networking.route.enabled");
}
