use pretty_assertions::assert_eq;

use super::*;
use crate::api::v1alpha1::messages;

fn store(spec: &str) -> ZotArtifactStore {
    let yaml = format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: zot\n  namespace: team\nspec:\n{}",
        spec.lines().map(|l| format!("  {l}\n")).collect::<String>()
    );
    serde_yaml::from_str(&yaml).unwrap()
}

fn refusal(spec: &str) -> Refusal {
    validate(&store(spec), "default").unwrap_err()
}

fn accepted(spec: &str) -> ValidatedStore {
    validate(&store(spec), "default").unwrap()
}

const SHARED: &str = "storage:\n  type: s3\n  s3: {bucket: images}\ndatabase:\n  type: redis\n  redis: {url: 'redis://redis:6379'}\n";

#[test]
fn an_empty_spec_gets_the_documented_defaults() {
    let store = accepted("{}");
    assert_eq!(store.spec.replicas, 1);
    assert_eq!(
        store.backend,
        Backend::Filesystem {
            size: Quantity("5Gi".into()),
            database_share: None,
            storage_class: None
        }
    );
    assert_eq!(store.database, Database::Embedded { volume: None });
    assert!(store.spec.metrics.enabled);
    assert_eq!(store.spec.metrics.prometheus.port, 8081);
    assert_eq!(store.namespace, "team");
}

#[test]
fn a_store_without_namespace_lands_in_the_default_namespace() {
    let mut raw = store("{}");
    raw.metadata.namespace = None;
    assert_eq!(validate(&raw, "elsewhere").unwrap().namespace, "elsewhere");
}

#[test]
fn children_are_owned_by_a_store_that_has_a_uid() {
    let mut raw = store("{}");
    assert_eq!(validate(&raw, "default").unwrap().owner, None);
    raw.metadata.uid = Some("1234".into());
    let owner = validate(&raw, "default").unwrap().owner.unwrap();
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("ZotArtifactStore", "1234", Some(true))
    );
}

#[test]
fn several_replicas_on_filesystem_storage_are_refused() {
    let r = refusal("replicas: 2");
    assert_eq!(r.field, "spec.replicas");
    assert_eq!(r.reason, messages::FILESYSTEM_REPLICAS);
}

#[test]
fn several_replicas_with_the_embedded_database_are_refused() {
    let r = refusal("replicas: 2\nstorage:\n  type: s3\n  s3: {bucket: images}");
    assert_eq!(
        (r.field.as_str(), r.reason.as_str()),
        ("spec.replicas", messages::EMBEDDED_REPLICAS)
    );
}

#[test]
fn several_replicas_sharing_a_bucket_and_redis_are_accepted() {
    let store = accepted(&format!("replicas: 3\n{SHARED}"));
    assert!(matches!(store.backend, Backend::S3(_)));
    assert!(matches!(store.database, Database::Redis(_)));
}

#[test]
fn postgres_is_refused_naming_the_databases_zot_supports() {
    let r = refusal("database:\n  type: postgres\n  postgres: {host: db, port: 5432}");
    assert_eq!(r.field, "spec.database.type");
    assert!(
        r.reason.contains("redis")
            && r.reason.contains("dynamodb")
            && r.reason.contains("embedded")
    );
}

#[test]
fn mysql_is_refused() {
    assert_eq!(refusal("database: {type: mysql}").reason, messages::MYSQL);
}

#[test]
fn tracing_is_refused_pointing_at_the_operator_traces() {
    let r = refusal("metrics:\n  tracing: {enabled: true}");
    assert_eq!(r.field, "spec.metrics.tracing.enabled");
    assert!(r.reason.contains("OTEL_EXPORTER_OTLP_ENDPOINT"));
}

#[test]
fn tracing_switched_off_is_accepted() {
    accepted("metrics:\n  tracing: {enabled: false}");
}

#[test]
fn autoscaling_without_shared_storage_and_database_is_refused() {
    let r = refusal("autoscaling: {enabled: true}\nresources: {requests: {cpu: 100m}}");
    assert_eq!(
        (r.field.as_str(), r.reason.as_str()),
        (
            "spec.autoscaling.enabled",
            messages::AUTOSCALING_NEEDS_SHARED
        )
    );
}

