//! The controller of push and pull Secret requests: store → who may ask → account → API key → Secret → status.
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta, OwnerReference, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use k8s_openapi::{ByteString, NamespaceResourceScope};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{Controller, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::accounts::{self, Policy};
use super::ca::{StoreTls, store_ca};
use super::docker;
use super::rotation::{self, InSecret, State};
use super::scope;
use super::zot_api::{self, Target};
use super::{Access, account_name, repositories, store_of};
use crate::api::names::{self, ACCESS_REQUEST_LABEL, ACCOUNTS_OF_LABEL, MANAGED_BY};
use crate::api::v1alpha1::{
    AccessRequestSpec, AccessSecretStatus, ROTATE_ANNOTATION, ZotArtifactStore, ZotPullSecret,
    ZotPushSecret,
};
use crate::platform::Platform;
use crate::scope::Scope;
use crate::validate::{self, ValidatedStore, duration_seconds};

/// Finalizer of a request: its account and keys leave zot before it goes.
pub const FINALIZER: &str = "artifact.zotregistry.io/access";
/// How soon a request waiting for zot (pods rolling with its account) comes back.
const WAIT: Duration = Duration::from_secs(3);
/// Resync of a request with nothing due earlier.
const RESYNC: Duration = Duration::from_secs(300);
/// Margin on a key's expiry beyond period + grace, so that a late rotation does not leave a dead key behind.
const EXPIRY_MARGIN: SignedDuration = SignedDuration::from_mins(10);

/// A push or pull Secret request.
pub trait Request:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    const ACCESS: Access;
    fn request(&self) -> AccessRequestSpec;
    fn status(&self) -> Option<&AccessSecretStatus>;
}

impl Request for ZotPushSecret {
    const ACCESS: Access = Access::Push;
    fn request(&self) -> AccessRequestSpec {
        self.spec.request()
    }
    fn status(&self) -> Option<&AccessSecretStatus> {
        self.status.as_ref()
    }
}

impl Request for ZotPullSecret {
    const ACCESS: Access = Access::Pull;
    fn request(&self) -> AccessRequestSpec {
        self.spec.request()
    }
    fn status(&self) -> Option<&AccessSecretStatus> {
        self.status.as_ref()
    }
}

/// What the request reconciles share.
pub struct Ctx {
    pub client: Client,
    pub platform: Platform,
}

