//! zot's metadata and dedupe database ("cache driver").
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::messages;

use super::SecretKeyRef;
use super::rules;

/// The database in which zot keeps image metadata and its dedupe index. zot supports an embedded BoltDB (one
/// replica), redis (shared by every replica, any storage) and DynamoDB (shared, with s3 storage only).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.type != 'postgres'")
        .message(messages::POSTGRES),
    validation = Rule::new("self.type != 'mysql'")
        .message(messages::MYSQL),
    validation = Rule::new("self.type != 'redis' || has(self.redis)")
        .message("database.type redis needs a database.redis section with the url of the redis server"),
    validation = Rule::new("self.type != 'dynamodb' || has(self.dynamodb)")
        .message("database.type dynamodb needs a database.dynamodb section with at least the region"),
    validation = Rule::new("(!has(self.embedded) || self.type == 'embedded') && (!has(self.redis) || self.type == 'redis') && (!has(self.dynamodb) || self.type == 'dynamodb') && (!has(self.postgres) || self.type == 'postgres') && (!has(self.mysql) || self.type == 'mysql')")
        .message(messages::OTHER_DATABASE_SECTION),
)]
pub struct DatabaseSpec {
    /// Database kind: `embedded` (BoltDB inside zot; one replica only), `redis` or `dynamodb` (shared by every
    /// replica). `postgres` and `mysql` are accepted as names but refused: zot cannot use SQL databases.
    /// Defaults to embedded.
    #[serde(rename = "type", default)]
    pub type_: DatabaseType,
    /// Settings of the embedded BoltDB database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<EmbeddedDatabase>,
    /// A redis server shared by every replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisDatabase>,
    /// DynamoDB tables shared by every replica; needs s3 storage. zot uses the AWS credentials of storage.s3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamodb: Option<DynamoDbDatabase>,
    /// Not supported: zot has no PostgreSQL driver. Accepted by name only so that a refusal can say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<SqlDatabase>,
    /// Not supported: zot has no MySQL driver. Accepted by name only so that a refusal can say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql: Option<SqlDatabase>,
}

/// Database kind of zot.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseType {
    #[default]
    Embedded,
    Redis,
    Dynamodb,
    Postgres,
    Mysql,
}

/// The embedded BoltDB database.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedDatabase {
    /// Room for the database, e.g. `5Gi`. With s3, gcs or azure storage it is the size of the database's own
    /// volume (default `5Gi`). With filesystem storage the database shares the data volume, and this size is
    /// added to storage.size (the DatabaseReady condition states the split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "rules::quantity_string")]
    #[x_kube(validation = rules::positive_quantity())]
    pub storage_size: Option<Quantity>,
    /// StorageClass of the database volume used with s3, gcs or azure storage. Defaults to the cluster's
    /// default StorageClass. With filesystem storage the database shares the data volume: only
    /// storage.storageClass's own value is accepted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub storage_class: Option<String>,
}

/// A redis server.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!(self.url.startsWith('rediss://') && has(self.passwordSecretRef))")
        .message(messages::REDIS_TLS_PASSWORD),
)]
pub struct RedisDatabase {
    /// URL of the redis server, e.g. `redis://redis.cache.svc:6379/0` (`rediss://` for TLS). It carries no user
    /// or password: give the password in passwordSecretRef.
    #[x_kube(validation = Rule::new("self.matches('^rediss?://[^@/]+(/.*)?$')")
        .message("must be redis://host:port[/db] or rediss://…, without user or password: put the password in a Secret and name it in passwordSecretRef"))]
    #[schemars(length(min = 1, max = 512))]
    pub url: String,
    /// Prefix of every key zot writes, so that several stores can share one redis. Defaults to the store's
    /// namespace and name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub key_prefix: Option<String>,
    /// Key of a Secret in the store's namespace holding the redis password (AUTH). zot reads it only from its
    /// configuration file, so the operator writes it there, as the `password` option zot masks in its log, in the
    /// store's own Secret `<store>-config` (never a ConfigMap, log, event or status); a change of the password
    /// rolls the pods. Only with a redis:// URL: zot's options form has no TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<SecretKeyRef>,
}

/// DynamoDB tables.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DynamoDbDatabase {
    /// AWS region of the tables.
    #[schemars(length(min = 1))]
    pub region: String,
    /// Endpoint URL of a DynamoDB-compatible service. Defaults to AWS DynamoDB of the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = rules::http_url())]
    pub endpoint: Option<String>,
    /// Prefix of the table names zot creates and uses (e.g. `<prefix>BlobTable`). Defaults to
    /// `<namespace>-<name>-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    #[x_kube(validation = Rule::new("self.matches('^[a-zA-Z0-9_.-]{1,200}$')")
        .message("may contain only letters, digits, '_', '-' and '.'"))]
    pub table_prefix: Option<String>,
}

/// A SQL database. zot cannot use one: the section exists only so that a spec naming
/// it is refused with a reason instead of being pruned silently.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SqlDatabase {
    /// Host name of the database server (not used: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port of the database server (not used: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Name of the database (not used: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Secret with the database credentials (not used: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<String>,
}
