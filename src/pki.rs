//! The store's own certificate authority and the serving certificate it signs for zot (TLS by default): made with
//! rcgen (ECDSA P-256), read back with x509-parser to decide when a certificate must be made anew. Pure: the
//! controller keeps the PEM in the Secrets `<store>-ca` and `<store>-tls` and hands the current time in.
//!
//! The private keys are in these Secrets only: never in a log line, an event, the status or a ConfigMap
//! ([`CaPair`] and [`ServingPair`] print no key).
use std::fmt;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Lifetime of the store's CA: ten years. It is made anew only when it is missing, unusable or past two thirds of
/// its lifetime (clients then need the new ca.crt).
pub const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Default lifetime of the serving certificate: 90 days, renewed after 60.
pub const SERVING_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);
/// Certificates start a little in the past, for clocks slightly behind the operator's: a tenth of their lifetime,
/// five minutes at most.
const BACKDATE: Duration = Duration::from_secs(300);

fn backdate(lifetime: Duration) -> Duration {
    (lifetime / 10).min(BACKDATE)
}

/// Why a certificate could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// rcgen refused (a name it cannot encode, a key it cannot use).
    #[error("making a certificate: {0}")]
    Make(#[from] rcgen::Error),
    /// A PEM block that is not a certificate.
    #[error("reading a certificate: {0}")]
    Read(String),
}

/// A CA: its certificate and private key, PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct CaPair {
    /// The CA certificate (ca.crt).
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

impl fmt::Debug for CaPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaPair")
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// A serving certificate and its key, PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct ServingPair {
    /// The certificate (tls.crt).
    pub cert_pem: String,
    /// Its private key (tls.key).
    pub key_pem: String,
}

impl fmt::Debug for ServingPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServingPair")
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

fn at(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}

