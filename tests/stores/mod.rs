//! The stores the tests exercise, shared so that every test runs the same ones: the samples, the matrix of
//! storage × database × Keycloak × TLS × securityContext, the Route stores, the random specs of the property
//! generator (`random`), and what a store needs around its rendering: the Secrets its user creates and the
//! objects its pods read (`prepare`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod random;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;
use serde_json::{Value, json};
use zot_operator::api::v1alpha1::ZotArtifactStore;
use zot_operator::cli::{RenderError, render_text};
use zot_operator::pki;
use zot_operator::platform::Platform;
use zot_operator::render::{
    Inputs, OperatorTls, ServingCertificate, oidc_secret, operator_tls_secrets,
    serving_certificate, session_secret,
};
use zot_operator::validate::validate;

/// Kinds the pods need; the others (Services, NetworkPolicy, PDB, Ingress, HPA, ServiceMonitor, Route) are not
/// created: they do not change admission or what zot reads, and an HPA would rescale the workloads.
pub const CREATED_KINDS: [&str; 6] = [
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "PersistentVolumeClaim",
    "StatefulSet",
    "Deployment",
];
/// Stores of the matrix `validate` must accept: 4 storages × 3 databases minus dynamodb off s3 (3), × 8.
pub const MATRIX_ACCEPTED: usize = 72;

/// A ZotArtifactStore to prove, with a name that says what it is.
#[derive(Clone, Debug)]
pub struct Store {
    /// The store's name, also its `metadata.name`.
    pub name: String,
    /// The whole ZotArtifactStore object.
    pub object: Value,
}

impl Store {
    /// A store named `name` with `spec`.
    pub fn new(name: &str, spec: Value) -> Self {
        Store {
            name: name.to_string(),
            object: json!({
                "apiVersion": "artifact.zotregistry.io/v1alpha1",
                "kind": "ZotArtifactStore",
                "metadata": {"name": name},
                "spec": spec,
            }),
        }
    }

    /// The store's spec.
    pub fn spec(&self) -> &Value {
        &self.object["spec"]
    }
}

/// Every sample of config/samples, sorted by name.
pub fn samples() -> Vec<Store> {
    let mut samples: Vec<Store> = sample_files().into_iter().map(|(_, store)| store).collect();
    samples.sort_by(|a, b| a.name.cmp(&b.name));
    samples
}

/// Every sample of config/samples with its file's stem (what names its golden files), sorted by file.
pub fn sample_files() -> Vec<(String, Store)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples");
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "expected the three samples");
    paths
        .into_iter()
        .map(|path| {
            let object: Value =
                serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let store = Store {
                name: object["metadata"]["name"].as_str().unwrap().to_string(),
                object,
            };
            (stem, store)
        })
        .collect()
}

/// storage × database × Keycloak × TLS × securityContext override; several replicas where the store can have them.
pub fn matrix() -> Vec<Store> {
    let storages = [
        ("fs", json!({"type": "filesystem", "size": "1Gi"})),
        (
            "s3",
            json!({"type": "s3", "s3": {"bucket": "images", "endpoint": "http://minio.minio.svc:9000",
                   "accessKeySecret": {"name": "s3-credentials"}}}),
        ),
        (
            "gcs",
            json!({"type": "gcs", "gcs": {"bucket": "images", "credentialsSecret": "gcs-credentials"}}),
        ),
        (
            "azure",
            json!({"type": "azure", "azure": {"accountName": "zotimages", "container": "images",
                   "credentialsSecret": "azure-credentials"}}),
        ),
    ];
    let databases = [
        ("embedded", json!({"type": "embedded"})),
        (
            "redis",
            json!({"type": "redis", "redis": {"url": "redis://redis.db.svc:6379/0"}}),
        ),
        (
            "dynamodb",
            json!({"type": "dynamodb", "dynamodb": {"region": "eu-west-1"}}),
        ),
    ];
    let mut stores = Vec::new();
    for (storage_name, storage) in &storages {
        for (database_name, database) in &databases {
            for keycloak in [false, true] {
                for tls in [false, true] {
                    for security_context in [false, true] {
                        let shared = *storage_name != "fs" && *database_name != "embedded";
                        let mut spec = json!({
                            "replicas": if shared && !keycloak && !security_context { 2 } else { 1 },
                            "storage": storage,
                            "database": database,
                        });
                        if keycloak {
                            spec["rbac"] = json!({"enabled": true, "keycloak": {
                                "url": "https://keycloak.example.com", "realm": "artifacts", "clientId": "zot",
                                "clientSecretRef": {"name": "keycloak-credentials", "key": "client-secret"}}});
                        }
                        if tls {
                            spec["tls"] = json!({"enabled": true, "secretName": "zot-tls"});
                        }
                        if security_context {
                            spec["securityContext"] = json!({"runAsUser": 2000, "runAsGroup": 2000,
                                "fsGroup": 2000, "supplementalGroups": [3000]});
                        }
                        let name = format!(
                            "{storage_name}-{database_name}-k{}t{}s{}",
                            u8::from(keycloak),
                            u8::from(tls),
                            u8::from(security_context)
                        );
                        stores.push(Store::new(&name, spec));
                    }
                }
            }
        }
    }
    stores
}

