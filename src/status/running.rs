//! The status of a store whose children are applied, as named steps: one condition each, then readiness and the
//! phase from those.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::{
    Applied, BucketState, DatabaseAnswer, DatabaseState, RouteState, SigningState, Workload,
    condition, types, unknown,
};
use crate::api::v1alpha1::{Phase, ZotArtifactStoreStatus};

/// Phase, conditions and counts of an applied store.
pub(super) fn running(applied: &Applied) -> (Phase, Vec<Condition>, ZotArtifactStoreStatus) {
    let workload = applied.workload.clone().unwrap_or_default();
    let exists = applied.workload.is_some();
    let complete = exists && workload.rolled_out && workload.ready >= workload.desired;
    let route = applied.route.as_ref().map(route_ready);
    let route_ok = !matches!(applied.route, Some(RouteState::Rejected(_)));
    let ready = complete && route_ok && applied.security_context.is_none();
    let mut conditions = vec![
        readiness(ready, applied, &workload),
        config_ready(),
        available(&workload),
        progressing(complete, &workload),
        storage_ready(applied.claims_bound, applied.bucket.as_ref()),
    ];
    conditions.extend(
        applied
            .database
            .as_ref()
            .map(|d| database_ready(d, &workload)),
    );
    conditions.extend(route);
    conditions.extend(applied.signing.as_ref().map(signing_ready));
    conditions.extend(vulnerability_database_ready(
        &applied.vulnerability_databases,
    ));
    conditions.extend(applied.keycloak.as_ref().map(keycloak_ready));
    conditions.extend(applied.security_context.as_deref().map(security_context));
    conditions.push(degraded(&applied.gaps));
    let status = ZotArtifactStoreStatus {
        ready_replicas: Some(workload.ready),
        replicas: Some(workload.replicas),
        selector: Some(applied.selector.clone()),
        endpoints: Some(applied.endpoints.clone()),
        zot_version: applied.zot_version.clone(),
        signing: applied.signing.as_ref().map(|s| s.record.clone()),
        storage: match &applied.bucket {
            Some(BucketState::Ready(record)) => Some(record.clone()),
            _ => None,
        },
        ..ZotArtifactStoreStatus::default()
    };
    (phase(ready, exists, &workload), conditions, status)
}

/// Whether the registries of the scanner's databases answer; None without the scanner. It does not make the store
/// unready: the registry serves without a scanner.
fn vulnerability_database_ready(answers: &[DatabaseAnswer]) -> Option<Condition> {
    if answers.is_empty() {
        return None;
    }
    let failed: Vec<String> = answers
        .iter()
        .filter_map(|a| {
            a.answer
                .as_ref()
                .err()
                .map(|e| format!("{} ({}): {e}", a.source.reference, a.source.field))
        })
        .collect();
    let references: Vec<&str> = answers
        .iter()
        .map(|a| a.source.reference.as_str())
        .collect();
    Some(if failed.is_empty() {
        condition(
            types::VULNERABILITY_DATABASE_READY,
            true,
            "RegistryAnswers",
            format!(
                "the registries of zot's vulnerability databases answer over HTTPS from the operator's network: {}; zot downloads them at start and every updateInterval",
                references.join(", ")
            ),
        )
    } else {
        condition(
            types::VULNERABILITY_DATABASE_READY,
            false,
            "RegistryUnreachable",
            format!(
                "zot downloads its vulnerability databases over HTTPS, and from the operator's network no answer came for {}. Until zot has them it scans nothing and generates no SBOM (its search answers CVE queries with \"cve-db is not present\" and its log says \"failed to download trivy-db\"): set extensions.search.cve.dbRepository and javaDbRepository to a mirror zot can reach",
                failed.join("; ")
            ),
        )
    })
}

/// Which public key the pods trust, and whether keySize applied to it.
fn signing_ready(signing: &SigningState) -> Condition {
    let record = &signing.record;
    let origin = if record.created_by_operator {
        "created by the operator".to_string()
    } else if record.algorithm == format!("RSA {}-bit", signing.key_size) {
        "found in the Secret and used as it is".to_string()
    } else {
        format!(
            "found in the Secret and used as it is: keySize {} applies only to a pair the operator creates",
            signing.key_size
        )
    };
    condition(
        types::SIGNING_READY,
        true,
        if record.created_by_operator {
            "KeyCreated"
        } else {
            "KeyFound"
        },
        format!(
            "zot trusts signatures of the {} public key in Secret {} (key {}, {}), {origin}",
            record.algorithm,
            record.secret_name,
            signing.public_field,
            record.public_key_fingerprint
        ),
    )
}