#[test]
fn dynamodb_without_s3_storage_is_refused() {
    let r = refusal(
        "storage:\n  type: gcs\n  gcs: {bucket: images}\ndatabase:\n  type: dynamodb\n  dynamodb: {region: eu-west-1}",
    );
    assert_eq!(r.reason, messages::DYNAMODB_NEEDS_S3);
}

#[test]
fn the_documented_embedded_boltdb_snippet_shares_the_data_volume_and_adds_its_size() {
    // The product documents' "Embedded BoltDB (Default)" snippet, with default filesystem storage.
    let store = accepted("database:\n  type: embedded\n  embedded: {storageSize: 5Gi}");
    assert_eq!(
        store.backend,
        Backend::Filesystem {
            size: Quantity("10Gi".into()),
            database_share: Some(Quantity("5Gi".into())),
            storage_class: None
        }
    );
    assert_eq!(store.database, Database::Embedded { volume: None });
    let sized = accepted(
        "storage: {size: 20Gi, storageClass: fast}\ndatabase:\n  embedded: {storageSize: 1Gi, storageClass: fast}",
    );
    assert!(matches!(&sized.backend, Backend::Filesystem { size, .. } if size.0 == "21Gi"));
}

#[test]
fn a_separate_database_storage_class_with_filesystem_storage_is_refused() {
    let r =
        refusal("database:\n  type: embedded\n  embedded: {storageSize: 5Gi, storageClass: fast}");
    assert_eq!(r.field, "spec.database.embedded.storageClass");
    assert_eq!(r.reason, messages::EMBEDDED_CLASS_WITH_FILESYSTEM);
}

#[test]
fn the_embedded_database_gets_its_own_volume_with_object_storage() {
    let store = accepted(
        "storage:\n  type: s3\n  s3: {bucket: images}\ndatabase:\n  embedded: {storageSize: 2Gi}",
    );
    let Database::Embedded {
        volume: Some(volume),
    } = store.database
    else {
        panic!("no database volume: {:?}", store.database)
    };
    assert_eq!(volume.size, Quantity("2Gi".into()));
}

#[test]
fn sbom_generation_with_object_storage_is_refused() {
    let r = refusal(
        "storage:\n  type: s3\n  s3: {bucket: images}\nsupplyChain:\n  enabled: true\n  sbom: {enabled: true}",
    );
    assert_eq!(
        (r.field.as_str(), r.reason.as_str()),
        (
            "spec.supplyChain.sbom.enabled",
            messages::SBOM_NEEDS_FILESYSTEM
        )
    );
}

#[test]
fn sbom_generation_with_the_scanner_switched_off_is_refused() {
    let r = refusal(
        "supplyChain:\n  enabled: true\n  sbom: {enabled: true}\nextensions:\n  search:\n    cve: {enabled: false}",
    );
    assert_eq!(r.reason, messages::SBOM_NEEDS_SCANNER);
}

#[test]
fn vulnerability_scanning_with_object_storage_is_refused() {
    let r = refusal(
        "storage:\n  type: azure\n  azure: {accountName: acct, container: images}\nextensions:\n  search:\n    cve: {enabled: true}",
    );
    assert_eq!(r.reason, messages::CVE_NEEDS_FILESYSTEM);
}

#[test]
fn a_scanner_refresh_below_two_hours_is_refused() {
    let r = refusal("extensions:\n  search:\n    cve: {enabled: true, updateInterval: 30m}");
    assert_eq!(r.field, "spec.extensions.search.cve.updateInterval");
}

#[test]
fn a_passthrough_route_without_zot_tls_is_refused() {
    let r = refusal(
        "networking:\n  route: {enabled: true, termination: passthrough}\ntls: {enabled: false}",
    );
    assert_eq!(r.field, "spec.networking.route.termination");
    assert_eq!(r.reason, messages::ROUTE_NEEDS_TLS);
    accepted(
        "networking:\n  route: {enabled: true, termination: passthrough}\ntls: {enabled: true, secretName: zot-tls}",
    );
    // TLS by default: zot serves the operator's certificate, which names the Route's host.
    accepted("networking:\n  route: {enabled: true, termination: passthrough}");
    accepted("networking:\n  route: {enabled: false, termination: passthrough}");
}

