//! OpenShift: every rendered pod template and the operator's own against the restricted-v2 SCC (and the operator's
//! Deployment on the real API server under restricted Pod Security), each Route termination with its Service
//! annotation and zot TLS, rendered Routes accepted by the real Route CRD (openshift flavour), and platform
//! discovery on both flavours.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, PodSpec, Service};
use kube::api::{Api, Patch, PatchParams};
use pretty_assertions::assert_eq;
use support::{Flavour, TestNamespace};
use zot_operator::api::names::TLS_DIR;
use zot_operator::api::v1alpha1::ZotArtifactStore;
use zot_operator::openshift::route::{Route, RouteTlsTermination};
use zot_operator::openshift::scc::{self, SecurityContextConstraints};
use zot_operator::openshift::{self, Proxy};
use zot_operator::platform::Platform;
use zot_operator::render::{self, Desired, Inputs};
use zot_operator::validate::{ValidatedStore, validate};

fn restricted_v2() -> SecurityContextConstraints {
    let path = support::shared_dir().join("crds/fixtures/restricted-v2-scc.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn store_in(namespace: &str, spec: &str) -> ValidatedStore {
    let yaml = format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata: {{name: zot, namespace: {namespace}}}\nspec:\n{}",
        spec.lines().map(|l| format!("  {l}\n")).collect::<String>()
    );
    let raw: ZotArtifactStore = serde_yaml::from_str(&yaml).unwrap();
    validate(&raw, "default").unwrap_or_else(|r| panic!("{spec}: {r}"))
}

fn samples() -> Vec<(String, ValidatedStore)> {
    let dir = support::repo_root().join("config/samples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let raw: ZotArtifactStore =
                serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            (
                path.display().to_string(),
                validate(&raw, "default").unwrap(),
            )
        })
        .collect()
}

/// Specs that together use every kind of volume, credential, TLS source and workload the operator renders.
const MATRIX: &[&str] = &[
    "{}",
    "storage:\n  type: s3\n  s3: {bucket: images, region: eu-west-1, accessKeySecret: {name: s3-keys}}\ndatabase:\n  type: redis\n  redis: {url: 'redis://redis:6379'}\nreplicas: 3",
    "storage:\n  type: s3\n  s3: {bucket: images, region: eu-west-1}\ndatabase:\n  type: embedded\n  embedded: {storageSize: 2Gi}",
    "storage:\n  type: gcs\n  gcs: {bucket: images, credentialsSecret: gcs-key}",
    "storage:\n  type: azure\n  azure: {accountName: acct, container: images, credentialsSecret: azure-creds}",
    "rbac:\n  enabled: true\n  htpasswd: {name: users, key: htpasswd}\n  keycloak:\n    url: https://sso.example.com\n    realm: dev\n    clientId: zot\n    clientSecretRef: {name: kc, key: secret}",
    "tls: {enabled: true, secretName: zot-tls}\nnetworking:\n  route: {termination: passthrough}",
    "networking:\n  route: {termination: reencrypt}\nmetrics:\n  prometheus:\n    serviceMonitor: {enabled: true}",
    "extensions:\n  sync:\n    enabled: true\n    credentialsSecretRef: {name: upstream, key: credentials.json}\n    registries:\n      - urls: ['https://registry-1.docker.io']\n        onDemand: true",
    "securityContext:\n  seccompProfile: {type: RuntimeDefault}\n  supplementalGroups: [5555]",
    "podDisruptionBudget: {enabled: true}\nnetworking:\n  ingress: {enabled: true, host: zot.example.com, className: openshift-default}",
];

fn platforms() -> Vec<(&'static str, Platform)> {
    let mut openshift = Platform::openshift(Some("apps.example.com".into()));
    openshift.proxy = Proxy {
        http_proxy: Some("http://proxy:3128".into()),
        https_proxy: Some("http://proxy:3128".into()),
        no_proxy: Some(".svc,.cluster.local".into()),
    };
    vec![
        ("kubernetes", Platform::kubernetes()),
        ("openshift", openshift),
    ]
}

