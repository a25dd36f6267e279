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

/// One log line per change apply or prune made, and one Event per kind of change (created, updated, pruned)
/// naming the children. A new store (no status yet) gets no such Event: its children are all created at once,
/// and its Ready event says the rest; the Events are for the changes of a store that ran (a child deleted and
/// made again, a spec change, a feature turned off).
pub async fn announce_changes(ctx: &Context, store: &ZotArtifactStore, changes: &[Change]) {
    let mut by_reason: Vec<(&str, &str, Vec<String>)> = Vec::new();
    for change in changes {
        let (reason, verb, kind, name) = match change {
            Change::Created { kind, name } => ("Created", "created", kind, name),
            Change::Updated { kind, name } => ("Updated", "updated", kind, name),
            Change::Pruned { kind, name } => ("Pruned", "deleted the no longer wanted", kind, name),
        };
        info!(store = %store.name_any(), namespace = %store.namespace().unwrap_or_default(), kind, name = %name, "{verb}");
        let child = format!("{kind} {name}");
        match by_reason.iter_mut().find(|(r, _, _)| *r == reason) {
            Some((_, _, children)) => children.push(child),
            None => by_reason.push((reason, verb, vec![child])),
        }
    }
    if store.status.is_none() {
        return;
    }
    for (reason, verb, children) in by_reason {
        publish(
            ctx,
            store,
            EventType::Normal,
            reason,
            summary(verb, &children),
        )
        .await;
    }
}

/// Longest note of an Event (events.k8s.io/v1 refuses longer ones).
const NOTE_LIMIT: usize = 1024;

/// "created ServiceAccount a, Secret b and 3 more", within [`NOTE_LIMIT`].
fn summary(verb: &str, children: &[String]) -> String {
    let mut note = verb.to_string();
    for (i, child) in children.iter().enumerate() {
        let rest = children.len() - i;
        let more = format!(" and {rest} more");
        let separator = if i == 0 { " " } else { ", " };
        if note.len() + separator.len() + child.len() + more.len() > NOTE_LIMIT {
            note.push_str(&more);
            break;
        }
        note.push_str(separator);
        note.push_str(child);
    }
    note
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_note_names_every_child_and_stays_within_the_limit() {
        let few = ["ServiceAccount a".to_string(), "Secret b".to_string()];
        assert_eq!(
            summary("created", &few),
            "created ServiceAccount a, Secret b"
        );
        let many: Vec<String> = (0..200).map(|i| format!("Secret s-{i:04}")).collect();
        let note = summary("created", &many);
        assert!(note.len() <= NOTE_LIMIT, "{}", note.len());
        assert!(note.starts_with("created Secret s-0000, Secret s-0001"));
        assert!(note.ends_with(" more"), "{note}");
    }
}
