//! zot's configuration file, built as typed values (never as text): only keys zot knows, no credentials.
use std::collections::BTreeMap;

use crate::api::names::{
    self, DATA_DIR, GCS_DIR, HTPASSWD_DIR, OIDC_DIR, OIDC_FILE, SESSION_DIR, SESSION_FILE,
    SYNC_DIR, TLS_DIR,
};
use crate::api::v1alpha1::{self as api, GROUPS_CLAIM, RbacSpec, SbomFormat};
use crate::platform::Platform;
use crate::validate::{Backend, Database, ValidatedStore};
use crate::zot;

use super::endpoints;
use crate::access::accounts::Account;
use crate::access::scope::covers;

/// Key of the Google service-account file in credentialsSecret when the store names none.
pub const DEFAULT_GCS_KEY: &str = "credentials.json";
/// File name of the htpasswd file inside its mount.
pub const HTPASSWD_FILE: &str = "htpasswd";
/// File name of the sync credentials file inside its mount.
pub const SYNC_FILE: &str = "credentials.json";
/// Name of zot's OpenID provider for Keycloak (zot's generic OIDC provider).
pub const OIDC_PROVIDER: &str = "oidc";
/// Where sync stages downloads when images live in an object store (zot needs a local directory then).
pub const SYNC_DOWNLOAD_DIR: &str = "/tmp/zot-sync";

/// zot's configuration for `store`.
/// With the accounts of its push/pull Secret requests (`store.accounts`): htpasswd users with API keys, one access
/// policy each.
pub fn zot_config(store: &ValidatedStore, platform: &Platform) -> zot::ZotConfig {
    let accounts = store.accounts.as_slice();
    zot::ZotConfig {
        dist_spec_version: Some(zot::DIST_SPEC_VERSION.to_string()),
        storage: storage(store),
        http: http(store, platform, accounts),
        log: Some(zot::LogConfig {
            level: Some(log_level(store.spec.log_level)),
            ..zot::LogConfig::default()
        }),
        extensions: extensions(store),
        ..zot::ZotConfig::default()
    }
}

fn log_level(level: api::LogLevel) -> zot::LogLevel {
    match level {
        api::LogLevel::Debug => zot::LogLevel::Debug,
        api::LogLevel::Info => zot::LogLevel::Info,
        api::LogLevel::Warn => zot::LogLevel::Warn,
        api::LogLevel::Error => zot::LogLevel::Error,
    }
}

/// `host:port` and database number of a `redis://host[:port][/db]` URL (port 6379 by default, as redis URLs
/// mean).
fn redis_address(url: &str) -> (String, Option<u32>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (host, db) = rest.split_once('/').unwrap_or((rest, ""));
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        && !host.ends_with(']');
    let address = if has_port {
        host.to_string()
    } else {
        format!("{host}:6379")
    };
    (address, db.parse().ok())
}

fn storage(store: &ValidatedStore) -> zot::StorageConfig {
    let spec = &store.spec.storage;
    let (remote_cache, cache_driver) = match &store.database {
        // Embedded BoltDB: zot defaults remoteCache to true with remote storage, so say false explicitly.
        Database::Embedded { .. } => (store.backend.is_remote().then_some(false), None),
        Database::Redis(redis) => (
            Some(true),
            Some(zot::CacheDriver::Redis(zot::RedisConfig {
                // With a password zot gets the options form: its log and mgmt API mask a `password` key, never
                // one inside a URL. (`rediss://` with a password is refused at admission: that form has no TLS.)
                url: redis
                    .password_secret_ref
                    .is_none()
                    .then(|| redis.url.clone()),
                addr: redis
                    .password_secret_ref
                    .as_ref()
                    .map(|_| vec![redis_address(&redis.url).0]),
                db: redis
                    .password_secret_ref
                    .as_ref()
                    .and_then(|_| redis_address(&redis.url).1),
                keyprefix: Some(
                    redis
                        .key_prefix
                        .clone()
                        .unwrap_or_else(|| format!("{}-{}", store.namespace, store.name)),
                ),
                ..zot::RedisConfig::default()
            })),
        ),
        Database::DynamoDb(dynamo) => (
            Some(true),
            Some(zot::CacheDriver::Dynamodb(dynamodb(store, dynamo))),
        ),
    };
    zot::StorageConfig {
        root_directory: Some(DATA_DIR.to_string()),
        dedupe: spec.dedupe,
        gc: spec.gc,
        gc_interval: spec.gc_interval.clone(),
        gc_delay: spec.gc_delay.clone(),
        retention: spec.retention.as_ref().map(retention),
        remote_cache,
        storage_driver: storage_driver(&store.backend),
        cache_driver,
        ..zot::StorageConfig::default()
    }
}

