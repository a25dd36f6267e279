//! cosign's private-key file: PEM `ENCRYPTED SIGSTORE PRIVATE KEY` around the JSON envelope of
//! go-securesystemslib's `encrypted` package (scrypt derives a key from the password, NaCl secretbox seals the
//! PKCS#8 DER). `cosign sign --key` loads nothing else from a file: an unencrypted PEM key is refused by cosign's
//! `LoadPrivateKey` ("unsupported pem type").
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};

/// The PEM type cosign v2 writes (`cosign generate-key-pair`).
pub const SIGSTORE_PEM_TYPE: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM type of older cosign releases, still loaded by cosign v2.
pub const COSIGN_PEM_TYPE: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// go-securesystemslib's scrypt strengths (legacy, standard, OWASP) as log2(N), each with r = 8, p = 1: the only
/// parameters its `Decrypt` accepts. Sealing uses the standard one, as cosign does.
const ACCEPTED_LOG_N: [u8; 3] = [15, 16, 17];
const STANDARD_LOG_N: u8 = 16;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "b64")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    #[serde(with = "b64")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
}

/// Go's encoding/json writes `[]byte` as standard base64.
mod b64 {
    use super::{Engine, STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Why a sealed key cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("it is not cosign's encrypted private-key format (PEM {SIGSTORE_PEM_TYPE}): {0}")]
    Format(String),
    #[error("it cannot be decrypted with the password given (cosign would fail the same way)")]
    WrongPassword,
}

fn derive(password: &[u8], salt: &[u8], log_n: u8) -> Result<[u8; 32], String> {
    let params = scrypt::Params::new(log_n, SCRYPT_R, SCRYPT_P, 32).map_err(|e| e.to_string())?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|e| e.to_string())?;
    Ok(key)
}

/// Seals PKCS#8 DER `der` with `password` into the PEM cosign loads with `--key` (and `COSIGN_PASSWORD`).
pub fn seal(
    der: &[u8],
    password: &[u8],
    salt: [u8; 32],
    nonce: [u8; 24],
) -> Result<String, String> {
    let key = derive(password, &salt, STANDARD_LOG_N)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(&key));
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), der)
        .map_err(|e| e.to_string())?;
    let envelope = Envelope {
        kdf: Kdf {
            name: "scrypt".to_string(),
            params: KdfParams {
                n: 1 << STANDARD_LOG_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
            },
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: "nacl/secretbox".to_string(),
            nonce: nonce.to_vec(),
        },
        ciphertext,
    };
    let json = serde_json::to_vec(&envelope).map_err(|e| e.to_string())?;
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    Ok(pem::encode_config(
        &pem::Pem::new(SIGSTORE_PEM_TYPE, json),
        config,
    ))
}

/// Opens the sealed key of PEM `block` (already known to be of a cosign type) with `password`: the PKCS#8 DER.
pub fn open(contents: &[u8], password: &[u8]) -> Result<Vec<u8>, OpenError> {
    let envelope: Envelope =
        serde_json::from_slice(contents).map_err(|e| OpenError::Format(e.to_string()))?;
    if envelope.kdf.name != "scrypt" || envelope.cipher.name != "nacl/secretbox" {
        return Err(OpenError::Format(format!(
            "kdf {} and cipher {} (cosign uses scrypt and nacl/secretbox)",
            envelope.kdf.name, envelope.cipher.name
        )));
    }
    let KdfParams { n, r, p } = envelope.kdf.params;
    let log_n = ACCEPTED_LOG_N
        .into_iter()
        .find(|l| 1u64 << l == n)
        .filter(|_| r == SCRYPT_R && p == SCRYPT_P)
        .ok_or_else(|| {
            OpenError::Format(format!("unsupported scrypt parameters N={n} r={r} p={p}"))
        })?;
    if envelope.cipher.nonce.len() != 24 {
        return Err(OpenError::Format("the nonce is not 24 bytes".to_string()));
    }
    let key = derive(password, &envelope.kdf.salt, log_n).map_err(OpenError::Format)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(&key));
    cipher
        .decrypt(
            Nonce::from_slice(&envelope.cipher.nonce),
            envelope.ciphertext.as_slice(),
        )
        .map_err(|_| OpenError::WrongPassword)
}
