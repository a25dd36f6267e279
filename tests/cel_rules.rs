//! The CRD's CEL rules, evaluated client-side (kube-cel) on the committed CRD, case by case from the shared table
//! in tests/cel_cases: every refusal says why and where, the accepted cases and the samples pass, and the
//! operator's own validation refuses whatever the CRD refuses. tests/cel_apiserver.rs proves the same table on
//! the real API server.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod cel_cases;

use cel_cases::{Case, ROOT, cases};
use kube::core::cel::Validator;
use serde_json::Value;
use zot_operator::api::v1alpha1::ZotArtifactStore;
use zot_operator::validate::validate;

fn schema() -> Value {
    let path = format!(
        "{}/config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// `value` without null-valued fields. The API server's CEL treats the null value of a nullable field as absent
/// (`has()` is false, the field's own rules do not run: tests/cel_apiserver.rs proves it); kube-cel 0.8 evaluates
/// the null, so the client side drops nulls first.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// (field path, message) of every CEL failure, sorted; the root's path is [`ROOT`].
fn cel_failures(schema: &Value, object: &Value) -> Vec<(String, String)> {
    let object = &without_nulls(object);
    let mut failures: Vec<(String, String)> = match Validator::new().validate(schema, object, None)
    {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field_path.clone(), e.message.clone()))
            .collect(),
    };
    failures.sort();
    failures
}

fn expected(case: &Case) -> Vec<(String, String)> {
    case.refusals
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect()
}

#[test]
fn the_samples_pass_every_rule() {
    let schema = schema();
    for (sample, object) in cel_cases::samples() {
        assert_eq!(
            cel_failures(&schema, &object),
            Vec::<(String, String)>::new(),
            "{sample}"
        );
    }
}

#[test]
fn every_case_gets_exactly_its_refusals_at_their_fields() {
    let schema = schema();
    let wrong: Vec<String> = cases()
        .iter()
        .filter_map(|case| {
            let got = cel_failures(&schema, &case.object("team"));
            (got != expected(case)).then(|| {
                format!(
                    "{} ({}: {})\n  want {:#?}\n  got  {got:#?}",
                    case.behaviour,
                    case.name,
                    case.spec,
                    expected(case)
                )
            })
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_operator_refuses_whatever_the_crd_refuses() {
    let accepted_by_operator: Vec<String> = cases()
        .iter()
        .filter(|case| case.is_refused())
        .filter_map(|case| {
            // An object the operator cannot even read counts as refused.
            let store: ZotArtifactStore = serde_json::from_value(case.object("team")).ok()?;
            validate(&store, "team")
                .is_ok()
                .then(|| format!("{}: {}", case.behaviour, case.spec))
        })
        .collect();
    assert!(
        accepted_by_operator.is_empty(),
        "validate accepted what the CRD refuses:\n{}",
        accepted_by_operator.join("\n")
    );
}

#[test]
fn a_refusal_of_the_name_is_reported_on_the_object() {
    let schema = schema();
    let case = cases()
        .into_iter()
        .find(|c| c.name == "zot.example")
        .unwrap();
    let failures = cel_failures(&schema, &case.object("team"));
    assert_eq!(
        failures,
        vec![(
            ROOT.to_string(),
            zot_operator::api::v1alpha1::messages::NAME.to_string()
        )]
    );
}

#[test]
fn the_operator_accepts_every_case_the_crd_accepts() {
    let refused_by_operator: Vec<String> = cases()
        .iter()
        .filter(|case| !case.is_refused())
        .filter_map(|case| {
            let store: ZotArtifactStore = match serde_json::from_value(case.object("team")) {
                Ok(store) => store,
                Err(err) => return Some(format!("{}: unreadable: {err}", case.behaviour)),
            };
            validate(&store, "team")
                .err()
                .map(|refusal| format!("{}: {refusal}", case.behaviour))
        })
        .collect();
    assert!(
        refused_by_operator.is_empty(),
        "validate refused what the CRD accepts:\n{}",
        refused_by_operator.join("\n")
    );
}
