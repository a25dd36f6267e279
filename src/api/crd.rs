//! The CustomResourceDefinitions the operator serves, as committed under config/crd/bases/.
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::Value;

use super::v1alpha1::{ZotArtifactStore, ZotPullSecret, ZotPushSecret};

/// Fields whose schema comes from Kubernetes' own types. Their descriptions (kilobytes each, repeated at every
/// nested use) are dropped below the field itself, so that the CRD stays small enough for OLM's bundle
/// ConfigMap; `kubectl explain pod.spec.affinity` documents them.
const EMBEDDED_KUBERNETES_TYPES: &[&[&str]] = &[
    &["spec", "affinity"],
    &["spec", "resources"],
    &["spec", "securityContext"],
    &["spec", "tolerations"],
    &["spec", "topologySpreadConstraints"],
    &["spec", "access", "namespaceSelector"],
    &["status", "conditions"],
];

/// Optional sections of the spec whose mere presence means something: a store holds only the section of its
/// storage type, retention needs garbage collection, a `route` or `ingress` section chooses how the store is
/// published where the operator would otherwise choose, and an `issuerRef` asks cert-manager for the certificate.
/// Defaults inside them are dropped from the schema; the operator applies the same values itself (the descriptions
/// say "Defaults to ..."). The API server applies such defaults only inside a section the user wrote, but the
/// console's create form (react-jsonschema-form) fills every default of the schema into its data, and so would
/// create the section: an `s3` section with a region in a filesystem store, which admission refuses, or a Route
/// nobody asked for. tests/console_form.rs submits every alm-example through the form.
const SECTIONS_WHOSE_PRESENCE_MATTERS: &[&[&str]] = &[
    &["spec", "storage", "s3"],
    &["spec", "storage", "gcs"],
    &["spec", "storage", "azure"],
    &["spec", "storage", "retention"],
    &["spec", "database", "redis"],
    &["spec", "database", "dynamodb"],
    &["spec", "networking", "route"],
    &["spec", "networking", "ingress"],
    &["spec", "tls", "issuerRef"],
];

/// Every CRD of the operator, in a fixed order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![
        zot_artifact_store(),
        ZotPushSecret::crd(),
        ZotPullSecret::crd(),
    ]
}

/// The ZotArtifactStore CRD, with embedded Kubernetes types' nested descriptions removed.
pub fn zot_artifact_store() -> CustomResourceDefinition {
    let mut crd = ZotArtifactStore::crd();
    for version in &mut crd.spec.versions {
        let Some(schema) = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        else {
            continue;
        };
        let Ok(mut value) = serde_json::to_value(&*schema) else {
            continue;
        };
        for path in EMBEDDED_KUBERNETES_TYPES {
            if let Some(node) = property(&mut value, path) {
                strip_nested_descriptions(node);
            }
        }
        for path in SECTIONS_WHOSE_PRESENCE_MATTERS {
            if let Some(node) = property(&mut value, path) {
                drop_nested_defaults(node);
            }
        }
        if let Some(spec) = property(&mut value, &["spec"]) {
            type_int_or_string(spec);
        }
        if let Ok(stripped) = serde_json::from_value(value) {
            *schema = stripped;
        }
    }
    crd
}

/// Every CRD as one multi-document YAML stream, byte-for-byte what `zot-operator crd` prints.
pub fn yaml() -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for crd in all() {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd)?);
    }
    Ok(out)
}

/// Every CRD as its own YAML file, named `<group>_<plural>.yaml` as under config/crd/bases/.
pub fn files() -> Result<Vec<(String, String)>, serde_yaml::Error> {
    all()
        .into_iter()
        .map(|crd| {
            let name = format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural);
            serde_yaml::to_string(&crd).map(|text| (name, format!("---\n{text}")))
        })
        .collect()
}

fn property<'a>(schema: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(schema, |node, name| {
        node.get_mut("properties")?.get_mut(*name)
    })
}

/// Removes `default` from every property below `node` (not from `node` itself).
fn drop_nested_defaults(node: &mut Value) {
    let Some(Value::Object(properties)) = node.get_mut("properties") else {
        return;
    };
    for child in properties.values_mut() {
        if let Value::Object(fields) = child {
            fields.remove("default");
        }
        drop_nested_defaults(child);
    }
}

/// Gives every int-or-string below `node` (pod counts or percentages, Kubernetes' quantities) the two types it
/// takes, `anyOf: [integer, string]`, as controller-gen writes it and the API server allows for
/// `x-kubernetes-int-or-string`. Without a type, the console's create form cannot draw the field ("Unsupported
/// field schema").
fn type_int_or_string(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
                && !map.contains_key("type")
                && !map.contains_key("anyOf")
            {
                map.insert(
                    "anyOf".to_string(),
                    serde_json::json!([{ "type": "integer" }, { "type": "string" }]),
                );
            }
            map.values_mut().for_each(type_int_or_string);
        }
        Value::Array(items) => items.iter_mut().for_each(type_int_or_string),
        _ => {}
    }
}

/// Removes `description` from every schema below `node`, keeping the node's own description.
fn strip_nested_descriptions(node: &mut Value) {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("description");
                for (key, child) in map.iter_mut() {
                    // Property names are data, not schema keywords: a property called "description" stays.
                    if key == "properties" {
                        if let Value::Object(props) = child {
                            props.values_mut().for_each(strip);
                        }
                    } else {
                        strip(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if let Value::Object(map) = node {
        for (key, child) in map.iter_mut() {
            if key == "properties" {
                if let Value::Object(props) = child {
                    props.values_mut().for_each(strip);
                }
            } else if key != "description" {
                strip(child);
            }
        }
    }
}
