//! Properties over random specs: validation and rendering never panic, every accepted spec renders a zot config
//! that serializes and reads back unchanged, and the operator refuses whatever the CRD's CEL rules refuse.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::sync::OnceLock;

use kube::core::cel::{CompiledSchema, ErrorKind, Validator, compile_schema};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use zot_operator::api::names::CONFIG_FILE;
use zot_operator::api::v1alpha1::ZotArtifactStore;
use zot_operator::platform::Platform;
use zot_operator::render::{Inputs, desired};
use zot_operator::validate::validate;
use zot_operator::zot::ZotConfig;

fn compiled() -> &'static CompiledSchema {
    static SCHEMA: OnceLock<CompiledSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = format!(
            "{}/config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        compile_schema(&crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    })
}

/// Puts the `Some` entries into a JSON object.
fn object(entries: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = entries
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect();
    Value::Object(map)
}

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::sample::select(values).prop_map(|s| json!(s))
}

fn quantity() -> impl Strategy<Value = Value> {
    prop_oneof![
        16 => pick(&["5Gi", "1.5Ti", "500Mi", "1e3"]),
        2 => (1i64..5).prop_map(|n| json!(n)),
        1 => pick(&["0", "five gigs", "-1Gi"]),
    ]
}

fn secret_name() -> impl Strategy<Value = Value> {
    prop_oneof![9 => pick(&["creds", "tls-cert"]), 1 => pick(&["zot-config", "zot-oidc"])]
}

/// Usually `section` when `wanted`, sometimes the opposite: mismatched sections must be refused, not crash.
fn usually(
    wanted: bool,
    section: impl Strategy<Value = Value>,
) -> impl Strategy<Value = Option<Value>> {
    (proptest::bool::weighted(0.97), section)
        .prop_map(move |(keep, value)| (wanted == keep).then_some(value))
}

fn storage() -> impl Strategy<Value = Value> {
    prop_oneof![4 => Just("filesystem"), 3 => Just("s3"), 1 => Just("gcs"), 1 => Just("azure")]
        .prop_flat_map(|kind| {
            let s3 = (
                pick(&["images", "b"]),
                proptest::option::of(pick(&[
                    "https://s3.example.com",
                    "http://minio:9000",
                    "s3.example.com",
                ])),
                proptest::option::of(secret_name()),
            )
                .prop_map(|(bucket, endpoint, secret)| {
                    object(vec![
                        ("bucket", Some(bucket)),
                        ("endpoint", endpoint),
                        ("accessKeySecret", secret.map(|s| json!({"name": s}))),
                    ])
                });
            let gcs = proptest::option::of(secret_name()).prop_map(|secret| {
                object(vec![
                    ("bucket", Some(json!("images"))),
                    ("credentialsSecret", secret),
                ])
            });
            let azure = proptest::option::of(secret_name()).prop_map(|secret| {
                object(vec![
                    ("accountName", Some(json!("acct"))),
                    ("container", Some(json!("images"))),
                    ("credentialsSecret", secret),
                ])
            });
            (
                usually(kind == "filesystem", quantity()),
                usually(kind == "s3", s3),
                usually(kind == "gcs", gcs),
                usually(kind == "azure", azure),
                proptest::option::of(pick(&["Retain", "Delete"])),
            )
                .prop_map(move |(size, s3, gcs, azure, deletion)| {
                    object(vec![
                        ("type", Some(json!(kind))),
                        ("size", size),
                        ("s3", s3),
                        ("gcs", gcs),
                        ("azure", azure),
                        ("deletionPolicy", deletion),
                    ])
                })
        })
}

fn database() -> impl Strategy<Value = Value> {
    prop_oneof![20 => Just("embedded"), 16 => Just("redis"), 4 => Just("dynamodb"), 1 => Just("postgres"), 1 => Just("mysql")]
        .prop_flat_map(|kind| {
            let redis = prop_oneof![8 => pick(&["redis://redis:6379/0", "rediss://r:6380"]), 1 => pick(&["redis://u:p@r:6379", "http://r"])]
                .prop_map(|url| json!({"url": url}));
            (
                proptest::option::of(quantity()).prop_map(|size| object(vec![("storageSize", size)])),
                usually(kind == "redis", redis),
                usually(kind == "dynamodb", Just(json!({"region": "eu-west-1"}))),
                usually(kind == "postgres", Just(json!({"host": "db", "port": 5432}))),
                proptest::bool::weighted(0.05),
            )
                .prop_map(move |(embedded, redis, dynamodb, postgres, with_embedded)| {
                    object(vec![
                        ("type", Some(json!(kind))),
                        ("embedded", with_embedded.then_some(embedded)),
                        ("redis", redis),
                        ("dynamodb", dynamodb),
                        ("postgres", postgres),
                    ])
                })
        })
}