#[test]
fn a_reencrypting_route_needs_no_tls_of_the_user_since_the_service_ca_issues_one() {
    accepted("networking:\n  route: {termination: reencrypt}");
}

#[test]
fn a_route_host_must_be_a_dns_name_without_wildcard_or_overlong_label() {
    accepted("networking:\n  route: {host: registry.apps.example.com}");
    for host in [
        "'*.apps.example.com'",
        "Registry.example.com",
        "bad_host.example.com",
        &format!("{}.example.com", "a".repeat(64)),
    ] {
        let r = refusal(&format!("networking:\n  route: {{host: {host}}}"));
        assert_eq!(r.field, "spec.networking.route.host", "{host}");
    }
}

#[test]
fn the_section_of_another_storage_type_is_refused() {
    let r = refusal("storage:\n  type: filesystem\n  s3: {bucket: images}");
    assert_eq!(
        (r.field.as_str(), r.reason.as_str()),
        ("spec.storage.s3", messages::OTHER_STORAGE_SECTION)
    );
}

#[test]
fn a_storage_type_without_its_section_is_refused() {
    assert_eq!(refusal("storage: {type: s3}").field, "spec.storage.s3");
}

#[test]
fn a_volume_size_with_object_storage_is_refused() {
    let r = refusal("storage:\n  type: s3\n  size: 5Gi\n  s3: {bucket: images}");
    assert_eq!(r.reason, messages::VOLUME_WITH_REMOTE);
}

#[test]
fn a_size_that_is_not_a_quantity_is_refused() {
    let r = refusal("storage: {size: five gigs}");
    assert_eq!(
        (r.field.as_str(), r.reason.as_str()),
        ("spec.storage.size", messages::POSITIVE_QUANTITY)
    );
    assert_eq!(refusal("storage: {size: '0'}").field, "spec.storage.size");
}

#[test]
fn rbac_without_a_way_to_sign_in_is_refused() {
    assert_eq!(
        refusal("rbac: {enabled: true}").reason,
        messages::RBAC_NEEDS_SIGN_IN
    );
}

#[test]
fn a_policy_for_nobody_is_refused() {
    let r = refusal(
        "rbac:\n  enabled: true\n  htpasswd: {name: users, key: htpasswd}\n  policies:\n  - {repositories: ['**'], actions: [read]}",
    );
    assert_eq!(r.field, "spec.rbac.policies[0]");
}

#[test]
fn a_redis_url_with_a_password_is_refused() {
    let r = refusal(
        "storage:\n  type: s3\n  s3: {bucket: images}\ndatabase:\n  type: redis\n  redis: {url: 'redis://user:secret@redis:6379'}",
    );
    assert_eq!(r.field, "spec.database.redis.url");
    assert!(r.reason.contains("without user or password"));
}

#[test]
fn min_available_and_max_unavailable_together_are_refused() {
    let r = refusal("podDisruptionBudget: {enabled: true, minAvailable: 1, maxUnavailable: 1}");
    assert_eq!(r.reason, messages::PDB_EXCLUSIVE);
}

#[test]
fn a_disruption_budget_that_is_not_a_count_or_percentage_is_refused() {
    let r = refusal("podDisruptionBudget: {enabled: true, minAvailable: half}");
    assert_eq!(r.field, "spec.podDisruptionBudget.minAvailable");
}

#[test]
fn min_replicas_above_max_replicas_is_refused() {
    let r = refusal(&format!(
        "{SHARED}autoscaling: {{enabled: true, minReplicas: 5, maxReplicas: 2}}\nresources: {{requests: {{cpu: 1}}}}"
    ));
    assert_eq!(r.reason, messages::AUTOSCALING_RANGE);
}

#[test]
fn a_utilization_target_without_its_request_is_refused() {
    let r = refusal(&format!(
        "{SHARED}autoscaling: {{enabled: true, targetMemoryUtilization: 80}}\nresources: {{requests: {{cpu: 1}}}}"
    ));
    assert_eq!(r.field, "spec.autoscaling.targetMemoryUtilization");
    let r = refusal(&format!("{SHARED}autoscaling: {{enabled: true}}"));
    assert_eq!(r.field, "spec.resources.requests.cpu");
}

