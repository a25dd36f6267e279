//! Restricted Pod Security, proven on the real API server (tests/support): every sample and a matrix of stores
//! (storage × database × Keycloak × TLS × securityContext override) is rendered offline for Kubernetes and for
//! OpenShift, its workload created with everything the pods reference in a namespace that enforces
//! `restricted`, and the controller-manager must create every pod (kwok runs them): no FailedCreate event, no
//! ReplicaFailure, the expected number of Running, Ready pods.
//!
//! Objects are created from `zot-operator render`'s output (`cli::render_text`), so a kind added to rendering is
//! created here too; the Secrets a user creates are derived from the spec as the field docs describe them, and a
//! pod template that references a Secret, key, ConfigMap or claim nobody creates fails the proof (kwok starts
//! pods whatever their volumes; a kubelet would not).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod stores;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::{StreamExt, stream};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, PersistentVolumeClaim, Pod, PodSpec, Secret, ServiceAccount,
};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use stores::{MATRIX_ACCEPTED, Prepared, Store, matrix, prepare, route_stores, samples};
use support::{Flavour, TestNamespace};
use zot_operator::api::v1alpha1::ZotArtifactStore;
use zot_operator::platform::Platform;
use zot_operator::validate::validate;

/// Restricted Pod Security; the pods only need admitting and scheduling, so zot does not run in them (72 stores,
/// most on S3 and redis, which the test platform does not serve): kwok-style readiness.
const RESTRICTED: [(&str, &str); 3] = [
    ("pod-security.kubernetes.io/enforce", "restricted"),
    ("pod-security.kubernetes.io/enforce-version", "latest"),
    support::SIMULATED_PODS,
];
/// Label every rendered pod carries with its store's name.
const INSTANCE: &str = "app.kubernetes.io/instance";
const PARALLEL: usize = 16;
const POD_TIMEOUT: Duration = Duration::from_secs(150);

