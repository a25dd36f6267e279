//! A new apps domain on a running OpenShift cluster (`spec.appsDomain` of ingresses.config.openshift.io/cluster,
//! which, unlike `spec.domain`, may change after installation) moves the default Route hosts of running stores,
//! without restarting the operator. A test binary of its own: it changes a
//! cluster-wide setting that the other OpenShift tests read (cargo runs test binaries one after the other).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::operator::in_restricted_namespace;
use support::{Flavour, eventually, get, kubectl};

const O: Flavour = Flavour::OpenShift;
const WAIT: Duration = Duration::from_secs(120);

fn cluster_spec() -> Value {
    let (ok, out, err) = kubectl(
        O,
        &[
            "get",
            "ingresses.config.openshift.io",
            "cluster",
            "-o",
            "json",
        ],
        None,
    );
    assert!(ok, "the cluster's ingress configuration: {err}");
    serde_json::from_str::<Value>(&out).unwrap()["spec"].clone()
}

/// Sets (a string) or removes (null) `spec.appsDomain`.
fn set_apps_domain(apps_domain: Value) {
    let patch = serde_json::json!({"spec": {"appsDomain": apps_domain}});
    let (ok, _, err) = kubectl(
        O,
        &[
            "patch",
            "ingresses.config.openshift.io",
            "cluster",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ],
        None,
    );
    assert!(ok, "{err}");
}

/// Puts the cluster's appsDomain back, however the test ends.
struct RestoreAppsDomain(Value);

impl Drop for RestoreAppsDomain {
    fn drop(&mut self) {
        set_apps_domain(self.0.clone());
    }
}

async fn route_host(ns: &str, expected: &str) {
    eventually(
        &format!("the Route's host to be {expected}"),
        WAIT,
        || async {
            let route = get(O, ns, "route/web")?;
            (route["spec"]["host"] == expected).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_new_apps_domain_moves_the_default_route_hosts_of_running_stores() {
    let (ns, operator) = in_restricted_namespace(O, "domain", "openshift-domain", &[]).await;
    let spec = cluster_spec();
    let _restore = RestoreAppsDomain(spec["appsDomain"].clone());
    assert!(
        spec["appsDomain"].is_null(),
        "the local cluster sets no appsDomain: {spec}"
    );
    let original = spec["domain"].as_str().unwrap().to_string();
    let (ok, _, err) = kubectl(
        O,
        &["apply", "-n", &ns.name, "-f", "-"],
        Some(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: web\nspec:\n  replicas: 1\n",
        ),
    );
    assert!(ok, "{err}");
    route_host(&ns.name, &format!("web-{}.{original}", ns.name)).await;

    let moved = format!("registry.{original}");
    set_apps_domain(Value::from(moved.as_str()));
    route_host(&ns.name, &format!("web-{}.{moved}", ns.name)).await;
    assert!(
        operator.logs().contains("the platform changed"),
        "the operator re-discovered the platform without a restart"
    );
}
