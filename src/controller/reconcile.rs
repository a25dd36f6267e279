//! One reconcile of one store, as a pipeline: dereference → validate → render → apply → status.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tracing::{Instrument, field, info, info_span, warn};

use super::context::Context;
use super::error::{Blocked, Error};
use crate::api::names;
use crate::api::v1alpha1::{Phase, ZotArtifactStore, ZotArtifactStoreStatus};
use crate::apply::{self, Change, Owner};
use crate::render::{self, Desired, Inputs};
use crate::status::{self, Applied, Observed, RouteState, Workload};
use crate::validate::{self, ValidatedStore};

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
        Err(invalid) => return report_unparsable(invalid, &ctx).await,
    };
    // Until every child cache has listed once, apply would report existing children as created and status would
    // be computed from a partial view: come back shortly instead (the controller drives the caches meanwhile;
    // waiting here would hold the reconcile slot and a graceful shutdown).
    if !ctx.caches_synced() {
        return Ok(Action::requeue(CACHE_SYNC_RETRY));
    }
    let namespace = store.namespace().unwrap_or_default();
    let span = info_span!(
        parent: None,
        "reconcile",
        namespace = %namespace,
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

async fn pipeline(store: &ZotArtifactStore, ctx: &Context) -> Result<Action, Error> {
    let uid = store.uid().ok_or(Error::MissingMetadata("metadata.uid"))?;
    let (validated, inputs) = match prepare(store, ctx).await? {
        Ok(ready) => ready,
        Err(blocked) => {
            write_status(store, ctx, &blocked.into()).await?;
            // A refused spec waits for a change: of the store itself, or of a Secret it names (both watched).
            return Ok(Action::await_change());
        }
    };
    let desired = render::desired(&validated, &ctx.platform, &inputs);
    let owner = Owner {
        namespace: &validated.namespace,
        store: &validated.name,
        uid: &uid,
    };
    let changes = match apply_all(ctx, &owner, desired).await {
        Ok(changes) => changes,
        Err(error) => {
            // A refusal that persists (this is at least the second failure in a row, so not a passing conflict)
            // shows in the status; the reconcile still fails, to back off.
            if let Some(blocked) = error.as_blocked()
                && ctx.failures(&ObjectRef::from_obj(store)) > 0
            {
                if let Err(e) = write_status(store, ctx, &blocked.into()).await {
                    warn!(error = %e, "could not report the failure in the status");
                }
            }
            return Err(error);
        }
    };
    for change in &changes {
        let (reason, verb, kind, name) = match change {
            Change::Created { kind, name } => ("Created", "created", kind, name),
            Change::Updated { kind, name } => ("Updated", "updated", kind, name),
            Change::Pruned { kind, name } => ("Pruned", "deleted the no longer wanted", kind, name),
        };
        info!(store = %validated.name, namespace = %validated.namespace, kind, name = %name, "{verb}");
        publish(
            ctx,
            store,
            EventType::Normal,
            reason,
            format!("{verb} {kind} {name}"),
        )
        .await;
    }
    let observed = Observed::Applied(observe(&validated, ctx, &uid).await?);
    write_status(store, ctx, &observed).await?;
    Ok(Action::requeue(RESYNC))
}

/// Dereference and validate: the store reduced to trusted data plus what it references, or why it cannot run.
async fn prepare(
    store: &ZotArtifactStore,
    ctx: &Context,
) -> Result<Result<(ValidatedStore, Inputs), Blocked>, Error> {
    let namespace = store.namespace().unwrap_or_default();
    let validated = match validate::validate(store, &namespace) {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal.into())),
    };
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut inputs = Inputs::default();
    for (field, name) in validated.referenced_secret_fields() {
        let secret = secrets
            .get_opt(&name)
            .instrument(info_span!("get_secret", name = %name))
            .await
            .map_err(|source| Error::ReadSecret {
                name: name.clone(),
                source,
            })?;
        let Some(secret) = secret else {
            return Ok(Err(Blocked {
                reason: "SecretNotFound",
                message: format!("{field}: Secret {name} does not exist in namespace {namespace}"),
            }));
        };
        inputs
            .secret_versions
            .insert(name.clone(), secret.resource_version().unwrap_or_default());
        if let Some(keycloak) = validated
            .spec
            .rbac
            .keycloak
            .as_ref()
            .filter(|_| validated.spec.rbac.enabled)
            && keycloak.client_secret_ref.name == name
        {
            let value = secret
                .data
                .as_ref()
                .and_then(|d| d.get(&keycloak.client_secret_ref.key))
                .and_then(|v| String::from_utf8(v.0.clone()).ok());
            match value {
                Some(v) => inputs.keycloak_client_secret = Some(v),
                None => {
                    return Ok(Err(Blocked {
                        reason: "SecretKeyNotFound",
                        message: format!(
                            "spec.rbac.keycloak.clientSecretRef.key: Secret {name} has no key {}",
                            keycloak.client_secret_ref.key
                        ),
                    }));
                }
            }
        }
    }
    if let Some(source) = render::destination_ca_source(&validated, &ctx.platform) {
        inputs.destination_ca = read_ca(ctx, &namespace, source).await?;
    }
    if let Some(render::ServingCertificate::ServiceCa { secret }) =
        render::serving_certificate(&validated, &ctx.platform)
    {
        // Issued by OpenShift's service CA once the Service exists; a renewal rolls the pods.
        if let Some(issued) = secrets
            .get_opt(&secret)
            .instrument(info_span!("get_secret", name = %secret))
            .await
            .map_err(|source| Error::ReadSecret {
                name: secret.clone(),
                source,
            })?
        {
            inputs
                .secret_versions
                .insert(secret, issued.resource_version().unwrap_or_default());
        }
    }
    let bundle = ObjectRef::new(&render::trusted_ca_name(&validated)).within(&namespace);
    inputs.trusted_ca_version = ctx
        .children
        .config_maps
        .get(&bundle)
        .and_then(|c| c.resource_version());
    Ok(Ok((validated, inputs)))
}

