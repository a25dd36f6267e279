//! zot's configuration and the Secrets beside it.
use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;

#[test]
fn the_config_and_its_secret_hold_no_credentials() {
    let inputs = Inputs {
        keycloak_client_secret: Some("sup3r-s3cret".into()),
        ..Inputs::default()
    };
    let desired = desired(
        &store(&format!("{S3_REDIS}{KEYCLOAK}")),
        &Platform::kubernetes(),
        &inputs,
    );
    let text = config(&desired).to_string();
    for secret in [
        "sup3r-s3cret",
        "s3-keys",
        "kc",
        "accesskey",
        "secretkey",
        "clientsecret",
        "password",
    ] {
        assert!(
            !text.contains(&format!("\"{secret}\"")),
            "{secret} in {text}"
        );
    }
    let oidc = desired.oidc_secret.unwrap();
    let file: Value = serde_json::from_slice(&oidc.data.unwrap()[names::OIDC_FILE].0).unwrap();
    assert_eq!(
        file,
        json!({"clientid": "zot", "clientsecret": "sup3r-s3cret"})
    );
}

#[test]
fn keycloak_is_zots_oidc_provider_reading_a_mounted_credentials_file() {
    let desired = k8s(KEYCLOAK);
    let provider = &config(&desired)["http"]["auth"]["openid"]["providers"]["oidc"];
    assert_eq!(provider["issuer"], "https://sso.example.com/realms/dev");
    assert_eq!(
        provider["credentialsFile"],
        format!("{}/{}", names::OIDC_DIR, names::OIDC_FILE)
    );
    assert_eq!(
        desired.oidc_secret, None,
        "no client secret read, no composed Secret"
    );
    let pod = pod_spec(&desired);
    let volume = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "oidc")
        .unwrap();
    assert_eq!(
        volume.secret.unwrap().secret_name.as_deref(),
        Some("zot-oidc")
    );
}

#[test]
fn metrics_switched_off_render_neither_the_extension_nor_the_service() {
    let desired = k8s("metrics: {enabled: false}");
    assert!(config(&desired)["extensions"].get("metrics").is_none());
    assert_eq!(desired.services.len(), 2);
}

#[test]
fn the_config_hash_follows_the_config_and_the_secret_versions() {
    let hash = |spec: &str, inputs: &Inputs| {
        let d = desired(&store(spec), &Platform::kubernetes(), inputs);
        let template = d.statefulset.unwrap().spec.unwrap().template;
        template.metadata.unwrap().annotations.unwrap()[names::CONFIG_HASH_ANNOTATION].clone()
    };
    let base = hash("{}", &Inputs::default());
    assert_eq!(base, hash("{}", &Inputs::default()));
    assert_ne!(base, hash("logLevel: debug", &Inputs::default()));
    let rotated = Inputs {
        secret_versions: [("s3-keys".to_string(), "42".to_string())].into(),
        ..Inputs::default()
    };
    assert_ne!(base, hash("{}", &rotated));
}

#[test]
fn a_service_monitor_behind_authentication_needs_anonymous_metrics() {
    let platform = Platform::openshift(None);
    let spec = "rbac:\n  enabled: true\n  htpasswd: {name: users, key: htpasswd}\nmetrics:\n  prometheus:\n    serviceMonitor: {enabled: true}";
    assert_eq!(
        gaps(&store(spec), &platform)[0].field,
        "spec.metrics.prometheus.serviceMonitor.enabled"
    );
    let open = format!(
        "{spec}\nrbac:\n  enabled: true\n  htpasswd: {{name: users, key: htpasswd}}\n  anonymousMetrics: true"
    );
    let open = open.replacen(
        "rbac:\n  enabled: true\n  htpasswd: {name: users, key: htpasswd}\n",
        "",
        1,
    );
    assert_eq!(gaps(&store(&open), &platform), vec![]);
    let desired = desired(&store(&open), &platform, &Inputs::default());
    assert_eq!(
        config(&desired)["http"]["accessControl"]["metrics"],
        json!({"anonymousPolicy": ["read"]})
    );
}

