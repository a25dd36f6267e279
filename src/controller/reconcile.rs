//! One reconcile of one store, as a pipeline: dereference (and validate) → render → apply → observe → status.
use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use tracing::{Instrument, field, info_span, warn};

use super::context::Context;
use super::dereference::{References, dereference};
use super::error::{Blocked, Error};
use super::events::announce_changes;
use super::observe::observe;
use super::report::{report_unparsable, write_status, write_status_gathered};
use super::{bucket, deletion, identity, scanner, signing, tls};
use crate::api::v1alpha1::ZotArtifactStore;
use crate::apply::{self, Owner};
use crate::render::{self, Desired};
use crate::status::Observed;
use crate::validate::ValidatedStore;

/// Resync of a healthy store.
const RESYNC: Duration = Duration::from_secs(600);
/// How soon a store comes back when it arrived before the children's caches had listed.
const CACHE_SYNC_RETRY: Duration = Duration::from_millis(500);

/// Entry point for the Controller.
pub async fn reconcile(
    guard: Arc<DeserializeGuard<ZotArtifactStore>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let store = match &guard.0 {
        Ok(store) => store,
        Err(invalid) => {
            report_unparsable(invalid, &ctx).await?;
            return Ok(Action::await_change());
        }
    };
    // Until every child cache has listed once, apply would report existing children as created and status would
    // be computed from a partial view: come back shortly instead (the controller drives the caches meanwhile;
    // waiting here would hold the reconcile slot and a graceful shutdown).
    if !ctx.caches_synced() {
        return Ok(Action::requeue(CACHE_SYNC_RETRY));
    }
    let span = info_span!(
        parent: None,
        "reconcile",
        namespace = %store.namespace().unwrap_or_default(),
        store = %store.name_any(),
        generation = store.metadata.generation.unwrap_or_default(),
        result = field::Empty,
        error_category = field::Empty,
    );
    let timer = ctx.metrics.reconcile_started();
    let result = pipeline(store, &ctx).instrument(span.clone()).await;
    drop(timer);
    match &result {
        Ok(_) => {
            span.record("result", "success");
            ctx.metrics.record_success();
            ctx.forget_failures(&ObjectRef::from_obj(store));
        }
        Err(e) => {
            span.record("result", "error");
            span.record("error_category", e.category());
            ctx.metrics.record_error(e.category());
        }
    }
    result
}

/// The pipeline, one call per step.
async fn pipeline(store: &ZotArtifactStore, ctx: &Context) -> Result<Action, Error> {
    if store.metadata.deletion_timestamp.is_some() {
        return deletion::finish(store, ctx).await;
    }
    let References {
        validated,
        mut inputs,
        s3_keys,
    } = match dereference(store, ctx).await? {
        Ok(references) => references,
        Err(blocked) => return refuse(store, ctx, blocked).await,
    };
    let signing_key = match signing::ensure(ctx, store, &validated).await? {
        Some(Ok(state)) => Some(state),
        Some(Err(blocked)) => return refuse(store, ctx, blocked).await,
        None => None,
    };
    // The pods trust the public key they mount at start: a new key rolls them.
    inputs.trusted_key = signing_key
        .as_ref()
        .map(|s| s.record.public_key_fingerprint.clone());
    deletion::keep_finalizer(ctx, store, deletion::wanted(&validated)).await?;
    let bucket = match bucket::prepare(ctx, store, &validated, s3_keys).await {
        Ok(bucket) => bucket,
        Err(e) => return storage_unavailable(store, ctx, e).await,
    };
    let keycloak = match identity::verify(ctx, &validated, &inputs).await {
        Ok(verified) => verified,
        Err(e) => return keycloak_unavailable(store, ctx, e).await,
    };
    let had_issuer = tls::had_issuer(ctx, store, &validated);
    let renew_at = match tls::prepare(ctx, &validated, had_issuer, &mut inputs).await? {
        tls::Prepared::Ready { renew_at } => renew_at,
        tls::Prepared::NotIssued { reason, message } => {
            let observed = Observed::CertificateUnavailable { reason, message };
            write_status(store, ctx, &observed).await?;
            return Ok(Action::requeue(tls::ISSUE_RETRY));
        }
    };
    let desired = render::desired(&validated, &ctx.platform, &inputs);
    let (uid, unconfirmed) = apply_children(store, ctx, &validated, desired).await?;
    replace_stuck_pods(ctx, &validated, &uid).await;
    let mut observed = observe(&validated, ctx, &uid, bucket).await?;
    observed.signing = signing_key;
    observed.vulnerability_databases = scanner::databases(ctx, &validated).await;
    observed.keycloak = keycloak;
    let gathering =
        write_status_gathered(store, ctx, &Observed::Applied(Box::new(observed))).await?;
    // Back when the operator's serving certificate is due, if that comes before the resync; soon, when a child was
    // left alone on the strength of a write the cache has not shown yet (the cache then decides).
    let resync = if unconfirmed {
        crate::writes::CACHE_LAG + Duration::from_secs(1)
    } else {
        RESYNC
    };
    let due = renew_at
        .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
        .map_or(resync, |wait| wait.min(resync) + Duration::from_secs(1));
    Ok(Action::requeue(gathering.map_or(due, |wait| wait.min(due))))
}

