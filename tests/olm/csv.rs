//! The ClusterServiceVersion says what the operator really is: its version, RBAC, Deployment, examples, install
//! modes and OpenShift feature claims are held to config/ and to what the binary does.
use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use zot_operator::api::names::DEFAULT_ZOT_IMAGE;
use zot_operator::platform::{Platform, Proxy};

use super::{OPERATOR_IMAGE, PACKAGE, VERSION, csv, read, yaml_docs};

fn config(path: &str) -> Vec<Value> {
    yaml_docs(&read(path))
}

fn of_kind(objects: &[Value], kind: &str) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .cloned()
        .collect()
}

fn manager_deployment() -> Value {
    of_kind(&config("config/manager/manager.yaml"), "Deployment").remove(0)
}

fn csv_deployment() -> Value {
    csv()["spec"]["install"]["spec"]["deployments"][0].clone()
}

fn annotation(name: &str) -> String {
    csv()["metadata"]["annotations"][name]
        .as_str()
        .unwrap_or_else(|| panic!("annotation {name}"))
        .to_string()
}

fn containers(pod: &Value) -> Vec<Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|list| pod[*list].as_array().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn the_csv_is_named_versioned_and_imaged_after_cargo_toml() {
    let csv = csv();
    assert_eq!(csv["metadata"]["name"], format!("{PACKAGE}.v{VERSION}"));
    assert_eq!(csv["spec"]["version"], VERSION);
    let image = format!("{OPERATOR_IMAGE}:{VERSION}");
    assert_eq!(annotation("containerImage"), image);
    assert_eq!(
        csv_deployment()["spec"]["template"]["spec"]["containers"][0]["image"],
        image.as_str()
    );
}

#[test]
fn config_manager_runs_the_image_of_this_version() {
    let image = manager_deployment()["spec"]["template"]["spec"]["containers"][0]["image"].clone();
    assert_eq!(
        image,
        format!("{OPERATOR_IMAGE}:{VERSION}"),
        "`oc apply -k config/default` must install the same operator as the bundle: bump the tag in config/manager/manager.yaml"
    );
}