/// The pod template of the store's workload and the number of volume claim templates beside it.
fn pod_of(desired: &Desired) -> (PodSpec, usize) {
    match (&desired.statefulset, &desired.deployment) {
        (Some(sts), None) => {
            let spec = sts.spec.clone().unwrap();
            let claims = spec.volume_claim_templates.unwrap_or_default().len();
            (spec.template.spec.unwrap(), claims)
        }
        (None, Some(deploy)) => (deploy.spec.clone().unwrap().template.spec.unwrap(), 0),
        other => panic!("expected one workload, got {other:?}"),
    }
}

fn every_rendered_pod() -> Vec<(String, &'static str, PodSpec, usize)> {
    let mut stores = samples();
    stores.extend(
        MATRIX
            .iter()
            .map(|spec| (format!("spec {spec:?}"), store_in("team", spec))),
    );
    let mut pods = Vec::new();
    for (name, store) in &stores {
        for (platform_name, platform) in platforms() {
            let desired = render::desired(store, &platform, &Inputs::default());
            let (pod, claims) = pod_of(&desired);
            pods.push((name.clone(), platform_name, pod, claims));
        }
    }
    pods
}

#[test]
fn every_rendered_pod_template_meets_the_restricted_v2_scc() {
    let scc = restricted_v2();
    assert_eq!(scc.metadata.name.as_deref(), Some("restricted-v2"));
    assert_eq!(
        scc.allowed_capabilities,
        Some(vec!["NET_BIND_SERVICE".into()])
    );
    assert_eq!(scc.required_drop_capabilities, Some(vec!["ALL".into()]));
    let pods = every_rendered_pod();
    assert_eq!(pods.len(), 2 * (MATRIX.len() + samples().len()));
    let mut kinds = std::collections::BTreeSet::new();
    for (name, platform, pod, claims) in &pods {
        let broken = scc::violations(&scc, pod);
        assert!(broken.is_empty(), "{name} on {platform}: {broken:?}");
        if *claims > 0 {
            assert!(
                scc.volumes
                    .iter()
                    .flatten()
                    .any(|v| v == "persistentVolumeClaim"),
                "{name}: claim templates need persistentVolumeClaim volumes"
            );
        }
        kinds.extend(scc::volume_types(pod));
    }
    // The matrix exercises every kind of volume the operator mounts.
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["configMap", "emptyDir", "persistentVolumeClaim", "secret"]
    );
}

#[test]
fn on_openshift_no_pod_fixes_a_uid_gid_or_fs_group_and_every_root_filesystem_is_read_only() {
    for (name, platform, pod, _) in every_rendered_pod() {
        for container in &pod.containers {
            let context = container.security_context.clone().unwrap();
            assert_eq!(
                context.read_only_root_filesystem,
                Some(true),
                "{name} on {platform}"
            );
            if platform == "openshift" {
                assert_eq!(
                    (context.run_as_user, context.run_as_group),
                    (None, None),
                    "{name}"
                );
            }
        }
        if platform == "openshift" {
            let pod_context = pod.security_context.clone().unwrap();
            assert_eq!(
                (
                    pod_context.run_as_user,
                    pod_context.run_as_group,
                    pod_context.fs_group
                ),
                (None, None, None),
                "{name}: the SCC assigns them from the namespace's range"
            );
        }
    }
}

#[test]
fn a_privileged_pod_would_fail_the_same_check() {
    let store = store_in("team", "{}");
    let desired = render::desired(&store, &Platform::openshift(None), &Inputs::default());
    let (mut pod, _) = pod_of(&desired);
    let context = pod.containers[0].security_context.as_mut().unwrap();
    context.privileged = Some(true);
    context.capabilities.as_mut().unwrap().drop = Some(vec![]);
    assert_eq!(
        scc::violations(&restricted_v2(), &pod),
        [
            "container zot is privileged",
            "container zot does not drop capability ALL"
        ]
    );
}

fn openshift_platform() -> Platform {
    Platform::openshift(Some("apps.zot.test".into()))
}