fn keycloak_ready(verified: &crate::keycloak::Verified) -> Condition {
    condition(
        types::KEYCLOAK_READY,
        true,
        if verified.secret_checked {
            "ClientAccepted"
        } else {
            "RealmFound"
        },
        format!(
            "the realm {} answers with its issuer and the requested scopes{}",
            verified.issuer,
            if verified.secret_checked {
                format!(
                    ", and Keycloak accepts the client {} with its secret",
                    verified.client_id
                )
            } else {
                "; it offers no token introspection, so the client secret was not checked"
                    .to_string()
            }
        ),
    )
}

fn config_ready() -> Condition {
    condition(
        types::CONFIG_READY,
        true,
        "Rendered",
        "zot's configuration and every child object are applied",
    )
}

/// Available while at least one pod serves.
fn available(workload: &Workload) -> Condition {
    if workload.ready > 0 {
        condition(
            types::AVAILABLE,
            true,
            "PodsReady",
            format!(
                "{} of {} zot pods are ready",
                workload.ready, workload.desired
            ),
        )
    } else {
        condition(
            types::AVAILABLE,
            false,
            "NoPodReady",
            "no zot pod is ready yet",
        )
    }
}

/// Progressing until every wanted pod runs the current configuration and is ready.
fn progressing(complete: bool, workload: &Workload) -> Condition {
    if complete {
        condition(
            types::PROGRESSING,
            false,
            "RolloutComplete",
            "every pod runs the current configuration",
        )
    } else {
        condition(
            types::PROGRESSING,
            true,
            "RollingOut",
            format!(
                "{} of {} zot pods are ready with the current configuration",
                workload.ready, workload.desired
            ),
        )
    }
}

fn storage_ready(claims_bound: Option<bool>, bucket: Option<&BucketState>) -> Condition {
    match bucket {
        Some(BucketState::Ready(record)) => {
            return condition(
                types::STORAGE_READY,
                true,
                "BucketReady",
                format!(
                    "bucket {} exists at {}{}",
                    record.bucket,
                    record.endpoint,
                    if record.created_by_operator {
                        " (created by the operator)"
                    } else {
                        ""
                    }
                ),
            );
        }
        Some(BucketState::NotChecked { bucket }) => {
            return unknown(
                types::STORAGE_READY,
                "PodIdentity",
                format!(
                    "the spec gives no access key, so zot reaches bucket {bucket} with the pod's own AWS \
                     identity; the operator cannot check or create it"
                ),
            );
        }
        None => {}
    }
    match claims_bound {
        Some(true) => condition(
            types::STORAGE_READY,
            true,
            "ClaimsBound",
            "every PersistentVolumeClaim is bound",
        ),
        Some(false) => condition(
            types::STORAGE_READY,
            false,
            "ClaimsPending",
            "a PersistentVolumeClaim is not bound yet",
        ),
        None => condition(
            types::STORAGE_READY,
            true,
            "Ready",
            "storage needs no claim or is provisioning",
        ),
    }
}

/// Where zot's metadata database lives and whether it is there. A shared database (redis, DynamoDB) is not
/// probed by the operator: zot connects to it at start, so a ready pod is the evidence.
fn database_ready(database: &DatabaseState, workload: &Workload) -> Condition {
    match database {
        DatabaseState::OnDataVolume(message) => {
            condition(types::DATABASE_READY, true, "OnDataVolume", message.clone())
        }
        DatabaseState::OwnVolume { claim, bound: true } => condition(
            types::DATABASE_READY,
            true,
            "ClaimBound",
            format!("the embedded BoltDB lives on the bound PersistentVolumeClaim {claim}"),
        ),
        DatabaseState::OwnVolume {
            claim,
            bound: false,
        } => condition(
            types::DATABASE_READY,
            false,
            "ClaimPending",
            format!("the PersistentVolumeClaim {claim} of the embedded BoltDB is not bound yet"),
        ),
        DatabaseState::Shared(what) if workload.ready > 0 => condition(
            types::DATABASE_READY,
            true,
            "Connected",
            format!("zot pods are ready, and zot connects to {what} at start"),
        ),
        DatabaseState::Shared(what) => unknown(
            types::DATABASE_READY,
            "NotChecked",
            format!("zot connects to {what} when a pod starts; no pod is ready yet"),
        ),
    }
}