#[test]
fn default_and_anonymous_policies_hold_on_every_repository_glob() {
    let desired = k8s(
        "rbac:\n  enabled: true\n  htpasswd: {name: users, key: htpasswd}\n  defaultPolicy: [read]\n  anonymousPolicy: [read]\n  adminUsers: [root]\n  policies:\n  - {repositories: ['team/**'], users: [ann], actions: [create, read, read]}",
    );
    let acl = &config(&desired)["http"]["accessControl"];
    for glob in ["**", "team/**"] {
        assert_eq!(
            acl["repositories"][glob]["defaultPolicy"],
            json!(["read"]),
            "{glob}"
        );
        assert_eq!(
            acl["repositories"][glob]["anonymousPolicy"],
            json!(["read"]),
            "{glob}"
        );
    }
    assert_eq!(
        acl["repositories"]["team/**"]["policies"],
        json!([{"users": ["ann"], "actions": ["read", "create"]}])
    );
    assert_eq!(
        acl["adminPolicy"]["actions"],
        json!(["read", "create", "update", "delete"])
    );
    assert_eq!(
        config(&desired)["http"]["auth"]["htpasswd"]["path"],
        "/var/run/secrets/zot/htpasswd/htpasswd"
    );
}

#[test]
fn sbom_generation_turns_on_the_scanner_in_the_chosen_format() {
    let desired =
        k8s("supplyChain:\n  enabled: true\n  sbom: {enabled: true, defaultFormat: cyclonedx}");
    let sbom = &config(&desired)["extensions"]["search"]["cve"]["trivy"]["sbom"];
    assert_eq!(sbom, &json!({"enable": true, "format": "cyclonedx"}));
}

#[test]
fn dynamodb_tables_are_named_after_the_store() {
    let desired = k8s(
        "storage:\n  type: s3\n  s3: {bucket: images}\ndatabase:\n  type: dynamodb\n  dynamodb: {region: eu-west-1}",
    );
    let driver = &config(&desired)["storage"]["cacheDriver"];
    assert_eq!(driver["repoMetaTablename"], "team-zot-RepoMetadataTable");
    assert_eq!(driver["region"], "eu-west-1");
}

#[test]
fn debugging_the_desired_objects_never_prints_the_client_secret() {
    let inputs = Inputs {
        keycloak_client_secret: Some("sup3r-s3cret".into()),
        ..Inputs::default()
    };
    let desired = desired(&store(KEYCLOAK), &Platform::kubernetes(), &inputs);
    assert!(desired.oidc_secret.is_some());
    let debug = format!("{desired:?} {inputs:?}");
    assert!(!debug.contains("sup3r-s3cret"), "{debug}");
    assert!(debug.contains("zot-oidc"));
}

#[test]
fn with_a_redis_password_zot_gets_the_options_form_whose_password_it_masks_and_the_hash_and_debug_never_see_it()
 {
    let spec = S3_REDIS.replace(
        "redis: {url: 'redis://redis:6379'}",
        "redis: {url: 'redis://redis.cache.svc/3', passwordSecretRef: {name: redis-auth, key: password}}",
    );
    let with = |password: &str| Inputs {
        redis_password: Some(password.into()),
        ..Inputs::default()
    };
    let store = store(&spec);
    let desired_with = desired(&store, &Platform::kubernetes(), &with("p@ss/wörd:1"));
    let driver = &config(&desired_with)["storage"]["cacheDriver"];
    assert_eq!(driver["addr"], json!(["redis.cache.svc:6379"]));
    assert_eq!(driver["db"], 3);
    assert_eq!(driver["password"], "p@ss/wörd:1");
    assert!(driver.get("url").is_none(), "{driver}");
    // Another password alone does not change the hash (the Secret's resourceVersion does).
    let other = desired(&store, &Platform::kubernetes(), &with("another"));
    let hash = |d: &Desired| {
        let deployment = d.deployment.as_ref().unwrap();
        let template = &deployment.spec.as_ref().unwrap().template;
        template.metadata.as_ref().unwrap().annotations.clone()
    };
    assert_eq!(hash(&desired_with), hash(&other));
    let debug = format!("{desired_with:?} {:?}", with("p@ss/wörd:1"));
    assert!(!debug.contains("p@ss"), "{debug}");
    // Without the password (offline rendering) the options form has none; without passwordSecretRef, the URL.
    let offline = desired(&store, &Platform::kubernetes(), &Inputs::default());
    assert!(
        config(&offline)["storage"]["cacheDriver"]
            .get("password")
            .is_none()
    );
    let plain = desired(
        &self::store(S3_REDIS),
        &Platform::kubernetes(),
        &Inputs::default(),
    );
    assert_eq!(
        config(&plain)["storage"]["cacheDriver"]["url"],
        "redis://redis:6379"
    );
}

