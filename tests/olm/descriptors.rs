//! The CSV's spec and status descriptors against the CRD schema, by the OpenShift console's own rules.
//!
//! The console (openshift/console, frontend/packages/operator-lifecycle-manager/src/components/descriptors/) finds a
//! descriptor's schema with `getSchemaAtPath` (`a.b[0].c` → properties a, properties b, items, properties c), takes
//! its type the way react-jsonschema-form's `getSchemaType` does, and drops every x-descriptor that is not in the
//! list of capabilities compatible with that type (`getValidCapabilitiesForSchema`, const.ts) or that is deprecated.
//! On top of that, each x-descriptor here must suit its field: a switch on a boolean, a number on an integer, a
//! select whose options are the enum's values, a Secret picker on a string, and so on.
use serde_json::Value;

use super::{crd_schema, csv};

// SpecCapability and StatusCapability values (descriptors/types.ts).
const POD_COUNT: &str = "urn:alm:descriptor:com.tectonic.ui:podCount";
const ENDPOINT_LIST: &str = "urn:alm:descriptor:com.tectonic.ui:endpointList";
const LABEL: &str = "urn:alm:descriptor:com.tectonic.ui:label";
const RESOURCE_REQUIREMENTS: &str = "urn:alm:descriptor:com.tectonic.ui:resourceRequirements";
const SELECTOR: &str = "urn:alm:descriptor:com.tectonic.ui:selector:";
const NAMESPACE_SELECTOR: &str = "urn:alm:descriptor:com.tectonic.ui:namespaceSelector";
const K8S_RESOURCE: &str = "urn:alm:descriptor:io.kubernetes:";
const BOOLEAN_SWITCH: &str = "urn:alm:descriptor:com.tectonic.ui:booleanSwitch";
const PASSWORD: &str = "urn:alm:descriptor:com.tectonic.ui:password";
const CHECKBOX: &str = "urn:alm:descriptor:com.tectonic.ui:checkbox";
const IMAGE_PULL_POLICY: &str = "urn:alm:descriptor:com.tectonic.ui:imagePullPolicy";
const UPDATE_STRATEGY: &str = "urn:alm:descriptor:com.tectonic.ui:updateStrategy";
const TEXT: &str = "urn:alm:descriptor:com.tectonic.ui:text";
const NUMBER: &str = "urn:alm:descriptor:com.tectonic.ui:number";
const NODE_AFFINITY: &str = "urn:alm:descriptor:com.tectonic.ui:nodeAffinity";
const POD_AFFINITY: &str = "urn:alm:descriptor:com.tectonic.ui:podAffinity";
const POD_ANTI_AFFINITY: &str = "urn:alm:descriptor:com.tectonic.ui:podAntiAffinity";
const FIELD_GROUP: &str = "urn:alm:descriptor:com.tectonic.ui:fieldGroup:";
const ARRAY_FIELD_GROUP: &str = "urn:alm:descriptor:com.tectonic.ui:arrayFieldGroup:";
const SELECT: &str = "urn:alm:descriptor:com.tectonic.ui:select:";
const ADVANCED: &str = "urn:alm:descriptor:com.tectonic.ui:advanced";
const FIELD_DEPENDENCY: &str = "urn:alm:descriptor:com.tectonic.ui:fieldDependency:";
const HIDDEN: &str = "urn:alm:descriptor:com.tectonic.ui:hidden";
const POD_STATUSES: &str = "urn:alm:descriptor:com.tectonic.ui:podStatuses";
const W3_LINK: &str = "urn:alm:descriptor:org.w3:link";
const CONDITIONS: &str = "urn:alm:descriptor:io.kubernetes.conditions";
const STATUS_TEXT: &str = "urn:alm:descriptor:text";
const PHASE: &str = "urn:alm:descriptor:io.kubernetes.phase";
const PHASE_REASON: &str = "urn:alm:descriptor:io.kubernetes.phase:reason";