struct Rendered {
    route: Route,
    service: Service,
    zot_tls: serde_json::Value,
    tls_secret: Option<String>,
}

fn rendered(namespace: &str, spec: &str) -> Rendered {
    let store = store_in(namespace, spec);
    let inputs = Inputs {
        destination_ca: render::destination_ca_source(&store, &openshift_platform())
            .map(|_| "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into()),
        ..Inputs::default()
    };
    let desired = render::desired(&store, &openshift_platform(), &inputs);
    let config: serde_json::Value =
        serde_json::from_slice(&desired.config_secret.data.as_ref().unwrap()["config.json"].0)
            .unwrap();
    let (pod, _) = pod_of(&desired);
    let tls_secret = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "tls")
        .and_then(|v| v.secret?.secret_name);
    Rendered {
        route: desired.route.expect("a Route"),
        service: desired.services[0].clone(),
        zot_tls: config["http"]["tls"].clone(),
        tls_secret,
    }
}

const TERMINATIONS: [(&str, &str); 3] = [
    (
        "edge",
        "networking:\n  route: {termination: edge}\ntls: {enabled: false}",
    ),
    (
        "reencrypt",
        "networking:\n  route: {termination: reencrypt}",
    ),
    (
        "passthrough",
        "networking:\n  route: {termination: passthrough}\ntls: {enabled: true, secretName: zot-tls}",
    ),
];

#[test]
fn each_termination_renders_its_route_service_annotation_and_zot_tls() {
    let zot_tls = serde_json::json!({"cert": format!("{TLS_DIR}/tls.crt"), "key": format!("{TLS_DIR}/tls.key")});
    // (termination, destination CA on the Route, serving-cert annotation, zot's http.tls, mounted certificate)
    let expected = [
        (RouteTlsTermination::Edge, false, None, None, None),
        (
            RouteTlsTermination::Reencrypt,
            true,
            Some("zot-serving-cert"),
            Some(&zot_tls),
            Some("zot-serving-cert"),
        ),
        (
            RouteTlsTermination::Passthrough,
            false,
            None,
            Some(&zot_tls),
            Some("zot-tls"),
        ),
    ];
    for ((name, spec), (termination, ca, annotation, zot, secret)) in
        TERMINATIONS.into_iter().zip(expected)
    {
        let r = rendered("team", spec);
        let tls = r.route.spec.tls.clone().unwrap();
        assert_eq!(tls.termination, termination, "{name}");
        assert_eq!(tls.destination_ca_certificate.is_some(), ca, "{name}");
        let annotations = r.service.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(
            annotations
                .get(render::SERVING_CERT_ANNOTATION)
                .map(String::as_str),
            annotation,
            "{name}: the service CA's annotation"
        );
        assert_eq!(
            (!r.zot_tls.is_null()).then_some(&r.zot_tls),
            zot,
            "{name}: zot's http.tls"
        );
        assert_eq!(
            r.tls_secret.as_deref(),
            secret,
            "{name}: mounted certificate"
        );
        assert_eq!(
            r.route.spec.host.as_deref(),
            Some("zot-team.apps.zot.test"),
            "{name}"
        );
    }
}