#[test]
fn signing_mounts_only_the_public_key_into_zots_cosign_trust_store() {
    let desired = k8s("supplyChain:\n  enabled: true\n  signing: {enabled: true}");
    assert_eq!(
        config(&desired)["extensions"]["trust"],
        json!({"enable": true, "cosign": true, "notation": true})
    );
    let pod = pod_spec(&desired);
    let volume = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "cosign-public-key")
        .unwrap();
    let secret = volume.secret.unwrap();
    assert_eq!(secret.secret_name.as_deref(), Some("zot-signing-key"));
    let items = secret.items.unwrap();
    assert_eq!(items.len(), 1, "the public key alone");
    assert_eq!(
        (items[0].key.as_str(), items[0].path.as_str()),
        ("cosign.pub", "cosign.pub")
    );
    let mounts = pod.containers[0].volume_mounts.clone().unwrap();
    let data = mounts
        .iter()
        .position(|m| m.mount_path == names::DATA_DIR)
        .unwrap();
    let cosign = mounts
        .iter()
        .position(|m| m.mount_path == "/var/lib/registry/_cosign")
        .unwrap();
    assert!(
        cosign > data,
        "the trust store is mounted inside the data volume, after it"
    );
    assert_eq!(mounts[cosign].read_only, Some(true));
    // A user's Secret and field names.
    let desired = k8s(
        "supplyChain:\n  enabled: true\n  signing:\n    enabled: true\n    keySecretRef: {name: team-key, publicKeyField: pub.pem}",
    );
    let volume = pod_spec(&desired)
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "cosign-public-key")
        .unwrap();
    let secret = volume.secret.unwrap();
    assert_eq!(secret.secret_name.as_deref(), Some("team-key"));
    assert_eq!(secret.items.unwrap()[0].key, "pub.pem");
    // Off (the master switch or signing's own): no trust extension, no volume.
    for spec in [
        "supplyChain:\n  enabled: false\n  signing: {enabled: true}",
        "supplyChain:\n  enabled: true\n  signing: {enabled: false}",
    ] {
        let desired = k8s(spec);
        assert!(config(&desired)["extensions"]["trust"].is_null(), "{spec}");
        assert!(
            !pod_spec(&desired)
                .volumes
                .unwrap()
                .iter()
                .any(|v| v.name == "cosign-public-key"),
            "{spec}"
        );
    }
}

#[test]
fn a_new_signing_key_changes_the_config_hash() {
    let store = store("supplyChain:\n  enabled: true\n  signing: {enabled: true}");
    let hash = |key: &str| {
        let inputs = Inputs {
            trusted_key: Some(key.to_string()),
            ..Inputs::default()
        };
        let desired = desired(&store, &Platform::kubernetes(), &inputs);
        pod_spec(&desired);
        let sts = desired.statefulset.unwrap();
        sts.spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap()
    };
    assert_ne!(hash("sha256:aa"), hash("sha256:bb"));
}

#[test]
fn retention_renders_zots_storage_retention() {
    let desired = k8s(
        "storage:\n  gcInterval: 10s\n  retention:\n    delay: 1s\n    policies:\n    - repositories: ['team/**']\n      deleteReferrers: true\n      keepTags:\n      - patterns: ['^v']\n        mostRecentlyPushedCount: 2\n        pushedWithin: 720h\n    - repositories: ['**']\n      deleteUntagged: false",
    );
    assert_eq!(
        config(&desired)["storage"]["retention"],
        json!({"delay": "1s", "policies": [
            {"repositories": ["team/**"], "deleteReferrers": true,
             "keepTags": [{"patterns": ["^v"], "mostRecentlyPushedCount": 2, "pushedWithin": "720h"}]},
            {"repositories": ["**"], "deleteReferrers": false, "deleteUntagged": false}
        ]})
    );
}

#[test]
fn trivy_database_mirrors_are_zots_db_repositories() {
    let desired = k8s(
        "extensions:\n  search:\n    cve: {enabled: true, dbRepository: mirror.example.com/trivy-db, javaDbRepository: mirror.example.com/trivy-java-db}",
    );
    assert_eq!(
        config(&desired)["extensions"]["search"]["cve"]["trivy"],
        json!({"dbRepository": "mirror.example.com/trivy-db", "javaDBRepository": "mirror.example.com/trivy-java-db"})
    );
    // Without mirrors zot uses ghcr.io: no trivy section.
    let desired = k8s("extensions:\n  search:\n    cve: {enabled: true}");
    assert!(config(&desired)["extensions"]["search"]["cve"]["trivy"].is_null());
}
