//! Signature verification (with the operator's key pair) and SBOM generation.
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Supply-chain security: signature verification against a key pair the operator keeps, and SBOM generation by
/// zot's scanner. Signatures and SBOMs pushed by clients (cosign, notation, oras attach) are stored and served as
/// OCI referrers in any case, and listed by zot's search.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SupplyChainSpec {
    /// Master switch of signing and sbom. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Signature verification by zot's trust extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<SigningSpec>,
    /// SBOM generation by zot's vulnerability scanner, for each image it scans (in the background every
    /// updateInterval, and when an image's CVEs are asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SbomSpec>,
}

/// Signature verification with a key pair the operator keeps. With `enabled`, the operator makes sure the Secret
/// `keySecretRef.name` (default `<store>-signing-key`) holds a cosign key pair — creating an RSA pair of `keySize`
/// bits when the Secret does not exist, never changing one that does — and every zot pod trusts its public key:
/// the public key alone is mounted into zot's trust store (`<rootDirectory>/_cosign`); the private key and its
/// password stay in that Secret. Sign with it offline: `cosign sign --key k8s://<namespace>/<secret> IMAGE`, or
/// with the files and `COSIGN_PASSWORD`. zot's search API then reports the image's signature as trusted
/// (`IsTrusted`), a signature made with any other key as untrusted. zot checks a signature when it is pushed and
/// re-checks every signature when a pod starts and every 2 hours. A new key pair in the Secret (edited, or the
/// Secret deleted for the operator to make a new one) rolls the pods: from then on signatures of the new key are
/// trusted and those of the old key no longer are (re-sign what should stay trusted).
/// Notation certificates are not managed: zot's upload API (`/v2/_zot/ext/notation`) keeps them on the pod that
/// received them.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SigningSpec {
    /// Turn signature verification and the managed key pair on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Size in bits of the RSA key pair the operator creates: 2048, 3072 or 4096 (the default). A pair already in
    /// the Secret is used as it is, whatever its size or algorithm (RSA of at least 2048 bits, ECDSA P-256 or
    /// P-384); the SigningReady condition and status.signing say which key zot trusts.
    #[serde(default = "default_key_size")]
    #[x_kube(validation = Rule::new("self in [2048, 3072, 4096]").message("keySize must be 2048, 3072 or 4096"))]
    pub key_size: i32,
    /// The Secret of the key pair. Defaults to `<store>-signing-key` with cosign's keys (`cosign.key`,
    /// `cosign.pub`, `cosign.password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_secret_ref: Option<KeySecretRef>,
}

impl Default for SigningSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            key_size: default_key_size(),
            key_secret_ref: None,
        }
    }
}

fn default_key_size() -> i32 {
    4096
}

/// The Secret of a cosign key pair, as `cosign generate-key-pair k8s://NAMESPACE/NAME` writes one: the private key
/// in cosign's encrypted PEM format (`ENCRYPTED SIGSTORE PRIVATE KEY`, which `cosign sign --key` loads), its
/// password and the PEM public key. An unencrypted PEM private key is refused (cosign cannot load it: convert it
/// with `cosign import-key-pair`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeySecretRef {
    /// Name of the Secret in the store's namespace. Created by the operator when it does not exist; never
    /// changed when it does. It is not deleted with the store.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key holding the private key (cosign's encrypted PEM). Defaults to `cosign.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_field: Option<String>,
    /// Key holding the PEM public key zot trusts. Defaults to `cosign.pub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_field: Option<String>,
    /// Key holding the password of the private key (empty or absent: no password). Defaults to
    /// `cosign.password`, where `cosign sign --key k8s://…` reads it. Used byte for byte, as cosign uses it: a
    /// trailing newline (e.g. from `--from-file` of a file ending in one) is part of the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_field: Option<String>,
}

/// SBOM generation by zot's embedded Trivy (zot v2.1.20 `extensions.search.cve.trivy.sbom`): each time zot's
/// vulnerability scanner scans an image, it also writes an SBOM in the format chosen here and stores it as an OCI
/// referrer of the image (artifactType `application/spdx+json` or `application/vnd.cyclonedx+json`, unless the
/// image already has a referrer of that type), which `oras discover` and zot's search (`Referrers`) list. This
/// runs in the scanner, which zot offers only with filesystem storage, and only once zot has downloaded Trivy's
/// vulnerability database (from ghcr.io, or the mirror in extensions.search.cve.dbRepository: the
/// VulnerabilityDatabaseReady condition says whether it answers); until then no SBOM is generated. SBOMs pushed by
/// clients (`oras attach`, `cosign attach sbom`) are stored and listed with any storage, with or without this.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SbomSpec {
    /// Turn SBOM generation on (it turns zot's vulnerability scanner on). Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Format of generated SBOMs: spdx (SPDX JSON, the default) or cyclonedx (CycloneDX JSON). Only SBOMs zot
    /// generates; pushed SBOMs keep their own format.
    #[serde(default)]
    pub default_format: SbomFormat,
}

/// Format of generated SBOMs.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SbomFormat {
    #[default]
    Spdx,
    Cyclonedx,
}
