//! Signature verification and SBOM generation.
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Supply-chain security: zot verifies signatures of the images it stores and generates SBOMs for them.
/// Signatures and SBOMs pushed by clients (cosign, notation, oras) are stored and served as OCI referrers in any
/// case.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SupplyChainSpec {
    /// Master switch of signing and sbom. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Signature verification with an operator-managed key pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<SigningSpec>,
    /// SBOM generation for every pushed image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SbomSpec>,
}

/// Signature verification. zot's trust extension verifies cosign and notation signatures and reports each
/// image's signature status through its search API. The operator keeps an RSA key pair in keySecretRef (creating
/// it when the Secret does not exist) and registers its public key with zot, so that images signed with
/// `cosign sign --key k8s://<namespace>/<secret>` show as trusted.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SigningSpec {
    /// Turn signature verification on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Size in bits of the RSA key the operator generates: 2048, 3072 or 4096 (the default).
    #[serde(default = "default_key_size")]
    #[x_kube(validation = Rule::new("self in [2048, 3072, 4096]").message("keySize must be 2048, 3072 or 4096"))]
    pub key_size: i32,
    /// Secret holding the signing key pair. Defaults to a Secret named `<store>-signing-key`.
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

/// SBOM generation: zot scans every pushed image with its embedded Trivy and attaches the SBOM as an OCI
/// referrer. This runs in zot's vulnerability scanner, which zot offers only with filesystem storage and which
/// downloads the Trivy database from ghcr.io (mirror it for disconnected clusters).
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
