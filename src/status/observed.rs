//! Pure reductions of observed children to the facts the status is computed from: a workload's roll-out, whether
//! claims are bound, and where the registry is reachable.
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::api::networking::v1::Ingress;

use super::{DatabaseState, RouteState, Workload};
use crate::api::v1alpha1::Endpoints;
use crate::openshift::route::{self, Route};
use crate::validate::{Backend, Database, ValidatedStore};

/// Waiting reasons with which a kubelet says a container cannot start, rather than that it is starting.
pub const FAILING_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];
/// Pods of an older revision of a StatefulSet that cannot start: the StatefulSet controller waits for them to
/// become Ready before it replaces them, so a rollout that fixes what broke them would never reach them (the
/// "forced rollback" case of the StatefulSet documentation, where the user is told to delete them).
pub fn stuck_pods(pods: &[Pod], update_revision: &str) -> Vec<String> {
    pods.iter()
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("controller-revision-hash"))
                .map(String::as_str)
                != Some(update_revision)
        })
        .filter(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
                .any(|c| {
                    c.state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        .is_some_and(|r| FAILING_REASONS.contains(&r))
                })
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

/// Characters of zot's own last words kept in a condition message.
const CRASH_MESSAGE_CHARS: usize = 1024;

/// Why the first failing pod of a store does not run, in the kubelet's words: for a crash loop the exit code and
/// the end of what zot last logged (the termination message), else the waiting reason and message. None while no
/// pod fails.
pub fn pod_problem(pods: &[Pod]) -> Option<String> {
    let mut pods: Vec<&Pod> = pods.iter().collect();
    pods.sort_by_key(|p| p.metadata.name.clone());
    pods.into_iter().find_map(|pod| {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
        statuses.iter().find_map(|c| {
            let waiting = c.state.as_ref()?.waiting.as_ref()?;
            let reason = waiting.reason.as_deref()?;
            if !FAILING_REASONS.contains(&reason) {
                return None;
            }
            let crashed = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
            Some(match (reason, crashed) {
                ("CrashLoopBackOff", Some(t)) => {
                    let said = t.message.as_deref().map(str::trim).unwrap_or_default();
                    let tail = last_chars(said, CRASH_MESSAGE_CHARS);
                    let why = if !tail.is_empty() {
                        format!("; its last words: {tail}")
                    } else if t.exit_code == 0 {
                        // zot v2.1 exits 0 when it fails after initialising (a TLS pair it cannot load, which the
                        // operator checks first; a port it cannot listen on), so no kubelet keeps its log in the
                        // termination message.
                        format!(
                            "; zot exits 0 when it cannot start serving: \
                             `kubectl logs --previous pod/{name}` shows why"
                        )
                    } else {
                        String::new()
                    };
                    format!(
                        "pod {name}: zot exited with code {} and is restarted with back-off (restarts: {}){why}",
                        t.exit_code, c.restart_count,
                    )
                }
                _ => format!(
                    "pod {name}: {reason}: {}",
                    waiting.message.as_deref().unwrap_or("no message")
                ),
            })
        })
    })
}

/// The end of `text`, at most `max` characters.
fn last_chars(text: &str, max: usize) -> &str {
    let count = text.chars().count();
    match text.char_indices().nth(count.saturating_sub(max)) {
        Some((i, _)) if count > max => &text[i..],
        _ => text,
    }
}

/// A StatefulSet as its controller reports it. Rolled out once the controller has seen the newest template,
/// `spec.replicas` pods run it, and the current revision is the update revision.
pub fn statefulset_rollout(statefulset: &StatefulSet) -> Workload {
    let status = statefulset.status.clone().unwrap_or_default();
    let desired = statefulset
        .spec
        .as_ref()
        .and_then(|sp| sp.replicas)
        .unwrap_or(1);
    Workload {
        desired,
        replicas: status.replicas,
        ready: status.ready_replicas.unwrap_or(0),
        rolled_out: status.observed_generation >= statefulset.metadata.generation
            && status.updated_replicas.unwrap_or(0) >= desired
            && status.current_revision.is_some()
            && status.current_revision == status.update_revision,
    }
}

/// A Deployment as its controller reports it. Rolled out once the controller has seen the newest template,
/// `spec.replicas` pods run it, and no old pod is left beyond that.
pub fn deployment_rollout(deployment: &Deployment) -> Workload {
    let status = deployment.status.clone().unwrap_or_default();
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|sp| sp.replicas)
        .unwrap_or(1);
    Workload {
        desired,
        replicas: status.replicas.unwrap_or(0),
        ready: status.ready_replicas.unwrap_or(0),
        rolled_out: status.observed_generation >= deployment.metadata.generation
            && status.updated_replicas.unwrap_or(0) >= desired
            && status.replicas.unwrap_or(0) <= desired,
    }
}

