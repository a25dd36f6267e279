//! The committed CRD is what `zot-operator crd` prints, and it stays usable: small enough for OLM, documented
//! field by field, without the oneOf/anyOf/allOf that make the OpenShift console drop its form view.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use serde_json::Value;
use zot_operator::api::crd;

const CRD_FILE: &str = "config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml";

fn committed() -> String {
    std::fs::read_to_string(format!("{}/{CRD_FILE}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn schema() -> Value {
    let crd: Value = serde_yaml::from_str(&committed()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

#[test]
fn the_committed_crd_is_what_the_crd_command_prints() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zot-operator"))
        .arg("crd")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, crd::yaml().unwrap());
    for (name, text) in crd::files().unwrap() {
        let path = format!("{}/config/crd/bases/{name}", env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == text, "{path} is stale: run `make generate`");
    }
    assert!(printed.starts_with(&committed()));
}

#[test]
fn the_crd_stays_well_under_olms_size_limit() {
    let size = committed().len();
    assert!(size < 150_000, "the CRD is {size} bytes");
}

fn walk(path: &str, node: &Value, visit: &mut dyn FnMut(&str, &Value)) {
    visit(path, node);
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            walk(&format!("{path}.{name}"), child, visit);
        }
    }
    if let Some(items) = node.get("items") {
        walk(&format!("{path}[]"), items, visit);
    }
    if let Some(extra) = node.get("additionalProperties").filter(|v| v.is_object()) {
        walk(&format!("{path}{{}}"), extra, visit);
    }
}

/// The console draws no form for a schema with oneOf/anyOf/allOf at its top, and rjsf draws none for a field
/// without a type: the only junctor is the `anyOf: [integer, string]` that types an int-or-string, as
/// controller-gen writes it.
#[test]
fn the_schema_has_no_oneof_anyof_or_allof_but_the_two_types_of_an_int_or_string() {
    let int_or_string = serde_json::json!([{ "type": "integer" }, { "type": "string" }]);
    let mut typed = 0;
    walk("", &schema(), &mut |path, node| {
        for keyword in ["oneOf", "allOf"] {
            assert!(node.get(keyword).is_none(), "{keyword} at {path}");
        }
        if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
            assert_eq!(node.get("anyOf"), Some(&int_or_string), "at {path}");
            typed += 1;
        } else {
            assert!(node.get("anyOf").is_none(), "anyOf at {path}");
        }
    });
    assert!(
        typed >= 2,
        "the disruption budget's counts are int-or-strings"
    );
}

#[test]
fn every_field_of_the_spec_and_status_has_a_description() {
    let embedded = [
        "affinity",
        "resources",
        "securityContext",
        "tolerations",
        "topologySpreadConstraints",
        "conditions",
        "namespaceSelector",
    ];
    for (name, text) in crd::files().unwrap() {
        let crd: Value = serde_yaml::from_str(&text).unwrap();
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        assert!(
            schema.get("description").is_some(),
            "{name} has no description"
        );
        for root in ["spec", "status"] {
            walk(root, &schema["properties"][root], &mut |path, node| {
                let inside_embedded = embedded
                    .iter()
                    .any(|e| path.contains(&format!(".{e}.")) || path.contains(&format!(".{e}[]")));
                if !inside_embedded && !path.ends_with("[]") && !path.ends_with('}') {
                    assert!(
                        node.get("description").is_some(),
                        "{name}: {path} has no description"
                    );
                }
            });
        }
    }
}

#[test]
fn no_default_holds_a_null() {
    walk("", &schema(), &mut |path, node| {
        if let Some(default) = node.get("default") {
            assert!(
                !default.to_string().contains("null"),
                "default at {path}: {default}"
            );
        }
    });
}

#[test]
fn the_crd_serves_zas_with_status_scale_and_printer_columns() {
    let crd: Value = serde_yaml::from_str(&committed()).unwrap();
    assert_eq!(crd["spec"]["names"]["shortNames"][0], "zas");
    let version = &crd["spec"]["versions"][0];
    assert_eq!(
        version["subresources"]["scale"]["specReplicasPath"],
        ".spec.replicas"
    );
    assert_eq!(
        version["subresources"]["scale"]["labelSelectorPath"],
        ".status.selector"
    );
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["Phase", "Ready", "Replicas", "Endpoint", "External", "Age"]
    );
}
