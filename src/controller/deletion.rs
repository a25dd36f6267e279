//! Deleting a store whose data goes with it (`storage.deletionPolicy: Delete` on s3): a finalizer holds the store
//! until zot has stopped, its data under the root directory is deleted and a bucket the operator created (and that
//! holds nothing else) is deleted. A clean-up that can never succeed (the access key's Secret is gone) or keeps
//! failing for [`GIVE_UP_AFTER`] ends with a Warning event saying what was left behind: a deletion is never blocked
//! forever. With `Retain` (the default) the store has no finalizer and the bucket is never touched.
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tracing::{Instrument, info, info_span};

use super::bucket;
use super::context::Context;
use super::error::Error;
use super::events;
use crate::api::names::Names;
use crate::api::v1alpha1::{DeletionPolicy, ZotArtifactStore};
use crate::s3::{self, Target};
use crate::validate::{self, ValidatedStore};

/// The finalizer of a store whose object storage is cleaned up on deletion.
pub const FINALIZER: &str = "artifact.zotregistry.io/storage-cleanup";
/// How long a failing clean-up is retried before the store is let go.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(15 * 60);
/// How soon a deleting store is looked at again while its zot pods stop.
const PODS_STOPPING: Duration = Duration::from_secs(2);

/// Whether the store needs the finalizer: s3 storage with an access key and deletionPolicy Delete.
pub fn wanted(store: &ValidatedStore) -> bool {
    store.spec.storage.deletion_policy == DeletionPolicy::Delete
        && bucket::s3_spec(store).is_some_and(|s3| s3.access_key_secret.is_some())
}

/// Adds or removes the finalizer as `wanted` says (a store that changes to Retain is let go at once).
pub async fn keep_finalizer(
    ctx: &Context,
    store: &ZotArtifactStore,
    wanted: bool,
) -> Result<(), Error> {
    if has_finalizer(store) == wanted {
        return Ok(());
    }
    let mut finalizers: Vec<String> = store
        .finalizers()
        .iter()
        .filter(|f| f.as_str() != FINALIZER)
        .cloned()
        .collect();
    if wanted {
        finalizers.push(FINALIZER.to_string());
    }
    // The resourceVersion makes the merge patch conditional: another writer's finalizer is never dropped.
    let patch = json!({"metadata": {
        "resourceVersion": store.resource_version(),
        "finalizers": finalizers,
    }});
    api(ctx, store)
        .patch(
            &store.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .instrument(info_span!("patch_finalizers", add = wanted))
        .await
        .map_err(Error::Finalizer)?;
    Ok(())
}

/// A store being deleted: clean up, then let it go.
pub async fn finish(store: &ZotArtifactStore, ctx: &Context) -> Result<Action, Error> {
    if !has_finalizer(store) {
        return Ok(Action::await_change());
    }
    let (type_, reason, message) = match clean_up(store, ctx).await {
        Ok(Step::PodsStopping) => return Ok(Action::requeue(PODS_STOPPING)),
        Ok(Step::Done(message)) => (EventType::Normal, "StorageDeleted", message),
        Ok(Step::LeftBehind(message)) => (EventType::Warning, "StorageLeftBehind", message),
        Err(e) if deleting_for(store) >= GIVE_UP_AFTER => (
            EventType::Warning,
            "StorageLeftBehind",
            format!(
                "gave up cleaning up after {} minutes: {e}; {}",
                GIVE_UP_AFTER.as_secs() / 60,
                left_behind(store)
            ),
        ),
        Err(e) => {
            events::publish(
                ctx,
                store,
                EventType::Warning,
                "StorageCleanupFailed",
                format!("{e}; retrying"),
            )
            .await;
            return Err(e);
        }
    };
    info!(reason, %message, "storage clean-up finished");
    events::publish(ctx, store, type_, reason, message).await;
    keep_finalizer(ctx, store, false).await?;
    Ok(Action::await_change())
}

/// Where a clean-up stands.
enum Step {
    /// zot still runs: its pods must be gone before its data is.
    PodsStopping,
    /// Everything that was to go is gone (the message says what).
    Done(String),
    /// The clean-up cannot happen; the message says what remains.
    LeftBehind(String),
}

async fn clean_up(store: &ZotArtifactStore, ctx: &Context) -> Result<Step, Error> {
    let namespace = store.namespace().unwrap_or_default();
    let name = store.name_any();
    let Some(spec) = store.spec.storage.s3.as_ref() else {
        return Ok(Step::LeftBehind(
            "the store no longer names an s3 bucket".into(),
        ));
    };
    // zot must not write while its data goes: delete the workload first and wait for its pods.
    if !super::pods::of_store(&ctx.pods, &namespace, &name).is_empty() {
        let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), &namespace);
        if let Err(e) = deployments
            .delete(&Names::new(&name).base(), &DeleteParams::background())
            .await
            && !matches!(&e, kube::Error::Api(status) if status.code == 404)
        {
            return Err(Error::DeleteWorkload(e));
        }
        return Ok(Step::PodsStopping);
    }
    let Some(reference) = spec.access_key_secret.as_ref() else {
        return Ok(Step::LeftBehind(left_behind(store)));
    };
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let secret = secrets
        .get_opt(&reference.name)
        .await
        .map_err(|source| Error::ReadSecret {
            name: reference.name.clone(),
            source,
        })?;
    let keys = match secret
        .as_ref()
        .and_then(|s| validate::s3_access_keys(&store.spec, &reference.name, s))
    {
        Some(Ok(keys)) => keys,
        Some(Err(refusal)) => {
            return Ok(Step::LeftBehind(format!(
                "{refusal}; {}",
                left_behind(store)
            )));
        }
        None => {
            return Ok(Step::LeftBehind(format!(
                "Secret {} with the access key is gone; {}",
                reference.name,
                left_behind(store)
            )));
        }
    };
    let target = bucket::target(spec, keys)?;
    let prefix = s3::data_prefix(&root_directory(store));
    let deleted = ctx.s3.delete_prefix(&target, &prefix).await?;
    let mut done = format!(
        "deleted zot's data ({deleted} objects under '{prefix}') from bucket {} at {}",
        target.bucket(),
        target.endpoint()
    );
    if created_by_operator(ctx, store, &target) {
        if ctx.s3.is_empty(&target).await? {
            ctx.s3.delete_bucket(&target).await?;
            done.push_str(", and the bucket, which the operator had created");
        } else {
            done.push_str(
                "; the bucket, which the operator had created, is kept: it holds other objects",
            );
        }
    }
    Ok(Step::Done(done))
}

