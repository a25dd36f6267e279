//! The CRD's CEL rules proven on the real API server (Kubernetes 1.36, tests/support): the committed CRD is
//! installed by server-side apply, and every case of the shared table (tests/cel_cases) is created with a
//! server-side dry run. A refused case must come back with exactly its rules' messages at their field paths; an
//! accepted case and every sample must be admitted. A pure test walks the CRD and fails when a rule has no refused
//! or no accepted case.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod cel_cases;
mod support;

use std::time::Duration;

use cel_cases::{Case, ROOT, cases};
use futures::{StreamExt, stream};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::{Client, Error};
use serde_json::Value;
use support::{Flavour, TestNamespace, eventually};
use zot_operator::api::v1alpha1::messages;

const CRD_NAME: &str = "zotartifactstores.artifact.zotregistry.io";
const CRD_FILE: &str = "config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml";
/// Dry runs in flight at once.
const PARALLEL: usize = 8;

/// Installs the committed CRD (server-side apply: other test binaries may do the same at the same time) and waits
/// until it is Established.
async fn install_crd(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let version =
        |crd: Option<CustomResourceDefinition>| crd.and_then(|c| c.metadata.resource_version);
    let before = version(crds.get_opt(CRD_NAME).await.unwrap());
    let file = support::repo_root().join(CRD_FILE);
    let (ok, _, err) = support::kubectl(
        Flavour::Vanilla,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=zot-operator-tests",
            "-f",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "server-side apply of {CRD_FILE} failed: {err}");
    eventually(
        "the ZotArtifactStore CRD to be Established",
        Duration::from_secs(30),
        || async {
            let crd = crds.get(CRD_NAME).await.ok()?;
            crd.status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
                .then_some(())
        },
    )
    .await;
    if version(crds.get_opt(CRD_NAME).await.unwrap()) != before {
        // The schema changed: the API server swaps the served schema asynchronously after the update.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn stores(client: &Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("artifact.zotregistry.io", "v1alpha1", "ZotArtifactStore");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "zotartifactstores");
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// What the API server says to a dry-run create.
#[derive(Debug)]
enum Verdict {
    /// Admitted; the object as it would be stored (defaulted).
    Admitted(Value),
    /// Refused as invalid: (field path, message) of every cause, sorted, the message without its
    /// "Invalid value: …: " prefix; and the whole message as kubectl prints it.
    Refused(Vec<(String, String)>, String),
}

async fn dry_run(api: &Api<DynamicObject>, object: &Value) -> Verdict {
    let object: DynamicObject = serde_json::from_value(object.clone()).unwrap();
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    match api.create(&params, &object).await {
        Ok(created) => Verdict::Admitted(serde_json::to_value(created).unwrap()),
        Err(Error::Api(status)) if status.reason == "Invalid" => {
            let mut causes: Vec<(String, String)> = status
                .details
                .as_ref()
                .map(|d| d.causes.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|c| (field(&c.field), rule_message(&c.message)))
                .collect();
            causes.sort();
            Verdict::Refused(causes, status.message.clone())
        }
        Err(other) => panic!("the dry run failed for another reason than validation: {other}"),
    }
}

/// The API server names the root `<nil>` (no field).
fn field(field: &str) -> String {
    match field {
        "<nil>" => ROOT.to_string(),
        other => other.to_string(),
    }
}

/// A cause's message without the "Invalid value: <value>: " prefix the API server puts before a rule's message.
/// The value is a JSON scalar or absent (objects are not printed), so the prefix ends at the first ": " after it.
fn rule_message(message: &str) -> String {
    let Some(rest) = message.strip_prefix("Invalid value: ") else {
        return message.to_string();
    };
    // The value, when printed, is a JSON string, number or boolean; no rule's message of this CRD starts like one
    // (the coverage test ties every expected message to the CRD).
    let value_end = if let Some(quoted) = rest.strip_prefix('"') {
        // A quoted value: its closing quote is followed by ": ".
        quoted.find("\": ").map(|i| i + 2)
    } else if rest.starts_with(|c: char| c == '-' || c.is_ascii_digit())
        || rest.starts_with("true")
        || rest.starts_with("false")
    {
        rest.find(": ")
    } else {
        None
    };
    match value_end {
        Some(end) => rest[end + 2..].to_string(),
        None => rest.to_string(),
    }
}

/// Runs every case concurrently in one namespace; returns (case, verdict) in table order.
async fn verdicts(cases: Vec<Case>) -> Vec<(Case, Verdict)> {
    let client = support::client(Flavour::Vanilla).await;
    install_crd(&client).await;
    let ns = TestNamespace::new(Flavour::Vanilla, "cel", &[]).await;
    let api = stores(&client, &ns.name);
    let namespace = ns.name.clone();
    stream::iter(cases)
        .map(|case| {
            let api = api.clone();
            let object = case.object(&namespace);
            async move {
                let verdict = dry_run(&api, &object).await;
                (case, verdict)
            }
        })
        .buffered(PARALLEL)
        .collect()
        .await
}

fn describe(case: &Case) -> String {
    format!(
        "{} (name {}, spec {})",
        case.behaviour, case.name, case.spec
    )
}

#[test]
fn every_cel_rule_of_the_crd_has_a_refused_and_an_accepted_case() {
    let rules = cel_cases::crd_rules();
    assert!(
        rules.len() >= 49,
        "the CRD walk found only {} rules",
        rules.len()
    );
    let (no_refusal, no_acceptance) = cel_cases::uncovered_rules();
    assert!(
        no_refusal.is_empty() && no_acceptance.is_empty(),
        "rules without a refused case:\n{}\nrules without an accepted case setting their field:\n{}",
        no_refusal.join("\n"),
        no_acceptance.join("\n")
    );
    // And no case expects a message that is not a rule of the CRD.
    let messages: Vec<&String> = rules.iter().map(|(_, m)| m).collect();
    for case in cases() {
        for (_, message) in &case.refusals {
            assert!(
                messages.iter().any(|m| m == message),
                "{}: no rule of the CRD says {message:?}",
                case.behaviour
            );
        }
    }
}

#[tokio::test]
async fn the_api_server_refuses_every_refused_case_with_exactly_its_rules_messages_and_fields() {
    let refused: Vec<Case> = cases().into_iter().filter(Case::is_refused).collect();
    assert!(refused.len() >= 60, "only {} refused cases", refused.len());
    let mut wrong = Vec::new();
    for (case, verdict) in verdicts(refused).await {
        let want: Vec<(String, String)> = case
            .refusals
            .iter()
            .map(|(f, m)| (f.to_string(), m.to_string()))
            .collect();
        match verdict {
            Verdict::Refused(got, _) if got == want => {}
            Verdict::Refused(got, message) => wrong.push(format!(
                "{}\n  want {want:#?}\n  got  {got:#?}\n  ({message})",
                describe(&case)
            )),
            Verdict::Admitted(_) => wrong.push(format!("{}\n  was admitted", describe(&case))),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_api_server_admits_every_accepted_case_and_every_rule_was_evaluated_on_one() {
    let accepted: Vec<Case> = cases().into_iter().filter(|c| !c.is_refused()).collect();
    assert!(
        accepted.len() >= 37,
        "only {} accepted cases",
        accepted.len()
    );
    let mut wrong = Vec::new();
    let mut admitted = Vec::new();
    for (case, verdict) in verdicts(accepted).await {
        match verdict {
            Verdict::Admitted(object) => admitted.push(object),
            Verdict::Refused(causes, message) => wrong.push(format!(
                "{}\n  was refused: {causes:#?}\n  ({message})",
                describe(&case)
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every rule's field is present in an object the API server admitted (after defaulting): the rule ran and
    // passed there.
    let unevaluated: Vec<String> = cel_cases::crd_rules()
        .into_iter()
        .filter(|(path, _)| !admitted.iter().any(|o| cel_cases::has_value(o, path)))
        .map(|(path, message)| format!("{path}: {message}"))
        .collect();
    assert!(
        unevaluated.is_empty(),
        "no admitted object has the field of:\n{}",
        unevaluated.join("\n")
    );
}

#[tokio::test]
async fn the_api_server_admits_the_samples() {
    let client = support::client(Flavour::Vanilla).await;
    install_crd(&client).await;
    let ns = TestNamespace::new(Flavour::Vanilla, "cel-samples", &[]).await;
    let api = stores(&client, &ns.name);
    for (sample, mut object) in cel_cases::samples() {
        object["metadata"]["namespace"] = Value::String(ns.name.clone());
        match dry_run(&api, &object).await {
            Verdict::Admitted(stored) => assert_eq!(
                stored["spec"]["replicas"], object["spec"]["replicas"],
                "{sample} is stored as written"
            ),
            Verdict::Refused(causes, message) => {
                panic!("{sample} was refused: {causes:#?}\n({message})")
            }
        }
    }
}

/// Runs `kubectl create --dry-run=server` on a store; returns (success, stderr).
fn kubectl_dry_run(namespace: &str, spec: &str) -> (bool, String) {
    let object = cel_cases::object("zot", namespace, spec);
    let (ok, _, err) = support::kubectl(
        Flavour::Vanilla,
        &["create", "--dry-run=server", "-f", "-"],
        Some(&object.to_string()),
    );
    (ok, err)
}

#[tokio::test]
async fn kubectl_shows_each_refusal_as_field_invalid_value_and_the_rules_message() {
    let client = support::client(Flavour::Vanilla).await;
    install_crd(&client).await;
    let ns = TestNamespace::new(Flavour::Vanilla, "cel-kubectl", &[]).await;
    let (ok, err) = kubectl_dry_run(
        &ns.name,
        "{database: {type: postgres}, storage: {size: five gigs}, metrics: {tracing: {enabled: true}}}",
    );
    assert!(!ok, "the store was admitted");
    for line in [
        format!("spec.database: Invalid value: {}", messages::POSTGRES),
        format!(
            "spec.storage.size: Invalid value: \"five gigs\": {}",
            messages::POSITIVE_QUANTITY
        ),
        format!(
            "spec.metrics.tracing.enabled: Invalid value: true: {}",
            messages::TRACING
        ),
    ] {
        assert!(err.contains(&line), "missing {line:?} in:\n{err}");
    }
    let (ok, err) = kubectl_dry_run(&ns.name, "{storage: {size: 5Gi}}");
    assert!(ok, "5Gi was refused: {err}");
    // A size is a quantity string (the console's form draws it as one text field); bytes are written as a string.
    let (ok, err) = kubectl_dry_run(&ns.name, "{storage: {size: '5368709120'}}");
    assert!(ok, "a size in bytes was refused: {err}");
    let (ok, err) = kubectl_dry_run(&ns.name, "{storage: {size: 5368709120}}");
    assert!(!ok, "an unquoted number was admitted as a size");
    assert!(
        err.contains("spec.storage.size in body must be of type string"),
        "{err}"
    );
}

#[test]
fn the_cause_prefix_is_stripped_from_scalar_values_only() {
    assert_eq!(
        rule_message("Invalid value: \"five: gigs\": must be a positive quantity"),
        "must be a positive quantity"
    );
    assert_eq!(rule_message("Invalid value: -1: must be x"), "must be x");
    assert_eq!(rule_message("Invalid value: true: no"), "no");
    assert_eq!(
        rule_message("Invalid value: database.type postgres is not supported: zot's"),
        "database.type postgres is not supported: zot's"
    );
}

#[tokio::test]
async fn an_s3_section_without_a_bucket_is_refused_as_a_required_field() {
    let client = support::client(Flavour::Vanilla).await;
    install_crd(&client).await;
    let ns = TestNamespace::new(Flavour::Vanilla, "cel-s3", &[]).await;
    let object = cel_cases::object(
        "zot",
        &ns.name,
        "{storage: {type: s3, s3: {region: eu-west-1}}}",
    );
    match dry_run(&stores(&client, &ns.name), &object).await {
        Verdict::Refused(causes, message) => assert!(
            causes
                .iter()
                .any(|(f, m)| f == "spec.storage.s3.bucket" && m == "Required value"),
            "{causes:#?}\n{message}"
        ),
        Verdict::Admitted(_) => panic!("an s3 section without a bucket was admitted"),
    }
}