#[test]
fn the_crd_and_the_operator_agree_on_route_hosts_and_terminations() {
    use kube::core::cel::{ErrorKind, Validator, compile_schema};
    let crd: serde_json::Value = serde_yaml::from_str(
        &std::fs::read_to_string(
            support::repo_root()
                .join("config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let schema = compile_schema(&crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]);
    let cases = [
        ("networking:\n  route: {host: zot.apps.example.com}", true),
        ("networking:\n  route: {host: '*.apps.example.com'}", false),
        ("networking:\n  route: {host: Zot.example.com}", false),
        (
            &*format!(
                "networking:\n  route: {{host: {}.example.com}}",
                "a".repeat(64)
            ),
            false,
        ),
        ("networking:\n  route: {termination: reencrypt}", true),
        // TLS by default: passthrough reaches zot serving its own certificate; not with TLS off.
        ("networking:\n  route: {termination: passthrough}", true),
        (
            "networking:\n  route: {termination: passthrough}\ntls: {enabled: false}",
            false,
        ),
        (
            "networking:\n  route: {enabled: false, termination: passthrough}",
            true,
        ),
        (
            "networking:\n  route: {termination: passthrough}\ntls: {enabled: true, secretName: zot-tls}",
            true,
        ),
    ];
    for (spec, accepted) in cases {
        let yaml = format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata: {{name: zot}}\nspec:\n{}",
            spec.lines().map(|l| format!("  {l}\n")).collect::<String>()
        );
        let raw: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
        let by_cel = match Validator::new().validate_compiled(&schema, &raw, None) {
            Ok(()) => true,
            Err(errors) => !errors
                .into_vec()
                .iter()
                .any(|e| e.kind == ErrorKind::ValidationFailure),
        };
        let store: ZotArtifactStore = serde_json::from_value(raw).unwrap();
        let by_operator = validate(&store, "default").is_ok();
        assert_eq!((by_cel, by_operator), (accepted, accepted), "{spec}");
    }
}

async fn dry_run_apply<K>(client: &kube::Client, namespace: &str, object: &K) -> K
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let name = object.meta().name.clone().unwrap();
    api.patch(
        &name,
        &PatchParams::apply("zot-operator").dry_run().force(),
        &Patch::Apply(object),
    )
    .await
    .unwrap_or_else(|e| panic!("{name} refused: {e}"))
}

#[tokio::test]
async fn rendered_routes_are_accepted_by_the_route_crd_with_the_computed_host() {
    let client = support::client(Flavour::OpenShift).await;
    let ns = TestNamespace::new(Flavour::OpenShift, "route", &[]).await;
    let platform = openshift::discover(&client, "zot:test".into(), Proxy::default())
        .await
        .unwrap();
    for (name, spec) in TERMINATIONS {
        let store = store_in(&ns.name, spec);
        let inputs = Inputs {
            destination_ca: Some(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            ),
            ..Inputs::default()
        };
        let desired = render::desired(&store, &platform, &inputs);
        let route = desired.route.clone().unwrap();
        let applied = dry_run_apply(&client, &ns.name, &route).await;
        let expected_host = format!("zot-{}.apps.zot.test", ns.name);
        assert_eq!(
            applied.spec.host.as_deref(),
            Some(expected_host.as_str()),
            "{name}"
        );
        assert_eq!(
            applied.spec.tls, route.spec.tls,
            "{name}: stored as rendered"
        );
        assert_eq!(applied.spec.port, route.spec.port, "{name}");
        assert_eq!(
            applied.metadata.annotations.unwrap()[render::ROUTER_TIMEOUT_ANNOTATION],
            render::ROUTER_TIMEOUT
        );
        let bundle: ConfigMap = desired.trusted_ca_bundle.clone().unwrap();
        dry_run_apply(&client, &ns.name, &bundle).await;
        dry_run_apply(&client, &ns.name, &desired.services[0]).await;
    }
}

#[tokio::test]
async fn the_route_crd_refuses_what_the_operator_never_renders() {
    // The check above can fail: the same CRD refuses a Route the schema forbids.
    let client = support::client(Flavour::OpenShift).await;
    let ns = TestNamespace::new(Flavour::OpenShift, "badroute", &[]).await;
    let mut route = rendered(&ns.name, "{}").route;
    route.spec.host = Some("Not_A_Host".into());
    let api: Api<Route> = Api::namespaced(client, &ns.name);
    let refused = api
        .patch(
            "zot",
            &PatchParams::apply("zot-operator").dry_run().force(),
            &Patch::Apply(&route),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn discovery_on_the_openshift_flavour_finds_openshift_its_apps_domain_and_service_monitors() {
    let client = support::client(Flavour::OpenShift).await;
    let proxy = Proxy {
        https_proxy: Some("http://proxy:3128".into()),
        ..Proxy::default()
    };
    let platform = openshift::discover(&client, "zot:test".into(), proxy.clone())
        .await
        .unwrap();
    assert_eq!(
        platform,
        Platform {
            openshift: true,
            apps_domain: Some("apps.zot.test".into()),
            service_monitor_crd: true,
            default_image: "zot:test".into(),
            proxy,
        }
    );
}

#[tokio::test]
async fn discovery_on_the_vanilla_flavour_finds_plain_kubernetes() {
    let client = support::client(Flavour::Vanilla).await;
    let platform = openshift::discover(&client, "zot:test".into(), Proxy::default())
        .await
        .unwrap();
    assert_eq!(
        (
            platform.openshift,
            platform.apps_domain,
            platform.service_monitor_crd
        ),
        (false, None, false)
    );
}

#[tokio::test]
async fn the_clusters_restricted_v2_scc_reads_into_the_scc_model_as_the_fixture_says() {
    let client = support::client(Flavour::OpenShift).await;
    let api: Api<SecurityContextConstraints> = Api::all(client);
    let served = api.get("restricted-v2").await.unwrap();
    let fixture = restricted_v2();
    assert_eq!(
        (
            &served.allowed_capabilities,
            &served.required_drop_capabilities,
            &served.volumes,
            &served.seccomp_profiles,
            served.allow_privilege_escalation,
            served.allow_privileged_container,
        ),
        (
            &fixture.allowed_capabilities,
            &fixture.required_drop_capabilities,
            &fixture.volumes,
            &fixture.seccomp_profiles,
            fixture.allow_privilege_escalation,
            fixture.allow_privileged_container,
        )
    );
}

/// The operator's own Deployment, as config/manager ships it (and the CSV embeds it).
fn operator_deployment() -> k8s_openapi::api::apps::v1::Deployment {
    let path = support::repo_root().join("config/manager/manager.yaml");
    support::yaml_docs(&std::fs::read_to_string(&path).unwrap())
        .into_iter()
        .find(|doc| doc["kind"] == "Deployment")
        .map(|doc| serde_json::from_value(doc).unwrap())
        .unwrap_or_else(|| panic!("{} has no Deployment", path.display()))
}

#[test]
fn the_operators_own_pod_meets_the_restricted_v2_scc_without_a_fixed_uid() {
    let deployment = operator_deployment();
    let pod = deployment.spec.unwrap().template.spec.unwrap();
    let broken = scc::violations(&restricted_v2(), &pod);
    assert!(broken.is_empty(), "the operator's pod: {broken:?}");
    let sc = pod.security_context.unwrap_or_default();
    assert_eq!(
        (sc.run_as_user, sc.run_as_group, sc.fs_group),
        (None, None, None),
        "restricted-v2 assigns the operator's UID, GID and fsGroup"
    );
    for container in &pod.containers {
        let sc = container.security_context.clone().unwrap_or_default();
        assert_eq!(
            sc.read_only_root_filesystem,
            Some(true),
            "{}",
            container.name
        );
    }
}

#[tokio::test]
async fn the_operators_own_deployment_runs_under_restricted_pod_security() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::ServiceAccount;
    use kube::api::PostParams;

    let ns = TestNamespace::new(
        Flavour::Vanilla,
        "operator-pod",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let client = support::client(Flavour::Vanilla).await;
    let mut deployment = operator_deployment();
    deployment.metadata.namespace = Some(ns.name.clone());
    let sa_name = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.service_account_name.clone())
        .expect("the operator's pod names its ServiceAccount");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns.name);
    let account: ServiceAccount =
        serde_json::from_value(serde_json::json!({"metadata": {"name": sa_name}})).unwrap();
    accounts
        .create(&PostParams::default(), &account)
        .await
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let name = deployment.metadata.name.clone().unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    // The controller-manager creates the pod; PodSecurity admission would refuse it (FailedCreate), and kwok runs it.
    support::eventually(
        "the operator's Deployment to be available in a restricted namespace",
        std::time::Duration::from_secs(120),
        || async {
            let d = deployments.get(&name).await.ok()?;
            (d.status?.available_replicas? >= 1).then_some(())
        },
    )
    .await;
}
