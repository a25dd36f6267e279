//! The pod template: security, probes, credentials, image.
use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;

#[test]
fn pods_meet_the_restricted_pod_security_standard() {
    let pod = pod_spec(&k8s("{}"));
    let psc = pod.security_context.unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault");
    let sc = pod.containers[0].security_context.clone().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.capabilities.unwrap().drop, Some(vec!["ALL".to_string()]));
    assert_eq!(pod.automount_service_account_token, Some(false));
}

#[test]
fn writable_volumes_are_only_where_zot_writes() {
    let pod = pod_spec(&k8s("{}"));
    let writable: Vec<String> = pod.containers[0]
        .volume_mounts
        .clone()
        .unwrap()
        .into_iter()
        .filter(|m| m.read_only != Some(true))
        .map(|m| m.mount_path)
        .collect();
    assert_eq!(writable, vec![names::DATA_DIR, names::TMP_DIR]);
}

#[test]
fn on_kubernetes_pods_run_as_uid_1000_and_on_openshift_the_scc_chooses() {
    let psc = pod_spec(&k8s("{}")).security_context.unwrap();
    assert_eq!(
        (psc.run_as_user, psc.run_as_group, psc.fs_group),
        (Some(1000), Some(1000), Some(1000))
    );
    assert_eq!(
        psc.fs_group_change_policy.as_deref(),
        Some("OnRootMismatch")
    );
    let openshift = desired(&store("{}"), &Platform::openshift(None), &Inputs::default());
    let psc = pod_spec(&openshift).security_context.unwrap();
    assert_eq!(
        (psc.run_as_user, psc.run_as_group, psc.fs_group),
        (None, None, None)
    );
    assert_eq!(psc.run_as_non_root, Some(true));
}

#[test]
fn the_store_security_context_overrides_the_defaults_field_by_field() {
    let psc = pod_spec(&k8s(
        "securityContext: {runAsUser: 2000, supplementalGroups: [5]}",
    ))
    .security_context
    .unwrap();
    assert_eq!(psc.run_as_user, Some(2000));
    assert_eq!(psc.fs_group, Some(1000));
    assert_eq!(psc.supplemental_groups, Some(vec![5]));
}

#[test]
fn probes_use_zots_health_endpoints_with_a_thirty_minute_startup_budget() {
    let container = pod_spec(&k8s("{}")).containers[0].clone();
    let path =
        |p: Option<k8s_openapi::api::core::v1::Probe>| p.unwrap().http_get.unwrap().path.unwrap();
    let startup = container.startup_probe.clone().unwrap();
    assert_eq!(
        startup.period_seconds.unwrap() * startup.failure_threshold.unwrap(),
        1800
    );
    assert_eq!(path(container.startup_probe), "/startupz");
    assert_eq!(path(container.liveness_probe), "/livez");
    assert_eq!(path(container.readiness_probe), "/readyz");
    assert!(
        container
            .lifecycle
            .unwrap()
            .pre_stop
            .unwrap()
            .sleep
            .is_some()
    );
}

#[test]
fn s3_keys_reach_zot_as_environment_variables_from_their_secret() {
    let env = pod_spec(&k8s(S3_REDIS)).containers[0].env.clone().unwrap();
    let refs: Vec<(String, String, String)> = env
        .into_iter()
        .map(|e| {
            let r = e.value_from.unwrap().secret_key_ref.unwrap();
            (e.name, r.name, r.key)
        })
        .collect();
    assert_eq!(
        refs,
        vec![
            (
                "AWS_ACCESS_KEY_ID".into(),
                "s3-keys".into(),
                "access-key".into()
            ),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                "s3-keys".into(),
                "secret-key".into()
            ),
        ]
    );
}

#[test]
fn gcs_credentials_are_a_mounted_key_file() {
    let desired = k8s("storage:\n  type: gcs\n  gcs: {bucket: images, credentialsSecret: gcp-sa}");
    let driver = &config(&desired)["storage"]["storageDriver"];
    assert_eq!(driver["name"], "gcs");
    assert_eq!(
        driver["keyfile"],
        format!("{}/credentials.json", names::GCS_DIR)
    );
    let container = pod_spec(&desired).containers[0].clone();
    assert_eq!(
        container.env.unwrap()[0].name,
        "GOOGLE_APPLICATION_CREDENTIALS"
    );
}

#[test]
fn azure_uses_the_default_credential_chain_fed_from_a_secret() {
    let desired = k8s(
        "storage:\n  type: azure\n  azure: {accountName: acct, container: images, credentialsSecret: sp}",
    );
    assert_eq!(
        config(&desired)["storage"]["storageDriver"]["credentials"],
        json!({"type": "default_credentials"})
    );
    let env_from = pod_spec(&desired).containers[0].env_from.clone().unwrap();
    assert_eq!(env_from[0].secret_ref.as_ref().unwrap().name, "sp");
}

#[test]
fn the_image_defaults_to_the_platform_image_and_the_store_overrides_it() {
    let platform = Platform {
        default_image: "mirror.local:5000/zot@sha256:abc".into(),
        ..Platform::kubernetes()
    };
    assert_eq!(
        image(&store("{}"), &platform),
        "mirror.local:5000/zot@sha256:abc"
    );
    assert_eq!(
        image(&store("image: {tag: v2.1.19}"), &platform),
        "mirror.local:5000/zot:v2.1.19"
    );
    assert_eq!(
        image(
            &store("image: {repository: quay.io/zot, tag: 'sha256:def'}"),
            &platform
        ),
        "quay.io/zot@sha256:def"
    );
}
