//! The user's serving certificate (tls.secretName), checked as zot will load it: zot reads tls.crt and tls.key once
//! at start, and a pair it cannot load stops it with exit code 0 — no message a kubelet would report. The operator
//! checks the pair first and names what is wrong.
use k8s_openapi::api::core::v1::Secret;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::Refusal;
use crate::api::v1alpha1::ZotArtifactStoreSpec;

const FIELD: &str = "spec.tls.secretName";

/// For the Secret tls.secretName names (when TLS is on and `name` is it): `Some(Ok(()))` when tls.crt holds a PEM
/// certificate chain and tls.key the PEM private key of its first certificate; `Some(Err(refusal))` saying what is
/// wrong otherwise. None for any other Secret.
pub fn serving_pair(
    spec: &ZotArtifactStoreSpec,
    name: &str,
    secret: &Secret,
) -> Option<Result<(), Refusal>> {
    if !spec.tls.on() || spec.tls.secret_name.as_deref() != Some(name) {
        return None;
    }
    Some(check_pair(name, secret))
}

fn check_pair(name: &str, secret: &Secret) -> Result<(), Refusal> {
    let refuse = |what: String| Refusal::new(FIELD, format!("Secret {name}: {what}"));
    let value = |key: &str| {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(key))
            .map(|v| v.0.as_slice())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| refuse(format!("has no key {key} (or it is empty)")))
    };
    let (crt, key) = (value("tls.crt")?, value("tls.key")?);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(crt)
        .collect::<Result<_, _>>()
        .map_err(|e| refuse(format!("tls.crt is not a PEM certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(refuse("tls.crt holds no PEM certificate".into()));
    }
    let private = PrivateKeyDer::from_pem_slice(key)
        .map_err(|e| refuse(format!("tls.key is not a PEM private key: {e}")))?;
    let signing = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(private)
        .map_err(|e| refuse(format!("tls.key cannot be used: {e}")))?;
    CertifiedKey::new(certs, signing).keys_match().map_err(|e| {
        refuse(format!(
            "tls.key is not the key of the first certificate of tls.crt ({e})"
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;
    use std::process::Command;

    use k8s_openapi::ByteString;

    use super::*;

    /// A self-signed pair made by openssl (as the e2e tests make theirs).
    fn pair(dir: &std::path::Path, name: &str) -> (Vec<u8>, Vec<u8>) {
        let (crt, key) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args(["-subj", "/CN=zot", "-days", "1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "openssl could not make a certificate");
        (std::fs::read(crt).unwrap(), std::fs::read(key).unwrap())
    }

    fn secret(crt: &[u8], key: &[u8]) -> Secret {
        Secret {
            data: Some(BTreeMap::from([
                ("tls.crt".to_string(), ByteString(crt.to_vec())),
                ("tls.key".to_string(), ByteString(key.to_vec())),
            ])),
            ..Secret::default()
        }
    }

    fn spec() -> ZotArtifactStoreSpec {
        serde_yaml::from_str("tls: {enabled: true, secretName: zot-tls}").unwrap()
    }

    fn refusal(s: &Secret) -> String {
        serving_pair(&spec(), "zot-tls", s)
            .unwrap()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_matching_pair_passes_and_other_secrets_are_not_looked_at() {
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = pair(dir.path(), "a");
        assert!(
            serving_pair(&spec(), "zot-tls", &secret(&crt, &key))
                .unwrap()
                .is_ok()
        );
        assert!(serving_pair(&spec(), "other", &secret(b"x", b"y")).is_none());
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_as_not_matching() {
        let dir = tempfile::tempdir().unwrap();
        let (crt, _) = pair(dir.path(), "a");
        let (_, other_key) = pair(dir.path(), "b");
        let message = refusal(&secret(&crt, &other_key));
        assert!(
            message.contains("spec.tls.secretName") && message.contains("is not the key of"),
            "{message}"
        );
    }

    #[test]
    fn what_is_not_pem_or_missing_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = pair(dir.path(), "a");
        assert!(refusal(&secret(b"hello", &key)).contains("tls.crt holds no PEM certificate"));
        assert!(refusal(&secret(&crt, b"hello")).contains("tls.key is not a PEM private key"));
        let no_key = Secret {
            data: Some(BTreeMap::from([("tls.crt".to_string(), ByteString(crt))])),
            ..Secret::default()
        };
        assert!(refusal(&no_key).contains("has no key tls.key"));
    }
}
