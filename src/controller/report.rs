//! Status: computed by [`crate::status`], written once with server-side apply and the operator's field manager
//! (only when it changed), with Events for real transitions. Also the status of an object the operator cannot
//! parse.
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::error_boundary::InvalidObject;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::time::Duration;
use tracing::{Instrument, info_span, warn};

use super::context::Context;
use super::error::Error;
use super::events;
use crate::api::names;
use crate::api::v1alpha1::{Phase, ZotArtifactStore, ZotArtifactStoreStatus};
use crate::status::{self, Observed};
use k8s_openapi::jiff::Timestamp;

fn params() -> PatchParams {
    PatchParams::apply(names::MANAGED_BY).force()
}

/// How long the status changes of one store that move neither the phase, nor Ready, nor the observed generation
/// (counts, messages) are gathered into one write.
pub const STATUS_GATHER: Duration = Duration::from_secs(1);
/// The same while a store comes up with no problem seen ([`status::coming_up`]): its next transition (Ready, or a
/// problem) brings them along, or this long after the last write at the latest.
pub const COMING_UP_GATHER: Duration = Duration::from_secs(30);
/// How long after its creation a new store that is coming up waits for its first status: one that is Ready by
/// then gets a single write, Ready; a problem is written at once.
pub const FIRST_STATUS_WAIT: Duration = Duration::from_secs(5);

/// Computes the status and writes it — only when it differs — with events for real transitions.
pub async fn write_status(
    store: &ZotArtifactStore,
    ctx: &Context,
    observed: &Observed,
) -> Result<(), Error> {
    write(store, ctx, observed, false).await.map(|_| ())
}

/// Like [`write_status`], for the end of a reconcile that applied the children: a change that is not a
/// [`status::transition`] waits for the rest of its gathering window ([`STATUS_GATHER`], [`COMING_UP_GATHER`]), and
/// the first status of a store coming up for the rest of [`FIRST_STATUS_WAIT`]. Returns how long it waits; the
/// reconcile comes back then.
pub async fn write_status_gathered(
    store: &ZotArtifactStore,
    ctx: &Context,
    observed: &Observed,
) -> Result<Option<Duration>, Error> {
    write(store, ctx, observed, true).await
}

/// How long a status change waits before it is written (None: now); see [`write_status_gathered`].
fn gathering(
    store: &ZotArtifactStore,
    ctx: &Context,
    key: &(String, String),
    previous: Option<&ZotArtifactStoreStatus>,
    next: &ZotArtifactStoreStatus,
) -> Option<Duration> {
    match previous {
        None if status::coming_up(next) => {
            let created = store.metadata.creation_timestamp.as_ref()?;
            let age = Timestamp::now().duration_since(created.0);
            // A creation time ahead of this clock (skew) counts as now.
            let age = Duration::try_from(age).unwrap_or(Duration::ZERO);
            FIRST_STATUS_WAIT.checked_sub(age).filter(|w| !w.is_zero())
        }
        Some(previous) if !status::transition(previous, next) => {
            let window = if status::coming_up(next) {
                COMING_UP_GATHER
            } else {
                STATUS_GATHER
            };
            ctx.status_writes.wait(key, window)
        }
        _ => None,
    }
}

async fn write(
    store: &ZotArtifactStore,
    ctx: &Context,
    observed: &Observed,
    gather: bool,
) -> Result<Option<Duration>, Error> {
    // The status this operator wrote a moment ago, if the store cache does not show it yet.
    let key = (store.namespace().unwrap_or_default(), store.name_any());
    let written = ctx
        .statuses
        .newer_than(&key, crate::writes::revision(&store.metadata));
    let previous = written.as_ref().or(store.status.as_ref());
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let next = status::compute(previous, store.metadata.generation, observed, now);
    if status::unchanged(previous, &next) {
        return Ok(None);
    }
    if gather && let Some(wait) = gathering(store, ctx, &key, previous, &next) {
        return Ok(Some(wait));
    }
    events::announce_transitions(ctx, store, previous, &next).await;
    let api: Api<ZotArtifactStore> =
        Api::namespaced(ctx.client.clone(), &store.namespace().unwrap_or_default());
    let patch = json!({
        "apiVersion": names::API_VERSION,
        "kind": names::KIND,
        "status": next,
    });
    let written = api
        .patch_status(&store.name_any(), &params(), &Patch::Apply(&patch))
        .instrument(info_span!("patch_status"))
        .await
        .map_err(Error::PatchStatus)?;
    ctx.status_writes.wrote(key.clone(), COMING_UP_GATHER);
    ctx.statuses.remember(
        key,
        crate::writes::revision(&written.metadata),
        next.clone(),
    );
    ctx.metrics.set_store_phase(
        &store.namespace().unwrap_or_default(),
        &store.name_any(),
        next.phase.map(Phase::as_str),
        status::find(Some(&next), status::types::READY).is_some_and(|c| c.status == "True"),
    );
    Ok(None)
}

/// An object the operator cannot parse: tell its owner through an Event and a condition (applied like every
/// other status), then wait for a change.
pub async fn report_unparsable(invalid: &InvalidObject, ctx: &Context) -> Result<(), Error> {
    let meta = &invalid.metadata;
    let (Some(name), Some(namespace)) = (meta.name.clone(), meta.namespace.clone()) else {
        return Ok(());
    };
    warn!(store = %name, namespace = %namespace, error = %invalid.error, "cannot parse the store");
    let resource = kube::core::ApiResource::erase::<ZotArtifactStore>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &namespace, &resource);
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let message = format!("the operator cannot read this object: {}", invalid.error);
    let condition = |t: &str| {
        json!({"type": t, "status": "False", "reason": "InvalidObject", "message": message,
               "observedGeneration": meta.generation, "lastTransitionTime": now})
    };
    // Applying only phase and conditions would drop the rest of the status this field manager wrote (counts,
    // selector, endpoints): keep what is there, as a refused spec does.
    let current = api
        .get_opt(&name)
        .instrument(info_span!("get", kind = names::KIND, name = %name))
        .await
        .map_err(Error::PatchStatus)?;
    let mut status = current
        .and_then(|o| o.data.get("status").cloned())
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| json!({}));
    status["phase"] = json!(Phase::Failed);
    status["conditions"] = json!([condition("Ready"), condition("ConfigReady")]);
    let patch = json!({"apiVersion": names::API_VERSION, "kind": names::KIND, "status": status});
    api.patch_status(&name, &params(), &Patch::Apply(&patch))
        .instrument(info_span!("patch_status"))
        .await
        .map_err(Error::PatchStatus)?;
    let reference = ObjectReference {
        api_version: Some(ZotArtifactStore::api_version(&()).to_string()),
        kind: Some(ZotArtifactStore::kind(&()).to_string()),
        name: Some(name),
        namespace: Some(namespace),
        uid: meta.uid.clone(),
        ..Default::default()
    };
    events::publish_about(
        ctx,
        &reference,
        EventType::Warning,
        "InvalidObject",
        message,
    )
    .await;
    Ok(())
}
