//! The store's status, computed from what was observed — never from what was merely requested — then written once.
//!
//! Pure: the controller gathers [`Observed`] from its caches and hands it here; tests build it by value.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::api::v1alpha1::{
    Endpoints, Phase, SigningStatus, StorageStatus, ZotArtifactStoreStatus,
};

mod observed;
mod running;

pub use observed::{
    claims_bound, database_state, deployment_rollout, pod_problem, resolve_endpoints,
    statefulset_rollout, stuck_pods,
};

/// Condition types the operator maintains.
pub mod types {
    pub const READY: &str = "Ready";
    pub const AVAILABLE: &str = "Available";
    pub const PROGRESSING: &str = "Progressing";
    pub const DEGRADED: &str = "Degraded";
    pub const CONFIG_READY: &str = "ConfigReady";
    pub const STORAGE_READY: &str = "StorageReady";
    pub const DATABASE_READY: &str = "DatabaseReady";
    pub const ROUTE_READY: &str = "RouteReady";
    pub const SECURITY_CONTEXT_READY: &str = "SecurityContextReady";
    pub const SIGNING_READY: &str = "SigningReady";
    pub const VULNERABILITY_DATABASE_READY: &str = "VulnerabilityDatabaseReady";
    pub const KEYCLOAK_READY: &str = "KeycloakReady";
    pub const TLS_READY: &str = "TLSReady";
}

/// A database zot's scanner downloads, and whether its registry answered the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseAnswer {
    pub source: crate::vulndb::Source,
    /// The error chain when the registry does not answer over HTTPS.
    pub answer: Result<(), String>,
}

/// The key pair of signature verification as the controller found or created it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningState {
    /// What status.signing records.
    pub record: SigningStatus,
    /// Key of the Secret holding the public key the pods mount.
    pub public_field: String,
    /// keySize of the spec (applies to a pair the operator creates).
    pub key_size: usize,
}

/// The workload (StatefulSet or Deployment) as its controller reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// Replicas the workload asks for (`spec.replicas`).
    pub desired: i32,
    /// Pods that exist.
    pub replicas: i32,
    /// Pods that are ready.
    pub ready: i32,
    /// Whether the workload's controller has seen the newest pod template and every pod runs it.
    pub rolled_out: bool,
}

/// What the controller observed of a store's children, or why it could not render them.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    /// The spec (or something it references) keeps the operator from rendering, or the API server keeps refusing a
    /// child: the store cannot run as specified.
    Blocked { reason: String, message: String },
    /// The object store of the spec cannot be used (unreachable, credentials refused, bucket owned by another
    /// account): shown as `StorageReady=False` with the server's message; the operator retries with backoff.
    StorageUnavailable { reason: String, message: String },
    /// Keycloak refuses the store's realm, scopes or client secret, or does not answer: shown as
    /// `KeycloakReady=False` with Keycloak's answer; the operator retries with backoff and applies nothing meanwhile.
    KeycloakUnavailable { reason: String, message: String },
    /// The certificate zot is to serve is not there yet (cert-manager has not issued tls.issuerRef's Certificate):
    /// shown as `TLSReady=False` with cert-manager's message; retried, nothing else applied meanwhile.
    CertificateUnavailable { reason: String, message: String },
    /// The children were applied.
    Applied(Box<Applied>),
}

/// The bucket of s3 storage as the operator left it before applying the children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BucketState {
    /// Found, or created, with the store's access key.
    Ready(StorageStatus),
    /// The spec gives no access key (zot uses the pod's own AWS identity): the operator cannot look.
    NotChecked { bucket: String },
}

/// What the status records of a bucket that exists: `created` now, or created by the operator before (the
/// previous status says so for the same bucket and endpoint).
pub fn bucket_record(
    previous: Option<&ZotArtifactStoreStatus>,
    bucket: &str,
    endpoint: &str,
    created: bool,
) -> StorageStatus {
    let created_before = previous
        .and_then(|p| p.storage.as_ref())
        .is_some_and(|s| s.created_by_operator && s.bucket == bucket && s.endpoint == endpoint);
    StorageStatus {
        bucket: bucket.to_string(),
        endpoint: endpoint.to_string(),
        created_by_operator: created || created_before,
    }
}

