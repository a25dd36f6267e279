//! Golden files: `zot-operator render` of every sample on every platform, compared with tests/golden/.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test golden` (or `make golden`) and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use zot_operator::cli;
use zot_operator::platform::Platform;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn platforms() -> [(&'static str, Platform); 2] {
    [
        ("kubernetes", Platform::kubernetes()),
        (
            "openshift",
            Platform::openshift(Some("apps.example.com".to_string())),
        ),
    ]
}

fn samples() -> Vec<PathBuf> {
    let mut samples: Vec<PathBuf> = std::fs::read_dir(root().join("config/samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    samples.sort();
    samples
}

fn golden_path(sample: &Path, platform: &str) -> PathBuf {
    let stem = sample.file_stem().unwrap().to_str().unwrap();
    root()
        .join("tests/golden")
        .join(format!("{stem}.{platform}.yaml"))
}

#[test]
fn every_sample_renders_as_its_golden_file_on_every_platform() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let samples = samples();
    assert!(samples.len() >= 3, "samples: {samples:?}");
    for sample in &samples {
        let text = std::fs::read_to_string(sample).unwrap();
        for (name, platform) in platforms() {
            let rendered = cli::render_text(&text, &platform)
                .unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
            let golden = golden_path(sample, name);
            if update {
                std::fs::write(&golden, &rendered).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; run UPDATE_GOLDEN=1 cargo test --test golden",
                    golden.display()
                )
            });
            assert_eq!(
                rendered,
                expected,
                "{} differs; review and run UPDATE_GOLDEN=1",
                golden.display()
            );
        }
    }
}

#[test]
fn every_golden_file_belongs_to_a_sample() {
    let expected: Vec<PathBuf> = samples()
        .iter()
        .flat_map(|s| platforms().map(|(name, _)| golden_path(s, name)))
        .collect();
    for entry in std::fs::read_dir(root().join("tests/golden")).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            expected.contains(&path),
            "{} has no sample: delete it",
            path.display()
        );
    }
}