// descriptors/const.ts
const DEPRECATED: &[&str] = &[ARRAY_FIELD_GROUP, FIELD_GROUP, LABEL, NAMESPACE_SELECTOR];
const OBJECT_COMPATIBLE: &[&str] = &[
    ADVANCED,
    FIELD_DEPENDENCY,
    HIDDEN,
    NAMESPACE_SELECTOR,
    NODE_AFFINITY,
    POD_AFFINITY,
    POD_ANTI_AFFINITY,
    RESOURCE_REQUIREMENTS,
    SELECTOR,
    UPDATE_STRATEGY,
    POD_STATUSES,
];
const ARRAY_COMPATIBLE: &[&str] = &[
    ADVANCED,
    ENDPOINT_LIST,
    FIELD_DEPENDENCY,
    HIDDEN,
    CONDITIONS,
];
const PRIMITIVE_COMPATIBLE: &[&str] = &[
    ADVANCED,
    BOOLEAN_SWITCH,
    CHECKBOX,
    FIELD_DEPENDENCY,
    HIDDEN,
    IMAGE_PULL_POLICY,
    K8S_RESOURCE,
    NUMBER,
    PASSWORD,
    POD_COUNT,
    SELECT,
    TEXT,
    W3_LINK,
    STATUS_TEXT,
    PHASE,
    PHASE_REASON,
];

/// The capabilities the console knows for each kind of descriptor.
const SPEC_CAPABILITIES: &[&str] = &[
    POD_COUNT,
    ENDPOINT_LIST,
    RESOURCE_REQUIREMENTS,
    SELECTOR,
    K8S_RESOURCE,
    BOOLEAN_SWITCH,
    PASSWORD,
    CHECKBOX,
    IMAGE_PULL_POLICY,
    UPDATE_STRATEGY,
    TEXT,
    NUMBER,
    NODE_AFFINITY,
    POD_AFFINITY,
    POD_ANTI_AFFINITY,
    SELECT,
    ADVANCED,
    FIELD_DEPENDENCY,
    HIDDEN,
];
const STATUS_CAPABILITIES: &[&str] = &[
    POD_STATUSES,
    POD_COUNT,
    W3_LINK,
    CONDITIONS,
    STATUS_TEXT,
    PHASE,
    PHASE_REASON,
    K8S_RESOURCE,
    HIDDEN,
];

/// Capabilities that describe a whole object or list, so its fields need no descriptors of their own.
const COVERS_CHILDREN: &[&str] = &[
    ADVANCED,
    HIDDEN,
    RESOURCE_REQUIREMENTS,
    NODE_AFFINITY,
    POD_AFFINITY,
    POD_ANTI_AFFINITY,
];

/// react-jsonschema-form's getSchemaType.
fn schema_type(schema: &Value) -> Option<String> {
    match &schema["type"] {
        Value::String(t) => Some(t.clone()),
        Value::Array(types) if types.len() == 2 && types.contains(&Value::from("null")) => types
            .iter()
            .find(|t| *t != "null")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ if schema.get("enum").is_some() => Some("string".into()),
        _ if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() => {
            Some("object".into())
        }
        _ => None,
    }
}

/// The console's getSchemaAtPath.
fn schema_at<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
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

fn console_compatible(capability: &str, schema: &Value) -> bool {
    let list = match schema_type(schema).as_deref() {
        Some("object") => OBJECT_COMPATIBLE,
        Some("array") => ARRAY_COMPATIBLE,
        _ => PRIMITIVE_COMPATIBLE,
    };
    list.iter().any(|c| capability.starts_with(c))
}

