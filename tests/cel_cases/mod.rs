//! The table of CEL rule cases shared by tests/cel_rules.rs (client-side, kube-cel) and tests/cel_apiserver.rs
//! (the real API server). Every `x-kubernetes-validations` rule of the committed CRD has at least one refused and
//! one accepted case here; [`uncovered_rules`] says which do not.
//!
//! A refused case lists *every* refusal the object gets, as (field path, message): a case proves its rule in
//! isolation, and a spec that trips an extra rule fails the case. The root rule (metadata.name) has the field
//! path [`ROOT`].
#![allow(dead_code)]

use serde_json::Value;
use zot_operator::api::v1alpha1::messages;

/// Field path of a rule on the object's root.
pub const ROOT: &str = "";

pub const URL: &str = "must be an http:// or https:// URL";
pub const ROOT_DIRECTORY: &str = "must start with /, e.g. /zot";
pub const DURATION: &str = "must be a duration such as 24h, 90m or 1h30m";
pub const COUNT_OR_PERCENT: &str = "must be a number of pods (e.g. 2) or a percentage (e.g. 50%)";
pub const TABLE_PREFIX: &str = "may contain only letters, digits, '_', '-' and '.'";
pub const REDIS_URL: &str = "must be redis://host:port[/db] or rediss://…, without user or password: put the password in a Secret and name it in passwordSecretRef";
pub const METRICS_PATH: &str = messages::METRICS_PATH;
pub const HOST: &str = "must be a lower-case DNS host name such as artifacts.example.com";
pub const INGRESS_TLS: &str = "ingress.tls.enabled needs ingress.tls.secretName: the Secret (type kubernetes.io/tls) that holds or will hold the certificate";
pub const ROUTE_HOST: &str = "must be a lower-case DNS host name such as artifacts.apps.example.com (no wildcard, labels of at most 63 characters)";
pub const TLS_ONE_SOURCE: &str = messages::TLS_ONE_SOURCE;
pub const TLS_ISSUER_OFF: &str = messages::TLS_ISSUER_OFF;
pub const KEY_SIZE: &str = "keySize must be 2048, 3072 or 4096";
pub const POLICY_SUBJECT: &str = "a policy needs at least one user or group";
pub const PERIODIC_SYNC: &str = "a periodic sync needs pollInterval (e.g. 6h); set onDemand: true to fetch images only when they are pulled";
pub const REDIS_SECTION: &str =
    "database.type redis needs a database.redis section with the url of the redis server";
pub const DYNAMODB_SECTION: &str =
    "database.type dynamodb needs a database.dynamodb section with at least the region";
pub const S3_SECTION: &str = "storage.type s3 needs a storage.s3 section with at least a bucket";
pub const GCS_SECTION: &str = "storage.type gcs needs a storage.gcs section with at least a bucket";
pub const AZURE_SECTION: &str =
    "storage.type azure needs a storage.azure section with accountName and container";

/// One object and what the CRD's CEL rules say about it.
#[derive(Clone, Debug)]
pub struct Case {
    /// The behaviour the case proves, as a sentence.
    pub behaviour: &'static str,
    /// metadata.name of the object.
    pub name: String,
    /// The spec, as YAML.
    pub spec: &'static str,
    /// (field path, message) of every refusal, sorted; empty when the object is accepted.
    pub refusals: Vec<(&'static str, &'static str)>,
}

impl Case {
    pub fn is_refused(&self) -> bool {
        !self.refusals.is_empty()
    }

    /// The ZotArtifactStore, in the namespace `namespace`.
    pub fn object(&self, namespace: &str) -> Value {
        object(&self.name, namespace, self.spec)
    }

    fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }
}

/// A ZotArtifactStore named `name` in `namespace` with the YAML `spec`.
pub fn object(name: &str, namespace: &str, spec: &str) -> Value {
    let spec: Value = serde_yaml::from_str(spec).expect("the case's spec is YAML");
    serde_json::json!({
        "apiVersion": "artifact.zotregistry.io/v1alpha1",
        "kind": "ZotArtifactStore",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    })
}

fn refused(
    behaviour: &'static str,
    spec: &'static str,
    refusals: &[(&'static str, &'static str)],
) -> Case {
    let mut refusals = refusals.to_vec();
    refusals.sort();
    Case {
        behaviour,
        name: "zot".to_string(),
        spec,
        refusals,
    }
}

fn accepted(behaviour: &'static str, spec: &'static str) -> Case {
    refused(behaviour, spec, &[])
}

