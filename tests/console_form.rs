//! The OpenShift console's create form, drawn: hack/console-form.sh renders the form of every kind the bundle owns
//! with react-jsonschema-form and the uiSchema the console derives from the CSV's specDescriptors, in Debian's
//! headless Chromium, and submits it. Every alm-example goes through the form unchanged in meaning, a filled-in
//! minimal form gives an object the real API server admits, and the form is really drawn (a screenshot, its labels).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{Flavour, kubectl, repo_root, wait_for_crd_established};

const NAMESPACE: &str = "default";
/// The bundle's CRDs, by file and name.
const CRDS: &[(&str, &str)] = &[
    (
        "bundle/manifests/artifact.zotregistry.io_zotartifactstores.yaml",
        "zotartifactstores.artifact.zotregistry.io",
    ),
    (
        "bundle/manifests/artifact.zotregistry.io_zotpushsecrets.yaml",
        "zotpushsecrets.artifact.zotregistry.io",
    ),
    (
        "bundle/manifests/artifact.zotregistry.io_zotpullsecrets.yaml",
        "zotpullsecrets.artifact.zotregistry.io",
    ),
];
const SCREENSHOT: &str = "docs/console-form.png";

/// Draws the forms once per test binary (Chromium takes a few seconds) and returns the results and their folder.
fn drawn() -> &'static (Value, PathBuf) {
    static DRAWN: std::sync::OnceLock<(Value, PathBuf)> = std::sync::OnceLock::new();
    DRAWN.get_or_init(|| {
        let out = tempfile::tempdir().unwrap().keep();
        let fill = r#"{"ZotArtifactStore": {"metadata.name": "from-the-form", "spec.storage.size": "20Gi"}}"#;
        let run = Command::new(repo_root().join("hack/console-form.sh"))
            .args(["--bundle", "bundle", "--namespace", NAMESPACE, "--fill", fill])
            .arg("--out")
            .arg(&out)
            .current_dir(repo_root())
            .output()
            .expect("run hack/console-form.sh");
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(run.status.success(), "drawing the console's form failed:\n{log}");
        let results = std::fs::read_to_string(out.join("results.json")).unwrap();
        (serde_json::from_str(&results).unwrap(), out)
    })
}

fn results() -> &'static Value {
    &drawn().0
}

/// `zot-operator render` of `store` for a platform: every object the operator would create.
fn render(store: &Value, platform: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store.yaml");
    std::fs::write(&file, serde_yaml::to_string(store).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zot-operator"))
        .args([
            "render",
            "--platform",
            platform,
            "--apps-domain",
            "apps.zot.test",
            "-f",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render --platform {platform}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every leaf of `expected` is in `actual` with the same value.
fn assert_holds(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let child = a.get(key).unwrap_or_else(|| {
                    panic!("{path}.{key} is missing from what the form submitted")
                });
                assert_holds(value, child, &format!("{path}.{key}"));
            }
        }
        _ => assert_eq!(expected, actual, "{path} changed in the form"),
    }
}

/// A server-side dry-run create on the openshift-flavour cluster, with the bundle's CRD installed.
fn dry_run_create(object: &Value) -> (bool, String) {
    static CRD: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    CRD.get_or_init(|| {
        for (file, name) in CRDS {
            let path = repo_root().join(file);
            let (ok, out, err) = kubectl(
                Flavour::OpenShift,
                &[
                    "apply",
                    "--server-side",
                    "--force-conflicts",
                    "--field-manager=console-form-test",
                    "-f",
                    path.to_str().unwrap(),
                ],
                None,
            );
            assert!(ok, "applying the bundle's CRD {file}: {out}{err}");
            wait_for_crd_established(Flavour::OpenShift, name);
        }
    });
    let (ok, out, err) = kubectl(
        Flavour::OpenShift,
        &[
            "create",
            "--dry-run=server",
            "--validate=strict",
            "-o",
            "json",
            "-f",
            "-",
        ],
        Some(&object.to_string()),
    );
    (ok, format!("{out}{err}"))
}

#[test]
fn every_alm_example_goes_through_the_form_unchanged_in_meaning_and_is_admitted() {
    let examples = results()["examples"].as_array().unwrap();
    assert!(examples.len() >= 3, "{examples:?}");
    for case in examples {
        let name = case["name"].as_str().unwrap();
        let submitted = &case["submitted"];
        let mut example = case["example"].clone();
        example["metadata"]["namespace"] = NAMESPACE.into();
        // Nothing the example says is lost or changed; the form only adds the schema's defaults.
        assert_holds(&example, submitted, name);
        // Those defaults change nothing: the operator renders the same objects for a store on either platform.
        let platforms: &[&str] = if case["kind"] == "ZotArtifactStore" {
            &["kubernetes", "openshift"]
        } else {
            &[]
        };
        for platform in platforms {
            assert_eq!(
                render(&example, platform),
                render(submitted, platform),
                "{name} renders differently for {platform} after the form"
            );
        }
        let (ok, out) = dry_run_create(submitted);
        assert!(
            ok,
            "the API server refuses {name} as the form submits it: {out}"
        );
        // Every field is drawn: react-jsonschema-form draws no field for a schema without a type.
        assert_eq!(case["unsupported"], Value::Array(vec![]), "{name}");
    }
}

#[test]
fn the_minimal_form_filled_in_gives_a_store_the_api_server_admits() {
    let filled = results()["filled"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "ZotArtifactStore")
        .expect("the store's form was filled in");
    let store = &filled["submitted"];
    assert_eq!(store["metadata"]["name"], "from-the-form");
    assert_eq!(store["metadata"]["namespace"], NAMESPACE);
    assert_eq!(store["spec"]["storage"]["size"], "20Gi", "the typed size");
    assert_eq!(store["spec"]["storage"]["type"], "filesystem");
    let (ok, out) = dry_run_create(store);
    assert!(ok, "the API server refuses the form's store: {out}");
    let admitted: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(admitted["spec"]["storage"]["size"], "20Gi");
}

fn png_size(path: &Path) -> (u32, u32, u64) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let dim = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (dim(16), dim(20), bytes.len() as u64)
}

#[test]
fn the_form_is_drawn_with_the_descriptors_labels_and_its_screenshot_is_not_empty() {
    let (results, out) = drawn();
    let form = results["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "ZotArtifactStore")
        .unwrap();
    let labels: Vec<&str> = form["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    // The descriptors' display names, in the console's order: name first, then the spec's fields.
    for label in [
        "Name",
        "Replicas",
        "Storage type",
        "Volume size",
        "Database",
    ] {
        assert!(labels.contains(&label), "{label} is not drawn: {labels:?}");
    }
    assert_eq!(labels[0], "Name", "{labels:?}");
    assert!(form["inputs"].as_u64().unwrap() >= 10, "{form}");
    assert_eq!(form["unsupported"], Value::Array(vec![]), "{form}");
    // The screenshot holds a drawn page, many times the bytes of a blank page of the same size.
    let (_, _, blank) = png_size(&out.join("blank.png"));
    let (w, h, drawn) = png_size(Path::new(form["screenshot"].as_str().unwrap()));
    assert!((w, h) == (1100, 1400), "{w}x{h}");
    assert!(
        drawn > 10 * blank,
        "{drawn} bytes against {blank} for a blank page"
    );
    // The one kept in docs/ (`make console-form`) too.
    let (w, h, kept) = png_size(&repo_root().join(SCREENSHOT));
    assert!(
        (w, h) == (1100, 1400) && kept > 10 * blank,
        "{SCREENSHOT}: {w}x{h}, {kept} bytes"
    );
}
