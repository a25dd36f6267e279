//! The CRD's CEL rules, evaluated client-side (kube-cel) on the committed CRD with its defaults applied, as the
//! API server would: every refusal says why and where, the samples pass, and the operator's own validation
//! refuses whatever the CRD refuses. (The lead's integration tests prove the same rules on a real API server.)
#![allow(clippy::unwrap_used, clippy::expect_used)]
use kube::core::cel::Validator;
use serde_json::Value;
use zot_operator::api::v1alpha1::{ZotArtifactStore, messages};
use zot_operator::validate::validate;

fn schema() -> Value {
    let path = format!(
        "{}/config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn object(name: &str, spec: &str) -> Value {
    let spec: Value = serde_yaml::from_str(spec).unwrap();
    serde_json::json!({
        "apiVersion": "artifact.zotregistry.io/v1alpha1",
        "kind": "ZotArtifactStore",
        "metadata": {"name": name, "namespace": "team"},
        "spec": spec,
    })
}

/// (field path, message) of every CEL failure.
fn cel_failures(object: &Value) -> Vec<(String, String)> {
    match Validator::new().validate(&schema(), object, None) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field_path.clone(), e.message.clone()))
            .collect(),
    }
}

fn assert_refused(spec: &str, field: &str, message: &str) {
    let object = object("zot", spec);
    let failures = cel_failures(&object);
    assert!(
        failures.iter().any(|(f, m)| f == field && m == message),
        "expected {field}: {message}\ngot {failures:#?}"
    );
    let store: ZotArtifactStore = serde_json::from_value(object).unwrap();
    assert!(
        validate(&store, "default").is_err(),
        "validate accepted what the CRD refuses: {spec}"
    );
}

#[test]
fn the_samples_pass_every_rule() {
    for sample in ["minimal", "production", "openshift"] {
        let path = format!(
            "{}/config/samples/{sample}.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let object: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            cel_failures(&object),
            Vec::<(String, String)>::new(),
            "{sample}"
        );
    }
}

#[test]
fn several_replicas_on_filesystem_storage_are_refused_with_the_alternatives() {
    assert_refused("replicas: 2", "spec", messages::FILESYSTEM_REPLICAS);
    assert_eq!(cel_failures(&object("zot", "replicas: 1")), vec![]);
}

#[test]
fn several_replicas_with_the_embedded_database_are_refused() {
    assert_refused(
        "{replicas: 2, storage: {type: s3, s3: {bucket: images}}}",
        "spec",
        messages::EMBEDDED_REPLICAS,
    );
}

#[test]
fn sql_databases_are_refused_by_name() {
    assert_refused(
        "database: {type: postgres, postgres: {host: db}}",
        "spec.database",
        messages::POSTGRES,
    );
    assert_refused("database: {type: mysql}", "spec.database", messages::MYSQL);
}

#[test]
fn tracing_is_refused() {
    assert_refused(
        "metrics: {tracing: {enabled: true}}",
        "spec.metrics.tracing.enabled",
        messages::TRACING,
    );
}

#[test]
fn sizes_must_be_positive_quantities() {
    assert_refused(
        "storage: {size: five gigs}",
        "spec.storage.size",
        messages::POSITIVE_QUANTITY,
    );
    assert_refused(
        "storage: {size: '0'}",
        "spec.storage.size",
        messages::POSITIVE_QUANTITY,
    );
    assert_eq!(
        cel_failures(&object("zot", "storage: {size: 50Gi}")),
        vec![]
    );
    assert_eq!(
        cel_failures(&object("zot", "storage: {size: 1073741824}")),
        vec![]
    );
}

#[test]
fn s3_storage_needs_its_section() {
    let message = "storage.type s3 needs a storage.s3 section with at least a bucket";
    let failures = cel_failures(&object("zot", "storage: {type: s3}"));
    assert!(
        failures
            .iter()
            .any(|(f, m)| f == "spec.storage" && m == message),
        "{failures:?}"
    );
}

#[test]
fn autoscaling_bounds_are_ordered_and_need_shared_storage() {
    assert_refused(
        "{autoscaling: {enabled: true, minReplicas: 5, maxReplicas: 2}}",
        "spec.autoscaling",
        messages::AUTOSCALING_RANGE,
    );
    assert_refused(
        "autoscaling: {enabled: true}",
        "spec",
        messages::AUTOSCALING_NEEDS_SHARED,
    );
}

#[test]
fn min_available_and_max_unavailable_are_exclusive() {
    assert_refused(
        "podDisruptionBudget: {enabled: true, minAvailable: 2, maxUnavailable: '50%'}",
        "spec.podDisruptionBudget",
        messages::PDB_EXCLUSIVE,
    );
}

#[test]
fn object_storage_refuses_the_scanner_and_dynamodb_needs_s3() {
    assert_refused(
        "{storage: {type: gcs, gcs: {bucket: images}}, supplyChain: {enabled: true, sbom: {enabled: true}}}",
        "spec",
        messages::SBOM_NEEDS_FILESYSTEM,
    );
    assert_refused(
        "{storage: {type: gcs, gcs: {bucket: images}}, database: {type: dynamodb, dynamodb: {region: eu-west-1}}}",
        "spec",
        messages::DYNAMODB_NEEDS_S3,
    );
}

#[test]
fn rbac_needs_a_way_to_sign_in() {
    assert_refused(
        "rbac: {enabled: true}",
        "spec.rbac",
        messages::RBAC_NEEDS_SIGN_IN,
    );
}

#[test]
fn a_name_that_cannot_name_services_is_refused() {
    let failures = cel_failures(&object("zot.example", "{}"));
    assert!(
        failures.iter().any(|(_, m)| m == messages::NAME),
        "{failures:?}"
    );
}