fn rbac() -> impl Strategy<Value = Value> {
    (
        proptest::bool::weighted(0.4),
        any::<bool>(),
        proptest::option::weighted(0.8, secret_name()),
        proptest::bool::weighted(0.95),
        proptest::collection::vec(
            (
                prop_oneof![9 => pick(&["**", "team/*"]), 1 => pick(&[""])],
                proptest::bool::weighted(0.9),
                pick(&["read", "create", "delete"]),
            ),
            0..3,
        ),
    )
        .prop_map(|(enabled, keycloak, htpasswd, url_ok, policies)| {
            object(vec![
                ("enabled", Some(json!(enabled))),
                ("keycloak", keycloak.then(|| json!({"url": if url_ok { "https://sso" } else { "sso.example.com" }, "realm": "r", "clientId": "zot", "clientSecretRef": {"name": "kc", "key": "secret"}}))),
                ("htpasswd", htpasswd.map(|name| json!({"name": name, "key": "htpasswd"}))),
                ("policies", Some(Value::Array(policies.into_iter().map(|(glob, users, action)| json!({"repositories": [glob], "users": if users { json!(["ann"]) } else { json!([]) }, "actions": [action]})).collect()))),
                ("defaultPolicy", Some(json!(["read"]))),
            ])
        })
}

fn features() -> impl Strategy<Value = (Value, Value, Value, Value)> {
    (
        (
            any::<bool>(),
            proptest::option::of((any::<bool>(), prop_oneof![9 => proptest::sample::select(&[2048, 4096][..]), 1 => Just(1024)])),
            proptest::option::of((proptest::bool::weighted(0.3), pick(&["spdx", "cyclonedx"]))),
        ),
        (
            proptest::bool::weighted(0.8),
            any::<bool>(),
            proptest::option::of(proptest::bool::weighted(0.05)),
            any::<bool>(),
            prop_oneof![9 => 1i32..65536, 1 => prop_oneof![Just(0), Just(70000)]],
        ),
        (
            proptest::bool::weighted(0.9),
            proptest::option::of((proptest::bool::weighted(0.3), proptest::option::of(prop_oneof![4 => pick(&["24h", "1h30m2h"]), 1 => pick(&["30m"])]))),
            proptest::option::of((any::<bool>(), any::<bool>(), prop_oneof![9 => pick(&["6h"]).prop_map(Some), 1 => Just(None)])),
        ),
        (proptest::option::of((any::<bool>(), proptest::option::of(pick(&["zot.example.com", "Bad_Host"])), any::<bool>())), proptest::option::of((any::<bool>(), prop_oneof![6 => pick(&["edge"]), 1 => pick(&["reencrypt", "passthrough"])])), any::<bool>(), proptest::option::of(secret_name())),
    )
        .prop_map(|(chain, metrics, extensions, networking)| {
            let (chain_on, signing, sbom) = chain;
            let supply_chain = object(vec![
                ("enabled", Some(json!(chain_on))),
                ("signing", signing.map(|(on, size)| json!({"enabled": on, "keySize": size}))),
                ("sbom", sbom.map(|(on, format)| json!({"enabled": on, "defaultFormat": format}))),
            ]);
            let (metrics_on, prometheus_on, tracing, monitor, port) = metrics;
            let metrics = object(vec![
                ("enabled", Some(json!(metrics_on))),
                ("prometheus", Some(json!({"enabled": prometheus_on, "port": port, "serviceMonitor": {"enabled": monitor}}))),
                ("tracing", tracing.map(|on| json!({"enabled": on}))),
            ]);
            let (search, cve, sync) = extensions;
            let extensions = object(vec![
                ("search", Some(object(vec![("enabled", Some(json!(search))), ("cve", cve.map(|(on, interval)| object(vec![("enabled", Some(json!(on))), ("updateInterval", interval)])))]))),
                ("sync", sync.map(|(on, on_demand, poll)| json!({"enabled": on, "registries": [object(vec![("urls", Some(json!(["https://docker.io"]))), ("onDemand", Some(json!(on_demand))), ("pollInterval", poll)])]}))),
            ]);
            let (ingress, route, policy, tls) = networking;
            let networking = object(vec![
                ("ingress", ingress.map(|(on, host, tls)| object(vec![("enabled", Some(json!(on))), ("host", host), ("tls", Some(json!({"enabled": tls, "secretName": "ingress-tls"})))]))),
                ("route", route.map(|(on, termination)| json!({"enabled": on, "termination": termination}))),
                ("networkPolicy", Some(json!({"enabled": policy}))),
                ("tls-secret", tls),
            ]);
            (supply_chain, metrics, extensions, networking)
        })
}

