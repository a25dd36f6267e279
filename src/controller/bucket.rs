//! The bucket of s3 storage, made sure of before zot starts: found, or created with the store's own access key.
use kube::runtime::events::EventType;

use super::context::Context;
use super::events;
use crate::api::v1alpha1::{S3Storage, StorageType, ZotArtifactStore};
use crate::s3::{self, AccessKeys, Ensured, Target};
use crate::status::{self, BucketState};
use crate::validate::ValidatedStore;

/// The s3 section of a store whose storage type is s3.
pub fn s3_spec(store: &ValidatedStore) -> Option<&S3Storage> {
    let storage = &store.spec.storage;
    storage
        .s3
        .as_ref()
        .filter(|_| storage.type_ == StorageType::S3)
}

/// The bucket of `spec` reached with `keys`: the spec's endpoint, or AWS S3 of the region; path-style addressing
/// as zot's render decides it (forcePathStyle, by default on with an endpoint).
pub fn target(spec: &S3Storage, keys: AccessKeys) -> Result<Target, s3::Error> {
    Target::new(
        spec.endpoint.as_deref(),
        &spec.region,
        &spec.bucket,
        spec.force_path_style.unwrap_or(spec.endpoint.is_some()),
        keys,
    )
}

/// Makes sure the bucket of s3 storage exists; None for every other backend. Creating it is announced with an
/// Event and recorded in the status (a bucket the operator created is the only kind it may delete).
pub async fn prepare(
    ctx: &Context,
    store: &ZotArtifactStore,
    validated: &ValidatedStore,
    keys: Option<AccessKeys>,
) -> Result<Option<BucketState>, s3::Error> {
    let Some(spec) = s3_spec(validated) else {
        return Ok(None);
    };
    let Some(keys) = keys else {
        return Ok(Some(BucketState::NotChecked {
            bucket: spec.bucket.clone(),
        }));
    };
    let target = target(spec, keys)?;
    let ensured = ctx.s3.ensure_bucket(&target).await?;
    let uid = store.metadata.uid.clone().unwrap_or_default();
    if ensured == Ensured::Created {
        ctx.remember_created_bucket(&uid, target.bucket(), target.endpoint());
        events::publish(
            ctx,
            store,
            EventType::Normal,
            "BucketCreated",
            format!(
                "created bucket {} at {} (region {})",
                target.bucket(),
                target.endpoint(),
                spec.region
            ),
        )
        .await;
    }
    Ok(Some(BucketState::Ready(status::bucket_record(
        store.status.as_ref(),
        target.bucket(),
        target.endpoint(),
        ensured == Ensured::Created || ctx.created_bucket(&uid, target.bucket(), target.endpoint()),
    ))))
}
