//! Leader hand-off: a standby waits for the Lease (ready meanwhile, or failing `/readyz` with what to do while
//! the election cannot work at all), and the leader stops when it loses the Lease.
use std::time::Duration;

use tokio::sync::watch;
use tracing::info;

use super::signals::wait_for;
use crate::http::Readiness;
use crate::leader::{Election, LeaseConfig, Role};

/// How the wait for the Lease ended.
pub enum Waited {
    Leading,
    ShutDown,
}

/// Waits until `election` makes this replica the leader, or shutdown. `/readyz` reports a standby as ready, and
/// fails with the election's problem while there is one (e.g. the Lease namespace does not exist).
pub async fn until_leader(
    election: &mut Election,
    readiness: &Readiness,
    shutdown: watch::Receiver<bool>,
) -> Waited {
    readiness.set_synced(true);
    info!("waiting to become the leader");
    let mut problems = election.problems();
    let follow = readiness.clone();
    let mirror = tokio::spawn(async move {
        loop {
            follow.set_problem(problems.borrow_and_update().clone());
            if problems.changed().await.is_err() {
                break;
            }
        }
    });
    let waited = tokio::select! {
        _ = election.until_leader() => Waited::Leading,
        _ = wait_for(shutdown) => Waited::ShutDown,
    };
    mirror.abort();
    readiness.set_problem(None);
    readiness.set_synced(false);
    waited
}

/// Resolves to true when the lease is lost after having been held (never, without election).
pub async fn lost_lease(role: Option<watch::Receiver<Role>>) -> bool {
    let Some(mut role) = role else {
        return std::future::pending().await;
    };
    loop {
        if *role.borrow_and_update() == Role::Standby {
            return true;
        }
        if role.changed().await.is_err() {
            return false;
        }
    }
}

/// Default lease timings: renew every 5 s, taken over 15 s after the last renewal.
pub fn lease_config(namespace: String, name: String, identity: String) -> LeaseConfig {
    LeaseConfig {
        namespace,
        name,
        identity,
        lease_duration: Duration::from_secs(15),
        renew_every: Duration::from_secs(5),
    }
}
