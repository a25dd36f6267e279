//! Renderings checked by value.

use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use super::*;

fn rendered(config: &ZotConfig) -> Value {
    serde_json::from_str(&config.to_json()).unwrap()
}

fn filesystem_base() -> ZotConfig {
    ZotConfig {
        dist_spec_version: Some(DIST_SPEC_VERSION.to_owned()),
        storage: StorageConfig {
            root_directory: Some("/var/lib/registry".to_owned()),
            dedupe: Some(true),
            remote_cache: Some(false),
            gc: Some(true),
            gc_delay: Some("1h".to_owned()),
            gc_interval: Some("24h".to_owned()),
            ..Default::default()
        },
        http: HttpConfig {
            address: Some("0.0.0.0".to_owned()),
            port: Some("5000".to_owned()),
            ..Default::default()
        },
        log: Some(LogConfig {
            level: Some(LogLevel::Info),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn filesystem_store_with_embedded_boltdb_renders_only_what_is_set() {
    assert_eq!(
        rendered(&filesystem_base()),
        json!({
            "distSpecVersion": "1.1.1",
            "storage": {
                "rootDirectory": "/var/lib/registry",
                "dedupe": true,
                "remoteCache": false,
                "gc": true,
                "gcDelay": "1h",
                "gcInterval": "24h"
            },
            "http": {"address": "0.0.0.0", "port": "5000"},
            "log": {"level": "info"}
        })
    );
}

#[test]
fn to_json_keeps_struct_order_and_is_stable() {
    let config = filesystem_base();
    let text = config.to_json();
    assert_eq!(text, config.clone().to_json());
    let storage = text.find("\"storage\"").unwrap();
    let http = text.find("\"http\"").unwrap();
    let log = text.find("\"log\"").unwrap();
    assert!(text.find("\"distSpecVersion\"").unwrap() < storage);
    assert!(storage < http && http < log);
}

#[test]
fn s3_with_dynamodb_renders_driver_names_and_lowercase_parameters() {
    let config = ZotConfig {
        storage: StorageConfig {
            root_directory: Some("/var/lib/zot".to_owned()),
            dedupe: Some(true),
            remote_cache: Some(true),
            storage_driver: Some(StorageDriver::S3(S3Driver {
                rootdirectory: Some("/zot".to_owned()),
                region: Some("us-east-2".to_owned()),
                regionendpoint: Some("https://minio.example:9000".to_owned()),
                bucket: Some("registry".to_owned()),
                forcepathstyle: Some(true),
                secure: Some(true),
                skipverify: Some(false),
                ..Default::default()
            })),
            cache_driver: Some(CacheDriver::Dynamodb(DynamoDbDriver {
                endpoint: Some("https://dynamodb.us-east-2.amazonaws.com".to_owned()),
                region: Some("us-east-2".to_owned()),
                cache_tablename: Some("ZotBlobTable".to_owned()),
                repo_meta_tablename: Some("ZotRepoMetadataTable".to_owned()),
                image_meta_tablename: Some("ZotImageMetaTable".to_owned()),
                repo_blobs_info_tablename: Some("ZotRepoBlobsInfoTable".to_owned()),
                user_data_tablename: Some("ZotUserDataTable".to_owned()),
                api_key_tablename: Some("ZotApiKeyTable".to_owned()),
                version_tablename: Some("ZotVersion".to_owned()),
            })),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        rendered(&config)["storage"],
        json!({
            "rootDirectory": "/var/lib/zot",
            "dedupe": true,
            "remoteCache": true,
            "storageDriver": {
                "name": "s3",
                "rootdirectory": "/zot",
                "region": "us-east-2",
                "regionendpoint": "https://minio.example:9000",
                "bucket": "registry",
                "forcepathstyle": true,
                "secure": true,
                "skipverify": false
            },
            "cacheDriver": {
                "name": "dynamodb",
                "endpoint": "https://dynamodb.us-east-2.amazonaws.com",
                "region": "us-east-2",
                "cacheTablename": "ZotBlobTable",
                "repoMetaTablename": "ZotRepoMetadataTable",
                "imageMetaTablename": "ZotImageMetaTable",
                "repoBlobsInfoTablename": "ZotRepoBlobsInfoTable",
                "userDataTablename": "ZotUserDataTable",
                "apiKeyTablename": "ZotApiKeyTable",
                "versionTablename": "ZotVersion"
            }
        })
    );
}

#[test]
fn azure_with_default_credentials_and_redis_cache() {
    let storage = StorageConfig {
        root_directory: Some("/var/lib/zot".to_owned()),
        remote_cache: Some(true),
        storage_driver: Some(StorageDriver::Azure(AzureDriver {
            rootdirectory: Some("/zot".to_owned()),
            accountname: Some("acct".to_owned()),
            container: Some("registry".to_owned()),
            credentials: Some(AzureCredentials::default()),
            ..Default::default()
        })),
        cache_driver: Some(CacheDriver::Redis(RedisConfig {
            url: Some("rediss://redis.zot.svc:6379".to_owned()),
            keyprefix: Some("zot".to_owned()),
            ..Default::default()
        })),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&storage).unwrap(),
        json!({
            "rootDirectory": "/var/lib/zot",
            "remoteCache": true,
            "storageDriver": {
                "name": "azure",
                "rootdirectory": "/zot",
                "accountname": "acct",
                "container": "registry",
                "credentials": {"type": "default_credentials"}
            },
            "cacheDriver": {"name": "redis", "url": "rediss://redis.zot.svc:6379", "keyprefix": "zot"}
        })
    );
}

#[test]
fn openid_keycloak_with_policies_renders_zot_spellings() {
    let mut providers = BTreeMap::new();
    providers.insert(
        "oidc".to_owned(),
        OpenIdProvider {
            name: Some("Keycloak".to_owned()),
            issuer: Some("https://sso.example/realms/apps".to_owned()),
            credentials_file: Some("/etc/zot/secrets/oidc.json".to_owned()),
            scopes: Some(vec!["openid".to_owned(), "groups".to_owned()]),
            ..Default::default()
        },
    );
    let mut repositories = BTreeMap::new();
    repositories.insert(
        "**".to_owned(),
        PolicyGroup {
            policies: Some(vec![Policy {
                groups: Some(vec!["devs".to_owned()]),
                actions: Some(vec![Action::Read, Action::Create]),
                ..Default::default()
            }]),
            default_policy: Some(vec![Action::Read]),
            ..Default::default()
        },
    );
    let http = HttpConfig {
        auth: Some(AuthConfig {
            openid: Some(OpenIdConfig {
                providers: Some(providers),
                ..Default::default()
            }),
            apikey: Some(true),
            session_keys_file: Some("/etc/zot/secrets/session-keys.json".to_owned()),
            ..Default::default()
        }),
        access_control: Some(AccessControlConfig {
            repositories: Some(repositories),
            admin_policy: Some(Policy {
                groups: Some(vec!["admins".to_owned()]),
                actions: Some(vec![
                    Action::Read,
                    Action::Create,
                    Action::Update,
                    Action::Delete,
                ]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&http).unwrap(),
        json!({
            "auth": {
                "openid": {"providers": {"oidc": {
                    "credentialsFile": "/etc/zot/secrets/oidc.json",
                    "name": "Keycloak",
                    "issuer": "https://sso.example/realms/apps",
                    "scopes": ["openid", "groups"]
                }}},
                "apikey": true,
                "sessionKeysFile": "/etc/zot/secrets/session-keys.json"
            },
            "accessControl": {
                "repositories": {"**": {
                    "policies": [{"actions": ["read", "create"], "groups": ["devs"]}],
                    "defaultPolicy": ["read"]
                }},
                "adminPolicy": {"actions": ["read", "create", "update", "delete"], "groups": ["admins"]}
            }
        })
    );
}

#[test]
fn extensions_render_with_zot_key_names() {
    let extensions = ExtensionsConfig {
        search: Some(SearchConfig {
            enable: Some(true),
            cve: Some(CveConfig {
                update_interval: Some("24h".to_owned()),
                trivy: Some(TrivyConfig {
                    java_db_repository: Some("mirror.example/trivy-java-db".to_owned()),
                    sbom: Some(SbomConfig {
                        enable: Some(true),
                        format: Some("spdx-json".to_owned()),
                    }),
                    ..Default::default()
                }),
            }),
        }),
        metrics: Some(MetricsConfig {
            enable: Some(true),
            prometheus: Some(PrometheusConfig {
                path: Some("/metrics".to_owned()),
            }),
        }),
        ui: Some(UiConfig { enable: Some(true) }),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&extensions).unwrap(),
        json!({
            "search": {"enable": true, "cve": {"updateInterval": "24h", "trivy": {
                "javaDBRepository": "mirror.example/trivy-java-db",
                "sbom": {"enable": true, "format": "spdx-json"}
            }}},
            "metrics": {"enable": true, "prometheus": {"path": "/metrics"}},
            "ui": {"enable": true}
        })
    );
}

#[test]
fn unknown_keys_are_refused_like_zot_does() {
    let err = serde_json::from_value::<ZotConfig>(json!({
        "storage": {"rootDirectory": "/tmp/zot", "dedup": true},
        "http": {}
    }))
    .unwrap_err();
    assert!(err.to_string().contains("dedup"), "{err}");

    let err = serde_json::from_value::<StorageDriver>(json!({
        "name": "s3",
        "bucket": "b",
        "accesskey": "inline-secret"
    }))
    .unwrap_err();
    assert!(err.to_string().contains("accesskey"), "{err}");

    assert!(
        serde_json::from_value::<CacheDriver>(json!({"name": "boltdb", "rootDir": "/x"})).is_err()
    );
    assert!(serde_json::from_value::<CacheDriver>(json!({"name": "postgres"})).is_err());
}

#[test]
fn session_driver_local_and_redis() {
    assert_eq!(
        serde_json::to_value(SessionDriver::Local).unwrap(),
        json!({"name": "local"})
    );
    let redis = SessionDriver::Redis(RedisConfig {
        url: Some("redis://redis:6379".to_owned()),
        ..Default::default()
    });
    assert_eq!(
        serde_json::to_value(&redis).unwrap(),
        json!({"name": "redis", "url": "redis://redis:6379"})
    );
    let back: SessionDriver = serde_json::from_value(json!({"name": "local"})).unwrap();
    assert_eq!(back, SessionDriver::Local);
}
