//! The OLM bundle and file-based catalog: generated reproducibly from the code and config/, accepted by the real
//! tools (opm, operator-sdk's bundle validation) and by the API server, with descriptors the OpenShift console can
//! use.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "olm/cluster.rs"]
mod cluster;
#[path = "olm/csv.rs"]
mod csv;
#[path = "olm/descriptors.rs"]
mod descriptors;
#[path = "olm/images.rs"]
mod images;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const PACKAGE: &str = "zot-operator";
pub const CSV_FILE: &str = "bundle/manifests/zot-operator.clusterserviceversion.yaml";
pub const CRD_FILE: &str = "bundle/manifests/artifact.zotregistry.io_zotartifactstores.yaml";
pub const ANNOTATIONS_FILE: &str = "bundle/metadata/annotations.yaml";
pub const CATALOG_FILE: &str = "catalog/zot-operator/catalog.yaml";
pub const BUNDLE_IMAGE: &str = "ghcr.io/zot-operator/zot-operator-bundle";
pub const OPERATOR_IMAGE: &str = "ghcr.io/zot-operator/zot-operator";

pub fn root() -> PathBuf {
    support::repo_root()
}

pub fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
}

pub use support::yaml_docs;

pub fn yaml_file(relative: &str) -> Value {
    let mut docs = yaml_docs(&read(relative));
    assert_eq!(docs.len(), 1, "{relative} holds one document");
    docs.remove(0)
}

pub fn csv() -> Value {
    yaml_file(CSV_FILE)
}

