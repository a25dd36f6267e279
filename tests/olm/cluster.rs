//! The bundle against a real API server (the openshift flavour, which has the OLM CRDs): the examples, the CSV and
//! the install documents are accepted, and the permissions OLM grants for AllNamespaces are what the operator needs.
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::support::{Flavour, TestNamespace, kubectl, wait_for_crd_established};
use super::{CRD_FILE, CSV_FILE, csv, read, root, yaml_docs};

const OPENSHIFT: Flavour = Flavour::OpenShift;
const CRD_NAME: &str = "zotartifactstores.artifact.zotregistry.io";

fn run(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let (ok, out, err) = kubectl(OPENSHIFT, args, stdin);
    (ok, format!("{out}{err}"))
}

/// Installs the bundle's CRD server-side (the way OLM applies it) once per test run.
fn install_crd() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        for file in [
            CRD_FILE,
            "bundle/manifests/artifact.zotregistry.io_zotpushsecrets.yaml",
            "bundle/manifests/artifact.zotregistry.io_zotpullsecrets.yaml",
        ] {
            let path = root().join(file);
            let (ok, out) = run(
                &[
                    "apply",
                    "--server-side",
                    "--force-conflicts",
                    "--field-manager=olm-test",
                    "-f",
                    path.to_str().unwrap(),
                ],
                None,
            );
            assert!(ok, "applying the bundle's CRD: {out}");
        }
        for name in [
            CRD_NAME,
            "zotpushsecrets.artifact.zotregistry.io",
            "zotpullsecrets.artifact.zotregistry.io",
        ] {
            wait_for_crd_established(OPENSHIFT, name);
        }
    });
}

/// Server-side dry-run create (strict field validation: unknown fields are errors).
fn dry_run_create(namespace: &str, object: &Value) -> (bool, String) {
    run(
        &[
            "create",
            "--dry-run=server",
            "--validate=strict",
            "-n",
            namespace,
            "-f",
            "-",
        ],
        Some(&object.to_string()),
    )
}