/// Why a reconcile failed (transient: retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("zot: {0}")]
    Zot(#[from] zot_api::Error),
    #[error("{0}")]
    Credentials(String),
    #[error("the object has no {0}")]
    MissingMetadata(&'static str),
}

/// A request that cannot be served now: Ready=False with this reason and message.
struct Refusal {
    reason: &'static str,
    message: String,
    /// When to look again (None: on a change).
    retry: Option<Duration>,
    /// Whether the credential is taken away (a refusal), or kept while waiting for zot.
    withdraw: bool,
}

fn refusal(reason: &'static str, message: String) -> Refusal {
    Refusal {
        reason,
        message,
        retry: Some(RESYNC),
        withdraw: true,
    }
}

fn waiting(reason: &'static str, message: String) -> Refusal {
    Refusal {
        reason,
        message,
        retry: Some(WAIT),
        withdraw: false,
    }
}

/// Runs the controllers of both kinds until `shutdown` resolves.
pub async fn run(
    client: Client,
    platform: Platform,
    scope: Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + Clone + 'static,
) {
    let ctx = Arc::new(Ctx { client, platform });
    futures::join!(
        run_kind::<ZotPushSecret>(ctx.clone(), &scope, shutdown.clone()),
        run_kind::<ZotPullSecret>(ctx, &scope, shutdown),
    );
}

async fn run_kind<K: Request>(
    ctx: Arc<Ctx>,
    scope: &Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let requests: Api<K> = scope.api(&client);
    let secrets: Api<Secret> = scope.api(&client);
    let controller = Controller::new(requests, watcher::Config::default().any_semantic());
    let cache = controller.store();
    let stores: Api<ZotArtifactStore> = scope.api(&client);
    controller
        .owns(
            secrets,
            watcher::Config::default().labels(ACCESS_REQUEST_LABEL),
        )
        .watches(
            stores,
            watcher::Config::default().any_semantic(),
            move |store: ZotArtifactStore| {
                let ns = store.namespace().unwrap_or_default();
                let name = store.name_any();
                cache
                    .state()
                    .iter()
                    .filter(|r| {
                        let rns = r.namespace().unwrap_or_default();
                        store_of(&r.request(), &rns) == (ns.clone(), name.clone())
                    })
                    .map(|r| ObjectRef::from_obj(r.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile::<K>, error_policy::<K>, ctx)
        .for_each(|result| async move {
            if let Err(kube::runtime::controller::Error::ReconcilerFailed(e, obj)) = result {
                warn!(kind = K::ACCESS.kind(), request = %obj.name, error = %e, "reconcile failed");
            }
        })
        .await;
}

fn error_policy<K: Request>(_: Arc<K>, _: &Error, _: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

/// One reconcile of a request.
pub async fn reconcile<K: Request>(request: Arc<K>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let namespace = request
        .namespace()
        .ok_or(Error::MissingMetadata("metadata.namespace"))?;
    let name = request.name_any();
    let account = account_name(K::ACCESS, &namespace, &name);
    let spec = request.request();
    let (store_ns, store_name) = store_of(&spec, &namespace);
    let stores: Api<ZotArtifactStore> = Api::namespaced(ctx.client.clone(), &store_ns);
    let store = stores.get_opt(&store_name).await?;

    if request.meta().deletion_timestamp.is_some() {
        withdraw(&ctx, request.as_ref(), store.as_ref(), &account, true).await?;
        remove_finalizer(&ctx, request.as_ref()).await?;
        info!(kind = K::ACCESS.kind(), namespace = %namespace, request = %name, "account removed");
        return Ok(Action::await_change());
    }
    match serve(&ctx, request.as_ref(), store.as_ref(), &account, &spec).await? {
        Ok(action) => Ok(action),
        Err(refused) if !refused.withdraw => {
            write_status(&ctx, request.as_ref(), |s| {
                set_ready(s, false, refused.reason, &refused.message);
            })
            .await?;
            Ok(refused
                .retry
                .map_or_else(Action::await_change, Action::requeue))
        }
        Err(refused) => {
            withdraw(&ctx, request.as_ref(), store.as_ref(), &account, false).await?;
            // Nothing of it is left in zot: it may go at once.
            if request.finalizers().iter().any(|f| f == FINALIZER) {
                remove_finalizer(&ctx, request.as_ref()).await?;
            }
            write_status(&ctx, request.as_ref(), |s| {
                s.key_id = None;
                s.previous_key_id = None;
                s.previous_key_revoke_at = None;
                s.rotated_at = None;
                s.next_rotation_at = None;
                set_ready(s, false, refused.reason, &refused.message);
            })
            .await?;
            Ok(refused
                .retry
                .map_or_else(Action::await_change, Action::requeue))
        }
    }
}

/// The checks, the account, the key and the Secret; or why not.
async fn serve<K: Request>(
    ctx: &Ctx,
    request: &K,
    store: Option<&ZotArtifactStore>,
    account: &str,
    spec: &AccessRequestSpec,
) -> Result<Result<Action, Refusal>, Error> {
    let namespace = request.namespace().unwrap_or_default();
    let (store_ns, store_name) = store_of(spec, &namespace);
    let Some(store) = store.filter(|s| s.meta().deletion_timestamp.is_none()) else {
        return Ok(Err(refusal(
            "StoreNotFound",
            format!("ZotArtifactStore {store_ns}/{store_name} does not exist"),
        )));
    };
    let validated = match validate::validate(store, &store_ns) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(refusal(
                "StoreInvalid",
                format!("ZotArtifactStore {store_ns}/{store_name} cannot run: {e}"),
            )));
        }
    };
    if !validated.spec.rbac.enabled {
        return Ok(Err(refusal(
            "AuthenticationDisabled",
            format!(
                "ZotArtifactStore {store_ns}/{store_name} has rbac.enabled false: anyone who reaches it may push \
                 and pull, so there is no credential to give; set rbac.enabled"
            ),
        )));
    }
    if namespace != store_ns {
        let labels = Api::<Namespace>::all(ctx.client.clone())
            .get_opt(&namespace)
            .await?
            .and_then(|n| n.metadata.labels)
            .unwrap_or_default();
        if !scope::namespace_allowed(&validated.spec.access, &store_ns, &namespace, &labels) {
            let setting = if validated.spec.access.namespace_selector.is_some() {
                "its spec.access.namespaceSelector does not select this namespace"
            } else {
                "it has no spec.access.namespaceSelector, so only requests in its own namespace are served"
            };
            return Ok(Err(refusal(
                "NamespaceNotAllowed",
                format!(
                    "ZotArtifactStore {store_ns}/{store_name} does not serve requests from namespace \
                     {namespace}: {setting}"
                ),
            )));
        }
    }
    let repos = repositories(spec, &namespace);
    if let Some(why) = scope::refused_repository(
        K::ACCESS,
        &validated.spec.access,
        &store_ns,
        &namespace,
        &repos,
    ) {
        return Ok(Err(refusal("ScopeNotAllowed", why)));
    }
    let (Some(period), Some(grace)) = (
        duration(&spec.rotation.period),
        duration(&spec.rotation.grace_period),
    ) else {
        return Ok(Err(Refusal {
            retry: None,
            ..refusal(
                "InvalidRotation",
                "rotation.period and rotation.gracePeriod must be Go durations (period at least 1m, grace at \
                 least 5s and at most the period)"
                    .to_string(),
            )
        }));
    };
    if period < SignedDuration::from_mins(1)
        || grace < SignedDuration::from_secs(5)
        || grace > period
    {
        return Ok(Err(Refusal {
            retry: None,
            ..refusal(
                "InvalidRotation",
                "rotation.period must be at least 1m, rotation.gracePeriod at least 5s and at most the period"
                    .to_string(),
            )
        }));
    }

    // The account in zot; from here on the request holds something to take away when it goes.
    add_finalizer(ctx, request).await?;
    let policy = Policy {
        repositories: repos,
        actions: K::ACCESS.actions(),
    };
    let password = ensure_account(ctx, store, &validated, account, &policy).await?;

    let tls = store_ca(&ctx.client, &validated, &ctx.platform).await?;

    // The key, the Secret, the status.
    let secret_name = request.name_any();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let existing = secrets.get_opt(&secret_name).await?;
    let in_secret = in_secret(existing.as_ref());
    let state = State::from_status(request.status()).adopt(&in_secret, grace);
    let now = Timestamp::now();
    let annotation = request.annotations().get(ROTATE_ANNOTATION).cloned();
    let held = existing.as_ref().and_then(|s| held_key(s, account));
    let endpoints = crate::render::endpoints(&validated, &ctx.platform);
    let status_endpoints = store.status.as_ref().and_then(|s| s.endpoints.clone());
    let internal = endpoints.internal.clone().unwrap_or_default();
    let external = status_endpoints
        .and_then(|e| e.external)
        .or(endpoints.external);
    let hosts = docker::hosts(&internal, external.as_deref());

    let mut state = state;
    let due = rotation::due(&state, held.is_some(), period, annotation.as_deref(), now);
    // A ready pod to talk to, when zot has something to do: while the pods roll, a credential that works stays
    // Ready and what is due waits a moment.
    let target = if due.is_some() || rotation::previous_expired(&state, now) {
        match target(ctx, &validated, &tls).await? {
            Some(target) => Some(target),
            None if held.is_some() && state.key_id.is_some() => {
                return Ok(Ok(Action::requeue(WAIT)));
            }
            None => {
                return Ok(Err(waiting(
                    "StoreNotReady",
                    format!("ZotArtifactStore {store_ns}/{store_name} has no ready pod yet"),
                )));
            }
        }
    } else {
        None
    };
    let key = match (due, &target) {
        (Some(due), Some(target)) => {
            let expires = now
                .checked_add(period)
                .and_then(|t| t.checked_add(grace))
                .and_then(|t| t.checked_add(EXPIRY_MARGIN))
                .map_err(|e| Error::Credentials(e.to_string()))?;
            let label = format!("{account} {now}");
            let new = match zot_api::create_key(
                target,
                account,
                &password,
                &label,
                &expires.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )
            .await
            {
                Ok(new) => new,
                Err(zot_api::Error::Unauthorized) => {
                    return Ok(Err(waiting(
                        "AccountPending",
                        format!(
                            "waiting for the pods of ZotArtifactStore {store_ns}/{store_name} to load the account \
                             {account}"
                        ),
                    )));
                }
                Err(e) => return Err(e.into()),
            };
            // The key being replaced keeps working for the grace period; one no Secret holds any more goes now.
            if let Some(old) = state.key_id.take() {
                if held.is_some() {
                    if let Some(stale) = state.previous_key_id.take() {
                        revoke(target, account, &password, &stale).await?;
                    }
                    state.previous_key_id = Some(old);
                    state.previous_revoke_at = now.checked_add(grace).ok();
                } else {
                    revoke(target, account, &password, &old).await?;
                }
            }
            state.key_id = Some(new.id);
            state.rotated_at = Some(now);
            if annotation.is_some() {
                state.rotate_request = annotation.clone();
            }
            info!(kind = K::ACCESS.kind(), namespace = %namespace, request = %request.name_any(), reason = ?due, "credential rotated");
            new.key
        }
        _ => held.unwrap_or_default(),
    };
    apply_secret(
        ctx,
        request,
        &secret_name,
        secret_data(K::ACCESS, &hosts, account, &key, &tls),
        &state,
    )
    .await?;
    if rotation::previous_expired(&state, now)
        && let Some(target) = &target
        && let Some(old) = state.previous_key_id.take()
    {
        revoke(target, account, &password, &old).await?;
        state.previous_revoke_at = None;
        info!(kind = K::ACCESS.kind(), namespace = %namespace, request = %request.name_any(), "previous credential revoked");
    }
    let next = state.next_rotation(period);
    write_status(ctx, request, |s| {
        s.secret_name = Some(secret_name.clone());
        s.account = Some(account.to_string());
        s.hostname = Some(hosts.preferred.clone());
        s.key_id = state.key_id.clone();
        s.rotated_at = state.rotated_at.map(|t| t.to_string());
        s.next_rotation_at = next.map(|t| t.to_string());
        s.previous_key_id = state.previous_key_id.clone();
        s.previous_key_revoke_at = state.previous_revoke_at.map(|t| t.to_string());
        s.rotate_request = state.rotate_request.clone();
        let message = match &tls {
            StoreTls::PlainHttp => format!(
                "Secret {secret_name} holds a working credential for {} (the registry serves plain HTTP)",
                hosts.preferred
            ),
            StoreTls::Https { ca: Some(_) } => format!(
                "Secret {secret_name} holds a working credential for {} and the registry's CA",
                hosts.preferred
            ),
            StoreTls::Https { ca: None } => format!(
                "Secret {secret_name} holds a working credential for {} (the registry's CA is not known: no ca.crt)",
                hosts.preferred
            ),
        };
        set_ready(s, true, "CredentialReady", &message);
    })
    .await?;
    let wake = [next, state.previous_revoke_at]
        .into_iter()
        .flatten()
        .map(|t| t.duration_since(now).as_secs_f64().max(1.0))
        .fold(RESYNC.as_secs_f64(), f64::min);
    Ok(Ok(Action::requeue(Duration::from_secs_f64(wake))))
}

fn duration(text: &str) -> Option<SignedDuration> {
    duration_seconds(text).and_then(|s| SignedDuration::try_from_secs_f64(s).ok())
}

fn secret_data(
    access: Access,
    hosts: &docker::Hosts,
    account: &str,
    key: &str,
    tls: &StoreTls,
) -> BTreeMap<String, ByteString> {
    docker::secret_data(access, hosts, account, key, tls.ca())
}

fn in_secret(secret: Option<&Secret>) -> InSecret {
    let annotations = secret.map(|s| s.annotations().clone()).unwrap_or_default();
    InSecret {
        key_id: annotations.get(rotation::KEY_ID_ANNOTATION).cloned(),
        rotated_at: annotations
            .get(rotation::ROTATED_AT_ANNOTATION)
            .and_then(|t| t.parse().ok()),
        rotate_request: annotations
            .get(rotation::ROTATE_REQUEST_ANNOTATION)
            .cloned(),
    }
}

/// The API key the Secret holds for `account`, when it holds one.
fn held_key(secret: &Secret, account: &str) -> Option<String> {
    let data = secret.data.as_ref()?;
    let user = String::from_utf8(data.get(docker::USERNAME_KEY)?.0.clone()).ok()?;
    let key = String::from_utf8(data.get(docker::PASSWORD_KEY)?.0.clone()).ok()?;
    (user == account && key.starts_with("zak_")).then_some(key)
}

/// The field manager of one account's keys in `<store>-accounts` (field managers are at most 128 characters).
fn account_manager(account: &str) -> String {
    let digest = hex::encode(Sha256::digest(account.as_bytes()));
    format!("{MANAGED_BY}-account-{}", &digest[..24])
}

/// Makes sure `<store>-accounts` holds the account with `policy`; returns its password.
async fn ensure_account(
    ctx: &Ctx,
    store: &ZotArtifactStore,
    validated: &ValidatedStore,
    account: &str,
    policy: &Policy,
) -> Result<String, Error> {
    let names = validated.names();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &validated.namespace);
    let existing = secrets
        .get_opt(&names.accounts_secret())
        .await?
        .and_then(|s| s.data)
        .unwrap_or_default();
    let text = |k: String| {
        existing
            .get(&k)
            .and_then(|v| String::from_utf8(v.0.clone()).ok())
    };
    let known_policy: Option<Policy> = existing
        .get(&accounts::policy_key(account))
        .and_then(|v| serde_json::from_slice(&v.0).ok());
    let (password, line) = match (
        text(accounts::password_key(account)),
        text(accounts::htpasswd_key(account)),
    ) {
        (Some(p), Some(l)) if bcrypt_matches(&p, &l, account) => (p, l),
        _ => accounts::new_credentials(account).map_err(Error::Credentials)?,
    };
    if known_policy.as_ref() == Some(policy)
        && text(accounts::password_key(account)).as_deref() == Some(password.as_str())
    {
        return Ok(password);
    }
    let uid = store.uid().ok_or(Error::MissingMetadata("metadata.uid"))?;
    let policy_json = serde_json::to_vec(policy).map_err(|e| Error::Credentials(e.to_string()))?;
    let secret = Secret {
        metadata: accounts_meta(validated, &uid),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([
            (
                accounts::password_key(account),
                ByteString(password.clone().into_bytes()),
            ),
            (
                accounts::htpasswd_key(account),
                ByteString(line.into_bytes()),
            ),
            (accounts::policy_key(account), ByteString(policy_json)),
        ])),
        ..Secret::default()
    };
    secrets
        .patch(
            &names.accounts_secret(),
            &PatchParams::apply(&account_manager(account)).force(),
            &Patch::Apply(&secret),
        )
        .await?;
    info!(store = %validated.name, namespace = %validated.namespace, account, "account written");
    Ok(password)
}

