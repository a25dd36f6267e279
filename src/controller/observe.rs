//! Observe: what the caches say about a store's children now, reduced by the pure functions of [`crate::status`].
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::Store;
use tracing::{Instrument, info_span};

use super::context::Context;
use super::error::Error;
use crate::api::names;
use crate::apply::{self, Owner};
use crate::cached::Cached;
use crate::render;
use crate::status::{self, Applied, BucketState};
use crate::validate::ValidatedStore;

/// The facts the status of an applied store is computed from.
pub async fn observe(
    store: &ValidatedStore,
    ctx: &Context,
    uid: &str,
    bucket: Option<BucketState>,
) -> Result<Applied, Error> {
    let owner = Owner {
        namespace: &store.namespace,
        store: &store.name,
        uid,
    };
    let k = &ctx.children;
    let workload = match owned(&k.statefulsets, &owner) {
        Some(s) => Some(status::statefulset_rollout(&s)),
        None => owned(&k.deployments, &owner).map(|d| status::deployment_rollout(&d)),
    };
    let claims: Vec<_> = k
        .claims
        .iter()
        .flat_map(Store::state)
        .filter(|c| {
            c.namespace().as_deref() == Some(store.namespace.as_str())
                && c.instance() == Some(store.name.as_str())
        })
        .filter_map(|c| c.object())
        .collect();
    let (endpoints, route) = status::resolve_endpoints(
        render::endpoints(store, &ctx.platform),
        owned(&k.ingresses, &owner).as_ref(),
        owned(&k.routes, &owner).as_ref(),
    );
    let image = render::image(store, &ctx.platform);
    let security_context = security_context_conflict(store, ctx).await?;
    Ok(Applied {
        workload,
        claims_bound: status::claims_bound(&claims),
        bucket,
        // Set by the reconcile, which asked Keycloak before applying.
        keycloak: None,
        database: Some(status::database_state(store, &claims)),
        route,
        gaps: render::gaps(store, &ctx.platform)
            .into_iter()
            .map(|g| (g.field, g.reason))
            .collect(),
        security_context,
        pod_problem: status::pod_problem(&super::pods::of_store(
            &ctx.pods,
            &store.namespace,
            &store.name,
        )),
        endpoints,
        zot_version: render::image_version(&image),
        // Filled in by the pipeline, which checked the key before rendering.
        signing: None,
        vulnerability_databases: Vec::new(),
        selector: names::selector_string(&store.name),
    })
}

/// The object of a cached kind the store owns, if any (None too where the kind is not served).
fn owned<K>(cache: &Option<Store<Cached<K>>>, owner: &Owner<'_>) -> Option<K>
where
    K: kube::Resource + serde::de::DeserializeOwned,
    K::DynamicType: Clone + Eq + std::hash::Hash,
{
    cache
        .as_ref()?
        .find(|o| apply::owned_by(o, owner))?
        .object()
}

/// On OpenShift, a UID or fsGroup fixed outside the namespace's range keeps pods from being admitted.
async fn security_context_conflict(
    store: &ValidatedStore,
    ctx: &Context,
) -> Result<Option<String>, Error> {
    if !ctx.platform.openshift || store.spec.security_context.is_none() {
        return Ok(None);
    }
    let namespaces: Api<Namespace> = Api::all(ctx.client.clone());
    let ns = namespaces
        .get_opt(&store.namespace)
        .instrument(info_span!("get_namespace"))
        .await
        .map_err(|source| Error::ReadNamespace {
            name: store.namespace.clone(),
            source,
        })?;
    let annotations: BTreeMap<String, String> =
        ns.and_then(|n| n.metadata.annotations).unwrap_or_default();
    Ok(crate::openshift::scc::uid_range_conflict(
        store.spec.security_context.as_ref(),
        &annotations,
    ))
}
