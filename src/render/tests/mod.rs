//! Rendering tested by value, with helpers shared by the concerns below.
use serde_json::Value;

use super::*;
use crate::api::names;
use crate::api::v1alpha1::ZotArtifactStore;
use crate::validate::validate;

pub(super) fn store(spec: &str) -> ValidatedStore {
    let yaml = format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: zot\n  namespace: team\n  uid: u-1\nspec:\n{}",
        spec.lines().map(|l| format!("  {l}\n")).collect::<String>()
    );
    let raw: ZotArtifactStore = serde_yaml::from_str(&yaml).unwrap();
    validate(&raw, "default").unwrap()
}

pub(super) fn k8s(spec: &str) -> Desired {
    desired(&store(spec), &Platform::kubernetes(), &Inputs::default())
}

pub(super) fn config(desired: &Desired) -> Value {
    let data = desired.config_secret.data.as_ref().unwrap();
    serde_json::from_slice(&data[names::CONFIG_FILE].0).unwrap()
}

pub(super) fn pod_spec(desired: &Desired) -> k8s_openapi::api::core::v1::PodSpec {
    let template = match (&desired.statefulset, &desired.deployment) {
        (Some(sts), None) => sts.spec.as_ref().unwrap().template.clone(),
        (None, Some(deploy)) => deploy.spec.as_ref().unwrap().template.clone(),
        other => panic!("expected exactly one workload, got {other:?}"),
    };
    template.spec.unwrap()
}

pub(super) const S3_REDIS: &str = "storage:\n  type: s3\n  s3:\n    bucket: images\n    accessKeySecret: {name: s3-keys}\ndatabase:\n  type: redis\n  redis: {url: 'redis://redis:6379'}\n";
pub(super) const KEYCLOAK: &str = "rbac:\n  enabled: true\n  keycloak:\n    url: https://sso.example.com/\n    realm: dev\n    clientId: zot\n    clientSecretRef: {name: kc, key: client-secret}\n";

mod access;
mod config;
mod keycloak;
mod objects;
mod openshift;
mod pod;
mod route_fallback;
mod tls;