/// The PEM CA a reencrypt Route must trust, from a ConfigMap or Secret key; None until it exists.
async fn read_ca(
    ctx: &Context,
    namespace: &str,
    source: render::CaSource,
) -> Result<Option<String>, Error> {
    match source {
        render::CaSource::ConfigMap { name, key } => {
            let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
            let map = api
                .get_opt(&name)
                .instrument(info_span!("get_config_map", name = %name))
                .await
                .map_err(|source| Error::ReadConfigMap {
                    name: name.clone(),
                    source,
                })?;
            Ok(map.and_then(|m| m.data).and_then(|d| d.get(&key).cloned()))
        }
        render::CaSource::Secret { name, key } => {
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
            let secret = api
                .get_opt(&name)
                .instrument(info_span!("get_secret", name = %name))
                .await
                .map_err(|source| Error::ReadSecret {
                    name: name.clone(),
                    source,
                })?;
            Ok(secret
                .and_then(|s| s.data)
                .and_then(|d| d.get(&key).cloned())
                .and_then(|v| String::from_utf8(v.0).ok()))
        }
    }
}

/// Applies every desired child in a fixed order (identity and configuration first, workloads last) and prunes what
/// the store owns but no longer wants. Destructured without `..`: a new kind does not compile until it is applied.
async fn apply_all(
    ctx: &Context,
    owner: &Owner<'_>,
    desired: Desired,
) -> Result<Vec<Change>, Error> {
    let Desired {
        service_account,
        config_secret,
        oidc_secret,
        database_claim,
        services,
        network_policy,
        pod_disruption_budget,
        ingress,
        route,
        trusted_ca_bundle,
        service_monitor,
        statefulset,
        deployment,
        horizontal_pod_autoscaler,
    } = desired;
    let c = &ctx.client;
    let k = &ctx.children;
    let mut changes = Vec::new();
    changes.extend(apply::sync(c, owner, vec![service_account], &k.service_accounts).await?);
    let secrets = std::iter::once(config_secret).chain(oidc_secret).collect();
    changes.extend(apply::sync(c, owner, secrets, &k.secrets).await?);
    changes.extend(apply::sync(c, owner, database_claim.into_iter().collect(), &k.claims).await?);
    changes.extend(apply::sync(c, owner, services, &k.services).await?);
    changes.extend(
        apply::sync(
            c,
            owner,
            network_policy.into_iter().collect(),
            &k.network_policies,
        )
        .await?,
    );
    changes.extend(
        apply::sync(
            c,
            owner,
            pod_disruption_budget.into_iter().collect(),
            &k.disruption_budgets,
        )
        .await?,
    );
    changes.extend(apply::sync(c, owner, ingress.into_iter().collect(), &k.ingresses).await?);
    if let Some(routes) = &k.routes {
        changes.extend(apply::sync(c, owner, route.into_iter().collect(), routes).await?);
    }
    changes.extend(
        apply::sync(
            c,
            owner,
            trusted_ca_bundle.into_iter().collect(),
            &k.config_maps,
        )
        .await?,
    );
    if let Some((resource, monitors)) = &k.service_monitors {
        changes.extend(apply::sync_dynamic(c, owner, resource, service_monitor, monitors).await?);
    }
    changes
        .extend(apply::sync(c, owner, statefulset.into_iter().collect(), &k.statefulsets).await?);
    changes.extend(apply::sync(c, owner, deployment.into_iter().collect(), &k.deployments).await?);
    changes.extend(
        apply::sync(
            c,
            owner,
            horizontal_pod_autoscaler.into_iter().collect(),
            &k.autoscalers,
        )
        .await?,
    );
    Ok(changes)
}