/// Facts about applied children.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// None until the workload exists.
    pub workload: Option<Workload>,
    /// Whether every PersistentVolumeClaim of the store is Bound; None when it has none (yet).
    pub claims_bound: Option<bool>,
    /// The bucket of s3 storage; None for every other backend.
    pub bucket: Option<BucketState>,
    /// What Keycloak confirmed before the children were applied; None without Keycloak sign-in.
    pub keycloak: Option<crate::keycloak::Verified>,
    /// Where zot's metadata database lives; None leaves DatabaseReady out.
    pub database: Option<DatabaseState>,
    /// Route admitted by a router: Some(true/false), or None when there is no Route (or no router answered).
    pub route: Option<RouteState>,
    /// Requests the platform cannot serve, as (field, reason): each becomes a Degraded condition.
    pub gaps: Vec<(String, String)>,
    /// Security-context problem on this platform (e.g. a UID outside the OpenShift namespace range).
    pub security_context: Option<String>,
    /// Why a zot pod does not start, as its kubelet reports it (a crash with zot's last log lines, an image that
    /// cannot be pulled, a missing Secret key); None while every pod starts.
    pub pod_problem: Option<String>,
    /// Addresses of the registry.
    pub endpoints: Endpoints,
    /// Version of zot in the pod template.
    pub zot_version: Option<String>,
    /// The key pair zot trusts; None without signature verification.
    pub signing: Option<SigningState>,
    /// The databases of zot's vulnerability scanner; empty without the scanner.
    pub vulnerability_databases: Vec<DatabaseAnswer>,
    /// Label selector of the pods.
    pub selector: String,
}

/// zot's metadata database as observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseState {
    /// The embedded BoltDB on the data volume (filesystem storage), with what the volume holds.
    OnDataVolume(String),
    /// The embedded BoltDB on its own claim (remote storage).
    OwnVolume {
        /// Name of the claim.
        claim: String,
        /// Whether the claim is bound.
        bound: bool,
    },
    /// A database shared by every replica (redis, DynamoDB), described for a person.
    Shared(String),
}

/// A Route as its routers report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteState {
    /// Not admitted by any router yet.
    Pending,
    /// Admitted.
    Admitted,
    /// Rejected, with the router's message.
    Rejected(String),
}

fn condition(type_: &str, ok: bool, reason: &str, message: impl Into<String>) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: if ok { "True" } else { "False" }.to_string(),
        reason: reason.to_string(),
        message: message.into(),
        observed_generation: None,
        last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    }
}

/// A condition whose status the operator cannot tell.
fn unknown(type_: &str, reason: &str, message: impl Into<String>) -> Condition {
    Condition {
        status: "Unknown".to_string(),
        ..condition(type_, false, reason, message)
    }
}

/// The status for a store at `generation`, given the previous status and what was observed. Conditions keep their
/// `lastTransitionTime` when their status did not change; `now` stamps the ones that did.
pub fn compute(
    previous: Option<&ZotArtifactStoreStatus>,
    generation: Option<i64>,
    observed: &Observed,
    now: Time,
) -> ZotArtifactStoreStatus {
    let (phase, mut conditions, mut status) = match observed {
        Observed::Blocked { reason, message } => {
            blocked(previous, types::CONFIG_READY, reason, message)
        }
        Observed::StorageUnavailable { reason, message } => {
            blocked(previous, types::STORAGE_READY, reason, message)
        }
        Observed::KeycloakUnavailable { reason, message } => {
            blocked(previous, types::KEYCLOAK_READY, reason, message)
        }
        Observed::CertificateUnavailable { reason, message } => {
            blocked(previous, types::TLS_READY, reason, message)
        }
        Observed::Applied(applied) => running::running(applied),
    };
    for c in &mut conditions {
        c.observed_generation = generation;
        c.last_transition_time = previous
            .and_then(|p| p.conditions.iter().find(|o| o.type_ == c.type_))
            .filter(|o| o.status == c.status)
            .map(|o| o.last_transition_time.clone())
            .unwrap_or_else(|| now.clone());
    }
    status.phase = Some(phase);
    status.conditions = conditions;
    status.observed_generation = generation;
    status
}

/// Ready=False and `cause`=False, both with `reason` and `message`.
fn blocked(
    previous: Option<&ZotArtifactStoreStatus>,
    cause: &str,
    reason: &str,
    message: &str,
) -> (Phase, Vec<Condition>, ZotArtifactStoreStatus) {
    let conditions = vec![
        condition(types::READY, false, reason, message),
        condition(cause, false, reason, message),
    ];
    // What runs keeps running: keep the last observed replica counts and endpoints.
    let status = previous.cloned().unwrap_or_default();
    (Phase::Failed, conditions, status)
}

