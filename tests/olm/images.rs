//! The image build files agree with the bundle, the catalog and the binary (no container engine runs here, so
//! their instructions are read and checked instead).
use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use super::{BUNDLE_IMAGE, PACKAGE, VERSION, annotations, csv, read, root};

/// (instruction, arguments) of a Containerfile: continuation lines joined, comments dropped.
fn instructions(file: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in read(file).lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (instruction, args) = current
            .split_once(char::is_whitespace)
            .unwrap_or((&current, ""));
        out.push((instruction.to_uppercase(), args.trim().to_string()));
        current.clear();
    }
    out
}

/// Words of an instruction, double quotes respected.
fn words(args: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in args.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// LABELs of the last stage.
fn labels(file: &str) -> BTreeMap<String, String> {
    let all = instructions(file);
    let last_from = all.iter().rposition(|(i, _)| i == "FROM").unwrap();
    all[last_from..]
        .iter()
        .filter(|(i, _)| i == "LABEL")
        .flat_map(|(_, args)| words(args))
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn all(file: &str, instruction: &str) -> Vec<String> {
    instructions(file)
        .into_iter()
        .filter(|(i, _)| i == instruction)
        .map(|(_, a)| a)
        .collect()
}

fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("{args} is not exec form: {e}"))
}

fn versions_env(key: &str) -> String {
    read("hack/versions.env")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
        .unwrap()
}

#[test]
fn the_operator_image_builds_the_release_binary_onto_ubi9_as_a_non_root_user() {
    let froms = all("Containerfile", "FROM");
    assert!(froms.len() >= 2, "multi-stage build");
    assert!(froms[0].contains(" AS builder"), "the first stage builds");
    let base = froms.last().unwrap();
    assert!(
        base.starts_with("registry.access.redhat.com/ubi9/ubi-micro:")
            || base.starts_with("registry.access.redhat.com/ubi9/ubi-minimal:"),
        "runs on UBI 9 micro or minimal, not {base}"
    );
    let runs = all("Containerfile", "RUN").join(" ");
    assert!(runs.contains("cargo build --locked --release") && runs.contains("--bin zot-operator"));
    let user = all("Containerfile", "USER").pop().expect("a USER");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("a numeric UID (PodSecurity checks runAsNonRoot by number)");
    assert_ne!(uid, 0);
    let entrypoint = exec_form(&all("Containerfile", "ENTRYPOINT").pop().unwrap());
    assert_eq!(entrypoint, ["/usr/local/bin/zot-operator"]);
    assert!(std::path::Path::new(env!("CARGO_BIN_EXE_zot-operator")).ends_with("zot-operator"));
    let copies = all("Containerfile", "COPY").join("\n");
    assert!(
        copies.contains("/usr/local/bin/zot-operator"),
        "the binary lands where ENTRYPOINT runs it"
    );
    assert!(
        copies.contains("/licenses/"),
        "licenses are shipped in /licenses"
    );
}

#[test]
fn every_file_the_operator_image_copies_from_the_context_exists() {
    for copy in all("Containerfile", "COPY") {
        let parts = words(&copy);
        if parts.iter().any(|p| p.starts_with("--from=")) {
            continue;
        }
        for source in &parts[..parts.len() - 1] {
            assert!(
                root().join(source).exists(),
                "Containerfile copies {source}, which does not exist"
            );
        }
    }
}

#[test]
fn the_operator_image_labels_name_this_package_and_version() {
    let labels = labels("Containerfile");
    for key in [
        "name",
        "vendor",
        "version",
        "release",
        "summary",
        "description",
        "license",
        "io.k8s.display-name",
        "io.k8s.description",
    ] {
        assert!(
            labels.get(key).is_some_and(|v| !v.is_empty()),
            "LABEL {key}"
        );
    }
    assert_eq!(labels["name"], PACKAGE);
    assert_eq!(labels["version"], VERSION);
    assert_eq!(labels["org.opencontainers.image.version"], VERSION);
    assert_eq!(labels["license"], env!("CARGO_PKG_LICENSE"));
    assert_eq!(
        labels["org.opencontainers.image.licenses"],
        env!("CARGO_PKG_LICENSE")
    );
}

#[test]
fn the_csv_deployment_runs_a_command_the_binary_has() {
    let container = &csv()["spec"]["install"]["spec"]["deployments"][0]["spec"]["template"]["spec"]
        ["containers"][0];
    assert!(
        container.get("command").is_none(),
        "the image's ENTRYPOINT runs the binary"
    );
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_zot-operator"))
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`zot-operator {}` is not a command of the binary: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    let cmd = exec_form(&all("Containerfile", "CMD").pop().unwrap());
    assert_eq!(
        cmd, args,
        "the image's default command is the one the CSV runs"
    );
}

#[test]
fn the_bundle_image_labels_are_annotations_yaml_and_its_paths_are_the_bundles() {
    assert_eq!(all("bundle.Containerfile", "FROM"), ["scratch"]);
    let labels = labels("bundle.Containerfile");
    assert_eq!(
        labels,
        annotations(),
        "bundle.Containerfile LABELs must repeat bundle/metadata/annotations.yaml"
    );
    let copies: Vec<Vec<String>> = all("bundle.Containerfile", "COPY")
        .iter()
        .map(|c| words(c))
        .collect();
    let annotations = annotations();
    for (source, key) in [
        (
            "bundle/manifests",
            "operators.operatorframework.io.bundle.manifests.v1",
        ),
        (
            "bundle/metadata",
            "operators.operatorframework.io.bundle.metadata.v1",
        ),
        (
            "bundle/tests/scorecard",
            "operators.operatorframework.io.test.config.v1",
        ),
    ] {
        let target = format!("/{}", annotations[key]);
        assert!(
            copies.contains(&vec![source.to_string(), target.clone()]),
            "bundle.Containerfile copies {source} to {target}"
        );
        assert!(root().join(source).is_dir());
    }
}

#[test]
fn the_catalog_image_serves_catalog_with_the_pinned_opm() {
    assert_eq!(
        all("catalog.Containerfile", "FROM"),
        [format!(
            "quay.io/operator-framework/opm:{}",
            versions_env("OPM_VERSION")
        )]
    );
    let configs =
        labels("catalog.Containerfile")["operators.operatorframework.io.index.configs.v1"].clone();
    assert!(all("catalog.Containerfile", "ADD").contains(&format!("catalog {configs}")));
    let cmd = exec_form(&all("catalog.Containerfile", "CMD").pop().unwrap());
    assert_eq!(cmd[..2], ["serve".to_string(), configs]);
    assert_eq!(
        exec_form(&all("catalog.Containerfile", "ENTRYPOINT").pop().unwrap()),
        ["/bin/opm"]
    );
}

#[test]
fn the_catalog_points_at_the_bundle_image_and_the_docs_at_the_catalog_image() {
    let bundles: Vec<Value> = super::catalog()
        .into_iter()
        .filter(|d| d["schema"] == "olm.bundle")
        .collect();
    let current = bundles
        .iter()
        .find(|b| b["name"] == format!("{PACKAGE}.v{VERSION}").as_str())
        .unwrap();
    assert_eq!(current["image"], format!("{BUNDLE_IMAGE}:{VERSION}"));
    let docs = read("docs/install.md");
    assert!(docs.contains("image: ghcr.io/zot-operator/zot-operator-catalog:latest"));
    assert!(
        read("catalog.Containerfile").contains("ghcr.io/zot-operator/zot-operator-catalog:latest")
    );
    assert!(read("bundle.Containerfile").contains(&format!("{BUNDLE_IMAGE}:")));
}