fn route_ready(route: &RouteState) -> Condition {
    match route {
        RouteState::Admitted => condition(
            types::ROUTE_READY,
            true,
            "Admitted",
            "a router admitted the Route",
        ),
        RouteState::Pending => condition(
            types::ROUTE_READY,
            false,
            "NotAdmitted",
            "no router has admitted the Route yet",
        ),
        RouteState::Rejected(m) => condition(types::ROUTE_READY, false, "Rejected", m.clone()),
    }
}

fn security_context(message: &str) -> Condition {
    condition(
        types::SECURITY_CONTEXT_READY,
        false,
        "OutsideNamespaceRange",
        message,
    )
}

/// Degraded while something the spec asks for cannot be served on this platform (each gap named).
fn degraded(gaps: &[(String, String)]) -> Condition {
    if gaps.is_empty() {
        condition(
            types::DEGRADED,
            false,
            "AsRequested",
            "everything the spec asks for is in place",
        )
    } else {
        let list: Vec<String> = gaps.iter().map(|(f, r)| format!("{f}: {r}")).collect();
        condition(types::DEGRADED, true, "NotSupportedHere", list.join("; "))
    }
}

/// Ready, or the first reason it is not.
fn readiness(ready: bool, applied: &Applied, workload: &Workload) -> Condition {
    if ready {
        condition(types::READY, true, "Ready", "the registry is serving")
    } else if applied.workload.is_none() {
        condition(
            types::READY,
            false,
            "Creating",
            "the zot workload is being created",
        )
    } else if let Some(m) = &applied.security_context {
        condition(types::READY, false, "OutsideNamespaceRange", m.clone())
    } else if let Some(problem) = &applied.pod_problem {
        condition(types::READY, false, "ZotNotStarting", problem.clone())
    } else {
        condition(
            types::READY,
            false,
            "PodsNotReady",
            format!(
                "{} of {} zot pods are ready",
                workload.ready, workload.desired
            ),
        )
    }
}

/// Running when ready; Creating until a first pod serves (Updating if old pods are being replaced meanwhile);
/// Updating while a serving store is not ready.
fn phase(ready: bool, exists: bool, workload: &Workload) -> Phase {
    let available = workload.ready > 0;
    if ready {
        Phase::Running
    } else if !exists || !available {
        if exists && workload.replicas > 0 && !workload.rolled_out {
            Phase::Updating
        } else {
            Phase::Creating
        }
    } else {
        Phase::Updating
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(ready: i32, desired: i32, rolled_out: bool) -> Workload {
        Workload {
            desired,
            replicas: desired,
            ready,
            rolled_out,
        }
    }

    #[test]
    fn the_phase_follows_readiness_then_whether_a_pod_serves() {
        assert_eq!(phase(true, true, &workload(1, 1, true)), Phase::Running);
        assert_eq!(phase(false, false, &Workload::default()), Phase::Creating);
        assert_eq!(phase(false, true, &workload(0, 1, true)), Phase::Creating);
        assert_eq!(phase(false, true, &workload(0, 1, false)), Phase::Updating);
        assert_eq!(phase(false, true, &workload(1, 2, true)), Phase::Updating);
    }

    #[test]
    fn a_shared_database_is_unknown_until_a_pod_has_connected() {
        let redis = DatabaseState::Shared("redis at redis://cache:6379".into());
        let before = database_ready(&redis, &workload(0, 1, false));
        assert_eq!(
            (before.status.as_str(), before.reason.as_str()),
            ("Unknown", "NotChecked")
        );
        let after = database_ready(&redis, &workload(1, 1, true));
        assert_eq!(
            (after.status.as_str(), after.reason.as_str()),
            ("True", "Connected")
        );
    }

    #[test]
    fn an_embedded_database_on_its_own_claim_waits_for_the_claim() {
        let pending = DatabaseState::OwnVolume {
            claim: "zot-db".into(),
            bound: false,
        };
        let c = database_ready(&pending, &workload(0, 1, false));
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("False", "ClaimPending")
        );
        assert!(c.message.contains("zot-db"));
    }

    #[test]
    fn degraded_names_every_gap() {
        let c = degraded(&[
            ("spec.a".into(), "no A here".into()),
            ("spec.b".into(), "no B here".into()),
        ]);
        assert_eq!(c.status, "True");
        assert_eq!(c.message, "spec.a: no A here; spec.b: no B here");
        assert_eq!(degraded(&[]).status, "False");
    }
}