/// Pods of an older StatefulSet revision that cannot start would hold its rollout forever: replace them.
async fn replace_stuck_pods(ctx: &Context, store: &ValidatedStore, uid: &str) {
    let owner = Owner {
        namespace: &store.namespace,
        store: &store.name,
        uid,
    };
    let statefulset = ctx
        .children
        .statefulsets
        .as_ref()
        .and_then(|cache| cache.find(|s| apply::owned_by(s, &owner)))
        .and_then(|s| s.object());
    super::pods::replace_stuck(&ctx.client, &ctx.pods, statefulset.as_ref()).await;
}

/// A spec the operator cannot run shows why in the status and waits for a change: of the store itself, or of a
/// Secret it names (both watched).
async fn refuse(
    store: &ZotArtifactStore,
    ctx: &Context,
    blocked: Blocked,
) -> Result<Action, Error> {
    write_status(store, ctx, &blocked.into()).await?;
    Ok(Action::await_change())
}

/// The object store cannot be used: StorageReady=False with the server's message, and a retry with backoff (what
/// runs keeps running; zot is not started against a bucket that is not there).
async fn storage_unavailable(
    store: &ZotArtifactStore,
    ctx: &Context,
    error: crate::s3::Error,
) -> Result<Action, Error> {
    let observed = Observed::StorageUnavailable {
        reason: error.reason().to_string(),
        message: error.to_string(),
    };
    write_status(store, ctx, &observed).await?;
    Err(Error::Storage(error))
}

/// Keycloak refuses the store's realm, scopes or client secret, or does not answer: KeycloakReady=False with
/// Keycloak's answer, a Warning event, and a retry with backoff. Nothing is applied meanwhile: zot would not start
/// (an unknown realm, an unreachable Keycloak) or not sign anyone in, and running pods keep their configuration.
async fn keycloak_unavailable(
    store: &ZotArtifactStore,
    ctx: &Context,
    error: crate::keycloak::Error,
) -> Result<Action, Error> {
    let observed = Observed::KeycloakUnavailable {
        reason: error.reason().to_string(),
        message: error.to_string(),
    };
    write_status(store, ctx, &observed).await?;
    super::events::publish(
        ctx,
        store,
        kube::runtime::events::EventType::Warning,
        error.reason(),
        error.to_string(),
    )
    .await;
    Err(Error::Keycloak(error))
}

/// Applies the desired children (in the order of the one table of kinds), prunes the unwanted ones and announces
/// what changed. Returns the store's UID, the owner of every child, and whether some child still waits for the
/// cache to confirm it ([`apply::Applied::unconfirmed`]).
async fn apply_children(
    store: &ZotArtifactStore,
    ctx: &Context,
    validated: &ValidatedStore,
    desired: Desired,
) -> Result<(String, bool), Error> {
    let uid = store.uid().ok_or(Error::MissingMetadata("metadata.uid"))?;
    let owner = Owner {
        namespace: &validated.namespace,
        store: &validated.name,
        uid: &uid,
    };
    let objects = desired.into_objects();
    let applied =
        match apply::apply_all(&ctx.client, &owner, objects, &ctx.children, &ctx.applied).await {
            Ok(applied) => applied,
            Err(error) => {
                let error = Error::from(error);
                // A refusal that persists (this is at least the second failure in a row, so not a passing
                // conflict) shows in the status; the reconcile still fails, to back off.
                if let Some(blocked) = error.as_blocked()
                    && ctx.failures(&ObjectRef::from_obj(store)) > 0
                    && let Err(e) = write_status(store, ctx, &blocked.into()).await
                {
                    warn!(error = %e, "could not report the failure in the status");
                }
                return Err(error);
            }
        };
    announce_changes(ctx, store, &applied.changes).await;
    Ok((uid, applied.unconfirmed))
}