/// The platform tests create about 80 pods each; the local cluster's two kwok nodes hold 220, shared with the
/// other test binaries: one platform at a time.
static ONE_BATCH_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// References of the workload's pod template that nothing created satisfies: Secrets and their keys,
/// ConfigMaps and their keys, claims, the ServiceAccount.
fn unsatisfied_references(prepared: &Prepared) -> Vec<String> {
    let mut secrets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut config_maps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut claims = BTreeSet::new();
    let mut accounts = BTreeSet::new();
    for object in &prepared.objects {
        let name = object["metadata"]["name"].as_str().unwrap().to_string();
        let keys = |field: &str| -> BTreeSet<String> {
            object[field]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        match object["kind"].as_str().unwrap() {
            "Secret" => {
                let mut all = keys("data");
                all.extend(keys("stringData"));
                secrets.insert(name, all);
            }
            "ConfigMap" => {
                let mut all = keys("data");
                all.extend(keys("binaryData"));
                config_maps.insert(name, all);
            }
            "PersistentVolumeClaim" => {
                claims.insert(name);
            }
            "ServiceAccount" => {
                accounts.insert(name);
            }
            _ => {}
        }
    }
    for template in prepared.workload["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
    {
        claims.insert(template["metadata"]["name"].as_str().unwrap().to_string());
    }
    let spec: PodSpec =
        serde_json::from_value(prepared.workload["spec"]["template"]["spec"].clone()).unwrap();
    let mut missing = Vec::new();
    let check = |kind: &str,
                 have: &BTreeMap<String, BTreeSet<String>>,
                 name: &str,
                 key: Option<&str>,
                 optional: Option<bool>| {
        match (optional, have.get(name), key) {
            (Some(true), _, _) => None,
            (_, None, _) => Some(format!("{kind} {name}")),
            (_, Some(keys), Some(key)) if !keys.contains(key) => {
                Some(format!("key {key} of {kind} {name}"))
            }
            _ => None,
        }
    };
    let account = spec.service_account_name.clone().unwrap_or_default();
    if !accounts.contains(&account) {
        missing.push(format!("ServiceAccount {account}"));
    }
    for volume in spec.volumes.iter().flatten() {
        if let Some(s) = &volume.secret {
            let name = s.secret_name.as_deref().unwrap_or_default();
            missing.extend(check("Secret", &secrets, name, None, s.optional));
            for item in s.items.iter().flatten() {
                missing.extend(check("Secret", &secrets, name, Some(&item.key), s.optional));
            }
        }
        if let Some(c) = &volume.config_map {
            missing.extend(check("ConfigMap", &config_maps, &c.name, None, c.optional));
            for item in c.items.iter().flatten() {
                missing.extend(check(
                    "ConfigMap",
                    &config_maps,
                    &c.name,
                    Some(&item.key),
                    c.optional,
                ));
            }
        }
        for source in volume
            .projected
            .iter()
            .flat_map(|p| p.sources.iter().flatten())
        {
            if let Some(s) = &source.secret {
                for item in s.items.iter().flatten() {
                    missing.extend(check(
                        "Secret",
                        &secrets,
                        &s.name,
                        Some(&item.key),
                        s.optional,
                    ));
                }
                missing.extend(check("Secret", &secrets, &s.name, None, s.optional));
            }
            if let Some(c) = &source.config_map {
                for item in c.items.iter().flatten() {
                    missing.extend(check(
                        "ConfigMap",
                        &config_maps,
                        &c.name,
                        Some(&item.key),
                        c.optional,
                    ));
                }
                missing.extend(check("ConfigMap", &config_maps, &c.name, None, c.optional));
            }
        }
        if let Some(pvc) = &volume.persistent_volume_claim {
            if !claims.contains(&pvc.claim_name) {
                missing.push(format!("PersistentVolumeClaim {}", pvc.claim_name));
            }
        }
    }
    for container in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        for env in container.env.iter().flatten() {
            let Some(from) = &env.value_from else {
                continue;
            };
            if let Some(s) = &from.secret_key_ref {
                missing.extend(check("Secret", &secrets, &s.name, Some(&s.key), s.optional));
            }
            if let Some(c) = &from.config_map_key_ref {
                missing.extend(check(
                    "ConfigMap",
                    &config_maps,
                    &c.name,
                    Some(&c.key),
                    c.optional,
                ));
            }
        }
        for from in container.env_from.iter().flatten() {
            if let Some(s) = &from.secret_ref {
                missing.extend(check("Secret", &secrets, &s.name, None, s.optional));
            }
            if let Some(c) = &from.config_map_ref {
                missing.extend(check("ConfigMap", &config_maps, &c.name, None, c.optional));
            }
        }
    }
    for pull in spec.image_pull_secrets.iter().flatten() {
        missing.extend(check("Secret", &secrets, &pull.name, None, None));
    }
    missing
}

fn api_resource(kind: &str) -> ApiResource {
    match kind {
        "ServiceAccount" => ApiResource::erase::<ServiceAccount>(&()),
        "Secret" => ApiResource::erase::<Secret>(&()),
        "ConfigMap" => ApiResource::erase::<ConfigMap>(&()),
        "PersistentVolumeClaim" => ApiResource::erase::<PersistentVolumeClaim>(&()),
        "StatefulSet" => ApiResource::erase::<StatefulSet>(&()),
        "Deployment" => ApiResource::erase::<Deployment>(&()),
        other => panic!("the proof does not create {other}"),
    }
}

async fn create(client: &Client, object: &Value) -> Result<(), String> {
    let kind = object["kind"].as_str().unwrap();
    let namespace = object["metadata"]["namespace"].as_str().unwrap();
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &api_resource(kind));
    let dynamic: DynamicObject = serde_json::from_value(object.clone()).unwrap();
    match api.create(&PostParams::default(), &dynamic).await {
        Ok(_) => Ok(()),
        // User Secrets shared by several stores of a namespace are created once.
        Err(kube::Error::Api(status)) if status.reason == "AlreadyExists" && kind == "Secret" => {
            Ok(())
        }
        Err(err) => Err(format!(
            "creating {kind} {}: {err}",
            object["metadata"]["name"]
        )),
    }
}

