//! The store's signing key pair, as cosign keeps one in a Kubernetes Secret (`cosign generate-key-pair
//! k8s://NAMESPACE/NAME` writes the same three keys): `cosign.key` (the private key sealed in cosign's encrypted
//! PEM format, which `cosign sign --key` loads), `cosign.password` (its password) and `cosign.pub` (the PEM public
//! key zot verifies signatures with). Pure: generating a pair and checking one; the controller reads and creates
//! the Secret (`controller::signing`).
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::spki::der::Decode;
use rsa::pkcs8::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::rand_core::{OsRng, RngCore};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

mod sealed;
#[cfg(test)]
mod tests;

pub use sealed::{COSIGN_PEM_TYPE, SIGSTORE_PEM_TYPE};

/// Default key of the sealed private key (cosign's name in a Kubernetes Secret).
pub const DEFAULT_PRIVATE_KEY_FIELD: &str = "cosign.key";
/// Default key of the PEM public key.
pub const DEFAULT_PUBLIC_KEY_FIELD: &str = "cosign.pub";
/// Default key of the private key's password.
pub const DEFAULT_PASSWORD_FIELD: &str = "cosign.password";
/// Smallest RSA key the operator accepts (NIST's floor, and cosign's default verifiers' too).
pub const MIN_RSA_BITS: usize = 2048;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The algorithm of a key pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RSA with a modulus of this many bits (cosign signs RSASSA-PKCS1-v1_5 with SHA-256).
    Rsa(usize),
    /// ECDSA on P-256 (what `cosign generate-key-pair` makes).
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Algorithm::Rsa(bits) => write!(f, "RSA {bits}-bit"),
            Algorithm::EcdsaP256 => f.write_str("ECDSA P-256"),
            Algorithm::EcdsaP384 => f.write_str("ECDSA P-384"),
        }
    }
}

/// What the status may say about a key pair: its algorithm and the fingerprint of its public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub algorithm: Algorithm,
    /// `sha256:` and the hex SHA-256 of the public key's DER (SubjectPublicKeyInfo).
    pub fingerprint: String,
}

/// A freshly generated pair, in the Secret's three keys. Its `Debug` shows the public key only.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedPair {
    /// cosign's sealed PEM private key.
    pub private_pem: String,
    /// PEM public key (SubjectPublicKeyInfo).
    pub public_pem: String,
    /// The password that opens `private_pem`.
    pub password: String,
    pub info: KeyInfo,
}

impl fmt::Debug for GeneratedPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedPair")
            .field("private_pem", &"<redacted>")
            .field("public_pem", &self.public_pem)
            .field("password", &"<redacted>")
            .field("info", &self.info)
            .finish()
    }
}

/// Generates an RSA pair of `bits` bits sealed with a random password. Slow (seconds for 4096 bits): run it off
/// the async runtime.
pub fn generate(bits: usize) -> Result<GeneratedPair, String> {
    let private = RsaPrivateKey::new(&mut OsRng, bits).map_err(|e| e.to_string())?;
    let der = private.to_pkcs8_der().map_err(|e| e.to_string())?;
    let public = private.to_public_key();
    let public_pem = public
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?;
    let public_der = public.to_public_key_der().map_err(|e| e.to_string())?;
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let password = URL_SAFE_NO_PAD.encode(secret);
    let (mut salt, mut nonce) = ([0u8; 32], [0u8; 24]);
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let private_pem = sealed::seal(der.as_bytes(), password.as_bytes(), salt, nonce)?;
    Ok(GeneratedPair {
        private_pem,
        public_pem,
        password,
        info: KeyInfo {
            algorithm: Algorithm::Rsa(bits),
            fingerprint: fingerprint(public_der.as_bytes()),
        },
    })
}

/// The Secret's key a problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Private,
    Public,
    Password,
}

/// Why the key material of a Secret cannot be used; `field` says which key of the Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: Field,
    pub message: String,
}

fn problem(field: Field, message: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
    }
}

/// The three values of a key Secret, as found (None: the key is absent or empty).
#[derive(Clone, Copy, Default)]
pub struct Material<'a> {
    pub private: Option<&'a [u8]>,
    pub public: Option<&'a [u8]>,
    pub password: Option<&'a [u8]>,
}