/// A new CA named after the store (`zot-operator CA <namespace>/<store>`), valid from now for `lifetime`.
pub fn new_ca(common_name: &str, now: SystemTime, lifetime: Duration) -> Result<CaPair, Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "zot-operator");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = at(now - backdate(lifetime));
    params.not_after = at(now + lifetime);
    let cert = params.self_signed(&key)?;
    Ok(CaPair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A serving certificate for `names` (DNS names; the first is the subject's common name), signed by `ca`, valid
/// from now for `lifetime`.
pub fn issue(
    ca: &CaPair,
    names: &[String],
    now: SystemTime,
    lifetime: Duration,
) -> Result<ServingPair, Error> {
    let ca_key = KeyPair::from_pem(&ca.key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, ca_key)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    let mut name = DistinguishedName::new();
    if let Some(first) = names.first() {
        name.push(DnType::CommonName, first.as_str());
    }
    params.distinguished_name = name;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = at(now - backdate(lifetime));
    params.not_after = at(now + lifetime);
    let cert = params.signed_by(&key, &issuer)?;
    Ok(ServingPair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// What the operator needs to know of a certificate it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// DNS names of the subjectAltName extension, in order.
    pub dns_names: Vec<String>,
}

impl Facts {
    /// When two thirds of the lifetime have passed: the time to make it anew.
    pub fn renew_at(&self) -> SystemTime {
        let lifetime = self
            .not_after
            .duration_since(self.not_before)
            .unwrap_or_default();
        self.not_before + lifetime * 2 / 3
    }
}

fn der_of(pem_text: &str) -> Result<Vec<u8>, Error> {
    let block = pem::parse(pem_text).map_err(|e| Error::Read(e.to_string()))?;
    if block.tag() != "CERTIFICATE" {
        return Err(Error::Read(format!("a PEM {} block", block.tag())));
    }
    Ok(block.into_contents())
}

fn system_time(t: x509_parser::time::ASN1Time) -> SystemTime {
    let seconds = t.timestamp();
    match u64::try_from(seconds) {
        Ok(s) => SystemTime::UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

/// The validity and names of the first certificate of `cert_pem`.
pub fn facts(cert_pem: &str) -> Result<Facts, Error> {
    let der = der_of(cert_pem)?;
    let (_, cert) = X509Certificate::from_der(&der).map_err(|e| Error::Read(e.to_string()))?;
    let validity = cert.validity();
    let dns_names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Facts {
        not_before: system_time(validity.not_before),
        not_after: system_time(validity.not_after),
        dns_names,
    })
}

/// Whether the certificate `cert_pem` carries a signature of the CA `ca_pem`.
pub fn signed_by(cert_pem: &str, ca_pem: &str) -> bool {
    let (Ok(der), Ok(ca_der)) = (der_of(cert_pem), der_of(ca_pem)) else {
        return false;
    };
    let (Ok((_, cert)), Ok((_, ca))) = (
        X509Certificate::from_der(&der),
        X509Certificate::from_der(&ca_der),
    ) else {
        return false;
    };
    cert.issuer() == ca.subject() && cert.verify_signature(Some(ca.public_key())).is_ok()
}

/// Whether `ca` is a usable CA at `now`: its key is the certificate's, and it is not past two thirds of its
/// lifetime.
pub fn ca_usable(ca: &CaPair, now: SystemTime) -> bool {
    let Ok(facts) = facts(&ca.cert_pem) else {
        return false;
    };
    let Ok(key) = KeyPair::from_pem(&ca.key_pem) else {
        return false;
    };
    let Ok(der) = der_of(&ca.cert_pem) else {
        return false;
    };
    let Ok((_, cert)) = X509Certificate::from_der(&der) else {
        return false;
    };
    cert.public_key().subject_public_key.data.as_ref() == key.public_key_raw()
        && now < facts.renew_at()
}

/// Why the serving certificate `serving` must be made anew for `names` under `ca` at `now`, or None when it may
/// stay: it is not signed by the CA, names other hosts, or is past two thirds of its lifetime.
pub fn serving_renewal(
    serving: &ServingPair,
    ca: &CaPair,
    names: &[String],
    now: SystemTime,
) -> Option<&'static str> {
    let Ok(facts) = facts(&serving.cert_pem) else {
        return Some("unreadable");
    };
    if !signed_by(&serving.cert_pem, &ca.cert_pem) {
        return Some("not signed by the store's CA");
    }
    if facts.dns_names != names {
        return Some("names changed");
    }
    if now >= facts.renew_at() {
        return Some("two thirds of its lifetime passed");
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["zot", "zot.ns", "zot.ns.svc", "zot.ns.svc.cluster.local"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn a_serving_certificate_chains_to_its_ca_with_the_names_asked() {
        let now = SystemTime::now();
        let ca = new_ca("zot-operator CA ns/zot", now, CA_LIFETIME).unwrap();
        assert!(ca_usable(&ca, now));
        let serving = issue(&ca, &names(), now, SERVING_LIFETIME).unwrap();
        assert!(signed_by(&serving.cert_pem, &ca.cert_pem));
        let facts = facts(&serving.cert_pem).unwrap();
        assert_eq!(facts.dns_names, names());
        assert_eq!(serving_renewal(&serving, &ca, &names(), now), None);
        // PKCS#8 keys that rustls (as zot's Go TLS) loads, matching the certificate.
        assert!(serving.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(!format!("{serving:?}{ca:?}").contains("PRIVATE"));
    }

    #[test]
    fn renewal_comes_after_two_thirds_of_the_lifetime_or_with_new_names_or_a_new_ca() {
        let now = SystemTime::now();
        let ca = new_ca("ca", now, CA_LIFETIME).unwrap();
        let serving = issue(&ca, &names(), now, Duration::from_secs(90)).unwrap();
        // Backdated by a tenth of its lifetime: renewal falls 2/3 into [now-9s, now+90s], i.e. at now+57s.
        let short = facts(&serving.cert_pem).unwrap();
        assert_eq!(short.renew_at(), short.not_before + Duration::from_secs(66));
        assert!(short.renew_at() > now + Duration::from_secs(50));
        let long = issue(&ca, &names(), now, SERVING_LIFETIME).unwrap();
        assert_eq!(serving_renewal(&long, &ca, &names(), now), None);
        assert_eq!(
            serving_renewal(
                &long,
                &ca,
                &names(),
                now + Duration::from_secs(61 * 24 * 3600)
            ),
            Some("two thirds of its lifetime passed")
        );
        let mut other = names();
        other.push("zot.apps.example.com".into());
        assert_eq!(
            serving_renewal(&long, &ca, &other, now),
            Some("names changed")
        );
        let other_ca = new_ca("ca", now, CA_LIFETIME).unwrap();
        assert_eq!(
            serving_renewal(&long, &other_ca, &names(), now),
            Some("not signed by the store's CA")
        );
    }

    #[test]
    fn a_ca_whose_key_is_another_is_not_usable() {
        let now = SystemTime::now();
        let a = new_ca("a", now, CA_LIFETIME).unwrap();
        let b = new_ca("b", now, CA_LIFETIME).unwrap();
        let crossed = CaPair {
            cert_pem: a.cert_pem.clone(),
            key_pem: b.key_pem.clone(),
        };
        assert!(!ca_usable(&crossed, now));
        assert!(!ca_usable(&a, now + CA_LIFETIME));
    }
}
