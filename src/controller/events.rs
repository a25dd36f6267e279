//! Events and log lines for what a reconcile changed: each child created, updated or pruned, and each real
//! transition of the store's conditions (not one per resync).
use k8s_openapi::api::core::v1::ObjectReference;
use kube::Resource;
use kube::ResourceExt;
use kube::runtime::events::{Event, EventType};
use tracing::{Instrument, info, info_span, warn};

use super::context::Context;
use crate::api::v1alpha1::{ZotArtifactStore, ZotArtifactStoreStatus};
use crate::apply::Change;
use crate::status;

/// One log line and one Event per change apply or prune made.
pub async fn announce_changes(ctx: &Context, store: &ZotArtifactStore, changes: &[Change]) {
    for change in changes {
        let (reason, verb, kind, name) = match change {
            Change::Created { kind, name } => ("Created", "created", kind, name),
            Change::Updated { kind, name } => ("Updated", "updated", kind, name),
            Change::Pruned { kind, name } => ("Pruned", "deleted the no longer wanted", kind, name),
        };
        info!(store = %store.name_any(), namespace = %store.namespace().unwrap_or_default(), kind, name = %name, "{verb}");
        publish(
            ctx,
            store,
            EventType::Normal,
            reason,
            format!("{verb} {kind} {name}"),
        )
        .await;
    }
}

/// One Event per real transition of Ready and ConfigReady.
pub async fn announce_transitions(
    ctx: &Context,
    store: &ZotArtifactStore,
    previous: Option<&ZotArtifactStoreStatus>,
    next: &ZotArtifactStoreStatus,
) {
    use status::types::{CONFIG_READY, READY};
    let was = |t: &str| status::find(previous, t).map(|c| c.status.clone());
    let now = |t: &str| status::find(Some(next), t);
    if let Some(config) = now(CONFIG_READY)
        && was(CONFIG_READY).as_deref() != Some(config.status.as_str())
    {
        if config.status == "False" {
            warn!(store = %store.name_any(), reason = %config.reason, message = %config.message, "the store cannot run");
            publish(
                ctx,
                store,
                EventType::Warning,
                &config.reason,
                config.message.clone(),
            )
            .await;
        } else if was(CONFIG_READY).is_some() {
            publish(
                ctx,
                store,
                EventType::Normal,
                "Recovered",
                "the spec is accepted again".to_string(),
            )
            .await;
        }
    }
    if let Some(ready) = now(READY)
        && ready.status == "True"
        && was(READY).as_deref() != Some("True")
    {
        info!(store = %store.name_any(), "store is ready");
        publish(
            ctx,
            store,
            EventType::Normal,
            "Ready",
            ready.message.clone(),
        )
        .await;
    }
}

/// Publishes an Event about `store`; a failure is logged, never fatal.
pub async fn publish(
    ctx: &Context,
    store: &ZotArtifactStore,
    type_: EventType,
    reason: &str,
    note: String,
) {
    publish_about(ctx, &store.object_ref(&()), type_, reason, note).await;
}

/// Publishes an Event about the object `reference` (also one the operator cannot parse).
pub async fn publish_about(
    ctx: &Context,
    reference: &ObjectReference,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(note),
        action: "Reconcile".to_string(),
        secondary: None,
    };
    if let Err(e) = ctx
        .recorder
        .publish(&event, reference)
        .instrument(info_span!("publish_event", reason))
        .await
    {
        warn!(error = %e, "could not publish an event");
    }
}