/// Whether every claim is Bound; None without claims.
pub fn claims_bound(claims: &[PersistentVolumeClaim]) -> Option<bool> {
    (!claims.is_empty()).then(|| {
        claims
            .iter()
            .all(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
    })
}

/// Where the store's metadata database lives, from the validated spec and the store's observed `claims`.
pub fn database_state(store: &ValidatedStore, claims: &[PersistentVolumeClaim]) -> DatabaseState {
    match (&store.database, &store.backend) {
        (Database::Embedded { volume: Some(_) }, _) => {
            let claim = store.names().database_claim();
            let bound = claims.iter().any(|c| {
                c.metadata.name.as_deref() == Some(claim.as_str())
                    && c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
            });
            DatabaseState::OwnVolume { claim, bound }
        }
        (
            Database::Embedded { volume: None },
            Backend::Filesystem {
                size,
                database_share,
                ..
            },
        ) => DatabaseState::OnDataVolume(match database_share {
            Some(share) => format!(
                "the embedded BoltDB shares the data volume: {} requested, of which {} for the database (database.embedded.storageSize)",
                size.0, share.0
            ),
            None => format!(
                "the embedded BoltDB shares the data volume ({} requested)",
                size.0
            ),
        }),
        (Database::Embedded { volume: None }, _) => {
            DatabaseState::OnDataVolume("the embedded BoltDB lives in zot's data directory".into())
        }
        (Database::Redis(redis), _) => DatabaseState::Shared(format!("the redis at {}", redis.url)),
        (Database::DynamoDb(dynamo), _) => {
            DatabaseState::Shared(format!("DynamoDB in {}", dynamo.region))
        }
    }
}

/// The registry's addresses: the `planned` ones (from the spec), an Ingress without a host reached at the
/// address its ingress controller reports, an admitted Route at its host; and the Route's state.
pub fn resolve_endpoints(
    planned: Endpoints,
    ingress: Option<&Ingress>,
    route: Option<&Route>,
) -> (Endpoints, Option<RouteState>) {
    let mut endpoints = planned;
    if endpoints.external.is_none() {
        endpoints.external = ingress.and_then(crate::render::load_balancer_url);
    }
    let state = route.map(|r| match route::admitted(r) {
        Some(true) => {
            endpoints.external = route::external_url(r).or(endpoints.external.take());
            RouteState::Admitted
        }
        Some(false) => RouteState::Rejected(
            route::rejection(r).unwrap_or_else(|| "a router rejected the Route".to_string()),
        ),
        None => RouteState::Pending,
    });
    (endpoints, state)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statefulset(generation: i64, status: serde_json::Value) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "zot", "generation": generation},
            "spec": {"replicas": 1, "selector": {}, "template": {}, "serviceName": "zot-headless"},
            "status": status,
        }))
        .unwrap()
    }

    fn pod(name: &str, status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name}, "status": status})).unwrap()
    }

    #[test]
    fn a_crash_loop_is_reported_with_zots_exit_code_and_last_words() {
        let crashing = pod(
            "store-0",
            json!({"containerStatuses": [{
                "name": "zot", "image": "zot", "imageID": "", "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                "lastState": {"terminated": {"exitCode": 1, "message": "{\"level\":\"error\",\"message\":\"open /etc/zot/tls.crt: no such file\"}\n"}},
            }]}),
        );
        let starting = pod(
            "store-1",
            json!({"containerStatuses": [{"name": "zot", "image": "zot", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
        );
        assert_eq!(
            pod_problem(std::slice::from_ref(&starting)),
            None,
            "starting is not failing"
        );
        let problem = pod_problem(&[starting, crashing]).unwrap();
        assert!(
            problem.starts_with("pod store-0: zot exited with code 1 and is restarted with back-off (restarts: 3); its last words: {\"level\":\"error\""),
            "{problem}"
        );
        assert!(problem.ends_with("no such file\"}"), "{problem}");
    }

    #[test]
    fn a_crash_with_exit_code_0_and_no_message_points_at_the_previous_log() {
        let p = pod(
            "store-0",
            json!({"containerStatuses": [{"name": "zot", "image": "zot", "imageID": "", "ready": false,
                "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 0}}}]}),
        );
        let problem = pod_problem(&[p]).unwrap();
        assert!(
            problem.starts_with("pod store-0: zot exited with code 0"),
            "{problem}"
        );
        assert!(
            problem.ends_with("`kubectl logs --previous pod/store-0` shows why"),
            "{problem}"
        );
    }

    #[test]
    fn an_image_that_cannot_be_pulled_is_reported_with_the_kubelets_message() {
        let p = pod(
            "store-0",
            json!({"containerStatuses": [{"name": "zot", "image": "zot:v9", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}}]}),
        );
        assert_eq!(
            pod_problem(&[p]).unwrap(),
            "pod store-0: ImagePullBackOff: not found"
        );
    }

    #[test]
    fn only_failing_pods_of_an_older_revision_are_stuck() {
        let failing = json!({"containerStatuses": [{"name": "zot", "image": "zot", "imageID": "", "ready": false,
            "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]});
        let starting = json!({"containerStatuses": [{"name": "zot", "image": "zot", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]});
        let with_revision = |name: &str, revision: &str, status: &serde_json::Value| -> Pod {
            serde_json::from_value(json!({
                "metadata": {"name": name, "labels": {"controller-revision-hash": revision}},
                "status": status,
            }))
            .unwrap()
        };
        let pods = [
            with_revision("old-failing", "r1", &failing),
            with_revision("new-failing", "r2", &failing),
            with_revision("old-starting", "r1", &starting),
        ];
        assert_eq!(stuck_pods(&pods, "r2"), vec!["old-failing".to_string()]);
    }

    #[test]
    fn the_last_words_keep_the_end_of_a_long_message() {
        assert_eq!(last_chars("abcdef", 3), "def");
        assert_eq!(last_chars("abc", 3), "abc");
        assert_eq!(last_chars("äöü", 2), "öü");
    }

    fn deployment(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "zot", "generation": generation},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn a_statefulset_is_rolled_out_when_its_current_revision_is_the_update_revision() {
        let done = statefulset(
            2,
            json!({"observedGeneration": 2, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
                   "currentRevision": "zot-b", "updateRevision": "zot-b"}),
        );
        assert_eq!(
            statefulset_rollout(&done),
            Workload {
                desired: 1,
                replicas: 1,
                ready: 1,
                rolled_out: true
            }
        );
        let rolling = statefulset(
            2,
            json!({"observedGeneration": 2, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
                   "currentRevision": "zot-a", "updateRevision": "zot-b"}),
        );
        assert!(!statefulset_rollout(&rolling).rolled_out);
        let unseen = statefulset(
            3,
            json!({"observedGeneration": 2, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
                   "currentRevision": "zot-b", "updateRevision": "zot-b"}),
        );
        assert!(
            !statefulset_rollout(&unseen).rolled_out,
            "the controller has not seen generation 3"
        );
        let fresh = statefulset(1, json!({"replicas": 0}));
        assert!(
            !statefulset_rollout(&fresh).rolled_out,
            "no revision reported yet"
        );
    }

    #[test]
    fn a_deployment_is_rolled_out_when_every_pod_is_updated_and_no_old_pod_is_left() {
        let done = deployment(
            4,
            json!({"observedGeneration": 4, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2}),
        );
        assert_eq!(
            deployment_rollout(&done),
            Workload {
                desired: 2,
                replicas: 2,
                ready: 2,
                rolled_out: true
            }
        );
        let surge = deployment(
            4,
            json!({"observedGeneration": 4, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 2}),
        );
        assert!(
            !deployment_rollout(&surge).rolled_out,
            "an old pod still runs"
        );
        let behind = deployment(
            4,
            json!({"observedGeneration": 4, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 1}),
        );
        assert!(!deployment_rollout(&behind).rolled_out);
        let empty = deployment(1, json!({}));
        assert_eq!(deployment_rollout(&empty).ready, 0);
        assert!(!deployment_rollout(&empty).rolled_out);
    }

    #[test]
    fn claims_are_bound_only_when_every_claim_is() {
        let claim = |phase: &str| -> PersistentVolumeClaim {
            serde_json::from_value(json!({"metadata": {"name": "c"}, "status": {"phase": phase}}))
                .unwrap()
        };
        assert_eq!(claims_bound(&[]), None);
        assert_eq!(claims_bound(&[claim("Bound")]), Some(true));
        assert_eq!(
            claims_bound(&[claim("Bound"), claim("Pending")]),
            Some(false)
        );
    }

    fn store(spec: &str) -> ValidatedStore {
        let text = format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata: {{name: zot, namespace: team}}\nspec: {spec}\n"
        );
        let raw = serde_yaml::from_str(&text).unwrap();
        crate::validate::validate(&raw, "team").unwrap()
    }

    #[test]
    fn the_database_state_says_where_the_database_lives_and_how_the_volume_is_split() {
        let snippet = store("{database: {type: embedded, embedded: {storageSize: 5Gi}}}");
        let DatabaseState::OnDataVolume(message) = database_state(&snippet, &[]) else {
            panic!("not on the data volume")
        };
        assert!(
            message.contains("10Gi requested, of which 5Gi for the database"),
            "{message}"
        );
        let remote = store("{storage: {type: s3, s3: {bucket: images}}}");
        let bound: PersistentVolumeClaim = serde_json::from_value(
            json!({"metadata": {"name": "zot-db"}, "status": {"phase": "Bound"}}),
        )
        .unwrap();
        assert_eq!(
            database_state(&remote, &[bound]),
            DatabaseState::OwnVolume {
                claim: "zot-db".into(),
                bound: true
            }
        );
        assert_eq!(
            database_state(&remote, &[]),
            DatabaseState::OwnVolume {
                claim: "zot-db".into(),
                bound: false
            }
        );
        let redis = store(
            "{storage: {type: s3, s3: {bucket: images}}, database: {type: redis, redis: {url: 'redis://cache:6379'}}}",
        );
        assert_eq!(
            database_state(&redis, &[]),
            DatabaseState::Shared("the redis at redis://cache:6379".into())
        );
    }

    fn planned(external: Option<&str>) -> Endpoints {
        Endpoints {
            internal: Some("zot.team.svc:5000".into()),
            external: external.map(String::from),
        }
    }

    #[test]
    fn an_ingress_without_a_host_is_reached_at_its_load_balancer_address() {
        let ingress: Ingress = serde_json::from_value(json!({
            "metadata": {"name": "zot"},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
        }))
        .unwrap();
        let (endpoints, route) = resolve_endpoints(planned(None), Some(&ingress), None);
        assert_eq!(endpoints.external.as_deref(), Some("http://203.0.113.7"));
        assert_eq!(route, None);
        let (kept, _) =
            resolve_endpoints(planned(Some("https://zot.example")), Some(&ingress), None);
        assert_eq!(
            kept.external.as_deref(),
            Some("https://zot.example"),
            "a host named in the spec wins"
        );
    }

    #[test]
    fn an_admitted_route_publishes_its_host_and_a_rejected_one_says_why() {
        let route = |admitted: &str, host: &str| -> Route {
            serde_json::from_value(json!({
                "metadata": {"name": "zot"},
                "spec": {"host": host, "to": {"kind": "Service", "name": "zot"}, "tls": {"termination": "edge"}},
                "status": {"ingress": [{"host": host, "routerName": "default",
                    "conditions": [{"type": "Admitted", "status": admitted, "message": "host taken"}]}]},
            }))
            .unwrap()
        };
        let admitted = route("True", "zot-team.apps.example");
        let (endpoints, state) = resolve_endpoints(planned(None), None, Some(&admitted));
        assert_eq!(state, Some(RouteState::Admitted));
        assert_eq!(
            endpoints.external.as_deref(),
            Some("https://zot-team.apps.example")
        );
        let rejected = route("False", "zot-team.apps.example");
        let (endpoints, state) = resolve_endpoints(planned(None), None, Some(&rejected));
        assert!(matches!(state, Some(RouteState::Rejected(_))), "{state:?}");
        assert_eq!(endpoints.external, None);
    }
}
