//! Proof that the local test platform (hack/tools.sh, hack/cluster.sh) is a real, working Kubernetes: the API
//! server's version, admission, the controller-manager, the scheduler, kwok's fake nodes and the PVC answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use serde_json::json;
use support::{Flavour, TestNamespace, eventually};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn the_api_server_is_kubernetes_1_36() {
    let client = support::client(Flavour::Vanilla).await;
    let info = client.apiserver_version().await.expect("version");
    let pinned = std::fs::read_to_string(support::repo_root().join("hack/versions.env")).unwrap();
    let want = pinned
        .lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VERSION="))
        .unwrap();
    assert!(want.starts_with("v1.36."), "hack/versions.env pins {want}");
    assert_eq!(
        info.git_version, want,
        "the API server reports the pinned version"
    );
    assert_eq!((info.major.as_str(), info.minor.as_str()), ("1", "36"));
}

#[tokio::test]
async fn kubectl_reports_the_real_client_version() {
    let out = std::process::Command::new(support::tool("kubectl"))
        .args(["version", "--client", "-o", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["clientVersion"]["gitVersion"]
            .as_str()
            .unwrap()
            .starts_with("v1.36."),
        "kubectl version: {v}"
    );
}

#[tokio::test]
async fn the_openshift_flavour_serves_every_shared_crd() {
    let client = support::client(Flavour::OpenShift).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let dir = support::shared_dir().join("crds");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        names.push(doc["metadata"]["name"].as_str().unwrap().to_string());
    }
    names.push("servicemonitors.monitoring.coreos.com".into());
    assert!(
        names.len() >= 15,
        "found only {names:?} in {}",
        dir.display()
    );
    for name in names {
        let crd = crds
            .get(&name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        assert!(established, "{name} is not Established");
    }
    // The cluster's apps domain and the restricted-v2 SCC are there as objects.
    let (ok, domain, err) = support::kubectl(
        Flavour::OpenShift,
        &[
            "get",
            "ingresses.config.openshift.io",
            "cluster",
            "-o",
            "jsonpath={.spec.domain}",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(!domain.is_empty());
    let (ok, _, err) = support::kubectl(
        Flavour::OpenShift,
        &[
            "get",
            "securitycontextconstraints.security.openshift.io",
            "restricted-v2",
        ],
        None,
    );
    assert!(ok, "{err}");
}

fn pod(name: &str, privileged: bool) -> Pod {
    let security = if privileged {
        json!({"privileged": true})
    } else {
        json!({
            "allowPrivilegeEscalation": false,
            "runAsNonRoot": true,
            "runAsUser": 1000,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}
        })
    };
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "registry.invalid/x:1", "securityContext": security}]}
    }))
    .unwrap()
}

#[tokio::test]
async fn restricted_pod_security_rejects_a_privileged_pod_and_admits_a_compliant_one() {
    let ns = TestNamespace::new(
        Flavour::Vanilla,
        "psa",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(support::client(Flavour::Vanilla).await, &ns.name);
    let err = pods
        .create(&PostParams::default(), &pod("privileged", true))
        .await
        .expect_err("a privileged pod must be refused");
    assert!(
        err.to_string()
            .contains("violates PodSecurity \"restricted"),
        "unexpected refusal: {err}"
    );
    pods.create(&PostParams::default(), &pod("compliant", false))
        .await
        .expect("a restricted-compliant pod is admitted");
}

#[tokio::test]
async fn a_deployment_becomes_available_on_the_fake_nodes() {
    let ns = TestNamespace::new(Flavour::Vanilla, "deploy", &[]).await;
    let client = support::client(Flavour::Vanilla).await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "registry.invalid/web:1"}]}
            }
        }
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    eventually(
        "deployment web to have 2 available replicas",
        2 * MINUTE,
        || async {
            let d = deployments.get("web").await.ok()?;
            (d.status?.available_replicas? == 2).then_some(())
        },
    )
    .await;
    // The pods really run on kwok's nodes, put there by the scheduler.
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let kwok_nodes: Vec<String> = nodes
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|n| {
            n.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("kwok.x-k8s.io/node"))
                .map(String::as_str)
                == Some("fake")
        })
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(kwok_nodes.len() >= 2, "kwok manages {kwok_nodes:?}");
    let pods: Api<Pod> = Api::namespaced(client, &ns.name);
    for p in pods.list(&Default::default()).await.unwrap() {
        let node = p.spec.unwrap().node_name.unwrap_or_default();
        assert!(
            kwok_nodes.contains(&node),
            "pod scheduled on '{node}', not on a kwok node {kwok_nodes:?}"
        );
        assert_eq!(p.status.unwrap().phase.as_deref(), Some("Running"));
    }
}

#[tokio::test]
async fn a_statefulset_with_a_volume_claim_template_becomes_ready() {
    let ns = TestNamespace::new(Flavour::Vanilla, "sts", &[]).await;
    let client = support::client(Flavour::Vanilla).await;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    let s: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 1,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{
                    "name": "c", "image": "registry.invalid/db:1",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]
                }]}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}
            }]
        }
    }))
    .unwrap();
    sets.create(&PostParams::default(), &s).await.unwrap();
    eventually("statefulset db to be ready", 2 * MINUTE, || async {
        let s = sets.get("db").await.ok()?;
        (s.status?.ready_replicas? == 1).then_some(())
    })
    .await;
    let (ok, phase, err) = support::kubectl(
        Flavour::Vanilla,
        &[
            "get",
            "pvc",
            "data-db-0",
            "-n",
            &ns.name,
            "-o",
            "jsonpath={.status.phase}",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(phase, "Bound");
}