/// Every case, refused and accepted.
pub fn cases() -> Vec<Case> {
    use messages::*;
    vec![
        // metadata.name
        refused(
            "a name with a dot cannot name Services",
            "{}",
            &[(ROOT, NAME)],
        )
        .named("zot.example"),
        refused(
            "a name of 53 characters is too long for StatefulSet pod names",
            "{}",
            &[(ROOT, NAME)],
        )
        .named(&"a".repeat(53)),
        refused(
            "a name starting with a digit is refused",
            "{}",
            &[(ROOT, NAME)],
        )
        .named("1zot"),
        accepted("a DNS label of 52 characters is a valid name", "{}").named(&"a".repeat(52)),
        // replicas
        refused(
            "several replicas on filesystem storage are refused even with a shared database",
            "{replicas: 2, database: {type: redis, redis: {url: 'redis://redis:6379'}}}",
            &[("spec", FILESYSTEM_REPLICAS)],
        ),
        refused(
            "several replicas with the embedded database on filesystem storage get both refusals",
            "{replicas: 2}",
            &[("spec", FILESYSTEM_REPLICAS), ("spec", EMBEDDED_REPLICAS)],
        ),
        refused(
            "several replicas with the embedded database are refused on object storage",
            "{replicas: 2, storage: {type: s3, s3: {bucket: images}}}",
            &[("spec", EMBEDDED_REPLICAS)],
        ),
        accepted(
            "one replica on filesystem storage is accepted",
            "{replicas: 1}",
        ),
        accepted("zero replicas park the store", "{replicas: 0}"),
        accepted(
            "several replicas with s3 storage and redis are accepted",
            "{replicas: 3, storage: {type: s3, s3: {bucket: images}}, database: {type: redis, redis: {url: 'redis://redis:6379'}}}",
        ),
        // autoscaling
        refused(
            "autoscaling with filesystem storage and the embedded database is refused",
            "{autoscaling: {enabled: true}}",
            &[("spec", AUTOSCALING_NEEDS_SHARED)],
        ),
        refused(
            "autoscaling with the embedded database is refused on object storage",
            "{autoscaling: {enabled: true}, storage: {type: gcs, gcs: {bucket: images}}}",
            &[("spec", AUTOSCALING_NEEDS_SHARED)],
        ),
        refused(
            "minReplicas above maxReplicas is refused even while autoscaling is off",
            "{autoscaling: {enabled: false, minReplicas: 5, maxReplicas: 2}}",
            &[("spec.autoscaling", AUTOSCALING_RANGE)],
        ),
        accepted(
            "autoscaling with gcs storage and redis, minReplicas equal to maxReplicas, is accepted",
            "{autoscaling: {enabled: true, minReplicas: 3, maxReplicas: 3}, resources: {requests: {cpu: 500m}}, storage: {type: gcs, gcs: {bucket: images}}, database: {type: redis, redis: {url: 'redis://redis:6379'}}}",
        ),
        accepted(
            "autoscaling with s3 storage and dynamodb is accepted",
            "{autoscaling: {enabled: true, minReplicas: 2, maxReplicas: 10}, resources: {requests: {cpu: '1'}}, storage: {type: s3, s3: {bucket: images}}, database: {type: dynamodb, dynamodb: {region: eu-west-1}}}",
        ),
        // SQL databases and database sections
        refused(
            "postgres is refused by name with the supported alternatives",
            "{database: {type: postgres, postgres: {host: db, port: 5432}}}",
            &[("spec.database", POSTGRES)],
        ),
        refused(
            "mysql is refused by name with the supported alternatives",
            "{database: {type: mysql}}",
            &[("spec.database", MYSQL)],
        ),
        refused(
            "database.type redis without its section is refused",
            "{database: {type: redis}}",
            &[("spec.database", REDIS_SECTION)],
        ),
        refused(
            "a null redis section counts as no section",
            "{database: {type: redis, redis: null}}",
            &[("spec.database", REDIS_SECTION)],
        ),
        refused(
            "database.type dynamodb without its section is refused",
            "{database: {type: dynamodb}, storage: {type: s3, s3: {bucket: images}}}",
            &[("spec.database", DYNAMODB_SECTION)],
        ),
        refused(
            "a redis section with the embedded database is refused",
            "{database: {type: embedded, redis: {url: 'redis://redis:6379'}}}",
            &[("spec.database", OTHER_DATABASE_SECTION)],
        ),
        refused(
            "a dynamodb section next to database.type redis is refused",
            "{database: {type: redis, redis: {url: 'redis://redis:6379'}, dynamodb: {region: eu-west-1}}}",
            &[("spec.database", OTHER_DATABASE_SECTION)],
        ),
        accepted(
            "a null section of another database type counts as absent",
            "{database: {type: embedded, redis: null}}",
        ),
        accepted(
            "redis with a rediss URL and a database number is accepted on filesystem storage",
            "{database: {type: redis, redis: {url: 'rediss://redis.db.svc:6380/2', keyPrefix: zot}}}",
        ),
        refused(
            "a redis URL with a password is refused: the password belongs in passwordSecretRef",
            "{database: {type: redis, redis: {url: 'redis://zot:secret@redis:6379'}}}",
            &[("spec.database.redis.url", REDIS_URL)],
        ),
        accepted(
            "garbage collection tuned: interval and delay",
            "{storage: {gc: true, gcInterval: 10m, gcDelay: 1h30m}}",
        ),
        refused(
            "gc settings with gc off are refused: zot would ignore them",
            "{storage: {gc: false, gcInterval: 10m}}",
            &[(
                "spec.storage",
                zot_operator::api::v1alpha1::messages::GC_SETTINGS_WITHOUT_GC,
            )],
        ),
        accepted(
            "retention policies with a delay, kept tags by count, age and pull, untagged manifests and referrers",
            "{storage: {retention: {dryRun: false, delay: 24h, policies: [{repositories: ['team-a/**'], deleteReferrers: true, deleteUntagged: true, keepTags: [{patterns: ['^v[0-9]+'], mostRecentlyPushedCount: 5, pushedWithin: 720h, pulledWithin: 168h}]}]}}}",
        ),
        refused(
            "retention with gc off is refused: zot applies it in garbage collection",
            "{storage: {gc: false, retention: {policies: [{repositories: ['**']}]}}}",
            &[(
                "spec.storage",
                zot_operator::api::v1alpha1::messages::RETENTION_WITHOUT_GC,
            )],
        ),
        refused(
            "a retention delay that is not a duration is refused",
            "{storage: {retention: {delay: 'one day'}}}",
            &[("spec.storage.retention.delay", DURATION)],
        ),
        refused(
            "a keepTags pushedWithin that is not a duration is refused",
            "{storage: {retention: {policies: [{repositories: ['**'], keepTags: [{pushedWithin: '30 days'}]}]}}}",
            &[(
                "spec.storage.retention.policies[0].keepTags[0].pushedWithin",
                DURATION,
            )],
        ),
        refused(
            "a keepTags pulledWithin that is not a duration is refused",
            "{storage: {retention: {policies: [{repositories: ['**'], keepTags: [{pulledWithin: 'a week'}]}]}}}",
            &[(
                "spec.storage.retention.policies[0].keepTags[0].pulledWithin",
                DURATION,
            )],
        ),
        accepted(
            "trivy database mirrors, with a port, a path and a tag",
            "{extensions: {search: {cve: {enabled: true, dbRepository: 'mirror.example.com:8443/aquasecurity/trivy-db:2', javaDbRepository: mirror.example.com/aquasecurity/trivy-java-db}}}}",
        ),
        refused(
            "a trivy database mirror given as a URL is refused: zot would exit at start",
            "{extensions: {search: {cve: {enabled: true, dbRepository: 'https://mirror.example.com/trivy-db'}}}}",
            &[(
                "spec.extensions.search.cve.dbRepository",
                zot_operator::api::v1alpha1::messages::OCI_REPOSITORY,
            )],
        ),
        refused(
            "a trivy Java database mirror without a path is refused",
            "{extensions: {search: {cve: {enabled: true, javaDbRepository: 'mirror.example.com'}}}}",
            &[(
                "spec.extensions.search.cve.javaDbRepository",
                zot_operator::api::v1alpha1::messages::OCI_REPOSITORY,
            )],
        ),
        refused(
            "a gc delay that is not a duration is refused",
            "{storage: {gcDelay: '1 hour'}}",
            &[(
                "spec.storage.gcDelay",
                "must be a duration such as 24h, 90m or 1h30m",
            )],
        ),
        refused(
            "a gc interval that is not a duration is refused",
            "{storage: {gcInterval: 'every hour'}}",
            &[(
                "spec.storage.gcInterval",
                "must be a duration such as 24h, 90m or 1h30m",
            )],
        ),
        refused(
            "a password with a TLS redis URL is refused: zot's options form has no TLS",
            "{database: {type: redis, redis: {url: 'rediss://redis:6380', passwordSecretRef: {name: auth, key: password}}}}",
            &[(
                "spec.database.redis",
                zot_operator::api::v1alpha1::messages::REDIS_TLS_PASSWORD,
            )],
        ),
        accepted(
            "a password with a plain redis URL is accepted",
            "{replicas: 2, storage: {type: s3, s3: {bucket: images}}, database: {type: redis, redis: {url: 'redis://redis:6379/1', passwordSecretRef: {name: auth, key: password}}}}",
        ),
        refused(
            "a redis URL with another scheme is refused",
            "{database: {type: redis, redis: {url: 'http://redis:6379'}}}",
            &[("spec.database.redis.url", REDIS_URL)],
        ),
        refused(
            "dynamodb is refused with gcs storage",
            "{storage: {type: gcs, gcs: {bucket: images}}, database: {type: dynamodb, dynamodb: {region: eu-west-1}}}",
            &[("spec", DYNAMODB_NEEDS_S3)],
        ),
        refused(
            "dynamodb is refused with filesystem storage",
            "{database: {type: dynamodb, dynamodb: {region: eu-west-1}}}",
            &[("spec", DYNAMODB_NEEDS_S3)],
        ),
        refused(
            "a dynamodb endpoint without a scheme is refused",
            "{storage: {type: s3, s3: {bucket: images}}, database: {type: dynamodb, dynamodb: {region: eu-west-1, endpoint: 'dynamodb.local:8000'}}}",
            &[("spec.database.dynamodb.endpoint", URL)],
        ),
        refused(
            "a dynamodb table prefix with a space is refused",
            "{storage: {type: s3, s3: {bucket: images}}, database: {type: dynamodb, dynamodb: {region: eu-west-1, tablePrefix: 'zot tables'}}}",
            &[("spec.database.dynamodb.tablePrefix", TABLE_PREFIX)],
        ),
        accepted(
            "dynamodb with s3 storage, an http endpoint and a dotted table prefix is accepted",
            "{storage: {type: s3, s3: {bucket: images}}, database: {type: dynamodb, dynamodb: {region: eu-west-1, endpoint: 'http://dynamodb.local:8000', tablePrefix: team-a.zot_}}}",
        ),
        // the image
        refused(
            "an image tag with a blank (v1 2) is refused",
            "{image: {tag: 'v1 2'}}",
            &[("spec.image.tag", messages::IMAGE_TAG)],
        ),
        refused(
            "an image tag starting with a dot is refused",
            "{image: {tag: .v1}}",
            &[("spec.image.tag", messages::IMAGE_TAG)],
        ),
        accepted(
            "an image tag such as v2.1.20 is accepted",
            "{image: {tag: v2.1.20}}",
        ),
        accepted(
            "an image digest is accepted as the tag",
            "{image: {tag: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}}",
        ),
        // the embedded database's volume
        accepted(
            "the documented embedded BoltDB snippet (a database size with filesystem storage) is accepted",
            "{database: {type: embedded, embedded: {storageSize: 5Gi}}}",
        ),
        refused(
            "a database storageClass other than the data volume's with filesystem storage is refused",
            "{database: {embedded: {storageClass: fast}}}",
            &[("spec", EMBEDDED_CLASS_WITH_FILESYSTEM)],
        ),
        accepted(
            "the data volume's own storageClass repeated for the database with filesystem storage is accepted",
            "{storage: {storageClass: fast}, database: {embedded: {storageSize: 1Gi, storageClass: fast}}}",
        ),
        refused(
            "a database volume size that is no quantity is refused",
            "{storage: {type: s3, s3: {bucket: images}}, database: {embedded: {storageSize: lots}}}",
            &[("spec.database.embedded.storageSize", POSITIVE_QUANTITY)],
        ),
        refused(
            "a database volume size of 0 is refused",
            "{storage: {type: s3, s3: {bucket: images}}, database: {embedded: {storageSize: '0'}}}",
            &[("spec.database.embedded.storageSize", POSITIVE_QUANTITY)],
        ),
        accepted(
            "a database volume of 2Gi on a storage class is accepted with s3 storage",
            "{storage: {type: s3, s3: {bucket: images}}, database: {embedded: {storageSize: 2Gi, storageClass: fast}}}",
        ),
        accepted(
            "a database volume size given as a number of bytes (a string, like every size) is accepted",
            "{storage: {type: azure, azure: {accountName: zotimages, container: images}}, database: {embedded: {storageSize: '1073741824'}}}",
        ),
        // storage
        refused(
            "a storage size that is no quantity (five gigs) is refused",
            "{storage: {size: five gigs}}",
            &[("spec.storage.size", POSITIVE_QUANTITY)],
        ),
        refused(
            "a storage size of '0' is refused",
            "{storage: {size: '0'}}",
            &[("spec.storage.size", POSITIVE_QUANTITY)],
        ),
        refused(
            "a negative storage size is refused",
            "{storage: {size: '-1'}}",
            &[("spec.storage.size", POSITIVE_QUANTITY)],
        ),
        accepted(
            "a storage size of 5Gi is accepted",
            "{storage: {type: filesystem, size: 5Gi, storageClass: standard}}",
        ),
        accepted(
            "a storage size of 500Mi is accepted",
            "{storage: {size: 500Mi}}",
        ),
        accepted(
            "a storage size in bytes (a string, like every size) is accepted",
            "{storage: {size: '5368709120'}}",
        ),
        accepted(
            "a decimal-exponent storage size is accepted",
            "{storage: {size: '5e9'}}",
        ),
        refused(
            "a storage size with s3 storage is refused",
            "{storage: {type: s3, s3: {bucket: images}, size: 5Gi}}",
            &[("spec.storage", VOLUME_WITH_REMOTE)],
        ),
        refused(
            "a storage class with azure storage is refused",
            "{storage: {type: azure, azure: {accountName: zotimages, container: images}, storageClass: fast}}",
            &[("spec.storage", VOLUME_WITH_REMOTE)],
        ),
        accepted(
            "a null storage size with s3 storage counts as absent",
            "{storage: {type: s3, s3: {bucket: images}, size: null}}",
        ),
        refused(
            "s3 storage without its section (the bucket) is refused",
            "{storage: {type: s3}}",
            &[("spec.storage", S3_SECTION)],
        ),
        refused(
            "gcs storage without its section is refused",
            "{storage: {type: gcs}}",
            &[("spec.storage", GCS_SECTION)],
        ),
        refused(
            "azure storage without its section is refused",
            "{storage: {type: azure}}",
            &[("spec.storage", AZURE_SECTION)],
        ),
        refused(
            "an s3 section with filesystem storage is refused",
            "{storage: {type: filesystem, s3: {bucket: images}}}",
            &[("spec.storage", OTHER_STORAGE_SECTION)],
        ),
        refused(
            "a gcs section next to storage.type s3 is refused",
            "{storage: {type: s3, s3: {bucket: images}, gcs: {bucket: images}}}",
            &[("spec.storage", OTHER_STORAGE_SECTION)],
        ),
        refused(
            "an s3 endpoint without a scheme is refused",
            "{storage: {type: s3, s3: {bucket: images, endpoint: 'minio.minio.svc:9000'}}}",
            &[("spec.storage.s3.endpoint", URL)],
        ),
        refused(
            "a relative s3 root directory is refused",
            "{storage: {type: s3, s3: {bucket: images, rootDirectory: zot}}}",
            &[("spec.storage.s3.rootDirectory", ROOT_DIRECTORY)],
        ),
        accepted(
            "s3 with an http endpoint, credentials and an absolute root directory is accepted",
            "{storage: {type: s3, s3: {bucket: images, endpoint: 'http://minio.minio.svc:9000', rootDirectory: /zot, region: eu-west-1, forcePathStyle: true, accessKeySecret: {name: s3-keys}}}}",
        ),
        refused(
            "a relative gcs root directory is refused",
            "{storage: {type: gcs, gcs: {bucket: images, rootDirectory: zot}}}",
            &[("spec.storage.gcs.rootDirectory", ROOT_DIRECTORY)],
        ),
        accepted(
            "gcs with credentials and an absolute root directory is accepted",
            "{storage: {type: gcs, gcs: {bucket: images, rootDirectory: /zot/images, credentialsSecret: gcs-key}}}",
        ),
        refused(
            "a relative azure root directory is refused",
            "{storage: {type: azure, azure: {accountName: zotimages, container: images, rootDirectory: zot}}}",
            &[("spec.storage.azure.rootDirectory", ROOT_DIRECTORY)],
        ),
        accepted(
            "azure with credentials and an absolute root directory is accepted",
            "{storage: {type: azure, azure: {accountName: zotimages, container: images, rootDirectory: /zot, credentialsSecret: azure-keys}}}",
        ),
        // supply chain and the scanner
        refused(
            "SBOM generation with gcs storage is refused",
            "{storage: {type: gcs, gcs: {bucket: images}}, supplyChain: {enabled: true, sbom: {enabled: true}}}",
            &[("spec", SBOM_NEEDS_FILESYSTEM)],
        ),
        refused(
            "SBOM generation with the search extension off is refused",
            "{supplyChain: {enabled: true, sbom: {enabled: true}}, extensions: {search: {enabled: false}}}",
            &[("spec", SBOM_NEEDS_SCANNER)],
        ),
        refused(
            "SBOM generation with the vulnerability scanner off is refused",
            "{supplyChain: {enabled: true, sbom: {enabled: true}}, extensions: {search: {cve: {enabled: false}}}}",
            &[("spec", SBOM_NEEDS_SCANNER)],
        ),
        accepted(
            "SBOM generation with filesystem storage and the scanner on is accepted",
            "{supplyChain: {enabled: true, sbom: {enabled: true, defaultFormat: cyclonedx}}, extensions: {search: {enabled: true, cve: {enabled: true}}}}",
        ),
        accepted(
            "a switched-off SBOM section is accepted with s3 storage",
            "{storage: {type: s3, s3: {bucket: images}}, supplyChain: {enabled: true, sbom: {enabled: false}}}",
        ),
        refused(
            "the vulnerability scanner with s3 storage is refused",
            "{storage: {type: s3, s3: {bucket: images}}, extensions: {search: {cve: {enabled: true}}}}",
            &[("spec", CVE_NEEDS_FILESYSTEM)],
        ),
        accepted(
            "a switched-off scanner is accepted with s3 storage",
            "{storage: {type: s3, s3: {bucket: images}}, extensions: {search: {cve: {enabled: false}}}}",
        ),
        refused(
            "a scanner update interval that is no duration is refused",
            "{extensions: {search: {cve: {enabled: true, updateInterval: 2 hours}}}}",
            &[("spec.extensions.search.cve.updateInterval", DURATION)],
        ),
        accepted(
            "the scanner with filesystem storage and a 2h update interval is accepted",
            "{extensions: {search: {cve: {enabled: true, updateInterval: 2h}}}}",
        ),
        refused(
            "an RSA key size of 1024 is refused",
            "{supplyChain: {enabled: true, signing: {enabled: true, keySize: 1024, keySecretRef: {name: signing-keys}}}}",
            &[("spec.supplyChain.signing.keySize", KEY_SIZE)],
        ),
        accepted(
            "an RSA key size of 3072 is accepted",
            "{supplyChain: {enabled: true, signing: {enabled: true, keySize: 3072, keySecretRef: {name: signing-keys}}}}",
        ),
        // extensions
        refused(
            "a scrub interval that is no duration is refused",
            "{extensions: {scrub: {enabled: true, interval: daily}}}",
            &[("spec.extensions.scrub.interval", DURATION)],
        ),
        accepted(
            "a scrub interval of 1h30m is accepted",
            "{extensions: {scrub: {enabled: true, interval: 1h30m}}}",
        ),
        refused(
            "sync without registries is refused",
            "{extensions: {sync: {enabled: true}}}",
            &[("spec.extensions.sync", SYNC_NEEDS_REGISTRY)],
        ),
        refused(
            "a periodic sync without pollInterval is refused at the registry's index",
            "{extensions: {sync: {enabled: true, registries: [{urls: ['https://registry-1.docker.io'], onDemand: true}, {urls: ['https://quay.io']}]}}}",
            &[("spec.extensions.sync.registries[1]", PERIODIC_SYNC)],
        ),
        refused(
            "a sync pollInterval that is no duration is refused",
            "{extensions: {sync: {enabled: true, registries: [{urls: ['https://quay.io'], pollInterval: 6 hours}]}}}",
            &[("spec.extensions.sync.registries[0].pollInterval", DURATION)],
        ),
        refused(
            "a sync retryDelay that is no duration is refused",
            "{extensions: {sync: {enabled: true, registries: [{urls: ['https://quay.io'], onDemand: true, retryDelay: soon}]}}}",
            &[("spec.extensions.sync.registries[0].retryDelay", DURATION)],
        ),
        accepted(
            "a switched-off sync needs no registry",
            "{extensions: {sync: {enabled: false}}}",
        ),
        accepted(
            "periodic and on-demand sync with durations are accepted",
            "{extensions: {sync: {enabled: true, credentialsSecretRef: {name: sync-credentials, key: credentials.json}, registries: [{urls: ['https://registry-1.docker.io'], onDemand: true, retryDelay: 5m}, {urls: ['https://quay.io'], pollInterval: 6h, maxRetries: 3}]}}}",
        ),
        // securityContext: what restricted Pod Security refuses
        refused(
            "running as root is refused",
            "{securityContext: {runAsUser: 0}}",
            &[("spec.securityContext", messages::SC_ROOT_USER)],
        ),
        refused(
            "runAsNonRoot false is refused",
            "{securityContext: {runAsNonRoot: false}}",
            &[("spec.securityContext", messages::SC_RUN_AS_ROOT)],
        ),
        refused(
            "an unconfined seccomp profile is refused",
            "{securityContext: {seccompProfile: {type: Unconfined}}}",
            &[("spec.securityContext", messages::SC_SECCOMP)],
        ),
        refused(
            "an unconfined AppArmor profile is refused",
            "{securityContext: {appArmorProfile: {type: Unconfined}}}",
            &[("spec.securityContext", messages::SC_APPARMOR)],
        ),
        refused(
            "a privileged SELinux type is refused",
            "{securityContext: {seLinuxOptions: {type: spc_t}}}",
            &[("spec.securityContext", messages::SC_SELINUX)],
        ),
        refused(
            "an unsafe sysctl is refused",
            "{securityContext: {sysctls: [{name: net.core.somaxconn, value: '1024'}]}}",
            &[("spec.securityContext", messages::SC_SYSCTLS)],
        ),
        refused(
            "a Windows host process is refused",
            "{securityContext: {windowsOptions: {hostProcess: true}}}",
            &[("spec.securityContext", messages::SC_HOST_PROCESS)],
        ),
        accepted(
            "a non-root UID, group 0, Localhost seccomp, a container SELinux type and a safe sysctl are accepted",
            "{securityContext: {runAsUser: 2000, runAsGroup: 0, runAsNonRoot: true, seccompProfile: {type: Localhost, localhostProfile: zot.json}, appArmorProfile: {type: RuntimeDefault}, seLinuxOptions: {type: container_t, level: 's0:c1,c2'}, sysctls: [{name: net.ipv4.tcp_keepalive_time, value: '600'}], windowsOptions: {hostProcess: false}}}",
        ),
        // metrics
        refused(
            "tracing is refused: zot emits no traces",
            "{metrics: {tracing: {enabled: true}}}",
            &[("spec.metrics.tracing.enabled", TRACING)],
        ),
        accepted(
            "tracing switched off is accepted",
            "{metrics: {tracing: {enabled: false}}}",
        ),
        refused(
            "a metrics path under /v2 is refused",
            "{metrics: {prometheus: {path: /v2/metrics}}}",
            &[("spec.metrics.prometheus.path", METRICS_PATH)],
        ),
        refused(
            "a relative metrics path is refused",
            "{metrics: {prometheus: {path: metrics}}}",
            &[("spec.metrics.prometheus.path", METRICS_PATH)],
        ),
        refused(
            "the root as metrics path is refused (zot refuses /)",
            "{metrics: {prometheus: {path: '/'}}}",
            &[("spec.metrics.prometheus.path", METRICS_PATH)],
        ),
        refused(
            "a metrics path with a trailing slash is refused (zot wants path.Clean's form)",
            "{metrics: {prometheus: {path: '/metrics/'}}}",
            &[("spec.metrics.prometheus.path", METRICS_PATH)],
        ),
        refused(
            "a metrics path with // is refused",
            "{metrics: {prometheus: {path: '/a//metrics'}}}",
            &[("spec.metrics.prometheus.path", METRICS_PATH)],
        ),
        refused(
            "a metrics path with a .. segment is refused",
            "{metrics: {prometheus: {path: '/a/../metrics'}}}",
            &[("spec.metrics.prometheus.path", METRICS_PATH)],
        ),
        accepted(
            "a clean metrics path with several segments is accepted",
            "{metrics: {prometheus: {path: /internal/metrics.v1}}}",
        ),
        accepted(
            "a custom metrics path and a 30s scrape interval are accepted",
            "{metrics: {enabled: true, prometheus: {enabled: true, path: /zot-metrics, port: 9090, serviceMonitor: {enabled: true, interval: 30s}}}}",
        ),
        // networking
        refused(
            "an ingress host with capitals is refused",
            "{networking: {ingress: {enabled: true, host: Artifacts.Example.com}}}",
            &[("spec.networking.ingress.host", HOST)],
        ),
        refused(
            "an ingress host given as a URL is refused",
            "{networking: {ingress: {enabled: true, host: 'https://artifacts.example.com'}}}",
            &[("spec.networking.ingress.host", HOST)],
        ),
        refused(
            "ingress TLS without a secret name is refused",
            "{networking: {ingress: {enabled: true, host: artifacts.example.com, tls: {enabled: true}}}}",
            &[("spec.networking.ingress.tls", INGRESS_TLS)],
        ),
        accepted(
            "an ingress with a wildcard host and TLS from a secret is accepted",
            "{networking: {ingress: {enabled: true, className: nginx, host: '*.apps.example.com', tls: {enabled: true, secretName: artifacts-tls}}}}",
        ),
        accepted(
            "a reencrypt route is accepted without zot's own TLS: OpenShift's service CA issues zot a certificate",
            "{networking: {route: {enabled: true, termination: reencrypt}}}",
        ),
        refused(
            "a route section without enabled is an enabled route: passthrough still needs zot's TLS",
            "{networking: {route: {termination: passthrough}}, tls: {enabled: false}}",
            &[("spec", ROUTE_NEEDS_TLS)],
        ),
        refused(
            "a wildcard route host is refused",
            "{networking: {route: {enabled: true, host: '*.apps.example.com'}}}",
            &[("spec.networking.route.host", ROUTE_HOST)],
        ),
        refused(
            "a route host with a label of 64 characters is refused",
            "{networking: {route: {enabled: true, host: zot-registry-of-the-platform-team-with-a-very-long-label-of-64-c.apps.example.com}}}",
            &[("spec.networking.route.host", ROUTE_HOST)],
        ),
        refused(
            "a passthrough route with zot serving plain HTTP is refused",
            "{networking: {route: {enabled: true, termination: passthrough}}, tls: {enabled: false}}",
            &[("spec", ROUTE_NEEDS_TLS)],
        ),
        accepted(
            "a passthrough route with TLS on by default is accepted",
            "{networking: {route: {enabled: true, termination: passthrough}}}",
        ),
        accepted(
            "a passthrough route with zot serving TLS is accepted",
            "{networking: {route: {enabled: true, termination: passthrough}}, tls: {enabled: true, secretName: zot-tls}}",
        ),
        accepted(
            "an edge route is accepted without zot serving TLS",
            "{networking: {route: {enabled: true, termination: edge, host: zot.apps.example.com}}}",
        ),
        accepted(
            "TLS without a secret name serves the operator's certificate",
            "{tls: {enabled: true}}",
        ),
        accepted(
            "TLS switched off needs no secret",
            "{tls: {enabled: false}}",
        ),
        refused(
            "a secret name and an issuer together are refused",
            "{tls: {secretName: zot-tls, issuerRef: {name: team-ca}}}",
            &[("spec.tls", TLS_ONE_SOURCE)],
        ),
        accepted(
            "an issuer alone is accepted",
            "{tls: {issuerRef: {name: team-ca, kind: ClusterIssuer}}}",
        ),
        refused(
            "an issuer with TLS switched off is refused",
            "{tls: {enabled: false, issuerRef: {name: team-ca}}}",
            &[("spec.tls", TLS_ISSUER_OFF)],
        ),
        accepted(
            "an issuer with TLS on is accepted",
            "{tls: {enabled: true, issuerRef: {name: team-ca}}}",
        ),
        // podDisruptionBudget
        refused(
            "minAvailable and maxUnavailable together are refused",
            "{podDisruptionBudget: {enabled: true, minAvailable: 2, maxUnavailable: '50%'}}",
            &[("spec.podDisruptionBudget", PDB_EXCLUSIVE)],
        ),
        refused(
            "a word as minAvailable is refused",
            "{podDisruptionBudget: {enabled: true, minAvailable: two}}",
            &[("spec.podDisruptionBudget.minAvailable", COUNT_OR_PERCENT)],
        ),
        refused(
            "a negative maxUnavailable is refused",
            "{podDisruptionBudget: {enabled: true, maxUnavailable: -1}}",
            &[("spec.podDisruptionBudget.maxUnavailable", COUNT_OR_PERCENT)],
        ),
        accepted(
            "minAvailable as a percentage is accepted",
            "{podDisruptionBudget: {enabled: true, minAvailable: '50%'}}",
        ),
        accepted(
            "maxUnavailable as a count is accepted",
            "{podDisruptionBudget: {enabled: true, maxUnavailable: 1}}",
        ),
        // rbac
        refused(
            "rbac without a sign-in method is refused",
            "{rbac: {enabled: true}}",
            &[("spec.rbac", RBAC_NEEDS_SIGN_IN)],
        ),
        refused(
            "a keycloak URL without a scheme is refused",
            "{rbac: {enabled: true, keycloak: {url: keycloak.example.com, realm: artifacts, clientId: zot, clientSecretRef: {name: keycloak, key: secret}}}}",
            &[("spec.rbac.keycloak.url", URL)],
        ),
        refused(
            "a policy without users or groups is refused at its index",
            "{rbac: {enabled: true, htpasswd: {name: htpasswd, key: htpasswd}, policies: [{repositories: ['**'], actions: [read]}]}}",
            &[("spec.rbac.policies[0]", POLICY_SUBJECT)],
        ),
        accepted(
            "rbac with htpasswd and a policy for a group is accepted",
            "{rbac: {enabled: true, htpasswd: {name: htpasswd, key: htpasswd}, policies: [{repositories: ['team-a/**'], groups: [team-a], actions: [read, create]}]}}",
        ),
        accepted(
            "rbac with keycloak over https is accepted",
            "{rbac: {enabled: true, keycloak: {url: 'https://keycloak.example.com', realm: artifacts, clientId: zot, clientSecretRef: {name: keycloak, key: secret}}, adminGroups: [registry-admins]}}",
        ),
    ]
}