/// What the caches say about the store's children now.
async fn observe(store: &ValidatedStore, ctx: &Context, uid: &str) -> Result<Applied, Error> {
    let owner = Owner {
        namespace: &store.namespace,
        store: &store.name,
        uid,
    };
    let k = &ctx.children;
    let statefulset = k
        .statefulsets
        .state()
        .into_iter()
        .find(|s| apply::owned_by(s.as_ref(), &owner));
    let deployment = k
        .deployments
        .state()
        .into_iter()
        .find(|d| apply::owned_by(d.as_ref(), &owner));
    let workload = if let Some(s) = statefulset {
        let status = s.status.clone().unwrap_or_default();
        let desired = s.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
        Some(Workload {
            desired,
            replicas: status.replicas,
            ready: status.ready_replicas.unwrap_or(0),
            rolled_out: status.observed_generation >= s.metadata.generation
                && status.updated_replicas.unwrap_or(0) >= desired
                && status.current_revision.is_some()
                && status.current_revision == status.update_revision,
        })
    } else if let Some(d) = deployment {
        let status = d.status.clone().unwrap_or_default();
        let desired = d.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
        Some(Workload {
            desired,
            replicas: status.replicas.unwrap_or(0),
            ready: status.ready_replicas.unwrap_or(0),
            rolled_out: status.observed_generation >= d.metadata.generation
                && status.updated_replicas.unwrap_or(0) >= desired
                && status.replicas.unwrap_or(0) <= desired,
        })
    } else {
        None
    };
    let instance = store.name.as_str();
    let claims: Vec<_> = k
        .claims
        .state()
        .into_iter()
        .filter(|c| {
            c.namespace().as_deref() == Some(store.namespace.as_str())
                && c.labels()
                    .get("app.kubernetes.io/instance")
                    .map(String::as_str)
                    == Some(instance)
        })
        .collect();
    let claims_bound = (!claims.is_empty()).then(|| {
        claims
            .iter()
            .all(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
    });
    let route = k.routes.as_ref().and_then(|routes| {
        routes
            .state()
            .into_iter()
            .find(|r| apply::owned_by(r.as_ref(), &owner))
    });
    let mut endpoints = render::endpoints(store, &ctx.platform);
    if endpoints.external.is_none() {
        // An Ingress that names no host is reached at whatever address its ingress controller reports.
        endpoints.external = k
            .ingresses
            .state()
            .into_iter()
            .find(|i| apply::owned_by(i.as_ref(), &owner))
            .and_then(|i| render::load_balancer_url(&i));
    }
    let route = route.map(|r| match crate::openshift::route::admitted(&r) {
        Some(true) => {
            endpoints.external =
                crate::openshift::route::external_url(&r).or(endpoints.external.take());
            RouteState::Admitted
        }
        Some(false) => RouteState::Rejected(
            crate::openshift::route::rejection(&r)
                .unwrap_or_else(|| "a router rejected the Route".to_string()),
        ),
        None => RouteState::Pending,
    });
    let image = render::image(store, &ctx.platform);
    let security_context = security_context_conflict(store, ctx).await?;
    Ok(Applied {
        workload,
        claims_bound,
        route,
        gaps: render::gaps(store, &ctx.platform)
            .into_iter()
            .map(|g| (g.field, g.reason))
            .collect(),
        security_context,
        endpoints,
        zot_version: render::image_version(&image),
        selector: names::selector_string(&store.name),
    })
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

/// Computes the status and writes it — only when it differs — with events for real transitions.
async fn write_status(
    store: &ZotArtifactStore,
    ctx: &Context,
    observed: &Observed,
) -> Result<(), Error> {
    let previous = store.status.as_ref();
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let next = status::compute(previous, store.metadata.generation, observed, now);
    if status::unchanged(previous, &next) {
        return Ok(());
    }
    announce_transitions(ctx, store, previous, &next).await;
    let api: Api<ZotArtifactStore> =
        Api::namespaced(ctx.client.clone(), &store.namespace().unwrap_or_default());
    let patch = json!({
        "apiVersion": "artifact.zotregistry.io/v1alpha1",
        "kind": "ZotArtifactStore",
        "status": next,
    });
    api.patch_status(
        &store.name_any(),
        &PatchParams::apply(names::MANAGED_BY).force(),
        &Patch::Apply(&patch),
    )
    .instrument(info_span!("patch_status"))
    .await
    .map_err(Error::PatchStatus)?;
    ctx.metrics.set_store_phase(
        &store.namespace().unwrap_or_default(),
        &store.name_any(),
        next.phase.map(Phase::as_str),
        status::find(Some(&next), status::types::READY).is_some_and(|c| c.status == "True"),
    );
    Ok(())
}

/// One Event per real transition of Ready and ConfigReady (not one per resync).
async fn announce_transitions(
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

async fn publish(
    ctx: &Context,
    store: &ZotArtifactStore,
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
    let reference = store.object_ref(&());
    if let Err(e) = ctx
        .recorder
        .publish(&event, &reference)
        .instrument(info_span!("publish_event", reason))
        .await
    {
        warn!(error = %e, "could not publish an event");
    }
}

/// An object the operator cannot parse: tell its owner through an Event and a condition, then wait for a change.
async fn report_unparsable(
    invalid: &kube::core::error_boundary::InvalidObject,
    ctx: &Context,
) -> Result<Action, Error> {
    let meta = &invalid.metadata;
    let (Some(name), Some(namespace)) = (meta.name.clone(), meta.namespace.clone()) else {
        return Ok(Action::await_change());
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
    let patch = json!({"status": {"phase": "Failed", "conditions": [condition("Ready"), condition("ConfigReady")]}});
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(Error::PatchStatus)?;
    let reference = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some(ZotArtifactStore::api_version(&()).to_string()),
        kind: Some(ZotArtifactStore::kind(&()).to_string()),
        name: Some(name),
        namespace: Some(namespace),
        uid: meta.uid.clone(),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "InvalidObject".into(),
        note: Some(message.clone()),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &reference).await {
        warn!(error = %e, "could not publish an event");
    }
    Ok(Action::await_change())
}

/// Transient failures back off exponentially per store (1 s … 5 min); everything else waits for a change.
pub fn error_policy(
    guard: Arc<DeserializeGuard<ZotArtifactStore>>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    let key = match &guard.0 {
        Ok(store) => ObjectRef::from_obj(store),
        Err(_) => return Action::await_change(),
    };
    match error {
        Error::MissingMetadata(_) | Error::Serialize { .. } => Action::await_change(),
        Error::ReadSecret { .. }
        | Error::ReadConfigMap { .. }
        | Error::ReadNamespace { .. }
        | Error::Apply { .. }
        | Error::Prune { .. }
        | Error::PatchStatus(_) => {
            let failures = ctx.count_failure(&key);
            let secs = 1u64 << failures.min(8);
            warn!(error = %error, category = error.category(), retry_in_s = secs.min(300), "reconcile failed");
            Action::requeue(Duration::from_secs(secs.min(300)))
        }
    }
}