/// Stores published by a Route: on OpenShift, zot's certificate is the user's or one from the service CA.
pub fn route_stores() -> Vec<Store> {
    let tls = json!({"enabled": true, "secretName": "zot-tls"});
    vec![
        Store::new(
            "route-edge",
            json!({"networking": {"route": {"enabled": true}}}),
        ),
        Store::new(
            "route-reencrypt-service-ca",
            json!({"networking": {"route": {"enabled": true, "termination": "reencrypt"}}}),
        ),
        Store::new(
            "route-passthrough",
            json!({"networking": {"route": {"enabled": true, "termination": "passthrough"}}, "tls": tls}),
        ),
        Store::new(
            "route-edge-tls-s3-redis",
            json!({"replicas": 2, "networking": {"route": {"enabled": true}}, "tls": tls,
                   "storage": {"type": "s3", "s3": {"bucket": "images"}},
                   "database": {"type": "redis", "redis": {"url": "redis://redis.db.svc:6379"}}}),
        ),
    ]
}

/// The Secrets a user creates for a store, as the field docs describe them (name → keys, type).
pub fn user_secrets(spec: &Value) -> Vec<Secret> {
    let mut secrets: BTreeMap<String, (BTreeSet<String>, Option<&str>)> = BTreeMap::new();
    let mut add = |name: &Value, keys: &[&str], type_: Option<&'static str>| {
        if let Some(name) = name.as_str() {
            let entry = secrets.entry(name.to_string()).or_default();
            entry.0.extend(keys.iter().map(|k| k.to_string()));
            entry.1 = entry.1.or(type_);
        }
    };
    let text = |v: &Value, default: &'static str| v.as_str().unwrap_or(default).to_string();
    let s3 = &spec["storage"]["s3"]["accessKeySecret"];
    add(
        &s3["name"],
        &[
            &text(&s3["accessKeyField"], "access-key"),
            &text(&s3["secretKeyField"], "secret-key"),
        ],
        None,
    );
    let gcs = &spec["storage"]["gcs"];
    add(
        &gcs["credentialsSecret"],
        &[&text(&gcs["credentialsKey"], "credentials.json")],
        None,
    );
    add(
        &spec["storage"]["azure"]["credentialsSecret"],
        &["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"],
        None,
    );
    for reference in [
        &spec["rbac"]["keycloak"]["clientSecretRef"],
        &spec["rbac"]["htpasswd"],
        &spec["extensions"]["sync"]["credentialsSecretRef"],
    ] {
        add(&reference["name"], &[&text(&reference["key"], "")], None);
    }
    let signing = &spec["supplyChain"]["signing"]["keySecretRef"];
    add(
        &signing["name"],
        &[
            &text(&signing["privateKeyField"], "cosign.key"),
            &text(&signing["publicKeyField"], "cosign.pub"),
        ],
        None,
    );
    for tls in [
        &spec["tls"]["secretName"],
        &spec["networking"]["ingress"]["tls"]["secretName"],
    ] {
        add(tls, &["tls.crt", "tls.key"], Some("kubernetes.io/tls"));
    }
    secrets
        .into_iter()
        .map(|(name, (keys, type_))| {
            serde_json::from_value(json!({
                "metadata": {"name": name},
                "type": type_.unwrap_or("Opaque"),
                "stringData": keys.into_iter().filter(|k| !k.is_empty())
                    .map(|k| (k, "placeholder")).collect::<BTreeMap<_, _>>(),
            }))
            .unwrap()
        })
        .collect()
}

/// One store rendered for one platform: the objects to create, its workload and how many pods it must get.
#[derive(Debug)]
pub struct Prepared {
    /// The store's name.
    pub store: String,
    /// The namespace it was rendered for.
    pub namespace: String,
    /// Everything but the workload, user Secrets first.
    pub objects: Vec<Value>,
    /// The StatefulSet or Deployment.
    pub workload: Value,
    /// How many pods the workload asks for.
    pub pods: usize,
}

/// Renders `store` for `platform` in `namespace`; None when `validate` refuses it.
pub fn prepare(store: &Store, namespace: &str, platform: &Platform) -> Option<Prepared> {
    let mut object = store.object.clone();
    object["metadata"]["namespace"] = Value::String(namespace.to_string());
    let rendered = match render_text(&object.to_string(), platform) {
        Ok(text) => text,
        Err(RenderError::Refused(_)) => return None,
        Err(other) => panic!("{}: render failed: {other}", store.name),
    };
    Some(prepare_rendered(store, namespace, platform, &rendered))
}

