//! Leader election on a `coordination.k8s.io/v1` Lease, so that two operator replicas never reconcile at once.
//!
//! The holder renews the Lease every `renew_every`; a candidate takes it over once `renewTime + leaseDuration` has
//! passed. Every write carries the resourceVersion it read, so two candidates cannot both win (optimistic
//! concurrency). On shutdown the holder releases the Lease so a standby takes over at once.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::{Client, Error as KubeError};
use tokio::sync::watch;
use tracing::{error, info, warn};

/// Where and as whom to hold the Lease.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_every: Duration,
}

/// What one round of the election decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Leader,
    Standby,
}

/// A running election: `role()` says whether this replica leads; `changed()` waits for a change.
pub struct Election {
    role: watch::Receiver<Role>,
    problem: watch::Receiver<Option<String>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Election {
    /// Starts campaigning in the background.
    pub fn start(client: Client, config: LeaseConfig) -> Self {
        let (role_tx, role) = watch::channel(Role::Standby);
        let (problem_tx, problem) = watch::channel(None);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(campaign(client, config, role_tx, problem_tx, stop_rx));
        Election {
            role,
            problem,
            stop,
            task,
        }
    }

    pub fn role(&self) -> Role {
        *self.role.borrow()
    }

    /// A receiver that follows the role.
    pub fn subscribe(&self) -> watch::Receiver<Role> {
        self.role.clone()
    }

    /// A receiver that follows what keeps the election from working at all (see [`problem`]), None meanwhile.
    pub fn problems(&self) -> watch::Receiver<Option<String>> {
        self.problem.clone()
    }

    /// Waits until this replica leads.
    pub async fn until_leader(&mut self) {
        while *self.role.borrow_and_update() != Role::Leader {
            if self.role.changed().await.is_err() {
                return;
            }
        }
    }

    /// Stops campaigning and releases the Lease if held.
    pub async fn release(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn campaign(
    client: Client,
    config: LeaseConfig,
    role: watch::Sender<Role>,
    problems: watch::Sender<Option<String>>,
    mut stop: watch::Receiver<bool>,
) {
    let leases: Api<Lease> = Api::namespaced(client, &config.namespace);
    loop {
        let now = Timestamp::now();
        let result = try_acquire_or_renew(&leases, &config, now).await;
        let found = result.as_ref().err().and_then(|e| problem(e, &config));
        problems.send_if_modified(|current| {
            let changed = *current != found;
            if changed {
                match &found {
                    Some(p) => error!(lease = %config.name, "{p}"),
                    None if current.is_some() => {
                        info!(lease = %config.name, "the lease can be held again")
                    }
                    None => {}
                }
            }
            *current = found.clone();
            changed
        });
        let next = match result {
            Ok(r) => r,
            Err(e) => {
                if found.is_none() {
                    warn!(lease = %config.name, error = %e, "lease round failed");
                }
                // A replica that cannot renew must stop leading before another may take over.
                Role::Standby
            }
        };
        role.send_if_modified(|current| {
            let changed = *current != next;
            if changed {
                info!(lease = %config.name, identity = %config.identity, role = ?next, "leadership changed");
            }
            *current = next;
            changed
        });
        tokio::select! {
            _ = tokio::time::sleep(config.renew_every) => {}
            _ = stop.changed() => break,
        }
    }
    if *role.borrow() == Role::Leader {
        if let Err(e) = release(&leases, &config).await {
            warn!(lease = %config.name, error = %e, "could not release the lease");
        }
        role.send_replace(Role::Standby);
    }
}

/// What an election error means for a person, when it is not a passing failure but keeps the operator from ever
/// leading: the Lease's namespace is missing, or the operator may not use Leases there. None for other errors.
pub fn problem(error: &KubeError, config: &LeaseConfig) -> Option<String> {
    let KubeError::Api(status) = error else {
        return None;
    };
    let ns = &config.namespace;
    match status.code {
        404 => Some(format!(
            "the leader-election Lease cannot be created: namespace {ns:?} does not exist ({}). Create it \
             (kubectl create namespace {ns}), point --leader-election-namespace (POD_NAMESPACE) at an existing \
             namespace, or run a single replica with --leader-elect=false",
            status.message
        )),
        403 => Some(format!(
            "the operator may not use Leases in namespace {ns:?} ({}). Grant it the leader-election Role of \
             config/rbac in that namespace, or run a single replica with --leader-elect=false",
            status.message
        )),
        _ => None,
    }
}

/// One election round: take a free or expired Lease, renew our own, or stand by.
pub async fn try_acquire_or_renew(
    leases: &Api<Lease>,
    config: &LeaseConfig,
    now: Timestamp,
) -> Result<Role, KubeError> {
    let duration_secs = i32::try_from(config.lease_duration.as_secs()).unwrap_or(i32::MAX);
    let Some(mut lease) = leases.get_opt(&config.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(config.name.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(config.identity.clone()),
                lease_duration_seconds: Some(duration_secs),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return match leases.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(Role::Leader),
            Err(KubeError::Api(s)) if s.code == 409 => Ok(Role::Standby),
            Err(e) => Err(e),
        };
    };
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let expired = match (&spec.renew_time, spec.lease_duration_seconds) {
        (Some(MicroTime(renewed)), Some(secs)) => {
            now.duration_since(*renewed).as_secs() >= i64::from(secs)
        }
        _ => true,
    };
    if holder != config.identity {
        if !holder.is_empty() && !expired {
            return Ok(Role::Standby);
        }
        spec.holder_identity = Some(config.identity.clone());
        spec.acquire_time = Some(MicroTime(now));
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    }
    spec.renew_time = Some(MicroTime(now));
    spec.lease_duration_seconds = Some(duration_secs);
    // replace() sends the resourceVersion we read: a concurrent writer makes this fail with 409.
    match leases
        .replace(&config.name, &PostParams::default(), &lease)
        .await
    {
        Ok(_) => Ok(Role::Leader),
        Err(KubeError::Api(s)) if s.code == 409 => Ok(Role::Standby),
        Err(e) => Err(e),
    }
}

async fn release(leases: &Api<Lease>, config: &LeaseConfig) -> Result<(), KubeError> {
    let Some(mut lease) = leases.get_opt(&config.name).await? else {
        return Ok(());
    };
    if let Some(spec) = lease.spec.as_mut() {
        if spec.holder_identity.as_deref() != Some(config.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
    }
    leases
        .replace(&config.name, &PostParams::default(), &lease)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LeaseConfig {
        LeaseConfig {
            namespace: "zot-operator-system".into(),
            name: "zot-operator".into(),
            identity: "me".into(),
            lease_duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }

    fn api_error(code: u16, message: &str) -> KubeError {
        KubeError::Api(Box::new(
            kube::core::Status::failure(message, "NotFound").with_code(code),
        ))
    }

    #[test]
    fn a_missing_lease_namespace_is_a_problem_that_says_what_to_do() {
        let error = api_error(404, "namespaces \"zot-operator-system\" not found");
        let problem = problem(&error, &config()).unwrap_or_default();
        assert!(
            problem.contains("kubectl create namespace zot-operator-system"),
            "{problem}"
        );
        assert!(problem.contains("--leader-elect=false"), "{problem}");
    }

    #[test]
    fn a_passing_failure_is_no_problem() {
        assert_eq!(problem(&api_error(500, "etcd timeout"), &config()), None);
        assert_eq!(problem(&api_error(409, "conflict"), &config()), None);
    }
}
