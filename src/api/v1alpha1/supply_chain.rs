//! Signature verification and SBOM generation.
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Supply-chain security: zot's signature verification and SBOM generation. Signatures and SBOMs pushed by
/// clients (cosign, notation, oras) are stored and served as OCI referrers in any case.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SupplyChainSpec {
    /// Master switch of signing and sbom. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Signature verification by zot's trust extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<SigningSpec>,
    /// SBOM generation for every pushed image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SbomSpec>,
}

/// Signature verification. zot's trust extension verifies cosign and notation signatures against the public keys
/// and certificates uploaded to it (`/v2/_zot/ext/cosign`, `/v2/_zot/ext/notation`) and reports each image's
/// signature status through its search API. The operator turns the extension on; it does not (yet) create a key
/// pair or upload keys: upload the public keys of your signers to zot yourself.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SigningSpec {
    /// Turn signature verification on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Reserved for a key pair the operator would generate: 2048, 3072 or 4096 (the default). Checked, not used
    /// yet: the operator generates no key.
    #[serde(default = "default_key_size")]
    #[x_kube(validation = Rule::new("self in [2048, 3072, 4096]").message("keySize must be 2048, 3072 or 4096"))]
    pub key_size: i32,
    /// Reserved for the Secret of a key pair the operator would manage (default name `<store>-signing-key`).
    /// Checked, not used yet: the operator neither reads nor creates it.
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

/// A Secret holding a PEM key pair.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeySecretRef {
    /// Name of the Secret in the store's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key holding the PEM private key. Defaults to `cosign.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_field: Option<String>,
    /// Key holding the PEM public key. Defaults to `cosign.pub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_field: Option<String>,
}

/// SBOM generation by zot's embedded Trivy, in the format chosen here. This runs in zot's vulnerability scanner,
/// which zot offers only with filesystem storage, and which downloads the Trivy database from ghcr.io at start
/// and then on its update interval (the operator has no setting for a mirror: a cluster without access to
/// ghcr.io cannot scan).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SbomSpec {
    /// Turn SBOM generation on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Format of generated SBOMs: spdx (SPDX JSON, the default) or cyclonedx (CycloneDX JSON).
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
