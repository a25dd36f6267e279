//! The ClusterServiceVersion: the hand-written base completed from the code, config/ and the release plan.
use base64::Engine;
use serde_json::{Value, json};

use crate::error::Error;
use crate::inputs::{CSV_BASE, Inputs};
use crate::install::{Install, install};
use crate::release::Plan;
use crate::yaml;

/// The OLM package.
pub const PACKAGE: &str = "zot-operator";
/// Where the operator's image is published; the tag is the crate version.
pub const OPERATOR_REPOSITORY: &str = "ghcr.io/zot-operator/zot-operator";
/// Where the bundle image is published; the tag is the crate version.
pub const BUNDLE_REPOSITORY: &str = "ghcr.io/zot-operator/zot-operator-bundle";

pub fn csv_name(version: &semver::Version) -> String {
    format!("{PACKAGE}.v{version}")
}

pub fn operator_image(version: &semver::Version) -> String {
    format!("{OPERATOR_REPOSITORY}:{version}")
}

pub fn bundle_image(version: &semver::Version) -> String {
    format!("{BUNDLE_REPOSITORY}:{version}")
}

/// The icon as the CSV and the catalog's package carry it.
pub fn icon(svg: &[u8]) -> Value {
    json!({
        "base64data": base64::engine::general_purpose::STANDARD.encode(svg),
        "mediatype": "image/svg+xml",
    })
}

/// A CSV and the objects shipped beside it.
pub struct Built {
    pub csv: Value,
    pub install: Install,
}

pub fn build(inputs: &Inputs, plan: &Plan) -> Result<Built, Error> {
    let version = &plan.version;
    let install = install(
        &inputs.rbac,
        &inputs.manager,
        OPERATOR_REPOSITORY,
        &operator_image(version),
    )?;
    let mut csv = inputs.csv_base.clone();
    csv["metadata"]["name"] = json!(csv_name(version));
    let annotations = &mut csv["metadata"]["annotations"];
    annotations["alm-examples"] = json!(alm_examples(inputs)?);
    annotations["containerImage"] = json!(operator_image(version));
    annotations["olm.skipRange"] = json!(plan.skip_range);
    if let Some(namespace) = &install.namespace {
        let template = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": namespace["metadata"].clone(),
        });
        annotations["operatorframework.io/suggested-namespace-template"] =
            json!(compact(&template, "the suggested namespace template")?);
    }
    let spec = &mut csv["spec"];
    spec["version"] = json!(version.to_string());
    if let Some(previous) = &plan.replaces {
        spec["replaces"] = json!(csv_name(previous));
    }
    spec["description"] = json!(inputs.description);
    spec["icon"] = json!([icon(&inputs.icon_svg)]);
    spec["install"] = json!({"strategy": "deployment", "spec": install.strategy.clone()});
    spec["relatedImages"] = json!(related_images(&install));
    describe_owned_crds(spec, inputs)?;
    Ok(Built { csv, install })
}

fn compact(value: &Value, what: &str) -> Result<String, Error> {
    serde_json::to_string(&yaml::canonical(value.clone())).map_err(|source| Error::SerializeJson {
        what: what.into(),
        source,
    })
}

/// The samples as `alm-examples` (pretty JSON), without namespaces: the console creates them where the user is.
fn alm_examples(inputs: &Inputs) -> Result<String, Error> {
    let examples: Vec<Value> = inputs
        .samples
        .iter()
        .map(|(_, sample)| {
            let mut sample = sample.clone();
            if let Some(metadata) = sample.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("namespace");
            }
            yaml::canonical(sample)
        })
        .collect();
    serde_json::to_string_pretty(&examples).map_err(|source| Error::SerializeJson {
        what: "alm-examples".into(),
        source,
    })
}

/// Every image the operator runs or deploys, named, sorted by name: what a disconnected mirror must copy.
fn related_images(install: &Install) -> Vec<Value> {
    let mut images: Vec<(String, String)> = install
        .images
        .iter()
        .chain(&install.related_env)
        .cloned()
        .collect();
    images.sort();
    let mut seen = std::collections::BTreeSet::new();
    images
        .into_iter()
        .filter(|(_, image)| seen.insert(image.clone()))
        .map(|(name, image)| json!({"name": name, "image": image}))
        .collect()
}

/// The schema a descriptor path leads to, as the OpenShift console resolves it: `a.b[0].c` → properties a,
/// properties b, items, properties c.
pub fn schema_at<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .try_fold(schema, |node, segment| {
            if segment.bytes().all(|b| b.is_ascii_digit()) {
                node.get("items")
            } else {
                node.get("properties")?.get(segment)
            }
        })
}

/// Fills each owned CRD's and each descriptor's description from the CRD schema where the base leaves it out, and
/// refuses a descriptor whose path the schema does not have.
fn describe_owned_crds(spec: &mut Value, inputs: &Inputs) -> Result<(), Error> {
    let Some(owned) = spec["customresourcedefinitions"]["owned"].as_array_mut() else {
        return Err(Error::invalid(CSV_BASE, "lists no owned CRD"));
    };
    for crd_description in owned {
        let name = crd_description["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let version = crd_description["version"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let schema = inputs
            .crds
            .iter()
            .filter(|file| file.crd["metadata"]["name"].as_str() == Some(&name))
            .flat_map(|file| {
                file.crd["spec"]["versions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|v| v["name"].as_str() == Some(&version))
            .map(|v| v["schema"]["openAPIV3Schema"].clone())
            .ok_or_else(|| {
                Error::invalid(
                    CSV_BASE,
                    format!("owned CRD {name} {version} is not in config/crd/bases"),
                )
            })?;
        if crd_description.get("description").is_none()
            && let Some(text) = schema["description"].as_str()
        {
            crd_description["description"] = json!(text);
        }
        for (list, root) in [("specDescriptors", "spec"), ("statusDescriptors", "status")] {
            let Some(descriptors) = crd_description.get_mut(list).and_then(Value::as_array_mut)
            else {
                continue;
            };
            let Some(root_schema) = schema["properties"].get(root) else {
                return Err(Error::invalid(
                    CSV_BASE,
                    format!("{name} has no {root} to describe"),
                ));
            };
            for descriptor in descriptors {
                let path = descriptor["path"].as_str().unwrap_or_default().to_string();
                let field = schema_at(root_schema, &path).ok_or_else(|| {
                    Error::invalid(
                        CSV_BASE,
                        format!("{list} path '{path}' is not in the schema of {name}"),
                    )
                })?;
                if descriptor.get("description").is_none()
                    && let Some(text) = field["description"].as_str()
                {
                    descriptor["description"] = json!(text);
                }
            }
        }
    }
    Ok(())
}