fn bcrypt_matches(password: &str, line: &str, account: &str) -> bool {
    line.split_once(':').is_some_and(|(user, hash)| {
        user == account && bcrypt::verify(password, hash).unwrap_or(false)
    })
}

fn accounts_meta(store: &ValidatedStore, uid: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(store.names().accounts_secret()),
        namespace: Some(store.namespace.clone()),
        labels: Some(BTreeMap::from([(
            ACCOUNTS_OF_LABEL.to_string(),
            store.name.clone(),
        )])),
        owner_references: Some(vec![OwnerReference {
            api_version: names::API_VERSION.to_string(),
            kind: names::KIND.to_string(),
            name: store.name.clone(),
            uid: uid.to_string(),
            controller: Some(false),
            block_owner_deletion: None,
        }]),
        ..ObjectMeta::default()
    }
}

/// A ready pod of the store, addressed by its IP under the Service's name.
async fn target(
    ctx: &Ctx,
    store: &ValidatedStore,
    tls: &StoreTls,
) -> Result<Option<Target>, Error> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &store.namespace);
    let selector = names::selector_labels(&store.name)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let list = pods.list(&ListParams::default().labels(&selector)).await?;
    let ip = list.items.iter().find_map(|pod| {
        if pod.metadata.deletion_timestamp.is_some() {
            return None;
        }
        let status = pod.status.as_ref()?;
        let ready = status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        ready
            .then(|| status.pod_ip.as_deref()?.parse().ok())
            .flatten()
    });
    Ok(ip.map(|ip| Target {
        ip,
        port: u16::try_from(names::ZOT_PORT).unwrap_or(5000),
        host: format!("{}.{}.svc", store.name, store.namespace),
        https: matches!(tls, StoreTls::Https { .. }),
        ca: tls.ca().map(str::to_string),
    }))
}