#[test]
fn a_request_above_its_limit_is_refused() {
    let r = refusal("resources:\n  requests: {memory: 2Gi}\n  limits: {memory: 1Gi}");
    assert_eq!(r.field, "spec.resources.requests.memory");
}

#[test]
fn a_name_that_cannot_name_services_is_refused() {
    for name in ["zot.example", "Zot", "1zot", &"z".repeat(53)] {
        let mut raw = store("{}");
        raw.metadata.name = Some(name.to_string());
        let r = validate(&raw, "default").unwrap_err();
        assert_eq!(
            (r.field.as_str(), r.reason.as_str()),
            ("metadata.name", messages::NAME)
        );
    }
}

#[test]
fn a_reference_to_a_secret_the_operator_owns_is_refused() {
    let r = refusal("tls: {enabled: true, secretName: zot-config}");
    assert_eq!(r.field, "spec.tls.secretName");
    assert!(r.reason.contains("zot-config"));
    let r = refusal("tls: {enabled: true, secretName: zot-session}");
    assert!(r.reason.contains("zot-session"));
}

#[test]
fn sync_without_registries_or_a_poll_interval_is_refused() {
    assert_eq!(
        refusal("extensions:\n  sync: {enabled: true}").reason,
        messages::SYNC_NEEDS_REGISTRY
    );
    let r = refusal(
        "extensions:\n  sync:\n    enabled: true\n    registries:\n    - urls: ['https://docker.io']",
    );
    assert_eq!(r.field, "spec.extensions.sync.registries[0].pollInterval");
}

#[test]
fn referenced_secrets_are_those_the_pods_read() {
    let store = accepted(
        "storage:\n  type: s3\n  s3:\n    bucket: images\n    accessKeySecret: {name: s3-keys}\n\
         rbac:\n  enabled: true\n  htpasswd: {name: users, key: htpasswd}\n\
         tls: {enabled: true, secretName: zot-tls}",
    );
    assert_eq!(
        store.referenced_secrets(),
        vec!["s3-keys", "users", "zot-tls"]
    );
}

#[test]
fn the_signing_key_secret_is_watched_with_its_defaults_resolved() {
    let store = accepted("supplyChain:\n  enabled: true\n  signing: {enabled: true}");
    let key = store.signing_key().unwrap();
    assert_eq!(
        (
            key.secret.as_str(),
            key.private_field.as_str(),
            key.public_field.as_str(),
            key.password_field.as_str(),
            key.key_size
        ),
        (
            "zot-signing-key",
            "cosign.key",
            "cosign.pub",
            "cosign.password",
            4096
        )
    );
    assert_eq!(store.referenced_secrets(), vec!["zot-signing-key"]);
    // Not a Secret the pods read whole: the controller reads it itself (and may create it).
    assert!(store.referenced_secret_fields().is_empty());
    let store = accepted(
        "supplyChain:\n  enabled: true\n  signing:\n    enabled: true\n    keySize: 2048\n    keySecretRef: {name: team-key, privateKeyField: k, publicKeyField: p, passwordField: w}",
    );
    let key = store.signing_key().unwrap();
    assert_eq!(
        (
            key.secret.as_str(),
            key.private_field.as_str(),
            key.public_field.as_str(),
            key.password_field.as_str(),
            key.key_size
        ),
        ("team-key", "k", "p", "w", 2048)
    );
    // The master switch off: no key, nothing watched.
    let store = accepted("supplyChain:\n  enabled: false\n  signing: {enabled: true}");
    assert!(store.signing_key().is_none() && store.referenced_secrets().is_empty());
}

#[test]
fn the_samples_are_accepted() {
    for sample in ["minimal", "production", "openshift"] {
        let path = format!(
            "{}/config/samples/{sample}.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw: ZotArtifactStore =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        validate(&raw, "default").unwrap_or_else(|r| panic!("{sample}: {r}"));
    }
}

#[test]
fn an_image_tag_outside_the_oci_grammar_is_refused() {
    let r = refusal("image: {tag: 'v1 2'}");
    assert_eq!(r.field, "spec.image.tag");
    assert_eq!(r.reason, messages::IMAGE_TAG);
    accepted("image: {tag: v2.1.20}");
    accepted(
        "image: {tag: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}",
    );
    assert_eq!(refusal("image: {tag: '-rc1'}").field, "spec.image.tag");
}