pub fn crd_schema() -> Value {
    yaml_file(CRD_FILE)["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

pub fn annotations() -> BTreeMap<String, String> {
    serde_json::from_value(yaml_file(ANNOTATIONS_FILE)["annotations"].clone()).unwrap()
}

pub fn catalog() -> Vec<Value> {
    yaml_docs(&read(CATALOG_FILE))
}

/// Runs the generator binary.
pub fn olm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_olm"))
        .args(args)
        .output()
        .expect("run the olm generator")
}

/// Runs a tool of the test platform; a tool that cannot be built fails the test with the build's message.
pub fn tool(name: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(support::tool(name))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file below `dir`, by path relative to `base`.
fn files_under(base: &Path, dir: &str) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let relative = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if base.join(dir).is_dir() {
        walk(base, &base.join(dir), &mut out);
    }
    out
}

/// A copy of the generator's inputs (config/, hack/versions.env, catalog/) to rehearse releases in.
fn scratch_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["config", "catalog"] {
        for (relative, content) in files_under(&root(), sub) {
            let path = dir.path().join(&relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
    }
    std::fs::create_dir_all(dir.path().join("hack")).unwrap();
    std::fs::copy(
        root().join("hack/versions.env"),
        dir.path().join("hack/versions.env"),
    )
    .unwrap();
    dir
}

fn generate_into(root_dir: &Path, version: Option<&str>) -> Output {
    let mut args = vec!["--root", root_dir.to_str().unwrap()];
    if let Some(version) = version {
        args.extend(["--release-version", version]);
    }
    args.push("generate");
    olm(&args)
}

#[test]
fn the_committed_bundle_and_catalog_are_what_the_generator_makes_byte_for_byte() {
    let out = tempfile::tempdir().unwrap();
    let run = olm(&[
        "--root",
        root().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "generate",
    ]);
    assert!(run.status.success(), "{}", text(&run));
    for dir in ["bundle", "catalog"] {
        let made = files_under(out.path(), dir);
        let committed = files_under(&root(), dir);
        assert_eq!(
            made.keys().collect::<Vec<_>>(),
            committed.keys().collect::<Vec<_>>(),
            "{dir}/ has other files than the generator makes: run `make generate`"
        );
        for (path, content) in &made {
            assert!(
                committed[path] == *content,
                "{path} is stale: run `make generate`"
            );
        }
    }
}

#[test]
fn generating_twice_gives_the_same_bytes() {
    let first = scratch_root();
    let second = scratch_root();
    for dir in [&first, &second] {
        let run = generate_into(dir.path(), None);
        assert!(run.status.success(), "{}", text(&run));
    }
    let run = generate_into(second.path(), None);
    assert!(run.status.success(), "{}", text(&run));
    for sub in ["bundle", "catalog"] {
        assert_eq!(
            files_under(first.path(), sub),
            files_under(second.path(), sub)
        );
    }
}

#[test]
fn the_bundle_carries_the_committed_crd_unchanged() {
    assert_eq!(
        read(CRD_FILE),
        read("config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml")
    );
}

#[test]
fn annotations_name_the_package_its_channels_and_the_openshift_versions() {
    let annotations = annotations();
    assert_eq!(
        annotations["operators.operatorframework.io.bundle.package.v1"],
        PACKAGE
    );
    assert_eq!(
        annotations["operators.operatorframework.io.bundle.channels.v1"],
        "alpha,stable"
    );
    assert_eq!(
        annotations["operators.operatorframework.io.bundle.channel.default.v1"],
        "stable"
    );
    assert_eq!(
        annotations["operators.operatorframework.io.bundle.mediatype.v1"],
        "registry+v1"
    );
    assert_eq!(annotations["com.redhat.openshift.versions"], "v4.20");
    let scorecard = yaml_file("bundle/tests/scorecard/config.yaml");
    assert_eq!(scorecard["kind"], "Configuration");
    let sdk = read("hack/versions.env")
        .lines()
        .find_map(|l| l.strip_prefix("OPERATOR_SDK_VERSION=").map(str::to_string))
        .unwrap();
    for test in scorecard["stages"][0]["tests"].as_array().unwrap() {
        assert_eq!(
            test["image"],
            format!("quay.io/operator-framework/scorecard-test:{sdk}"),
            "the scorecard image follows the pinned operator-sdk"
        );
    }
}

#[test]
fn the_catalog_has_the_package_both_channels_and_this_release() {
    let docs = catalog();
    let package = docs.iter().find(|d| d["schema"] == "olm.package").unwrap();
    assert_eq!(package["name"], PACKAGE);
    assert_eq!(package["defaultChannel"], "stable");
    assert_eq!(package["icon"]["mediatype"], "image/svg+xml");
    assert_eq!(package["icon"], csv()["spec"]["icon"][0]);
    let name = format!("{PACKAGE}.v{VERSION}");
    for channel in ["alpha", "stable"] {
        let doc = docs
            .iter()
            .find(|d| d["schema"] == "olm.channel" && d["name"] == channel)
            .unwrap_or_else(|| panic!("channel {channel}"));
        let entry = doc["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} in {channel}"));
        assert_eq!(
            entry["skipRange"],
            csv()["metadata"]["annotations"]["olm.skipRange"]
        );
    }
    let bundle = docs
        .iter()
        .find(|d| d["schema"] == "olm.bundle" && d["name"] == name.as_str())
        .unwrap();
    assert_eq!(bundle["image"], format!("{BUNDLE_IMAGE}:{VERSION}"));
}

#[test]
fn opm_validates_the_catalog() {
    let out = tool("opm", &["validate", "catalog/"], &root());
    assert!(
        out.status.success(),
        "opm validate catalog/ failed:\n{}",
        text(&out)
    );
}

#[test]
fn opm_renders_the_bundle_directory_to_the_catalogs_bundle_entry() {
    let template = format!("{BUNDLE_IMAGE}:{{{{.Version}}}}");
    let out = tool(
        "opm",
        &[
            "render",
            "bundle/",
            "--alpha-image-ref-template",
            &template,
            "--migrate-level",
            "bundle-object-to-csv-metadata",
            "-o",
            "json",
        ],
        &root(),
    );
    assert!(
        out.status.success(),
        "opm render bundle/ failed:\n{}",
        text(&out)
    );
    let rendered: Value = serde_json::from_slice(&out.stdout).unwrap();
    let name = format!("{PACKAGE}.v{VERSION}");
    let entry = catalog()
        .into_iter()
        .find(|d| d["schema"] == "olm.bundle" && d["name"] == name.as_str())
        .unwrap();
    assert_eq!(
        rendered, entry,
        "the catalog's olm.bundle differs from `opm render bundle/`"
    );
}

#[test]
fn a_later_release_replaces_this_one_and_skips_from_the_first_and_opm_accepts_the_graph() {
    let dir = scratch_root();
    let current = semver::Version::parse(VERSION).unwrap();
    let next = semver::Version::new(current.major, current.minor + 1, 0);
    let rc = format!("{next}-rc.1");
    for version in [rc.as_str(), &next.to_string()] {
        let run = generate_into(dir.path(), Some(version));
        assert!(run.status.success(), "releasing {version}: {}", text(&run));
        let out = tool("opm", &["validate", "catalog/"], dir.path());
        assert!(
            out.status.success(),
            "opm validate after {version}:\n{}",
            text(&out)
        );
    }
    let docs = yaml_docs(&std::fs::read_to_string(dir.path().join(CATALOG_FILE)).unwrap());
    let entry = |channel: &str, version: &str| {
        docs.iter()
            .find(|d| d["schema"] == "olm.channel" && d["name"] == channel)
            .and_then(|d| {
                d["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["name"] == format!("{PACKAGE}.v{version}").as_str())
                    .cloned()
            })
    };
    let first = docs
        .iter()
        .filter(|d| d["schema"] == "olm.bundle")
        .filter_map(|d| {
            d["name"]
                .as_str()?
                .strip_prefix("zot-operator.v")
                .map(str::to_string)
        })
        .map(|v| semver::Version::parse(&v).unwrap())
        .min()
        .unwrap();
    let stable = entry("stable", &next.to_string()).unwrap();
    assert_eq!(stable["replaces"], format!("{PACKAGE}.v{VERSION}"));
    assert_eq!(stable["skipRange"], format!(">={first} <{next}"));
    assert_eq!(
        entry("alpha", &next.to_string()).unwrap()["replaces"],
        format!("{PACKAGE}.v{rc}")
    );
    assert!(
        entry("stable", &rc).is_none(),
        "a pre-release stays out of stable"
    );
    assert!(entry("alpha", &rc).is_some());
    // Earlier releases are kept as the committed catalog has them.
    let committed = catalog()
        .into_iter()
        .find(|d| {
            d["schema"] == "olm.bundle" && d["name"] == format!("{PACKAGE}.v{VERSION}").as_str()
        })
        .unwrap();
    assert!(docs.contains(&committed));
}

#[test]
fn a_release_whose_version_does_not_increase_is_refused() {
    let dir = scratch_root();
    let current = semver::Version::parse(VERSION).unwrap();
    let next = semver::Version::new(current.major, current.minor + 1, 0).to_string();
    assert!(generate_into(dir.path(), Some(&next)).status.success());
    let before = files_under(dir.path(), "catalog");
    let run = generate_into(dir.path(), Some(VERSION));
    assert!(
        !run.status.success(),
        "releasing {VERSION} after {next} must fail"
    );
    assert!(text(&run).contains("does not increase"), "{}", text(&run));
    assert_eq!(
        before,
        files_under(dir.path(), "catalog"),
        "a refused release leaves the catalog alone"
    );
}

/// What `operator-sdk bundle validate` found: whether it passed, and its (type, message) findings.
struct Validation {
    passed: bool,
    findings: Vec<(String, String)>,
    report: String,
}

/// Runs the real `operator-sdk bundle validate` (v1.42.2, hack/tools.sh) on `dir`/bundle with the optional validators
/// `selector` picks, for the Kubernetes release of the CSV's minKubeVersion (OpenShift 4.20 is Kubernetes 1.33: the
/// deprecated-API check then knows what that release removed), and the bundle image's Containerfile (the community
/// validator reads its `com.redhat.openshift.versions` label). Reads its JSON report.
fn operator_sdk_validate(dir: &Path, selector: &str) -> Validation {
    let kube = csv()["spec"]["minKubeVersion"]
        .as_str()
        .expect("the CSV names a minKubeVersion")
        .to_string();
    let out = tool(
        "operator-sdk",
        &[
            "bundle",
            "validate",
            "./bundle",
            "--select-optional",
            selector,
            "--optional-values",
            &format!("k8s-version={kube}"),
            "--optional-values",
            "index-path=bundle.Containerfile",
            "--output",
            "json-alpha1",
        ],
        dir,
    );
    let report = text(&out);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("operator-sdk's JSON report ({e}):\n{report}"));
    let passed = json["passed"]
        .as_bool()
        .expect("the report says whether it passed");
    assert_eq!(
        passed,
        out.status.success(),
        "exit status and report disagree:\n{report}"
    );
    let findings = json["outputs"]
        .as_array()
        .map(|outputs| {
            outputs
                .iter()
                .map(|o| {
                    (
                        o["type"].as_str().unwrap_or_default().to_string(),
                        o["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Validation {
        passed,
        findings,
        report,
    }
}

/// A copy of the project's bundle/ and bundle.Containerfile, to change before validating.
fn bundle_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (relative, content) in files_under(&root(), "bundle") {
        let path = dir.path().join(&relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    std::fs::copy(
        root().join("bundle.Containerfile"),
        dir.path().join("bundle.Containerfile"),
    )
    .unwrap();
    dir
}

/// A copy of bundle/ whose CSV has been changed by `edit`.
fn bundle_with_csv(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> tempfile::TempDir {
    let dir = bundle_copy();
    let mut csv = csv();
    edit(csv["spec"].as_object_mut().unwrap());
    std::fs::write(
        dir.path().join(CSV_FILE),
        serde_yaml::to_string(&csv).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn operator_sdk_bundle_validate_passes_the_operatorframework_suite_with_no_errors_and_no_warnings()
{
    // suite=operatorframework: the default validators plus operatorhubv2, capabilities, categories,
    // alpha-deprecated-apis (for the CSV's minKubeVersion) and good-practices.
    let v = operator_sdk_validate(&root(), "suite=operatorframework");
    assert!(v.passed, "bundle validation failed:\n{}", v.report);
    assert_eq!(v.findings, Vec::new(), "{}", v.report);
}

#[test]
fn operator_sdk_bundle_validate_passes_the_community_checks_of_the_openshift_versions() {
    // The community validator checks the CSV's olm.maxOpenShiftVersion and the bundle image's
    // com.redhat.openshift.versions label against the APIs the bundle uses. (operator-sdk logs that this validator
    // is deprecated in favour of an external one; that log line is about the tool, not a finding.)
    let v = operator_sdk_validate(&root(), "name=community");
    assert!(v.passed, "{}", v.report);
    assert_eq!(v.findings, Vec::new(), "{}", v.report);
}

#[test]
fn operator_sdk_bundle_validate_fails_a_csv_without_install_modes() {
    let dir = bundle_with_csv(|spec| {
        spec.remove("installModes").unwrap();
    });
    let v = operator_sdk_validate(dir.path(), "suite=operatorframework");
    assert!(!v.passed, "{}", v.report);
    assert!(
        v.findings
            .iter()
            .any(|(t, m)| t == "error" && m.contains("install modes not found")),
        "{}",
        v.report
    );
}

#[test]
fn operator_sdk_bundle_validate_warns_about_a_csv_without_min_kube_version() {
    let dir = bundle_with_csv(|spec| {
        spec.remove("minKubeVersion").unwrap();
    });
    let v = operator_sdk_validate(dir.path(), "suite=operatorframework");
    assert!(
        v.findings
            .iter()
            .any(|(t, m)| t == "warning" && m.contains("minKubeVersion is not informed")),
        "{}",
        v.report
    );
    assert!(v.findings.iter().all(|(t, _)| t != "error"), "{}", v.report);
}

#[test]
fn operator_sdk_bundle_validate_refuses_an_api_that_the_clusters_kubernetes_removed() {
    // The deprecated-API check runs for the CSV's minKubeVersion: an object of an API removed before it fails.
    let dir = bundle_copy();
    std::fs::write(
        dir.path().join("bundle/manifests/legacy-pdb.yaml"),
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: legacy\n\
         spec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: legacy\n",
    )
    .unwrap();
    let v = operator_sdk_validate(dir.path(), "suite=operatorframework");
    assert!(!v.passed, "{}", v.report);
    assert!(
        v.findings.iter().any(|(t, m)| t == "error"
            && m.contains("deprecated and removed in v1.25")
            && m.contains("PodDisruptionBudget")),
        "{}",
        v.report
    );
}
