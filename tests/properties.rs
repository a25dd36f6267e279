//! Properties over random specs: validation and rendering never panic, every accepted spec renders a zot config
//! that serializes and reads back unchanged, and the operator refuses whatever the CRD's CEL rules refuse.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod stores;

use std::sync::OnceLock;

use kube::core::cel::{CompiledSchema, ErrorKind, Validator, compile_schema};
use proptest::prelude::*;
use serde_json::Value;
use zot_operator::api::names::CONFIG_FILE;
use zot_operator::api::v1alpha1::ZotArtifactStore;
use zot_operator::platform::Platform;
use zot_operator::render::{Inputs, desired};
use zot_operator::validate::validate;
use zot_operator::zot::ZotConfig;

use stores::random::store;

fn compiled() -> &'static CompiledSchema {
    static SCHEMA: OnceLock<CompiledSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = format!(
            "{}/config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        compile_schema(&crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn validation_and_rendering_never_panic_and_accepted_configs_round_trip(raw in store()) {
        let store: ZotArtifactStore = serde_json::from_value(raw.clone()).unwrap();
        let Ok(validated) = validate(&store, "default") else { return Ok(()) };
        let inputs = Inputs { keycloak_client_secret: Some("s".into()), ..Inputs::default() };
        for platform in [Platform::kubernetes(), Platform::openshift(Some("apps.example.com".into()))] {
            let desired = desired(&validated, &platform, &inputs);
            let data = desired.config_secret.data.as_ref().unwrap();
            let text = String::from_utf8(data[CONFIG_FILE].0.clone()).unwrap();
            let config: ZotConfig = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(config.to_json(), text);
            prop_assert!(desired.statefulset.is_some() != desired.deployment.is_some());
        }
    }

    #[test]
    fn whatever_the_crd_refuses_the_operator_refuses(raw in store()) {
        let refused_by_cel = match Validator::new().validate_compiled(compiled(), &raw, None) {
            Ok(()) => false,
            Err(errors) => errors.into_vec().iter().any(|e| e.kind == ErrorKind::ValidationFailure),
        };
        let store: ZotArtifactStore = serde_json::from_value(raw.clone()).unwrap();
        if refused_by_cel {
            prop_assert!(validate(&store, "default").is_err(), "CEL refuses but validate accepts {}", raw);
        }
    }
}