async fn revoke(target: &Target, account: &str, password: &str, id: &str) -> Result<(), Error> {
    zot_api::revoke_key(target, account, password, id).await?;
    Ok(())
}

/// Takes the request's credential away: its keys revoked in zot (while the store runs), its account out of
/// `<store>-accounts`, its Secret deleted. `deleting`: the request itself goes, so a store that runs must
/// answer the revocation (else retried).
async fn withdraw<K: Request>(
    ctx: &Ctx,
    request: &K,
    store: Option<&ZotArtifactStore>,
    account: &str,
    deleting: bool,
) -> Result<(), Error> {
    let namespace = request.namespace().unwrap_or_default();
    let spec = request.request();
    let (store_ns, _) = store_of(&spec, &namespace);
    if let Some(store) = store.filter(|s| s.meta().deletion_timestamp.is_none())
        && let Ok(validated) = validate::validate(store, &store_ns)
    {
        let names = validated.names();
        let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &store_ns);
        let data = secrets
            .get_opt(&names.accounts_secret())
            .await?
            .and_then(|s| s.data)
            .unwrap_or_default();
        if let Some(password) = data
            .get(&accounts::password_key(account))
            .and_then(|v| String::from_utf8(v.0.clone()).ok())
        {
            let status = request.status();
            let ids: Vec<String> = [
                status.and_then(|s| s.key_id.clone()),
                status.and_then(|s| s.previous_key_id.clone()),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !ids.is_empty() {
                let tls = store_ca(&ctx.client, &validated, &ctx.platform).await?;
                match target(ctx, &validated, &tls).await? {
                    Some(target) => {
                        for id in &ids {
                            match zot_api::revoke_key(&target, account, &password, id).await {
                                Ok(()) | Err(zot_api::Error::Unauthorized) => {}
                                Err(e) if deleting => return Err(e.into()),
                                Err(e) => warn!(account, error = %e, "could not revoke a key"),
                            }
                        }
                    }
                    None if deleting => {
                        return Err(Error::Credentials(format!(
                            "ZotArtifactStore {store_ns}/{} has no ready pod to revoke the keys of {account}",
                            validated.name
                        )));
                    }
                    None => {}
                }
            }
            // Our field manager gives up its keys: the account leaves the Secret.
            let empty = Secret {
                metadata: ObjectMeta {
                    name: Some(names.accounts_secret()),
                    namespace: Some(store_ns.clone()),
                    ..ObjectMeta::default()
                },
                ..Secret::default()
            };
            secrets
                .patch(
                    &names.accounts_secret(),
                    &PatchParams::apply(&account_manager(account)).force(),
                    &Patch::Apply(&empty),
                )
                .await?;
        }
    }
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    if secrets.get_opt(&request.name_any()).await?.is_some() {
        secrets
            .delete(&request.name_any(), &DeleteParams::default())
            .await?;
    }
    Ok(())
}

