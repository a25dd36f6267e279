//! `make bench`: how long the pure steps of one reconcile take (validate, render, config hash, status), per store,
//! for each sample. Prints figures; asserts nothing about speed (timing is the machine's, not the code's).
#![allow(clippy::expect_used, clippy::unwrap_used)]
use std::hint::black_box;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use zot_operator::api::v1alpha1::ZotArtifactStore;
use zot_operator::platform::Platform;
use zot_operator::render::{self, Inputs};
use zot_operator::status::{self, Applied, Observed, Workload};
use zot_operator::validate;

fn measure(label: &str, budget: Duration, mut f: impl FnMut()) {
    // Warm up, then run for the budget and report the mean.
    for _ in 0..100 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{label:<48} {:>10.1} µs/op  ({n} runs)", per / 1000.0);
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
    );
    let root = env!("CARGO_MANIFEST_DIR");
    println!(
        "zot-operator pure-step benchmarks ({} ms per figure)",
        budget.as_millis()
    );
    for sample in ["minimal", "production", "openshift"] {
        let text = std::fs::read_to_string(format!("{root}/config/samples/{sample}.yaml"))
            .expect("sample");
        let mut store: ZotArtifactStore = serde_yaml::from_str(&text).expect("sample parses");
        store
            .metadata
            .namespace
            .get_or_insert_with(|| "bench".to_string());
        store.metadata.uid = Some("00000000-0000-0000-0000-000000000000".into());
        let platform = if sample == "openshift" {
            Platform::openshift(Some("apps.example.com".into()))
        } else {
            Platform::kubernetes()
        };
        let validated = validate::validate(&store, "bench").expect("sample validates");
        let inputs = Inputs {
            keycloak_client_secret: Some("s".into()),
            ..Inputs::default()
        };
        measure(&format!("{sample}: parse YAML"), budget, || {
            black_box(serde_yaml::from_str::<ZotArtifactStore>(&text).ok());
        });
        measure(&format!("{sample}: validate"), budget, || {
            black_box(validate::validate(&store, "bench").ok());
        });
        measure(&format!("{sample}: render every child"), budget, || {
            black_box(render::desired(&validated, &platform, &inputs));
        });
        let observed = Observed::Applied(Box::new(Applied {
            workload: Some(Workload {
                desired: 1,
                replicas: 1,
                ready: 1,
                rolled_out: true,
            }),
            selector: "app.kubernetes.io/instance=x".into(),
            ..Applied::default()
        }));
        let first = status::compute(
            None,
            Some(1),
            &observed,
            Time(k8s_openapi::jiff::Timestamp::now()),
        );
        measure(
            &format!("{sample}: compute status (unchanged)"),
            budget,
            || {
                let next = status::compute(
                    Some(&first),
                    Some(1),
                    &observed,
                    Time(k8s_openapi::jiff::Timestamp::now()),
                );
                black_box(status::unchanged(Some(&first), &next));
            },
        );
    }
}