#[tokio::test]
async fn every_alm_example_is_accepted_by_the_api_server() {
    install_crd();
    let ns = TestNamespace::new(OPENSHIFT, "olm-examples", &[]).await;
    let examples: Vec<Value> = serde_json::from_str(
        csv()["metadata"]["annotations"]["alm-examples"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(examples.len(), 5);
    for example in examples {
        let (ok, out) = dry_run_create(&ns.name, &example);
        assert!(
            ok,
            "alm-example {} was refused: {out}",
            example["metadata"]["name"]
        );
    }
}

#[tokio::test]
async fn the_quick_start_of_the_description_is_accepted_by_the_api_server() {
    install_crd();
    let ns = TestNamespace::new(OPENSHIFT, "olm-quickstart", &[]).await;
    let description = read("config/manifests/description.md");
    let start = description
        .find("<<'EOF'\n")
        .expect("a heredoc in the quick start")
        + "<<'EOF'\n".len();
    let end = start + description[start..].find("\nEOF").unwrap();
    let docs = yaml_docs(&description[start..end]);
    assert_eq!(docs.len(), 1);
    let (ok, out) = dry_run_create(&ns.name, &docs[0]);
    assert!(ok, "the quick start's store was refused: {out}");
}

#[tokio::test]
async fn the_csv_is_a_valid_cluster_service_version() {
    let ns = TestNamespace::new(OPENSHIFT, "olm-csv", &[]).await;
    let path = root().join(CSV_FILE);
    let (ok, out) = run(
        &[
            "create",
            "--dry-run=server",
            "--validate=strict",
            "-n",
            &ns.name,
            "-f",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        ok,
        "OLM's ClusterServiceVersion schema refuses the CSV: {out}"
    );
}

#[tokio::test]
async fn the_catalogsource_operatorgroup_and_subscription_of_the_install_docs_are_valid() {
    let ns = TestNamespace::new(OPENSHIFT, "olm-install-docs", &[]).await;
    let docs = read("docs/install.md");
    let mut kinds = Vec::new();
    for block in docs.split("```yaml\n").skip(1) {
        let yaml = &block[..block.find("```").unwrap()];
        for mut doc in yaml_docs(yaml) {
            kinds.push(doc["kind"].as_str().unwrap().to_string());
            if doc["kind"] == "Namespace" {
                // Checked under a name of its own: the real one may exist.
                doc["metadata"]["name"] = json!(format!("{}-ns", ns.name));
            } else {
                doc["metadata"]["namespace"] = json!(ns.name);
            }
            let (ok, out) = dry_run_create(&ns.name, &doc);
            assert!(ok, "docs/install.md: the {} is refused: {out}", doc["kind"]);
        }
    }
    assert_eq!(
        kinds,
        [
            "CatalogSource",
            "Namespace",
            "OperatorGroup",
            "Subscription"
        ]
    );
}

/// Cluster-scoped objects of one test, deleted when it ends.
struct ClusterObjects(Vec<String>);

impl Drop for ClusterObjects {
    fn drop(&mut self) {
        for object in &self.0 {
            let _ = kubectl(
                OPENSHIFT,
                &["delete", object, "--ignore-not-found", "--wait=false"],
                None,
            );
        }
    }
}

fn apply(object: &Value) {
    let (ok, out) = run(
        &[
            "apply",
            "--server-side",
            "--field-manager=olm-test",
            "-f",
            "-",
        ],
        Some(&object.to_string()),
    );
    assert!(
        ok,
        "applying {} {}: {out}",
        object["kind"], object["metadata"]["name"]
    );
}

fn can_i(account: &str, verb: &str, resource: &str, scope: &[&str]) -> bool {
    let mut args = vec!["auth", "can-i", verb, resource, "--as", account];
    args.extend_from_slice(scope);
    let (_, out, _) = kubectl(OPENSHIFT, &args, None);
    out.trim() == "yes"
}

/// What OLM creates for an AllNamespaces install: the ServiceAccount, a ClusterRole and ClusterRoleBinding per
/// clusterPermissions entry, a Role and RoleBinding per permissions entry in the operator's namespace.
#[tokio::test]
async fn an_all_namespaces_install_lets_the_operator_do_its_work_everywhere_and_nothing_more() {
    install_crd();
    let operator_ns = TestNamespace::new(
        OPENSHIFT,
        "olm-operator",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let tenant = TestNamespace::new(OPENSHIFT, "olm-tenant", &[]).await;
    let strategy = csv()["spec"]["install"]["spec"].clone();
    let account_name = strategy["clusterPermissions"][0]["serviceAccountName"]
        .as_str()
        .unwrap()
        .to_string();
    apply(&json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": account_name, "namespace": operator_ns.name}}));
    let cluster_name = format!("{}-{account_name}", operator_ns.name);
    let _cleanup = ClusterObjects(vec![
        format!("clusterrole/{cluster_name}"),
        format!("clusterrolebinding/{cluster_name}"),
    ]);
    let subject =
        json!([{"kind": "ServiceAccount", "name": account_name, "namespace": operator_ns.name}]);
    apply(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": cluster_name}, "rules": strategy["clusterPermissions"][0]["rules"]}),
    );
    apply(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": cluster_name}, "subjects": subject,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_name}}),
    );
    apply(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": account_name, "namespace": operator_ns.name},
        "rules": strategy["permissions"][0]["rules"]}),
    );
    apply(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": account_name, "namespace": operator_ns.name}, "subjects": subject,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account_name}}),
    );

    let account = format!("system:serviceaccount:{}:{account_name}", operator_ns.name);
    let everywhere = ["--all-namespaces"];
    let in_tenant = ["-n", tenant.name.as_str()];
    let at_home = ["-n", operator_ns.name.as_str()];
    for (verb, resource) in [
        ("list", "zotartifactstores.artifact.zotregistry.io"),
        ("watch", "zotartifactstores.artifact.zotregistry.io"),
        ("watch", "statefulsets.apps"),
        ("watch", "secrets"),
    ] {
        assert!(
            can_i(&account, verb, resource, &everywhere),
            "the operator may {verb} {resource} in all namespaces"
        );
    }
    for (verb, resource) in [
        ("create", "statefulsets.apps"),
        ("patch", "deployments.apps"),
        ("create", "services"),
        ("create", "secrets"),
        ("create", "routes.route.openshift.io"),
        ("create", "ingresses.networking.k8s.io"),
        ("create", "servicemonitors.monitoring.coreos.com"),
        ("delete", "persistentvolumeclaims"),
    ] {
        assert!(
            can_i(&account, verb, resource, &in_tenant),
            "the operator may {verb} {resource} in a tenant namespace"
        );
    }
    let status = ["-n", tenant.name.as_str(), "--subresource=status"];
    assert!(
        can_i(
            &account,
            "patch",
            "zotartifactstores.artifact.zotregistry.io",
            &status
        ),
        "the operator may patch the stores' status"
    );
    assert!(
        can_i(&account, "update", "leases.coordination.k8s.io", &at_home),
        "leader election at home"
    );
    // Least privilege: no leases elsewhere, no deleting users' stores, no pods, no RBAC.
    assert!(!can_i(
        &account,
        "update",
        "leases.coordination.k8s.io",
        &in_tenant
    ));
    assert!(!can_i(
        &account,
        "delete",
        "zotartifactstores.artifact.zotregistry.io",
        &in_tenant
    ));
    assert!(!can_i(&account, "create", "pods", &in_tenant));
    assert!(!can_i(
        &account,
        "create",
        "rolebindings.rbac.authorization.k8s.io",
        &in_tenant
    ));

    // The operator's pod, as the CSV's Deployment makes it, passes the restricted Pod Security Standard.
    let deployment = &strategy["deployments"][0];
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": deployment["name"], "labels": deployment["spec"]["template"]["metadata"]["labels"]},
        "spec": deployment["spec"]["template"]["spec"]});
    let (ok, out) = dry_run_create(&operator_ns.name, &pod);
    assert!(
        ok,
        "the operator's pod is refused in a namespace enforcing the restricted standard: {out}"
    );
    let deployment_object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": deployment["name"], "labels": deployment["label"]}, "spec": deployment["spec"]});
    let (ok, out) = dry_run_create(&operator_ns.name, &deployment_object);
    assert!(ok, "the CSV's Deployment is refused: {out}");
    assert!(!out.contains("would violate PodSecurity"), "{out}");
}