async fn apply_secret<K: Request>(
    ctx: &Ctx,
    request: &K,
    name: &str,
    data: BTreeMap<String, ByteString>,
    state: &State,
) -> Result<(), Error> {
    let namespace = request.namespace().unwrap_or_default();
    let uid = request
        .uid()
        .ok_or(Error::MissingMetadata("metadata.uid"))?;
    let mut annotations = BTreeMap::new();
    if let Some(id) = &state.key_id {
        annotations.insert(rotation::KEY_ID_ANNOTATION.to_string(), id.clone());
    }
    if let Some(t) = state.rotated_at {
        annotations.insert(rotation::ROTATED_AT_ANNOTATION.to_string(), t.to_string());
    }
    if let Some(r) = &state.rotate_request {
        annotations.insert(rotation::ROTATE_REQUEST_ANNOTATION.to_string(), r.clone());
    }
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.clone()),
            labels: Some(BTreeMap::from([(
                ACCESS_REQUEST_LABEL.to_string(),
                format!("{}.{}", K::ACCESS.prefix(), request.name_any()),
            )])),
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: names::API_VERSION.to_string(),
                kind: K::ACCESS.kind().to_string(),
                name: request.name_any(),
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        type_: Some(
            match K::ACCESS {
                Access::Push => docker::PUSH_TYPE,
                Access::Pull => docker::PULL_TYPE,
            }
            .to_string(),
        ),
        data: Some(data),
        ..Secret::default()
    };
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    secrets
        .patch(
            name,
            &PatchParams::apply(MANAGED_BY).force(),
            &Patch::Apply(&secret),
        )
        .await?;
    Ok(())
}