/// Status equality that ignores nothing: the controller writes only when this is false.
pub fn unchanged(previous: Option<&ZotArtifactStoreStatus>, next: &ZotArtifactStoreStatus) -> bool {
    previous == Some(next)
}

/// The reasons of Ready=False that only say a store is on its way (its workload is being created, its pods are not
/// ready yet), rather than name a problem.
const ON_ITS_WAY: [&str; 2] = ["Creating", "PodsNotReady"];

/// Whether `next` moves the phase, Ready, the reason Ready names a problem by, or the observed generation from
/// `previous` (rather than only counts, messages and conditions that follow the workload coming up).
pub fn transition(previous: &ZotArtifactStoreStatus, next: &ZotArtifactStoreStatus) -> bool {
    let ready = |s: &ZotArtifactStoreStatus| {
        find(Some(s), types::READY).map(|c| {
            let problem = (!ON_ITS_WAY.contains(&c.reason.as_str())).then(|| c.reason.clone());
            (c.status.clone(), problem)
        })
    };
    previous.phase != next.phase
        || previous.observed_generation != next.observed_generation
        || ready(previous) != ready(next)
}

/// Whether `status` is that of a store coming up with no problem seen: phase Creating, and Ready=False only because
/// the workload is on its way.
pub fn coming_up(status: &ZotArtifactStoreStatus) -> bool {
    status.phase == Some(Phase::Creating)
        && find(Some(status), types::READY)
            .is_some_and(|c| c.status == "False" && ON_ITS_WAY.contains(&c.reason.as_str()))
}