/// How a store fared: its pods all Running and Ready, or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// This many pods are Running and Ready, as many as expected.
    Running(usize),
    /// FailedCreate events and ReplicaFailure conditions of its workload, or why it never settled.
    Refused(Vec<String>),
}

/// The store a workload event or ReplicaSet belongs to: a StatefulSet is named after its store, a ReplicaSet
/// after its Deployment plus a hash.
fn owner_store(kind: &str, name: &str) -> String {
    match (kind, name.rsplit_once('-')) {
        ("ReplicaSet", Some((deployment, _))) => deployment.to_string(),
        _ => name.to_string(),
    }
}

/// Creates every prepared store (objects first, workloads last) and waits until each store has its pods Running
/// and Ready or has been refused by Pod Security admission (a FailedCreate event or ReplicaFailure condition
/// saying "violates PodSecurity"). Other creation failures are transient while the store still gets its pods (the
/// ServiceAccount admission's cache may not know a ServiceAccount created a moment ago); a store that settles
/// neither way within [`POD_TIMEOUT`] counts as refused, with how many pods it got and every failure seen.
async fn run(
    client: &Client,
    prepared: &[Prepared],
) -> Result<BTreeMap<String, Outcome>, Vec<String>> {
    for objects in [
        prepared
            .iter()
            .flat_map(|p| p.objects.iter())
            .collect::<Vec<_>>(),
        prepared.iter().map(|p| &p.workload).collect(),
    ] {
        let errors: Vec<String> = stream::iter(objects)
            .map(|o| create(client, o))
            .buffer_unordered(PARALLEL)
            .filter_map(|r| async move { r.err() })
            .collect()
            .await;
        if !errors.is_empty() {
            return Err(errors);
        }
    }
    let namespaces: BTreeSet<&str> = prepared.iter().map(|p| p.namespace.as_str()).collect();
    let deadline = tokio::time::Instant::now() + POD_TIMEOUT;
    loop {
        let mut refusals: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut running: BTreeMap<(String, String), usize> = BTreeMap::new();
        for namespace in &namespaces {
            let events: Api<Event> = Api::namespaced(client.clone(), namespace);
            for event in events.list(&ListParams::default()).await.unwrap() {
                if event.reason.as_deref() == Some("FailedCreate") {
                    let kind = event.involved_object.kind.unwrap_or_default();
                    let name = event.involved_object.name.unwrap_or_default();
                    refusals
                        .entry((namespace.to_string(), owner_store(&kind, &name)))
                        .or_default()
                        .push(format!(
                            "FailedCreate on {kind} {name}: {}",
                            event.message.unwrap_or_default()
                        ));
                }
            }
            let replica_sets: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
            for rs in replica_sets.list(&ListParams::default()).await.unwrap() {
                let name = rs.name_any();
                for c in rs.status.and_then(|s| s.conditions).unwrap_or_default() {
                    if c.type_ == "ReplicaFailure" && c.status == "True" {
                        refusals
                            .entry((namespace.to_string(), owner_store("ReplicaSet", &name)))
                            .or_default()
                            .push(format!(
                                "ReplicaFailure on ReplicaSet {name}: {}",
                                c.message.unwrap_or_default()
                            ));
                    }
                }
            }
            let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
            for pod in pods.list(&ListParams::default()).await.unwrap() {
                let Some(store) = pod.labels().get(INSTANCE).cloned() else {
                    continue;
                };
                let status = pod.status.unwrap_or_default();
                let ready = status
                    .conditions
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True");
                if status.phase.as_deref() == Some("Running") && ready {
                    *running.entry((namespace.to_string(), store)).or_default() += 1;
                }
            }
        }
        let late = tokio::time::Instant::now() > deadline;
        let mut outcomes = BTreeMap::new();
        for p in prepared {
            let key = (p.namespace.clone(), p.store.clone());
            let have = running.get(&key).copied().unwrap_or(0);
            let mut failures = refusals.remove(&key).unwrap_or_default();
            failures.sort();
            failures.dedup();
            let outcome = if failures.iter().any(|f| f.contains("violates PodSecurity")) {
                Outcome::Refused(failures)
            } else if have == p.pods {
                for transient in &failures {
                    eprintln!("{}/{}: transient {transient}", p.namespace, p.store);
                }
                Outcome::Running(have)
            } else if late {
                failures.insert(
                    0,
                    format!(
                        "{have} of {} pods Running and Ready after {POD_TIMEOUT:?}",
                        p.pods
                    ),
                );
                Outcome::Refused(failures)
            } else {
                break;
            };
            outcomes.insert(p.store.clone(), outcome);
        }
        if outcomes.len() == prepared.len() {
            return Ok(outcomes);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The pods of every store, when all of them run; else what went wrong, store by store.
fn all_running(
    outcomes: Result<BTreeMap<String, Outcome>, Vec<String>>,
) -> Result<usize, Vec<String>> {
    let outcomes = outcomes?;
    let refused: Vec<String> = outcomes
        .iter()
        .filter_map(|(store, outcome)| match outcome {
            Outcome::Refused(why) => Some(format!("{store}: {}", why.join("; "))),
            Outcome::Running(_) => None,
        })
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    Ok(outcomes
        .values()
        .map(|o| match o {
            Outcome::Running(n) => *n,
            Outcome::Refused(_) => 0,
        })
        .sum())
}

/// Proves every sample and every accepted store of the matrix on `platform`.
async fn prove(platform: Platform, prefix: &str) {
    let _one = ONE_BATCH_AT_A_TIME.lock().await;
    let client = support::client(Flavour::Vanilla).await;
    let shared = TestNamespace::new(Flavour::Vanilla, prefix, &RESTRICTED).await;
    // A store with its own affinity gets a namespace of its own: the production sample's required pod
    // anti-affinity selects `app: zot-artifact-store`, which every store's pods carry.
    let mut own_namespaces = Vec::new();
    let mut prepared = Vec::new();
    let mut refused_matrix = Vec::new();
    for store in samples() {
        let namespace = if store.spec()["affinity"].is_object() {
            let ns = TestNamespace::new(Flavour::Vanilla, prefix, &RESTRICTED).await;
            let name = ns.name.clone();
            own_namespaces.push(ns);
            name
        } else {
            shared.name.clone()
        };
        let p = prepare(&store, &namespace, &platform)
            .unwrap_or_else(|| panic!("the sample {} is refused by validate", store.name));
        prepared.push(p);
    }
    for store in route_stores() {
        let p = prepare(&store, &shared.name, &platform)
            .unwrap_or_else(|| panic!("{} is refused by validate", store.name));
        prepared.push(p);
    }
    let extras_count = prepared.len();
    for store in matrix() {
        match prepare(&store, &shared.name, &platform) {
            Some(p) => prepared.push(p),
            None => refused_matrix.push(store.name),
        }
    }
    let matrix_count = prepared.len() - extras_count;
    assert!(
        matrix_count >= MATRIX_ACCEPTED,
        "only {matrix_count} stores of the matrix were exercised; refused: {refused_matrix:?}"
    );
    assert!(
        refused_matrix
            .iter()
            .all(|name| name.contains("-dynamodb-") && !name.starts_with("s3-")),
        "validate refused stores of the matrix it should accept: {refused_matrix:?}"
    );
    let unsatisfied: Vec<String> = prepared
        .iter()
        .flat_map(|p| {
            unsatisfied_references(p)
                .into_iter()
                .map(move |m| format!("{}: {m}", p.store))
        })
        .collect();
    assert!(
        unsatisfied.is_empty(),
        "pod templates reference what neither the user nor the operator creates:\n{}",
        unsatisfied.join("\n")
    );
    let expected: usize = prepared.iter().map(|p| p.pods).sum();
    match all_running(run(&client, &prepared).await) {
        Ok(pods) => assert_eq!(pods, expected, "pods Running and Ready"),
        Err(refusals) => panic!(
            "restricted Pod Security did not run every store ({} stores, {expected} pods):\n{}",
            prepared.len(),
            refusals.join("\n")
        ),
    }
    if platform.openshift {
        assert_openshift_leaves_the_uid_to_the_scc(&client, &shared.name).await;
    }
    eprintln!(
        "{prefix}: {extras_count} samples and Route stores, {matrix_count} matrix stores ({} refused combinations skipped), \
         {expected} pods admitted under restricted",
        refused_matrix.len()
    );
}

/// On OpenShift rendering, the pods of stores without an override carry no UID, GID or fsGroup: restricted only
/// needs runAsNonRoot, and the SCC assigns the IDs.
async fn assert_openshift_leaves_the_uid_to_the_scc(client: &Client, namespace: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods
        .list(&ListParams::default().labels("app.kubernetes.io/instance=fs-embedded-k0t0s0"))
        .await
        .unwrap();
    assert!(!list.items.is_empty());
    for pod in list {
        let context = pod.spec.unwrap().security_context.unwrap();
        assert_eq!(
            (
                context.run_as_user,
                context.run_as_group,
                context.fs_group,
                context.run_as_non_root
            ),
            (None, None, None, Some(true))
        );
    }
}

#[tokio::test]
async fn every_sample_and_store_of_the_matrix_runs_under_restricted_pod_security_on_kubernetes() {
    prove(Platform::kubernetes(), "psa-k8s").await;
}

#[tokio::test]
async fn every_sample_and_store_of_the_matrix_runs_under_restricted_pod_security_rendered_for_openshift()
 {
    prove(
        Platform::openshift(Some("apps.zot.test".to_string())),
        "psa-ocp",
    )
    .await;
}

#[tokio::test]
async fn the_proof_fails_when_restricted_pod_security_refuses_a_pod() {
    let client = support::client(Flavour::Vanilla).await;
    let ns = TestNamespace::new(Flavour::Vanilla, "psa-control", &RESTRICTED).await;
    let store = Store::new("control", json!({"replicas": 1}));
    let mut prepared = prepare(&store, &ns.name, &Platform::kubernetes()).unwrap();
    // A rendering regression: the container may gain privileges.
    prepared.workload["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] =
        json!(true);
    let refusals = all_running(run(&client, std::slice::from_ref(&prepared)).await)
        .expect_err("a pod that may escalate privileges must be refused");
    assert!(
        refusals.iter().any(
            |r| r.starts_with("control: FailedCreate on StatefulSet control:")
                && r.contains("violates PodSecurity \"restricted:latest\"")
                && r.contains("allowPrivilegeEscalation")
        ),
        "{refusals:#?}"
    );
}

#[test]
fn the_matrix_covers_every_storage_database_and_option() {
    let stores = matrix();
    assert_eq!(stores.len(), 4 * 3 * 2 * 2 * 2);
    let names: BTreeSet<&str> = stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), stores.len(), "store names are unique");
    assert!(names.iter().all(|n| n.len() <= 52));
    let platform = Platform::kubernetes();
    let accepted = stores
        .iter()
        .filter(|s| prepare(s, "team", &platform).is_some())
        .count();
    assert_eq!(accepted, MATRIX_ACCEPTED);
}

#[test]
fn a_pod_template_referencing_a_secret_or_key_nobody_creates_fails_the_proof() {
    let store = Store::new(
        "s3-keys",
        json!({"storage": {"type": "s3", "s3": {"bucket": "images",
            "accessKeySecret": {"name": "s3-credentials", "secretKeyField": "secret"}}}}),
    );
    let mut prepared = prepare(&store, "team", &Platform::kubernetes()).unwrap();
    assert_eq!(unsatisfied_references(&prepared), Vec::<String>::new());
    let user_secret = |o: &Value| o["metadata"]["name"] == "s3-credentials";
    let secret = prepared
        .objects
        .iter_mut()
        .find(|o| user_secret(o))
        .unwrap();
    secret["stringData"]
        .as_object_mut()
        .unwrap()
        .remove("secret");
    assert_eq!(
        unsatisfied_references(&prepared),
        vec!["key secret of Secret s3-credentials".to_string()]
    );
    prepared.objects.retain(|o| !user_secret(o));
    prepared.objects.retain(|o| o["kind"] != "ServiceAccount");
    let missing = unsatisfied_references(&prepared);
    assert!(
        missing.contains(&"Secret s3-credentials".to_string())
            && missing.iter().any(|m| m.starts_with("ServiceAccount ")),
        "{missing:?}"
    );
}

/// Pod-level securityContext overrides, each with whether restricted Pod Security admits it.
fn security_context_overrides() -> Vec<(&'static str, Value, bool)> {
    vec![
        (
            "uid-2000",
            json!({"runAsUser": 2000, "runAsGroup": 2000, "fsGroup": 2000}),
            true,
        ),
        ("gid-0", json!({"runAsGroup": 0}), true),
        (
            "seccomp-localhost",
            json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/zot.json"}}),
            true,
        ),
        ("uid-0", json!({"runAsUser": 0}), false),
        ("root-allowed", json!({"runAsNonRoot": false}), false),
        (
            "seccomp-unconfined",
            json!({"seccompProfile": {"type": "Unconfined"}}),
            false,
        ),
        (
            "selinux-spc",
            json!({"seLinuxOptions": {"type": "spc_t"}}),
            false,
        ),
        (
            "unsafe-sysctl",
            json!({"sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]}),
            false,
        ),
        (
            "apparmor-unconfined",
            json!({"appArmorProfile": {"type": "Unconfined"}}),
            false,
        ),
    ]
}

/// The pod template's header says "restricted Pod Security on every platform" and spec.securityContext is
/// "merged over the operator's restricted defaults": a store whose override restricted admission refuses must be
/// refused by the operator (with the field at fault), not accepted and left without pods.
#[tokio::test]
async fn the_operator_refuses_a_security_context_override_that_restricted_pod_security_refuses() {
    let client = support::client(Flavour::Vanilla).await;
    let ns = TestNamespace::new(Flavour::Vanilla, "psa-override", &RESTRICTED).await;
    let platform = Platform::kubernetes();
    let mut accepted = Vec::new();
    let mut refused_by_operator = BTreeMap::new();
    for (name, context, _) in security_context_overrides() {
        let store = Store::new(name, json!({"securityContext": context}));
        let typed: ZotArtifactStore = serde_json::from_value(store.object.clone()).unwrap();
        match validate(&typed, &ns.name) {
            Ok(_) => accepted.push(prepare(&store, &ns.name, &platform).unwrap()),
            Err(refusal) => {
                refused_by_operator.insert(name, refusal);
            }
        }
    }
    let outcomes = run(&client, &accepted).await.unwrap();
    let mut wrong = Vec::new();
    for (name, context, admitted) in security_context_overrides() {
        match (refused_by_operator.get(name), outcomes.get(name), admitted) {
            (None, Some(Outcome::Running(_)), _) => {}
            (None, Some(Outcome::Refused(why)), _) => wrong.push(format!(
                "{name} {context}: accepted by the operator, its pods refused by restricted admission: {why:?}"
            )),
            (Some(refusal), _, false) => assert!(
                refusal.field.starts_with("spec.securityContext"),
                "{name}: refused at {refusal}"
            ),
            (Some(refusal), _, true) => wrong.push(format!(
                "{name} {context}: restricted admits it, the operator refuses it: {refusal}"
            )),
            (None, None, _) => unreachable!("every accepted store has an outcome"),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn on_openshift_the_test_stands_in_for_the_service_ca_that_issues_zots_certificate() {
    let store = &route_stores()[1];
    let platform = Platform::openshift(Some("apps.zot.test".to_string()));
    let mut prepared = prepare(store, "team", &platform).unwrap();
    assert_eq!(unsatisfied_references(&prepared), Vec::<String>::new());
    let serving =
        |o: &Value| o["type"] == "kubernetes.io/tls" && o["metadata"]["name"] != "zot-tls";
    assert!(
        prepared.objects.iter().any(serving),
        "{:#?}",
        prepared.objects
    );
    prepared.objects.retain(|o| !serving(o));
    let missing = unsatisfied_references(&prepared);
    assert!(
        missing.len() == 1 && missing[0].starts_with("Secret "),
        "{missing:?}"
    );
}
