//! The CEL rules of the ZotPushSecret and ZotPullSecret CRDs, client-side (kube-cel) on the committed CRDs: each
//! rule refuses its case with its message and accepts the valid one. tests/access.rs checks the same refusals on
//! the real API server.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use kube::core::cel::Validator;
use serde_json::{Value, json};

pub const SHORT_PERIOD: &str =
    "rotation.period must be a Go duration of at least 1m, e.g. 24h or 90m";
pub const SHORT_GRACE: &str =
    "rotation.gracePeriod must be a Go duration of at least 5s, e.g. 1h or 30s";
pub const LONG_GRACE: &str = "rotation.gracePeriod must not be longer than rotation.period";
pub const REPOSITORIES: &str =
    "repositories must be non-empty globs without spaces, e.g. team/** or team/app";
pub const NAME: &str = "metadata.name must be at most 200 characters: it names the zot account";

fn schema(plural: &str) -> Value {
    let path = format!(
        "{}/config/crd/bases/artifact.zotregistry.io_{plural}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "artifact.zotregistry.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "ci"},
        "spec": spec,
    })
}

fn messages(schema: &Value, object: &Value) -> Vec<String> {
    match Validator::new().validate(schema, object, None) {
        Ok(()) => Vec::new(),
        Err(errors) => {
            let mut m: Vec<String> = errors.into_vec().into_iter().map(|e| e.message).collect();
            m.sort();
            m
        }
    }
}

/// (spec, name, the one refusal or None).
pub fn cases() -> Vec<(Value, String, Option<&'static str>)> {
    let rotation = |period: &str, grace: &str| json!({"store": {"name": "hub"}, "rotation": {"period": period, "gracePeriod": grace}});
    vec![
        (rotation("24h", "1h"), "ok".into(), None),
        (rotation("1m", "5s"), "shortest".into(), None),
        (rotation("30s", "5s"), "fast".into(), Some(SHORT_PERIOD)),
        (rotation("1day", "5s"), "unit".into(), Some(SHORT_PERIOD)),
        (rotation("1h", "1s"), "blink".into(), Some(SHORT_GRACE)),
        (rotation("1h", "2h"), "overlap".into(), Some(LONG_GRACE)),
        (
            json!({"store": {"name": "hub"}, "repositories": ["ci/**", "ci/app"], "rotation": {"period": "24h", "gracePeriod": "1h"}}),
            "repos".into(),
            None,
        ),
        (
            json!({"store": {"name": "hub"}, "repositories": ["ci/my app"], "rotation": {"period": "24h", "gracePeriod": "1h"}}),
            "space".into(),
            Some(REPOSITORIES),
        ),
        (rotation("24h", "1h"), "x".repeat(201), Some(NAME)),
        (rotation("24h", "1h"), "x".repeat(200), None),
    ]
}

#[test]
fn every_rule_of_both_kinds_refuses_its_case_with_its_message_and_accepts_the_valid_one() {
    for (kind, plural) in [
        ("ZotPushSecret", "zotpushsecrets"),
        ("ZotPullSecret", "zotpullsecrets"),
    ] {
        let schema = schema(plural);
        for (spec, name, refusal) in cases() {
            let got = messages(&schema, &object(kind, &name, spec.clone()));
            let want: Vec<String> = refusal.iter().map(|m| m.to_string()).collect();
            assert_eq!(got, want, "{kind} {name}: {spec}");
        }
    }
}