/// zot's root directory in the bucket, as the render gives it.
fn root_directory(store: &ZotArtifactStore) -> String {
    store
        .spec
        .storage
        .s3
        .as_ref()
        .and_then(|s| s.root_directory.clone())
        .unwrap_or_else(|| "/zot".to_string())
}

/// Whether the status (or, should the cached store predate that record, this operator's memory) says the operator
/// created the bucket.
fn created_by_operator(ctx: &Context, store: &ZotArtifactStore, target: &Target) -> bool {
    let uid = store.metadata.uid.as_deref().unwrap_or_default();
    let recorded = store
        .status
        .as_ref()
        .and_then(|s| s.storage.as_ref())
        .is_some_and(|s| {
            s.created_by_operator && s.bucket == target.bucket() && s.endpoint == target.endpoint()
        });
    recorded || ctx.created_bucket(uid, target.bucket(), target.endpoint())
}

/// What stays when the clean-up cannot happen.
fn left_behind(store: &ZotArtifactStore) -> String {
    let bucket = store
        .spec
        .storage
        .s3
        .as_ref()
        .map(|s| s.bucket.as_str())
        .unwrap_or("?");
    format!(
        "left behind: zot's data under '{}' in bucket {bucket}{}",
        root_directory(store),
        if store
            .status
            .as_ref()
            .and_then(|s| s.storage.as_ref())
            .is_some_and(|s| s.created_by_operator)
        {
            ", and the bucket itself (created by the operator)"
        } else {
            ""
        }
    )
}

fn has_finalizer(store: &ZotArtifactStore) -> bool {
    store.finalizers().iter().any(|f| f == FINALIZER)
}

/// How long ago the deletion was asked for.
fn deleting_for(store: &ZotArtifactStore) -> Duration {
    store
        .meta()
        .deletion_timestamp
        .as_ref()
        .map(|t| k8s_openapi::jiff::Timestamp::now().duration_since(t.0))
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or_default()
}

fn api(ctx: &Context, store: &ZotArtifactStore) -> Api<ZotArtifactStore> {
    Api::namespaced(ctx.client.clone(), &store.namespace().unwrap_or_default())
}