async fn add_finalizer<K: Request>(ctx: &Ctx, request: &K) -> Result<(), Error> {
    if request.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(());
    }
    let mut finalizers = request.finalizers().to_vec();
    finalizers.push(FINALIZER.to_string());
    patch_finalizers(ctx, request, finalizers).await
}

async fn remove_finalizer<K: Request>(ctx: &Ctx, request: &K) -> Result<(), Error> {
    let finalizers: Vec<String> = request
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    patch_finalizers(ctx, request, finalizers).await
}

async fn patch_finalizers<K: Request>(
    ctx: &Ctx,
    request: &K,
    finalizers: Vec<String>,
) -> Result<(), Error> {
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &request.namespace().unwrap_or_default());
    let patch = json!({
        "metadata": {
            "finalizers": finalizers,
            "resourceVersion": request.resource_version(),
        }
    });
    match api
        .patch(
            &request.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Gone already: nothing holds it.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn set_ready(status: &mut AccessSecretStatus, ready: bool, reason: &str, message: &str) {
    let value = if ready { "True" } else { "False" };
    let now = Time(Timestamp::now());
    let previous = status.conditions.iter().find(|c| c.type_ == "Ready");
    let last_transition_time = match previous {
        Some(c) if c.status == value => c.last_transition_time.clone(),
        _ => now,
    };
    let condition = Condition {
        type_: "Ready".to_string(),
        status: value.to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
        last_transition_time,
        observed_generation: status.observed_generation,
    };
    status.conditions.retain(|c| c.type_ != "Ready");
    status.conditions.push(condition);
}

/// Writes the status as `change` makes it from the current one, only when it differs.
async fn write_status<K: Request>(
    ctx: &Ctx,
    request: &K,
    change: impl FnOnce(&mut AccessSecretStatus),
) -> Result<(), Error> {
    let before = request.status().cloned().unwrap_or_default();
    let mut after = before.clone();
    after.observed_generation = request.meta().generation;
    change(&mut after);
    for c in &mut after.conditions {
        c.observed_generation = request.meta().generation;
    }
    if after == before {
        return Ok(());
    }
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &request.namespace().unwrap_or_default());
    // A merge patch removes only what it names as null: every field the status loses is named.
    let mut value = serde_json::to_value(&after).map_err(|e| Error::Credentials(e.to_string()))?;
    if let (Ok(serde_json::Value::Object(old)), serde_json::Value::Object(new)) =
        (serde_json::to_value(&before), &mut value)
    {
        for key in old.keys() {
            new.entry(key.clone()).or_insert(serde_json::Value::Null);
        }
    }
    let patch = json!({ "status": value });
    api.patch_status(
        &request.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}