/// The samples (config/samples/*.yaml), each as (file name, object).
pub fn samples() -> Vec<(String, Value)> {
    let dir = format!("{}/config/samples", env!("CARGO_MANIFEST_DIR"));
    let mut samples: Vec<(String, Value)> = std::fs::read_dir(dir)
        .expect("config/samples exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable sample");
            let name = path
                .file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned();
            (
                name,
                serde_yaml::from_str(&text).expect("the sample is YAML"),
            )
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        samples.len() >= 3,
        "expected the three samples, found {samples:?}"
    );
    samples
}

/// Every `x-kubernetes-validations` rule of the committed CRD, as (field path with `[*]` for list items, message).
pub fn crd_rules() -> Vec<(String, String)> {
    let path = format!(
        "{}/config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let crd: Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).expect("the CRD is committed"))
            .expect("the CRD is YAML");
    let mut rules = Vec::new();
    walk(
        &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        ROOT,
        &mut rules,
    );
    rules
}

fn walk(schema: &Value, path: &str, rules: &mut Vec<(String, String)>) {
    for rule in schema["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let message = rule["message"]
            .as_str()
            .expect("every rule of the CRD has a message");
        rules.push((path.to_string(), message.to_string()));
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let child = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        walk(property, &child, rules);
    }
    if schema["items"].is_object() {
        walk(&schema["items"], &format!("{path}[*]"), rules);
    }
    if schema["additionalProperties"].is_object() {
        walk(
            &schema["additionalProperties"],
            &format!("{path}[*]"),
            rules,
        );
    }
}

/// A reported field path (`spec.rbac.policies[0]`) as a rule's path (`spec.rbac.policies[*]`).
pub fn rule_path(field: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*");
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Whether `object` holds a non-null value at the rule path `path` (`[*]`: any item).
pub fn has_value(object: &Value, path: &str) -> bool {
    fn at(value: &Value, segments: &[&str]) -> bool {
        let Some((first, rest)) = segments.split_first() else {
            return !value.is_null();
        };
        let (name, items) = match first.strip_suffix("[*]") {
            Some(name) => (name, true),
            None => (*first, false),
        };
        let child = &value[name];
        if items {
            child
                .as_array()
                .is_some_and(|a| a.iter().any(|item| at(item, rest)))
        } else {
            at(child, rest)
        }
    }
    if path.is_empty() {
        return true;
    }
    at(object, &path.split('.').collect::<Vec<_>>())
}

/// Rules of the CRD without a refused case, and rules without an accepted case whose object sets the rule's field,
/// each as "path: message".
pub fn uncovered_rules() -> (Vec<String>, Vec<String>) {
    let cases = cases();
    let mut no_refusal = Vec::new();
    let mut no_acceptance = Vec::new();
    for (path, message) in crd_rules() {
        let refused = cases.iter().any(|case| {
            case.refusals
                .iter()
                .any(|(field, m)| *m == message && rule_path(field) == path)
        });
        if !refused {
            no_refusal.push(format!("{path}: {message}"));
        }
        let accepted = cases
            .iter()
            .filter(|case| !case.is_refused())
            .any(|case| has_value(&case.object("default"), &path));
        if !accepted {
            no_acceptance.push(format!("{path}: {message}"));
        }
    }
    (no_refusal, no_acceptance)
}