/// The condition of `type_` in `status`, if any.
pub fn find<'a>(status: Option<&'a ZotArtifactStoreStatus>, type_: &str) -> Option<&'a Condition> {
    status.and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn at(secs: i64) -> Time {
        Time(Timestamp::from_second(secs).unwrap())
    }

    fn applied(ready: i32, desired: i32, rolled_out: bool) -> Observed {
        Observed::Applied(Box::new(Applied {
            workload: Some(Workload {
                desired,
                replicas: desired,
                ready,
                rolled_out,
            }),
            selector: "app.kubernetes.io/instance=zot".into(),
            ..Applied::default()
        }))
    }

    fn cond<'a>(s: &'a ZotArtifactStoreStatus, t: &str) -> &'a Condition {
        s.conditions.iter().find(|c| c.type_ == t).unwrap()
    }

    #[test]
    fn phase_labels_are_the_phases_as_written_in_the_status() {
        for phase in [
            Phase::Creating,
            Phase::Running,
            Phase::Updating,
            Phase::Failed,
        ] {
            assert_eq!(serde_json::to_value(phase).unwrap(), phase.as_str());
        }
    }

    #[test]
    fn all_pods_ready_and_rolled_out_is_ready_and_running() {
        let s = compute(None, Some(3), &applied(2, 2, true), at(10));
        assert_eq!(s.phase, Some(Phase::Running));
        assert_eq!(cond(&s, types::READY).status, "True");
        assert_eq!(cond(&s, types::READY).observed_generation, Some(3));
        assert_eq!(s.ready_replicas, Some(2));
        assert_eq!(s.observed_generation, Some(3));
    }

    #[test]
    fn a_pod_that_does_not_start_makes_the_store_unready_with_the_kubelets_reason() {
        let observed = Observed::Applied(Box::new(Applied {
            workload: Some(Workload {
                desired: 1,
                replicas: 1,
                ready: 0,
                rolled_out: false,
            }),
            pod_problem: Some("pod zot-0: zot exited with code 1".into()),
            ..Applied::default()
        }));
        let s = compute(None, Some(2), &observed, at(10));
        let ready = cond(&s, types::READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "ZotNotStarting")
        );
        assert_eq!(ready.message, "pod zot-0: zot exited with code 1");
    }

    #[test]
    fn a_rollout_in_progress_is_progressing_and_updating() {
        let s = compute(None, Some(1), &applied(2, 2, false), at(10));
        assert_eq!(s.phase, Some(Phase::Updating));
        assert_eq!(cond(&s, types::PROGRESSING).status, "True");
        assert_eq!(cond(&s, types::READY).status, "False");
    }

    #[test]
    fn no_workload_yet_is_creating() {
        let observed = Observed::Applied(Box::default());
        let s = compute(None, Some(1), &observed, at(10));
        assert_eq!(s.phase, Some(Phase::Creating));
        assert_eq!(cond(&s, types::READY).reason, "Creating");
    }

    #[test]
    fn a_blocked_spec_is_failed_with_the_reason_and_keeps_the_last_counts() {
        let before = compute(None, Some(1), &applied(1, 1, true), at(10));
        let observed = Observed::Blocked {
            reason: "SecretNotFound".into(),
            message: "spec.storage.s3.accessKeySecret.name: Secret s3 does not exist".into(),
        };
        let s = compute(Some(&before), Some(2), &observed, at(20));
        assert_eq!(s.phase, Some(Phase::Failed));
        let ready = cond(&s, types::READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "SecretNotFound")
        );
        assert!(
            ready
                .message
                .contains("spec.storage.s3.accessKeySecret.name")
        );
        assert_eq!(s.ready_replicas, Some(1));
    }

    #[test]
    fn last_transition_time_moves_only_when_the_status_changes() {
        let first = compute(None, Some(1), &applied(1, 1, true), at(10));
        let same = compute(Some(&first), Some(1), &applied(1, 1, true), at(20));
        assert_eq!(cond(&same, types::READY).last_transition_time, at(10));
        assert!(unchanged(Some(&first), &same));
        let changed = compute(Some(&same), Some(2), &applied(0, 1, false), at(30));
        assert_eq!(cond(&changed, types::READY).last_transition_time, at(30));
        assert_eq!(
            cond(&changed, types::CONFIG_READY).last_transition_time,
            at(10)
        );
    }

    #[test]
    fn gaps_make_the_store_degraded_but_not_unready() {
        let observed = Observed::Applied(Box::new(Applied {
            workload: Some(Workload {
                desired: 1,
                replicas: 1,
                ready: 1,
                rolled_out: true,
            }),
            gaps: vec![(
                "spec.networking.route.enabled".into(),
                "no Routes here".into(),
            )],
            ..Applied::default()
        }));
        let s = compute(None, Some(1), &observed, at(1));
        assert_eq!(cond(&s, types::DEGRADED).status, "True");
        assert!(
            cond(&s, types::DEGRADED)
                .message
                .contains("spec.networking.route.enabled")
        );
        assert_eq!(cond(&s, types::READY).status, "True");
    }

    #[test]
    fn a_rejected_route_keeps_the_store_unready() {
        let observed = Observed::Applied(Box::new(Applied {
            workload: Some(Workload {
                desired: 1,
                replicas: 1,
                ready: 1,
                rolled_out: true,
            }),
            route: Some(RouteState::Rejected("host taken".into())),
            ..Applied::default()
        }));
        let s = compute(None, Some(1), &observed, at(1));
        assert_eq!(cond(&s, types::ROUTE_READY).reason, "Rejected");
        assert_eq!(cond(&s, types::READY).status, "False");
    }

    fn with_signing(algorithm: &str, created: bool) -> Observed {
        Observed::Applied(Box::new(Applied {
            signing: Some(SigningState {
                record: SigningStatus {
                    secret_name: "zot-signing-key".into(),
                    algorithm: algorithm.into(),
                    public_key_fingerprint: "sha256:ab".into(),
                    created_by_operator: created,
                },
                public_field: "cosign.pub".into(),
                key_size: 4096,
            }),
            ..Applied::default()
        }))
    }

    #[test]
    fn signing_ready_names_the_trusted_key_and_whether_key_size_applied() {
        let s = compute(None, Some(1), &with_signing("RSA 4096-bit", true), at(1));
        let c = cond(&s, types::SIGNING_READY);
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "KeyCreated")
        );
        assert_eq!(
            c.message,
            "zot trusts signatures of the RSA 4096-bit public key in Secret zot-signing-key (key cosign.pub, sha256:ab), created by the operator"
        );
        assert_eq!(
            s.signing.as_ref().unwrap().public_key_fingerprint,
            "sha256:ab"
        );
        let s = compute(None, Some(1), &with_signing("ECDSA P-256", false), at(1));
        let c = cond(&s, types::SIGNING_READY);
        assert_eq!(c.reason, "KeyFound");
        assert!(
            c.message
                .ends_with("found in the Secret and used as it is: keySize 4096 applies only to a pair the operator creates"),
            "{}",
            c.message
        );
        let s = compute(None, Some(1), &with_signing("RSA 4096-bit", false), at(1));
        assert!(
            cond(&s, types::SIGNING_READY)
                .message
                .ends_with("found in the Secret and used as it is")
        );
        // Without signing: no condition, no record.
        let s = compute(None, Some(1), &applied(1, 1, true), at(1));
        assert!(s.signing.is_none());
        assert!(s.conditions.iter().all(|c| c.type_ != types::SIGNING_READY));
    }

    #[test]
    fn an_unreachable_vulnerability_database_is_said_in_its_condition_without_making_the_store_unready()
     {
        let source = |field: &'static str, reference: &str| crate::vulndb::Source {
            field,
            reference: reference.into(),
        };
        let answers = vec![
            DatabaseAnswer {
                source: source(
                    "spec.extensions.search.cve.dbRepository",
                    "ghcr.io/aquasecurity/trivy-db:2",
                ),
                answer: Err("error sending request: dns error".into()),
            },
            DatabaseAnswer {
                source: source(
                    "spec.extensions.search.cve.javaDbRepository",
                    "mirror.example.com/java:1",
                ),
                answer: Ok(()),
            },
        ];
        let observed = Observed::Applied(Box::new(Applied {
            workload: Some(Workload {
                desired: 1,
                replicas: 1,
                ready: 1,
                rolled_out: true,
            }),
            vulnerability_databases: answers.clone(),
            ..Applied::default()
        }));
        let s = compute(None, Some(1), &observed, at(1));
        let c = cond(&s, types::VULNERABILITY_DATABASE_READY);
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("False", "RegistryUnreachable")
        );
        assert!(
            c.message.contains(
                "ghcr.io/aquasecurity/trivy-db:2 (spec.extensions.search.cve.dbRepository): error sending request: dns error"
            ),
            "{}",
            c.message
        );
        assert!(
            !c.message.contains("mirror.example.com/java:1 ("),
            "{}",
            c.message
        );
        assert_eq!(cond(&s, types::READY).status, "True");
        let all_ok: Vec<DatabaseAnswer> = answers
            .into_iter()
            .map(|a| DatabaseAnswer {
                answer: Ok(()),
                ..a
            })
            .collect();
        let observed = Observed::Applied(Box::new(Applied {
            vulnerability_databases: all_ok,
            ..Applied::default()
        }));
        let s = compute(None, Some(1), &observed, at(1));
        assert_eq!(cond(&s, types::VULNERABILITY_DATABASE_READY).status, "True");
    }

    fn with_bucket(bucket: BucketState) -> Observed {
        Observed::Applied(Box::new(Applied {
            bucket: Some(bucket),
            ..Applied::default()
        }))
    }

    #[test]
    fn a_bucket_the_operator_created_is_recorded_and_stays_recorded_while_it_is_the_same_bucket() {
        let created = bucket_record(None, "images", "http://s3:9000", true);
        assert!(created.created_by_operator);
        let s = compute(
            None,
            Some(1),
            &with_bucket(BucketState::Ready(created)),
            at(1),
        );
        assert_eq!(
            s.storage.as_ref().map(|b| b.created_by_operator),
            Some(true)
        );
        let storage = cond(&s, types::STORAGE_READY);
        assert_eq!(
            (storage.status.as_str(), storage.reason.as_str()),
            ("True", "BucketReady")
        );
        assert_eq!(
            storage.message,
            "bucket images exists at http://s3:9000 (created by the operator)"
        );
        // Found existing on the next reconcile: still the operator's.
        assert!(bucket_record(Some(&s), "images", "http://s3:9000", false).created_by_operator);
        // Another bucket, or the same name elsewhere, was not created by the operator.
        assert!(!bucket_record(Some(&s), "other", "http://s3:9000", false).created_by_operator);
        assert!(
            !bucket_record(Some(&s), "images", "https://s3.example.com", false).created_by_operator
        );
    }

    #[test]
    fn a_bucket_without_an_access_key_is_unknown_storage_and_leaves_no_record() {
        let observed = with_bucket(BucketState::NotChecked {
            bucket: "images".into(),
        });
        let s = compute(None, Some(1), &observed, at(1));
        let storage = cond(&s, types::STORAGE_READY);
        assert_eq!(
            (storage.status.as_str(), storage.reason.as_str()),
            ("Unknown", "PodIdentity")
        );
        assert!(s.storage.is_none());
    }

    #[test]
    fn an_unusable_object_store_fails_storage_ready_with_the_servers_message_and_keeps_the_last_counts()
     {
        let previous = compute(None, Some(1), &applied(2, 2, true), at(1));
        let observed = Observed::StorageUnavailable {
            reason: "InvalidCredentials".into(),
            message: "S3 refused ListObjectsV2 on bucket images: SignatureDoesNotMatch: …".into(),
        };
        let s = compute(Some(&previous), Some(2), &observed, at(5));
        assert_eq!(s.phase, Some(Phase::Failed));
        for t in [types::READY, types::STORAGE_READY] {
            let c = cond(&s, t);
            assert_eq!(
                (c.status.as_str(), c.reason.as_str()),
                ("False", "InvalidCredentials"),
                "{t}"
            );
            assert!(c.message.contains("SignatureDoesNotMatch"), "{t}");
        }
        assert!(s.conditions.iter().all(|c| c.type_ != types::CONFIG_READY));
        assert_eq!(s.ready_replicas, Some(2));
    }

    #[test]
    fn what_keycloak_refuses_fails_keycloak_ready_with_its_answer_and_keeps_the_last_counts() {
        let previous = compute(None, Some(1), &applied(1, 1, true), at(1));
        let observed = Observed::KeycloakUnavailable {
            reason: "ClientSecretRefused".into(),
            message: "Keycloak refused the client zot … (HTTP 401: invalid_client: Client authentication failed.)"
                .into(),
        };
        let s = compute(Some(&previous), Some(2), &observed, at(5));
        assert_eq!(s.phase, Some(Phase::Failed));
        for t in [types::READY, types::KEYCLOAK_READY] {
            let c = cond(&s, t);
            assert_eq!(
                (c.status.as_str(), c.reason.as_str()),
                ("False", "ClientSecretRefused"),
                "{t}"
            );
            assert!(c.message.contains("invalid_client"), "{t}");
        }
        assert_eq!(s.ready_replicas, Some(1));
    }

    #[test]
    fn a_realm_and_client_keycloak_accepted_are_keycloak_ready() {
        let Observed::Applied(mut verified) = applied(1, 1, true) else {
            unreachable!()
        };
        verified.keycloak = Some(crate::keycloak::Verified {
            issuer: "https://sso.example.com/realms/dev".into(),
            client_id: "zot".into(),
            secret_checked: true,
        });
        let s = compute(None, Some(1), &Observed::Applied(verified), at(5));
        let c = cond(&s, types::KEYCLOAK_READY);
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "ClientAccepted")
        );
        assert!(
            c.message.contains("accepts the client zot"),
            "{}",
            c.message
        );
        assert_eq!(cond(&s, types::READY).status, "True");
        // Without Keycloak there is no such condition.
        let s = compute(None, Some(1), &applied(1, 1, true), at(5));
        assert!(
            s.conditions
                .iter()
                .all(|c| c.type_ != types::KEYCLOAK_READY)
        );
    }

    #[test]
    fn a_store_coming_up_moves_only_on_readiness_a_problem_or_its_generation() {
        let coming = |claims_bound: bool, pod_problem: Option<&str>| {
            let mut observed = applied(0, 1, true);
            if let Observed::Applied(a) = &mut observed {
                a.claims_bound = Some(claims_bound);
                a.pod_problem = pod_problem.map(str::to_string);
            }
            compute(None, Some(1), &observed, at(5))
        };
        let waiting = coming(false, None);
        assert!(coming_up(&waiting));
        let bound = coming(true, None);
        assert!(coming_up(&bound));
        assert_ne!(waiting, bound, "the claim's binding changes the status…");
        assert!(!transition(&waiting, &bound), "…but is not a transition");
        let stuck = coming(true, Some("ImagePullBackOff: no such image"));
        assert!(!coming_up(&stuck));
        assert!(transition(&bound, &stuck), "a problem is written at once");
        assert!(transition(&stuck, &bound), "and so is its end");
        let ready = compute(None, Some(1), &applied(1, 1, true), at(6));
        assert!(!coming_up(&ready));
        assert!(transition(&bound, &ready));
        let next_generation = compute(None, Some(2), &applied(0, 1, true), at(7));
        assert!(transition(&bound, &next_generation));
    }
}