/// Checks that `material` is a pair cosign can sign with and zot can verify with: a PEM public key (RSA of at
/// least 2048 bits, or ECDSA P-256/P-384), and cosign's sealed private key, opened with the password, that
/// belongs to it. Opening costs one scrypt (64 MiB, a fraction of a second): callers cache the verdict.
pub fn inspect(material: &Material<'_>) -> Result<KeyInfo, Problem> {
    let public = material
        .public
        .ok_or_else(|| problem(Field::Public, "holds no public key"))?;
    let (algorithm, spki_der) = public_key(public)?;
    let private = material.private.ok_or_else(|| {
        problem(
            Field::Private,
            "holds no private key: the Secret must hold the pair (or be absent, for the operator to create one)",
        )
    })?;
    let block = pem::parse(private)
        .map_err(|e| problem(Field::Private, format!("is not a PEM private key: {e}")))?;
    let der = match block.tag() {
        SIGSTORE_PEM_TYPE | COSIGN_PEM_TYPE => {
            let password = material.password.unwrap_or_default();
            sealed::open(block.contents(), password).map_err(|e| match e {
                sealed::OpenError::WrongPassword => problem(
                    Field::Password,
                    if material.password.is_some() {
                        "does not open the private key (cosign would fail the same way)"
                    } else {
                        "is absent, and the private key does not open without a password"
                    },
                ),
                other => problem(Field::Private, other.to_string()),
            })?
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            return Err(problem(
                Field::Private,
                format!(
                    "is an unencrypted PEM {}, which `cosign sign --key` does not load: convert it with \
                     `cosign import-key-pair --key FILE` and store the cosign.key, cosign.pub and cosign.password it writes",
                    block.tag()
                ),
            ));
        }
        other => {
            return Err(problem(
                Field::Private,
                format!("is a PEM {other}, not cosign's {SIGSTORE_PEM_TYPE}"),
            ));
        }
    };
    if !pair_matches(algorithm, &der, &spki_der)? {
        return Err(problem(
            Field::Private,
            "does not belong to the public key beside it (they are not one key pair)",
        ));
    }
    Ok(KeyInfo {
        algorithm,
        fingerprint: fingerprint(&spki_der),
    })
}

/// The algorithm of PEM public key `pem` and its DER.
fn public_key(pem: &[u8]) -> Result<(Algorithm, Vec<u8>), Problem> {
    let block = pem::parse(pem)
        .map_err(|e| problem(Field::Public, format!("is not a PEM public key: {e}")))?;
    if block.tag() != "PUBLIC KEY" {
        return Err(problem(
            Field::Public,
            format!("is a PEM {}, not a PUBLIC KEY", block.tag()),
        ));
    }
    let der = block.contents().to_vec();
    let spki = SubjectPublicKeyInfoRef::from_der(&der)
        .map_err(|e| problem(Field::Public, format!("is not a public key: {e}")))?;
    let algorithm = match spki.algorithm.oid {
        RSA_ENCRYPTION => {
            let key = RsaPublicKey::from_public_key_der(&der)
                .map_err(|e| problem(Field::Public, format!("is not an RSA public key: {e}")))?;
            let bits = key.n().bits();
            if bits < MIN_RSA_BITS {
                return Err(problem(
                    Field::Public,
                    format!("is an RSA key of {bits} bits, too small: at least {MIN_RSA_BITS}"),
                ));
            }
            Algorithm::Rsa(bits)
        }
        EC_PUBLIC_KEY => match spki
            .algorithm
            .parameters_oid()
            .map_err(|e| problem(Field::Public, format!("names no curve: {e}")))?
        {
            P256 => Algorithm::EcdsaP256,
            P384 => Algorithm::EcdsaP384,
            curve => {
                return Err(problem(
                    Field::Public,
                    format!("is an ECDSA key on curve {curve}: the operator takes P-256 or P-384"),
                ));
            }
        },
        oid => {
            return Err(problem(
                Field::Public,
                format!(
                    "is a key of algorithm {oid}: the operator takes RSA or ECDSA (P-256, P-384)"
                ),
            ));
        }
    };
    Ok((algorithm, der))
}

/// Whether PKCS#8 `private` is the private half of SubjectPublicKeyInfo `spki_der` (a private key of another
/// algorithm is not).
fn pair_matches(algorithm: Algorithm, private: &[u8], spki_der: &[u8]) -> Result<bool, Problem> {
    let unreadable = |e: String| problem(Field::Public, format!("cannot be read again: {e}"));
    match algorithm {
        Algorithm::Rsa(_) => {
            let Ok(key) = RsaPrivateKey::from_pkcs8_der(private) else {
                return Ok(false);
            };
            let public = RsaPublicKey::from_public_key_der(spki_der)
                .map_err(|e| unreadable(e.to_string()))?;
            Ok(key.to_public_key() == public)
        }
        Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => {
            use ring::signature::{
                ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
                KeyPair,
            };
            let curve = if algorithm == Algorithm::EcdsaP256 {
                &ECDSA_P256_SHA256_ASN1_SIGNING
            } else {
                &ECDSA_P384_SHA384_ASN1_SIGNING
            };
            let Ok(pair) =
                EcdsaKeyPair::from_pkcs8(curve, private, &ring::rand::SystemRandom::new())
            else {
                return Ok(false);
            };
            let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
                .map_err(|e| unreadable(e.to_string()))?;
            Ok(Some(pair.public_key().as_ref()) == spki.subject_public_key.as_bytes())
        }
    }
}

fn fingerprint(spki_der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(spki_der)))
}