#[test]
fn the_install_strategy_is_the_least_privilege_rbac_and_deployment_of_config() {
    let rbac: Vec<Value> = ["role.yaml", "role_binding.yaml", "service_account.yaml"]
        .iter()
        .flat_map(|f| config(&format!("config/rbac/{f}")))
        .collect();
    let strategy = csv()["spec"]["install"]["spec"].clone();
    let account = manager_deployment()["spec"]["template"]["spec"]["serviceAccountName"].clone();
    assert_eq!(
        of_kind(&rbac, "ServiceAccount")[0]["metadata"]["name"],
        account
    );

    let cluster = &strategy["clusterPermissions"].as_array().unwrap()[..];
    assert_eq!(cluster.len(), 1);
    assert_eq!(cluster[0]["serviceAccountName"], account);
    assert_eq!(
        cluster[0]["rules"],
        of_kind(&rbac, "ClusterRole")[0]["rules"]
    );
    let namespaced = &strategy["permissions"].as_array().unwrap()[..];
    assert_eq!(namespaced.len(), 1);
    assert_eq!(namespaced[0]["serviceAccountName"], account);
    assert_eq!(namespaced[0]["rules"], of_kind(&rbac, "Role")[0]["rules"]);
    for rule in cluster[0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .chain(namespaced[0]["rules"].as_array().unwrap())
    {
        for list in ["apiGroups", "resources", "verbs"] {
            assert!(
                !rule[list].as_array().unwrap().contains(&Value::from("*")),
                "no wildcard in {list}: {rule}"
            );
        }
    }

    let mut expected = manager_deployment();
    expected["spec"]["template"]["spec"]["containers"][0]["image"] =
        format!("{OPERATOR_IMAGE}:{VERSION}").into();
    let deployment = csv_deployment();
    assert_eq!(deployment["name"], expected["metadata"]["name"]);
    assert_eq!(deployment["spec"], expected["spec"]);
}

#[test]
fn the_operator_runs_with_the_restricted_security_context() {
    let pod = csv_deployment()["spec"]["template"]["spec"].clone();
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert!(
        pod["securityContext"].get("runAsUser").is_none(),
        "OpenShift assigns the UID"
    );
    for container in containers(&pod) {
        let sc = &container["securityContext"];
        assert_eq!(
            sc["allowPrivilegeEscalation"], false,
            "{}",
            container["name"]
        );
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{}", container["name"]);
        assert!(
            sc["capabilities"]["drop"]
                .as_array()
                .unwrap()
                .contains(&Value::from("ALL"))
        );
        assert!(sc["capabilities"].get("add").is_none());
        assert!(sc.get("privileged").is_none() || sc["privileged"] == false);
        assert!(
            container["resources"]["requests"].is_object(),
            "resource requests set"
        );
    }
}

#[test]
fn alm_examples_are_the_samples_without_namespaces() {
    let examples: Vec<Value> = serde_json::from_str(&annotation("alm-examples")).unwrap();
    let mut samples: Vec<Value> = [
        "minimal.yaml",
        "openshift.yaml",
        "production.yaml",
        "access/zotpullsecret.yaml",
        "access/zotpushsecret.yaml",
    ]
    .iter()
    .map(|f| config(&format!("config/samples/{f}")).remove(0))
    .collect();
    for sample in &mut samples {
        sample["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
    }
    assert_eq!(
        examples, samples,
        "the first example is what the console's create form starts from"
    );
    let owned = csv()["spec"]["customresourcedefinitions"]["owned"].clone();
    for example in &examples {
        let owned = owned
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == example["kind"])
            .unwrap_or_else(|| panic!("{} is an owned CRD", example["kind"]));
        assert_eq!(
            example["apiVersion"],
            format!(
                "artifact.zotregistry.io/{}",
                owned["version"].as_str().unwrap()
            )
        );
    }
}

#[test]
fn all_namespaces_or_one_is_supported_and_olm_tells_the_operator_which() {
    let modes: BTreeMap<String, bool> = csv()["spec"]["installModes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["type"].as_str().unwrap().to_string(),
                m["supported"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        modes,
        BTreeMap::from([
            ("AllNamespaces".into(), true),
            ("MultiNamespace".into(), false),
            ("OwnNamespace".into(), true),
            ("SingleNamespace".into(), true),
        ])
    );
    // Every mode needs cluster-wide list/watch of the stores (AllNamespaces) and of the cluster's configuration,
    // which only clusterPermissions give.
    let rules = csv()["spec"]["install"]["spec"]["clusterPermissions"][0]["rules"].clone();
    assert!(rules.as_array().unwrap().iter().any(|r| {
        r["resources"]
            .as_array()
            .unwrap()
            .contains(&Value::from("zotartifactstores"))
            && r["verbs"]
                .as_array()
                .unwrap()
                .contains(&Value::from("watch"))
    }));
    // The operator learns the OperatorGroup's target namespaces from the annotation OLM puts on its pods.
    let env = csv_deployment()["spec"]["template"]["spec"]["containers"][0]["env"].clone();
    let watch = env
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "WATCH_NAMESPACE")
        .expect("WATCH_NAMESPACE in the operator's environment");
    assert_eq!(
        watch["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.annotations['olm.targetNamespaces']"
    );
}

#[test]
fn operatorhub_metadata_is_complete() {
    let csv = csv();
    let spec = &csv["spec"];
    assert_eq!(spec["displayName"], "Zot Artifact Store");
    assert_eq!(
        spec["description"],
        read("config/manifests/description.md").as_str()
    );
    for section in ["## What it does", "## Quick start", "## On OpenShift"] {
        assert!(
            spec["description"].as_str().unwrap().contains(section),
            "description has {section}"
        );
    }
    assert!(spec["keywords"].as_array().unwrap().len() >= 5);
    assert!(
        spec["maintainers"][0]["email"]
            .as_str()
            .unwrap()
            .contains('@')
    );
    assert!(spec["provider"]["name"].is_string());
    assert!(spec["links"].as_array().unwrap().len() >= 2);
    assert_eq!(spec["maturity"], "alpha");
    assert_eq!(spec["minKubeVersion"], "1.33.0");
    let capabilities = [
        "Basic Install",
        "Seamless Upgrades",
        "Full Lifecycle",
        "Deep Insights",
        "Auto Pilot",
    ];
    assert!(capabilities.contains(&annotation("capabilities").as_str()));
    let categories = [
        "AI/Machine Learning",
        "Application Runtime",
        "Big Data",
        "Cloud Provider",
        "Developer Tools",
        "Database",
        "Integration & Delivery",
        "Logging & Tracing",
        "Monitoring",
        "Modernization & Migration",
        "Networking",
        "OpenShift Optional",
        "Security",
        "Storage",
        "Streaming & Messaging",
        "Observability",
    ];
    for category in annotation("categories").split(',') {
        assert!(
            categories.contains(&category),
            "{category} is an OperatorHub category"
        );
    }
    let namespace = of_kind(&config("config/manager/manager.yaml"), "Namespace").remove(0);
    assert_eq!(
        annotation("operators.operatorframework.io/suggested-namespace"),
        namespace["metadata"]["name"]
    );
    let template: Value = serde_json::from_str(&annotation(
        "operatorframework.io/suggested-namespace-template",
    ))
    .unwrap();
    assert_eq!(template["metadata"], namespace["metadata"]);
}

#[test]
fn the_icon_is_our_svg() {
    use base64::Engine;
    let icon = &csv()["spec"]["icon"][0];
    assert_eq!(icon["mediatype"], "image/svg+xml");
    let svg = base64::engine::general_purpose::STANDARD
        .decode(icon["base64data"].as_str().unwrap())
        .unwrap();
    assert_eq!(svg, read("config/manifests/icon.svg").into_bytes());
    let text = String::from_utf8(svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("viewBox") && text.trim_end().ends_with("</svg>")
    );
}

const FEATURES: [&str; 10] = [
    "disconnected",
    "fips-compliant",
    "proxy-aware",
    "tls-profiles",
    "token-auth-aws",
    "token-auth-azure",
    "token-auth-gcp",
    "cnf",
    "cni",
    "csi",
];

fn feature(name: &str) -> bool {
    match annotation(&format!("features.operators.openshift.io/{name}")).as_str() {
        "true" => true,
        "false" => false,
        other => {
            panic!("features.operators.openshift.io/{name} is {other:?}, not \"true\" or \"false\"")
        }
    }
}

#[test]
fn every_openshift_feature_annotation_is_set() {
    for name in FEATURES {
        feature(name);
    }
}

/// `zot-operator render` of a sample with extra environment: the workload's zot container.
fn rendered_zot_container(env: &[(&str, &str)]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_zot-operator"))
        .args([
            "render",
            "-f",
            "config/samples/minimal.yaml",
            "--platform",
            "openshift",
        ])
        .current_dir(super::root())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = yaml_docs(&String::from_utf8(out.stdout).unwrap());
    let workload = objects
        .iter()
        .find(|o| o["kind"] == "StatefulSet" || o["kind"] == "Deployment")
        .unwrap();
    containers(&workload["spec"]["template"]["spec"])
        .into_iter()
        .find(|c| c["name"] == "zot")
        .unwrap()
}

#[test]
fn disconnected_every_image_is_a_related_image_and_stores_default_to_related_image_zot() {
    assert!(feature("disconnected"));
    let related: Vec<String> = csv()["spec"]["relatedImages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["image"].as_str().unwrap().to_string())
        .collect();
    let pod = csv_deployment()["spec"]["template"]["spec"].clone();
    let mut related_env = Vec::new();
    for container in containers(&pod) {
        assert!(related.contains(&container["image"].as_str().unwrap().to_string()));
        for env in container["env"].as_array().into_iter().flatten() {
            if env["name"].as_str().unwrap().starts_with("RELATED_IMAGE_") {
                related_env.push((
                    env["name"].as_str().unwrap().to_string(),
                    env["value"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    assert!(related_env.iter().all(|(_, image)| related.contains(image)));
    assert!(related_env.contains(&("RELATED_IMAGE_ZOT".into(), DEFAULT_ZOT_IMAGE.into())));
    // The operator's default zot image is RELATED_IMAGE_ZOT, so a mirrored value reaches the stores.
    let mirrored = "mirror.example.com/project-zot/zot@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_eq!(
        rendered_zot_container(&[("RELATED_IMAGE_ZOT", mirrored)])["image"],
        mirrored
    );
}

#[test]
fn proxy_aware_says_whether_the_cluster_proxy_reaches_zot() {
    // OLM sets HTTP_PROXY, HTTPS_PROXY and NO_PROXY on the operator from the cluster's Proxy object; the controller
    // reads them with Proxy::from_env into its Platform, and a proxy-aware operator renders them into its operands.
    let olm_env = [
        ("HTTP_PROXY", "http://proxy.example.com:3128"),
        ("HTTPS_PROXY", "http://proxy.example.com:3128"),
        ("NO_PROXY", ".cluster.local,.svc"),
    ];
    let mut platform = Platform::openshift(Some("apps.example.com".into()));
    platform.proxy = Proxy::from_lookup(|name| {
        olm_env
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    });
    let stream = zot_operator::cli::render_file(
        &super::root().join("config/samples/minimal.yaml"),
        &platform,
        false,
    )
    .unwrap();
    let objects = yaml_docs(&stream);
    let workload = objects
        .iter()
        .find(|o| o["kind"] == "StatefulSet" || o["kind"] == "Deployment")
        .unwrap();
    let zot = containers(&workload["spec"]["template"]["spec"])
        .into_iter()
        .find(|c| c["name"] == "zot")
        .unwrap();
    let passes_proxy = olm_env.iter().all(|(name, value)| {
        zot["env"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["name"] == *name && e["value"] == *value)
    });
    assert_eq!(
        feature("proxy-aware"),
        passes_proxy,
        "features.operators.openshift.io/proxy-aware must say whether zot gets the proxy (config/manifests/bases)"
    );
}

#[test]
fn the_skip_range_and_replaces_follow_the_catalog() {
    let csv = csv();
    let skip = annotation("olm.skipRange");
    let first = super::catalog()
        .iter()
        .filter(|d| d["schema"] == "olm.bundle")
        .filter_map(|d| {
            d["name"]
                .as_str()?
                .strip_prefix("zot-operator.v")
                .map(|v| semver::Version::parse(v).unwrap())
        })
        .min()
        .unwrap();
    let current = semver::Version::parse(VERSION).unwrap();
    let floor = if first < current {
        first
    } else {
        semver::Version::new(0, 0, 0)
    };
    assert_eq!(skip, format!(">={floor} <{VERSION}"));
    let range = semver::VersionReq::parse(&skip.replace(' ', ", ")).unwrap();
    assert!(!range.matches(&current), "a release does not skip itself");
    assert_eq!(
        csv["spec"].get("replaces").is_some(),
        floor > semver::Version::new(0, 0, 0)
    );
}
