//! The registry+v1 bundle: bundle/manifests/, bundle/metadata/annotations.yaml and bundle/tests/scorecard/.
use serde_json::{Value, json};

use crate::csv::{Built, PACKAGE};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::release::{DEFAULT_CHANNEL, Plan};
use crate::yaml;

/// Directory of the bundle, relative to the output root.
pub const BUNDLE_DIR: &str = "bundle";

/// A generated file: its path relative to the output root and its content.
pub type File = (String, Vec<u8>);

/// The annotations of annotations.yaml, which the bundle image's LABELs repeat.
pub fn annotations(plan: &Plan) -> Value {
    json!({
        "operators.operatorframework.io.bundle.mediatype.v1": "registry+v1",
        "operators.operatorframework.io.bundle.manifests.v1": "manifests/",
        "operators.operatorframework.io.bundle.metadata.v1": "metadata/",
        "operators.operatorframework.io.bundle.package.v1": PACKAGE,
        "operators.operatorframework.io.bundle.channels.v1": plan.channel_list(),
        "operators.operatorframework.io.bundle.channel.default.v1": DEFAULT_CHANNEL,
        "operators.operatorframework.io.test.mediatype.v1": "scorecard+v1",
        "operators.operatorframework.io.test.config.v1": "tests/scorecard/",
        // OpenShift 4.20 is the first release on Kubernetes 1.33, the CSV's minKubeVersion.
        "com.redhat.openshift.versions": "v4.20",
    })
}

fn write_yaml(what: &str, value: &Value) -> Result<Vec<u8>, Error> {
    yaml::document(value)
        .map(String::into_bytes)
        .map_err(|source| Error::SerializeYaml {
            what: what.into(),
            source,
        })
}

/// The scorecard tests operator-sdk ships, run by `operator-sdk scorecard bundle/` against a cluster.
fn scorecard(operator_sdk_version: &str) -> Value {
    let image = format!("quay.io/operator-framework/scorecard-test:{operator_sdk_version}");
    let test = |suite: &str, name: &str| {
        json!({
            "entrypoint": ["scorecard-test", name],
            "image": image,
            "labels": {"suite": suite, "test": format!("{name}-test")},
        })
    };
    json!({
        "apiVersion": "scorecard.operatorframework.io/v1alpha3",
        "kind": "Configuration",
        "metadata": {"name": "config"},
        "stages": [{
            "parallel": true,
            "tests": [
                test("basic", "basic-check-spec"),
                test("olm", "olm-bundle-validation"),
                test("olm", "olm-crds-have-validation"),
                test("olm", "olm-crds-have-resources"),
                test("olm", "olm-spec-descriptors"),
                test("olm", "olm-status-descriptors"),
            ],
        }],
    })
}

/// Every file of the bundle.
pub fn files(inputs: &Inputs, plan: &Plan, built: &Built) -> Result<Vec<File>, Error> {
    let mut files = vec![(
        format!("{BUNDLE_DIR}/manifests/{PACKAGE}.clusterserviceversion.yaml"),
        write_yaml("the ClusterServiceVersion", &built.csv)?,
    )];
    for crd in &inputs.crds {
        files.push((
            format!("{BUNDLE_DIR}/manifests/{}", crd.file_name),
            crd.text.clone().into_bytes(),
        ));
    }
    for object in &built.install.extra {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default().to_lowercase();
        let version = object["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .replace('/', "_");
        files.push((
            format!("{BUNDLE_DIR}/manifests/{name}_{version}_{kind}.yaml"),
            write_yaml(&format!("{kind} {name}"), object)?,
        ));
    }
    files.push((
        format!("{BUNDLE_DIR}/metadata/annotations.yaml"),
        write_yaml(
            "annotations.yaml",
            &json!({"annotations": annotations(plan)}),
        )?,
    ));
    files.push((
        format!("{BUNDLE_DIR}/tests/scorecard/config.yaml"),
        write_yaml(
            "the scorecard configuration",
            &scorecard(&inputs.operator_sdk_version),
        )?,
    ));
    Ok(files)
}