fn scaling() -> impl Strategy<Value = (Value, Value, Option<Value>)> {
    (
        (
            proptest::bool::weighted(0.1),
            1i32..4,
            prop_oneof![9 => 4i32..12, 1 => 0i32..4],
            proptest::option::of(prop_oneof![9 => 1i32..100, 1 => Just(120)]),
            proptest::option::of(1i32..100),
        ),
        (
            any::<bool>(),
            proptest::option::of(prop_oneof![
                (0i32..4).prop_map(|n| json!(n)),
                pick(&["50%", "half"])
            ]),
            prop_oneof![5 => Just(None), 1 => (0i32..3).prop_map(|n| Some(json!(n)))],
        ),
        proptest::option::of((
            proptest::option::of(pick(&["500m", "2"])),
            proptest::option::of(prop_oneof![9 => pick(&["1Gi"]), 1 => pick(&["3Gi"])]),
            proptest::option::of(pick(&["2Gi"])),
        )),
    )
        .prop_map(
            |((on, min, max, cpu, memory), (pdb, min_available, max_unavailable), resources)| {
                let autoscaling = object(vec![
                    ("enabled", Some(json!(on))),
                    ("minReplicas", Some(json!(min))),
                    ("maxReplicas", Some(json!(max))),
                    ("targetCPUUtilization", cpu.map(|c| json!(c))),
                    ("targetMemoryUtilization", memory.map(|m| json!(m))),
                ]);
                let pdb = object(vec![
                    ("enabled", Some(json!(pdb))),
                    ("minAvailable", min_available),
                    ("maxUnavailable", max_unavailable),
                ]);
                let resources = resources.map(|(cpu, mem, limit)| {
                    object(vec![
                        (
                            "requests",
                            Some(object(vec![("cpu", cpu), ("memory", mem)])),
                        ),
                        ("limits", Some(object(vec![("memory", limit)]))),
                    ])
                });
                (autoscaling, pdb, resources)
            },
        )
}

fn store() -> impl Strategy<Value = Value> {
    (
        prop_oneof![30 => pick(&["zot", "registry-1"]), 1 => pick(&["Bad.Name"])],
        prop_oneof![8 => Just(1), 1 => 0i32..5],
        storage(),
        database(),
        rbac(),
        features(),
        scaling(),
        pick(&["debug", "info", "warn", "error"]),
    )
        .prop_map(
            |(
                name,
                replicas,
                storage,
                database,
                rbac,
                (supply_chain, metrics, extensions, mut networking),
                (autoscaling, pdb, resources),
                log,
            )| {
                let tls = networking
                    .as_object_mut()
                    .and_then(|n| n.remove("tls-secret"));
                json!({
                    "apiVersion": "artifact.zotregistry.io/v1alpha1",
                    "kind": "ZotArtifactStore",
                    "metadata": {"name": name, "namespace": "team", "uid": "u-1"},
                    "spec": object(vec![
                        ("replicas", Some(json!(replicas))),
                        ("storage", Some(storage)),
                        ("database", Some(database)),
                        ("rbac", Some(rbac)),
                        ("supplyChain", Some(supply_chain)),
                        ("metrics", Some(metrics)),
                        ("extensions", Some(extensions)),
                        ("networking", Some(networking)),
                        ("tls", tls.map(|secret| json!({"enabled": true, "secretName": secret}))),
                        ("autoscaling", Some(autoscaling)),
                        ("podDisruptionBudget", Some(pdb)),
                        ("resources", resources),
                        ("logLevel", Some(json!(log))),
                    ]),
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn validation_and_rendering_never_panic_and_accepted_configs_round_trip(raw in store()) {
        let store: ZotArtifactStore = serde_json::from_value(raw.clone()).unwrap();
        let Ok(validated) = validate(&store, "default") else { return Ok(()) };
        let inputs = Inputs { keycloak_client_secret: Some("s".into()), ..Inputs::default() };
        for platform in [Platform::kubernetes(), Platform::openshift(Some("apps.example.com".into()))] {
            let desired = desired(&validated, &platform, &inputs);
            let data = desired.config_secret.data.as_ref().unwrap();
            let text = String::from_utf8(data[CONFIG_FILE].0.clone()).unwrap();
            let config: ZotConfig = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(config.to_json(), text);
            prop_assert!(desired.statefulset.is_some() != desired.deployment.is_some());
        }
    }

    #[test]
    fn whatever_the_crd_refuses_the_operator_refuses(raw in store()) {
        let refused_by_cel = match Validator::new().validate_compiled(compiled(), &raw, None) {
            Ok(()) => false,
            Err(errors) => errors.into_vec().iter().any(|e| e.kind == ErrorKind::ValidationFailure),
        };
        let store: ZotArtifactStore = serde_json::from_value(raw.clone()).unwrap();
        if refused_by_cel {
            prop_assert!(validate(&store, "default").is_err(), "CEL refuses but validate accepts {}", raw);
        }
    }
}