/// storage.retention as zot reads it.
fn retention(spec: &api::RetentionSpec) -> zot::RetentionConfig {
    let count = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
    zot::RetentionConfig {
        dry_run: spec.dry_run.then_some(true),
        delay: spec.delay.clone(),
        policies: non_empty(
            spec.policies
                .iter()
                .map(|p| zot::RetentionPolicy {
                    repositories: Some(p.repositories.clone()),
                    delete_referrers: Some(p.delete_referrers),
                    delete_untagged: p.delete_untagged,
                    keep_tags: non_empty(
                        p.keep_tags
                            .iter()
                            .map(|k| zot::KeepTagsPolicy {
                                patterns: non_empty(k.patterns.clone()),
                                pulled_within: k.pulled_within.clone(),
                                pushed_within: k.pushed_within.clone(),
                                most_recently_pushed_count: count(k.most_recently_pushed_count),
                                most_recently_pulled_count: count(k.most_recently_pulled_count),
                            })
                            .collect(),
                    ),
                    keep_untagged: None,
                })
                .collect(),
        ),
    }
}

fn dynamodb(store: &ValidatedStore, dynamo: &api::DynamoDbDatabase) -> zot::DynamoDbDriver {
    let prefix = dynamo
        .table_prefix
        .clone()
        .unwrap_or_else(|| format!("{}-{}-", store.namespace, store.name));
    let table = |name: &str| Some(format!("{prefix}{name}"));
    zot::DynamoDbDriver {
        endpoint: dynamo.endpoint.clone(),
        region: Some(dynamo.region.clone()),
        cache_tablename: table("BlobTable"),
        repo_meta_tablename: table("RepoMetadataTable"),
        image_meta_tablename: table("ImageMetaTable"),
        repo_blobs_info_tablename: table("RepoBlobsInfoTable"),
        user_data_tablename: table("UserDataTable"),
        api_key_tablename: table("ApiKeyTable"),
        version_tablename: table("Version"),
    }
}

fn storage_driver(backend: &Backend) -> Option<zot::StorageDriver> {
    let root = |dir: &Option<String>| Some(dir.clone().unwrap_or_else(|| "/zot".to_string()));
    Some(match backend {
        Backend::Filesystem { .. } => return None,
        Backend::S3(s3) => zot::StorageDriver::S3(zot::S3Driver {
            rootdirectory: root(&s3.root_directory),
            region: Some(s3.region.clone()),
            regionendpoint: s3.endpoint.clone(),
            bucket: Some(s3.bucket.clone()),
            forcepathstyle: s3.force_path_style.or(s3.endpoint.as_ref().map(|_| true)),
            secure: s3.endpoint.as_ref().map(|e| !e.starts_with("http://")),
            ..zot::S3Driver::default()
        }),
        Backend::Gcs(gcs) => zot::StorageDriver::Gcs(zot::GcsDriver {
            rootdirectory: root(&gcs.root_directory),
            bucket: Some(gcs.bucket.clone()),
            keyfile: gcs.credentials_secret.as_ref().map(|_| gcs_key_path(gcs)),
            ..zot::GcsDriver::default()
        }),
        Backend::Azure(azure) => zot::StorageDriver::Azure(zot::AzureDriver {
            rootdirectory: root(&azure.root_directory),
            accountname: Some(azure.account_name.clone()),
            container: Some(azure.container.clone()),
            credentials: Some(zot::AzureCredentials {
                kind: zot::AzureCredentialsType::DefaultCredentials,
                ..zot::AzureCredentials::default()
            }),
            ..zot::AzureDriver::default()
        }),
    })
}