/// What `prepare` makes of `rendered`, the output of `zot-operator render` for `store` in `namespace` on
/// `platform` (e.g. a golden file): the Secrets the user and the operator add at apply time, and the rendered
/// objects the pods need. Panics when `validate` refuses the store.
pub fn prepare_rendered(
    store: &Store,
    namespace: &str,
    platform: &Platform,
    rendered: &str,
) -> Prepared {
    let mut object = store.object.clone();
    object["metadata"]["namespace"] = Value::String(namespace.to_string());
    let mut objects: Vec<Value> = user_secrets(store.spec())
        .into_iter()
        .map(|s| with_kind(serde_json::to_value(s).unwrap(), "Secret"))
        .collect();
    // The OIDC Secret is composed by the operator from the Keycloak client secret at apply time, and the session
    // keys are made by the operator once: neither is rendered offline.
    let typed: ZotArtifactStore = serde_json::from_value(object.clone()).unwrap();
    let validated = validate(&typed, namespace).unwrap();
    let inputs = Inputs {
        keycloak_client_secret: Some("placeholder".to_string()),
        session_keys: Some(zot_operator::zot::SessionKeys {
            hash_key: "placeholder-hash-key-of-64-characters-".repeat(2)[..64].to_string(),
            encrypt_key: Some("placeholder-encrypt-key-32-chars".to_string()),
        }),
        // The store's CA and serving certificate (TLS by default), made by the operator at apply time.
        operator_tls: Some(OperatorTls {
            ca: pki::CaPair {
                cert_pem: "placeholder".into(),
                key_pem: "placeholder".into(),
            },
            serving: pki::ServingPair {
                cert_pem: "placeholder".into(),
                key_pem: "placeholder".into(),
            },
        }),
        ..Inputs::default()
    };
    for secret in [
        oidc_secret(&validated, &inputs),
        session_secret(&validated, &inputs),
    ]
    .into_iter()
    .flatten()
    .chain(operator_tls_secrets(&validated, platform, &inputs))
    {
        objects.push(with_kind(serde_json::to_value(secret).unwrap(), "Secret"));
    }
    // The Secret cert-manager issues tls.issuerRef's Certificate into.
    if let Some(ServingCertificate::CertManager { secret }) =
        serving_certificate(&validated, platform)
    {
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": secret},
            "type": "kubernetes.io/tls",
            "stringData": {"tls.crt": "placeholder", "tls.key": "placeholder", "ca.crt": "placeholder"},
        }));
    }
    // The signing key pair the operator creates when the spec names no Secret of the user's.
    if let Some(key) = validated.signing_key()
        && !objects
            .iter()
            .any(|o| o["metadata"]["name"] == key.secret.as_str())
    {
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": key.secret},
            "type": "Opaque",
            "stringData": {key.private_field: "placeholder", key.public_field: "placeholder",
                key.password_field: "placeholder"},
        }));
    }
    let mut workload = None;
    for document in serde_yaml::Deserializer::from_str(rendered) {
        let Ok(mut value) = Value::deserialize(document) else {
            continue;
        };
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        if kind == "Service" && platform.openshift {
            objects.extend(service_ca_serving_secret(&value));
        }
        if !CREATED_KINDS.contains(&kind.as_str()) {
            continue;
        }
        let metadata = value["metadata"].as_object_mut().unwrap();
        metadata.remove("ownerReferences");
        metadata.insert("namespace".into(), Value::String(namespace.to_string()));
        if kind == "StatefulSet" || kind == "Deployment" {
            assert!(workload.is_none(), "{}: two workloads", store.name);
            workload = Some(value);
        } else {
            objects.push(value);
        }
    }
    for object in &mut objects {
        object["metadata"]["namespace"] = Value::String(namespace.to_string());
    }
    let workload = workload.unwrap_or_else(|| panic!("{}: no workload rendered", store.name));
    let pods = workload["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
    Prepared {
        store: store.name.clone(),
        namespace: namespace.to_string(),
        objects,
        workload,
        pods,
    }
}

/// On OpenShift the service CA issues a serving certificate into the Secret a Service's annotation names; the
/// test cluster has no service CA, so the test stands in for it.
pub fn service_ca_serving_secret(service: &Value) -> Option<Value> {
    let name =
        service["metadata"]["annotations"]["service.beta.openshift.io/serving-cert-secret-name"]
            .as_str()?;
    Some(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": "placeholder", "tls.key": "placeholder"},
    }))
}

/// `value` with `apiVersion: v1` and `kind`.
pub fn with_kind(mut value: Value, kind: &str) -> Value {
    value["apiVersion"] = json!("v1");
    value["kind"] = json!(kind);
    value
}