fn enum_values(schema: &Value) -> Vec<String> {
    schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn has_properties(schema: &Value, names: &[&str]) -> bool {
    names.iter().all(|n| schema["properties"].get(*n).is_some())
}

fn is_int_or_string(schema: &Value) -> bool {
    schema["x-kubernetes-int-or-string"] == true
}

/// Why `capability` does not suit the field `schema`, if it does not.
fn unsuitable(capability: &str, schema: &Value) -> Option<String> {
    let ty = schema_type(schema);
    let ty = ty.as_deref();
    let fits = if capability == POD_COUNT || capability == NUMBER {
        matches!(ty, Some("integer" | "number"))
    } else if capability == BOOLEAN_SWITCH || capability == CHECKBOX {
        ty == Some("boolean")
    } else if capability == TEXT || capability == PASSWORD {
        ty == Some("string") || is_int_or_string(schema)
    } else if let Some(option) = capability.strip_prefix(SELECT) {
        ty == Some("string") && enum_values(schema).iter().any(|v| v == option)
    } else if capability == IMAGE_PULL_POLICY {
        let values = enum_values(schema);
        ty == Some("string")
            && !values.is_empty()
            && values
                .iter()
                .all(|v| ["Always", "IfNotPresent", "Never"].contains(&v.as_str()))
    } else if capability.starts_with(K8S_RESOURCE) {
        ty == Some("string")
    } else if capability == RESOURCE_REQUIREMENTS {
        ty == Some("object") && has_properties(schema, &["limits", "requests"])
    } else if capability == NODE_AFFINITY
        || capability == POD_AFFINITY
        || capability == POD_ANTI_AFFINITY
    {
        ty == Some("object")
            && has_properties(
                schema,
                &[
                    "requiredDuringSchedulingIgnoredDuringExecution",
                    "preferredDuringSchedulingIgnoredDuringExecution",
                ],
            )
    } else if capability == W3_LINK
        || capability == STATUS_TEXT
        || capability == PHASE
        || capability == PHASE_REASON
    {
        ty == Some("string")
    } else if capability == CONDITIONS {
        ty == Some("array")
            && has_properties(&schema["items"], &["type", "status", "reason", "message"])
    } else {
        capability == ADVANCED || capability == HIDDEN || capability.starts_with(FIELD_DEPENDENCY)
    };
    (!fits).then(|| format!("{capability} does not suit a field of type {ty:?}"))
}

struct Described {
    kind: &'static str,
    path: String,
    display_name: String,
    description: String,
    capabilities: Vec<String>,
}

fn descriptors() -> Vec<Described> {
    let csv = csv();
    let owned = &csv["spec"]["customresourcedefinitions"]["owned"][0];
    let mut out = Vec::new();
    for (kind, list) in [("spec", "specDescriptors"), ("status", "statusDescriptors")] {
        for d in owned[list].as_array().unwrap() {
            out.push(Described {
                kind,
                path: d["path"].as_str().unwrap().to_string(),
                display_name: d["displayName"].as_str().unwrap_or_default().to_string(),
                description: d["description"].as_str().unwrap_or_default().to_string(),
                capabilities: d["x-descriptors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect(),
            });
        }
    }
    out
}

fn root_schema(kind: &str) -> Value {
    crd_schema()["properties"][kind].clone()
}

#[test]
fn every_descriptor_path_exists_in_the_crd_schema() {
    for d in descriptors() {
        assert!(
            schema_at(&root_schema(d.kind), &d.path).is_some(),
            "{} descriptor '{}' names no field of the CRD",
            d.kind,
            d.path
        );
    }
}

#[test]
fn every_x_descriptor_is_one_the_console_keeps_for_its_fields_type() {
    for d in descriptors() {
        let schema = schema_at(&root_schema(d.kind), &d.path).unwrap().clone();
        let known = if d.kind == "spec" {
            SPEC_CAPABILITIES
        } else {
            STATUS_CAPABILITIES
        };
        for c in &d.capabilities {
            assert!(
                known.iter().any(|k| c.starts_with(k)),
                "{} descriptor '{}': {c} is no {} capability of the console",
                d.kind,
                d.path,
                d.kind
            );
            assert!(
                !DEPRECATED.iter().any(|k| c.starts_with(k)),
                "{} descriptor '{}': {c} is deprecated and ignored by the console",
                d.kind,
                d.path
            );
            assert!(
                console_compatible(c, &schema),
                "{} descriptor '{}': the console drops {c} on a field of type {:?}",
                d.kind,
                d.path,
                schema_type(&schema)
            );
            if let Some(why) = unsuitable(c, &schema) {
                panic!("{} descriptor '{}': {why}", d.kind, d.path);
            }
        }
    }
}

#[test]
fn field_dependencies_name_a_spec_field_and_one_of_its_values() {
    let spec = root_schema("spec");
    for d in descriptors() {
        let deps: Vec<&String> = d
            .capabilities
            .iter()
            .filter(|c| c.starts_with(FIELD_DEPENDENCY))
            .collect();
        assert!(
            deps.len() <= 1,
            "'{}' depends on more than one field",
            d.path
        );
        for dep in deps {
            let (path, value) = dep
                .strip_prefix(FIELD_DEPENDENCY)
                .and_then(|rest| rest.split_once(':'))
                .unwrap_or_else(|| panic!("'{}': malformed {dep}", d.path));
            let control = schema_at(&spec, path)
                .unwrap_or_else(|| panic!("'{}' depends on missing {path}", d.path));
            let allowed: Vec<String> = match schema_type(control).as_deref() {
                Some("boolean") => vec!["true".into(), "false".into()],
                Some("string") => enum_values(control),
                other => panic!("'{}' depends on {path} of type {other:?}", d.path),
            };
            assert!(
                allowed.iter().any(|v| v == value),
                "'{}' depends on {path}={value}, not one of {allowed:?}",
                d.path
            );
        }
    }
}

#[test]
fn select_descriptors_offer_only_values_of_the_fields_enum() {
    for d in descriptors() {
        let root = root_schema(d.kind);
        let schema = schema_at(&root, &d.path).unwrap();
        let options: Vec<&str> = d
            .capabilities
            .iter()
            .filter_map(|c| c.strip_prefix(SELECT))
            .collect();
        let values = enum_values(schema);
        for option in &options {
            assert!(
                values.iter().any(|v| v == option),
                "'{}' offers {option}, not in {values:?}",
                d.path
            );
        }
        if !options.is_empty() {
            let offered: std::collections::BTreeSet<&str> = options.iter().copied().collect();
            assert_eq!(
                offered.len(),
                options.len(),
                "'{}' offers an option twice",
                d.path
            );
        }
    }
}

/// Every field path below `schema` that a form shows as one input: scalars, lists and maps.
fn leaves(prefix: &str, schema: &Value, out: &mut Vec<String>) {
    match schema["properties"].as_object() {
        Some(props) if schema_type(schema).as_deref() == Some("object") => {
            for (name, child) in props {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                leaves(&path, child, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn assert_covered(kind: &'static str) {
    let described = descriptors();
    let mut fields = Vec::new();
    leaves("", &root_schema(kind), &mut fields);
    let mut missing = Vec::new();
    for field in fields {
        let covered = described.iter().filter(|d| d.kind == kind).any(|d| {
            d.path == field
                || (field.starts_with(&format!("{}.", d.path))
                    && d.capabilities
                        .iter()
                        .any(|c| COVERS_CHILDREN.contains(&c.as_str())))
        });
        if !covered {
            missing.push(field);
        }
    }
    assert!(
        missing.is_empty(),
        "{kind} fields without a descriptor: {missing:?}"
    );
}

#[test]
fn every_user_facing_spec_field_has_a_descriptor() {
    assert_covered("spec");
}

#[test]
fn every_status_field_has_a_descriptor() {
    assert_covered("status");
}

#[test]
fn descriptors_have_a_display_name_and_a_description_and_unique_paths() {
    let mut seen = std::collections::BTreeSet::new();
    for d in descriptors() {
        assert!(
            !d.display_name.is_empty(),
            "'{}' has no displayName",
            d.path
        );
        assert!(!d.description.is_empty(), "'{}' has no description", d.path);
        assert!(
            seen.insert((d.kind, d.path.clone())),
            "'{}' is described twice",
            d.path
        );
    }
}

#[test]
fn the_essential_fields_get_their_widgets() {
    let find = |kind: &str, path: &str| {
        descriptors()
            .into_iter()
            .find(|d| d.kind == kind && d.path == path)
            .unwrap_or_else(|| panic!("no {kind} descriptor for {path}"))
            .capabilities
    };
    assert!(find("spec", "replicas").contains(&POD_COUNT.to_string()));
    assert!(find("spec", "resources").contains(&RESOURCE_REQUIREMENTS.to_string()));
    assert!(find("spec", "affinity.podAntiAffinity").contains(&POD_ANTI_AFFINITY.to_string()));
    assert!(
        find("spec", "storage.s3.accessKeySecret.name").contains(&format!("{K8S_RESOURCE}Secret"))
    );
    assert!(
        find("spec", "rbac.keycloak.clientSecretRef.name")
            .contains(&format!("{K8S_RESOURCE}Secret"))
    );
    assert!(find("spec", "networking.route.enabled").contains(&BOOLEAN_SWITCH.to_string()));
    assert!(
        find("spec", "storage.type")
            .iter()
            .any(|c| c.starts_with(SELECT))
    );
    assert!(find("status", "conditions").contains(&CONDITIONS.to_string()));
    assert!(find("status", "phase").contains(&PHASE.to_string()));
    assert!(find("status", "endpoints.external").contains(&W3_LINK.to_string()));
    assert!(find("status", "readyReplicas").contains(&POD_COUNT.to_string()));
    assert!(find("spec", "securityContext").contains(&ADVANCED.to_string()));
}

#[test]
fn spec_has_no_top_level_oneof_anyof_or_allof_so_the_console_keeps_its_form() {
    let schema = crd_schema();
    for (name, node) in [
        ("the schema", &schema),
        ("spec", &schema["properties"]["spec"]),
    ] {
        for keyword in ["oneOf", "anyOf", "allOf"] {
            assert!(
                node.get(keyword).is_none(),
                "{name} has {keyword}: the console would show YAML only"
            );
        }
    }
}

#[test]
fn the_console_rules_reject_what_they_should() {
    // The checks above must be able to fail: a switch on a string, a select on a non-enum value, a number on a
    // boolean and conditions on an object are refused.
    let string = serde_json::json!({"type": "string"});
    let boolean = serde_json::json!({"type": "boolean"});
    let object = serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let enumerated = serde_json::json!({"type": "string", "enum": ["a", "b"]});
    assert!(unsuitable(BOOLEAN_SWITCH, &string).is_some());
    assert!(unsuitable(&format!("{SELECT}c"), &enumerated).is_some());
    assert!(unsuitable(&format!("{SELECT}a"), &enumerated).is_none());
    assert!(unsuitable(NUMBER, &boolean).is_some());
    assert!(!console_compatible(CONDITIONS, &object));
    assert!(!console_compatible(RESOURCE_REQUIREMENTS, &string));
    assert!(console_compatible(ADVANCED, &object));
}

/// The ZotPushSecret and ZotPullSecret entries of the CSV, by the same console rules as the store's.
#[test]
fn the_push_and_pull_secret_kinds_are_owned_and_every_field_has_a_fitting_descriptor() {
    let csv = csv();
    let owned = csv["spec"]["customresourcedefinitions"]["owned"]
        .as_array()
        .unwrap()
        .clone();
    for (kind, plural) in [
        ("ZotPushSecret", "zotpushsecrets"),
        ("ZotPullSecret", "zotpullsecrets"),
    ] {
        let entry = owned
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind} is an owned CRD of the CSV"));
        assert_eq!(entry["name"], format!("{plural}.artifact.zotregistry.io"));
        assert!(entry["description"].as_str().is_some_and(|d| !d.is_empty()));
        let crd = super::yaml_file(&format!(
            "bundle/manifests/artifact.zotregistry.io_{plural}.yaml"
        ));
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        for (part, list, known) in [
            ("spec", "specDescriptors", SPEC_CAPABILITIES),
            ("status", "statusDescriptors", STATUS_CAPABILITIES),
        ] {
            let root = &schema["properties"][part];
            let descriptors = entry[list].as_array().unwrap();
            for d in descriptors {
                let path = d["path"].as_str().unwrap();
                let field = schema_at(root, path)
                    .unwrap_or_else(|| panic!("{kind} {part} descriptor {path} names no field"));
                assert!(d["displayName"].as_str().is_some_and(|n| !n.is_empty()));
                assert!(
                    d["description"].as_str().is_some_and(|n| !n.is_empty()),
                    "{kind} {path} has a description"
                );
                for c in d["x-descriptors"].as_array().into_iter().flatten() {
                    let c = c.as_str().unwrap();
                    assert!(
                        known.iter().any(|k| c.starts_with(k)),
                        "{kind} {path}: {c} is no {part} capability"
                    );
                    assert_eq!(unsuitable(c, field), None, "{kind} {path}");
                }
            }
            let mut fields = Vec::new();
            leaves("", root, &mut fields);
            for field in fields {
                assert!(
                    descriptors.iter().any(|d| d["path"] == field.as_str()),
                    "{kind} {part}.{field} has no descriptor"
                );
            }
        }
    }
}