/// Path of the mounted Google service-account key file.
pub fn gcs_key_path(gcs: &api::GcsStorage) -> String {
    format!(
        "{GCS_DIR}/{}",
        gcs.credentials_key.as_deref().unwrap_or(DEFAULT_GCS_KEY)
    )
}

fn http(store: &ValidatedStore, platform: &Platform, accounts: &[Account]) -> zot::HttpConfig {
    let tls = super::serving_certificate(store, platform).map(|_| zot::TlsConfig {
        cert: Some(format!("{TLS_DIR}/tls.crt")),
        key: Some(format!("{TLS_DIR}/tls.key")),
        ..zot::TlsConfig::default()
    });
    let rbac = &store.spec.rbac;
    let external_url = endpoints(store, platform).external;
    // Behind a TLS-terminating Route or Ingress zot serves plain HTTP and would send its session cookies without
    // the Secure flag: browsers reach it over HTTPS, so ask for it (with tls zot sets it itself).
    let secure_session = (tls.is_none()
        && external_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")))
    .then_some(true);
    zot::HttpConfig {
        address: Some("0.0.0.0".to_string()),
        port: Some(names::ZOT_PORT.to_string()),
        external_url,
        realm: Some("zot".to_string()),
        tls,
        auth: rbac.enabled.then(|| zot::AuthConfig {
            secure_session,
            ..auth(rbac, accounts)
        }),
        access_control: rbac.enabled.then(|| access_control(rbac, accounts)),
        ..zot::HttpConfig::default()
    }
}

/// zot's authentication. With Keycloak: zot's `oidc` provider at the realm's issuer, users named by the claim the
/// spec says (zot's own default would be `email`) and groups from the `groups` claim, whose scope is requested when
/// policies name groups. Session cookies (the sign-in's state and the session itself) are signed and encrypted with
/// keys from a file every replica mounts, so that a sign-in started on one pod completes on another and a session
/// is valid on all. No session driver: zot refuses session keys with its redis driver, and its OpenID client would
/// then sign the state cookie with a random key per process; with remote storage the session lives in the cookie,
/// with filesystem storage on the data volume.
fn auth(rbac: &RbacSpec, accounts: &[Account]) -> zot::AuthConfig {
    let scopes = rbac.keycloak_scopes();
    let openid = rbac.keycloak.as_ref().map(|keycloak| {
        let provider = zot::OpenIdProvider {
            credentials_file: Some(format!("{OIDC_DIR}/{OIDC_FILE}")),
            name: Some("Keycloak".to_string()),
            issuer: Some(keycloak.issuer()),
            scopes: Some(scopes),
            claim_mapping: Some(zot::OpenIdClaimMapping {
                username: Some(keycloak.username_claim().to_string()),
                groups: Some(GROUPS_CLAIM.to_string()),
            }),
            ..zot::OpenIdProvider::default()
        };
        zot::OpenIdConfig {
            providers: Some(BTreeMap::from([(OIDC_PROVIDER.to_string(), provider)])),
            ..zot::OpenIdConfig::default()
        }
    });
    zot::AuthConfig {
        htpasswd: (rbac.htpasswd.is_some() || !accounts.is_empty()).then(|| zot::HtpasswdConfig {
            path: format!("{HTPASSWD_DIR}/{HTPASSWD_FILE}"),
        }),
        // Command-line clients of an OpenID-only registry sign in with API keys created in zot; so do the
        // accounts of push/pull Secrets (their password is an API key the operator makes and rotates).
        apikey: (openid.is_some() || !accounts.is_empty()).then_some(true),
        openid,
        session_keys_file: Some(format!("{SESSION_DIR}/{SESSION_FILE}")),
        ..zot::AuthConfig::default()
    }
}

fn actions(actions: &[api::Action]) -> Vec<zot::Action> {
    let mut actions: Vec<api::Action> = actions.to_vec();
    actions.sort();
    actions.dedup();
    actions
        .into_iter()
        .map(|a| match a {
            api::Action::Read => zot::Action::Read,
            api::Action::Create => zot::Action::Create,
            api::Action::Update => zot::Action::Update,
            api::Action::Delete => zot::Action::Delete,
        })
        .collect()
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// zot applies the policy group of the most specific matching glob only, so the default and anonymous
/// policies are repeated in every group to hold "on every repository".
fn access_control(rbac: &RbacSpec, accounts: &[Account]) -> zot::AccessControlConfig {
    let group = || zot::PolicyGroup {
        policies: None,
        default_policy: non_empty(actions(&rbac.default_policy)),
        anonymous_policy: non_empty(actions(&rbac.anonymous_policy)),
    };
    let mut repositories: BTreeMap<String, zot::PolicyGroup> = BTreeMap::new();
    if !rbac.default_policy.is_empty() || !rbac.anonymous_policy.is_empty() {
        repositories.insert("**".to_string(), group());
    }
    for policy in &rbac.policies {
        for glob in &policy.repositories {
            let entry = repositories.entry(glob.clone()).or_insert_with(group);
            entry
                .policies
                .get_or_insert_with(Vec::new)
                .push(zot::Policy {
                    users: non_empty(policy.users.clone()),
                    groups: non_empty(policy.groups.clone()),
                    actions: Some(actions(&policy.actions)),
                    ..zot::Policy::default()
                });
        }
    }
    add_account_policies(&mut repositories, accounts, &group);
    let admins = !rbac.admin_users.is_empty() || !rbac.admin_groups.is_empty();
    zot::AccessControlConfig {
        repositories: Some(repositories),
        admin_policy: admins.then(|| zot::Policy {
            users: non_empty(rbac.admin_users.clone()),
            groups: non_empty(rbac.admin_groups.clone()),
            actions: Some(actions(&[
                api::Action::Read,
                api::Action::Create,
                api::Action::Update,
                api::Action::Delete,
            ])),
            ..zot::Policy::default()
        }),
        metrics: (!rbac.metrics_users.is_empty() || rbac.anonymous_metrics).then(|| {
            zot::MetricsAccess {
                users: non_empty(rbac.metrics_users.clone()),
                anonymous_policy: rbac.anonymous_metrics.then(|| vec![zot::Action::Read]),
            }
        }),
        ..zot::AccessControlConfig::default()
    }
}

/// One policy per account on each of its globs. zot applies the group of the longest matching glob only, so the
/// policies of a glob that covers an account's glob (`**` covers `ci/**`) are copied into the account's group, and
/// an account's policy into the group of every glob its own covers: adding an account changes no one else's
/// rights.
fn add_account_policies(
    repositories: &mut BTreeMap<String, zot::PolicyGroup>,
    accounts: &[Account],
    group: &dyn Fn() -> zot::PolicyGroup,
) {
    if accounts.is_empty() {
        return;
    }
    let policy = |account: &Account| zot::Policy {
        users: Some(vec![account.name.clone()]),
        groups: None,
        actions: Some(actions(&account.policy.actions)),
        ..zot::Policy::default()
    };
    let user_globs: Vec<(String, Vec<zot::Policy>)> = repositories
        .iter()
        .map(|(g, pg)| (g.clone(), pg.policies.clone().unwrap_or_default()))
        .collect();
    for account in accounts {
        for glob in &account.policy.repositories {
            if !repositories.contains_key(glob) {
                let mut fresh = group();
                let inherited: Vec<zot::Policy> = user_globs
                    .iter()
                    .filter(|(g, _)| g != glob && covers(g, glob))
                    .flat_map(|(_, p)| p.clone())
                    .collect();
                fresh.policies = non_empty(inherited);
                repositories.insert(glob.clone(), fresh);
            }
        }
    }
    let globs: Vec<String> = repositories.keys().cloned().collect();
    for account in accounts {
        for glob in &globs {
            if account
                .policy
                .repositories
                .iter()
                .any(|own| covers(own, glob))
                && let Some(entry) = repositories.get_mut(glob)
            {
                entry
                    .policies
                    .get_or_insert_with(Vec::new)
                    .push(policy(account));
            }
        }
    }
}

fn extensions(store: &ValidatedStore) -> Option<zot::ExtensionsConfig> {
    let spec = &store.spec;
    let chain = &spec.supply_chain;
    let sbom = chain.sbom.as_ref().filter(|s| chain.enabled && s.enabled);
    let signing = chain
        .signing
        .as_ref()
        .is_some_and(|s| chain.enabled && s.enabled);
    let cve = spec.extensions.search.cve.as_ref().filter(|c| c.enabled);
    let search = spec.extensions.search.enabled.then(|| zot::SearchConfig {
        enable: Some(true),
        cve: (cve.is_some() || sbom.is_some()).then(|| zot::CveConfig {
            update_interval: cve.and_then(|c| c.update_interval.clone()),
            trivy: trivy(cve, sbom),
        }),
    });
    let metrics = spec.metrics.enabled.then(|| zot::MetricsConfig {
        enable: Some(true),
        prometheus: Some(zot::PrometheusConfig {
            path: Some(spec.metrics.prometheus.path.clone()),
        }),
    });
    let ext = &spec.extensions;
    let config = zot::ExtensionsConfig {
        search,
        metrics,
        sync: ext
            .sync
            .as_ref()
            .filter(|s| s.enabled)
            .map(|s| sync(store, s)),
        scrub: ext
            .scrub
            .as_ref()
            .filter(|s| s.enabled)
            .map(|s| zot::ScrubConfig {
                enable: Some(true),
                interval: s.interval.clone(),
            }),
        lint: ext
            .lint
            .as_ref()
            .filter(|l| l.enabled)
            .map(|l| zot::LintConfig {
                enable: Some(true),
                mandatory_annotations: non_empty(l.mandatory_annotations.clone()),
            }),
        trust: signing.then_some(zot::TrustConfig {
            enable: Some(true),
            cosign: Some(true),
            notation: Some(true),
        }),
        ..zot::ExtensionsConfig::default()
    };
    (config != zot::ExtensionsConfig::default()).then_some(config)
}

/// `trivy`: the database mirrors of extensions.search.cve and the SBOM of supplyChain.sbom; None when neither is set.
fn trivy(cve: Option<&api::CveSpec>, sbom: Option<&api::SbomSpec>) -> Option<zot::TrivyConfig> {
    let config = zot::TrivyConfig {
        db_repository: cve.and_then(|c| c.db_repository.clone()),
        java_db_repository: cve.and_then(|c| c.java_db_repository.clone()),
        sbom: sbom.map(|sbom| zot::SbomConfig {
            enable: Some(true),
            format: Some(
                match sbom.default_format {
                    SbomFormat::Spdx => "spdx-json",
                    SbomFormat::Cyclonedx => "cyclonedx",
                }
                .to_string(),
            ),
        }),
        ..zot::TrivyConfig::default()
    };
    (config != zot::TrivyConfig::default()).then_some(config)
}

fn sync(store: &ValidatedStore, sync: &api::SyncSpec) -> zot::SyncConfig {
    let registries = sync
        .registries
        .iter()
        .map(|r| zot::SyncRegistry {
            urls: Some(r.urls.clone()),
            poll_interval: r.poll_interval.clone(),
            on_demand: Some(r.on_demand),
            tls_verify: r.tls_verify,
            only_signed: r.only_signed,
            max_retries: r.max_retries.and_then(|n| u32::try_from(n).ok()),
            retry_delay: r.retry_delay.clone(),
            content: non_empty(
                r.content
                    .iter()
                    .map(|c| zot::SyncContent {
                        prefix: c.prefix.clone(),
                        destination: c.destination.clone(),
                        strip_prefix: c.strip_prefix,
                        tags: c.tags.as_ref().map(|t| zot::SyncTags {
                            regex: t.regex.clone(),
                            semver: t.semver,
                            ..zot::SyncTags::default()
                        }),
                    })
                    .collect(),
            ),
            ..zot::SyncRegistry::default()
        })
        .collect();
    zot::SyncConfig {
        enable: Some(true),
        credentials_file: sync
            .credentials_secret_ref
            .as_ref()
            .map(|_| format!("{SYNC_DIR}/{SYNC_FILE}")),
        download_dir: store
            .backend
            .is_remote()
            .then(|| SYNC_DOWNLOAD_DIR.to_string()),
        registries: Some(registries),
    }
}
