//! Key pairs the operator makes and the ones users bring. The cosign-made fixtures in tests/fixtures/cosign were
//! written by cosign v2.6.5 (`cosign generate-key-pair`, `cosign import-key-pair`) with password `fixture`.
#![allow(clippy::unwrap_used)]
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{RsaPrivateKey, RsaPublicKey};

use super::*;

fn material<'a>(pair: &'a GeneratedPair) -> Material<'a> {
    Material {
        private: Some(pair.private_pem.as_bytes()),
        public: Some(pair.public_pem.as_bytes()),
        password: Some(pair.password.as_bytes()),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/cosign/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn a_generated_pair_is_cosigns_sealed_format_and_checks_out() {
    let pair = generate(2048).unwrap();
    assert!(
        pair.private_pem
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    );
    assert!(pair.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let info = inspect(&material(&pair)).unwrap();
    assert_eq!(info, pair.info);
    assert_eq!(info.algorithm, Algorithm::Rsa(2048));
    assert!(info.fingerprint.starts_with("sha256:") && info.fingerprint.len() == 7 + 64);
    assert_eq!(info.algorithm.to_string(), "RSA 2048-bit");
    // The private key and the password never show in Debug output.
    let debug = format!("{pair:?}");
    assert!(!debug.contains(&pair.password) && !debug.contains("SIGSTORE"));
}

#[test]
fn the_password_of_a_generated_pair_is_needed_to_open_it() {
    let pair = generate(2048).unwrap();
    let wrong = Material {
        password: Some(b"not-the-password"),
        ..material(&pair)
    };
    assert_eq!(inspect(&wrong).unwrap_err().field, Field::Password);
    let none = Material {
        password: None,
        ..material(&pair)
    };
    let problem = inspect(&none).unwrap_err();
    assert_eq!(problem.field, Field::Password);
    assert!(problem.message.contains("is absent"), "{}", problem.message);
}

#[test]
fn two_halves_of_different_pairs_are_not_a_pair() {
    let (a, b) = (generate(2048).unwrap(), generate(2048).unwrap());
    let mixed = Material {
        public: Some(b.public_pem.as_bytes()),
        ..material(&a)
    };
    let problem = inspect(&mixed).unwrap_err();
    assert_eq!(problem.field, Field::Private);
    assert!(
        problem.message.contains("not one key pair"),
        "{}",
        problem.message
    );
}

#[test]
fn a_private_key_without_its_public_half_or_the_reverse_is_refused() {
    let pair = generate(2048).unwrap();
    let no_public = Material {
        public: None,
        ..material(&pair)
    };
    assert_eq!(inspect(&no_public).unwrap_err().field, Field::Public);
    let no_private = Material {
        private: None,
        ..material(&pair)
    };
    assert_eq!(inspect(&no_private).unwrap_err().field, Field::Private);
}

#[test]
fn an_rsa_key_under_2048_bits_is_too_small() {
    let small = RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
    let public = RsaPublicKey::from(&small)
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let problem = inspect(&Material {
        public: Some(public.as_bytes()),
        private: Some(b"irrelevant"),
        password: None,
    })
    .unwrap_err();
    assert_eq!(problem.field, Field::Public);
    assert_eq!(
        problem.message,
        "is an RSA key of 1024 bits, too small: at least 2048"
    );
}

#[test]
fn an_unencrypted_pem_private_key_is_refused_with_the_way_to_convert_it() {
    let pair = generate(2048).unwrap();
    let plain = RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    let pem = plain.to_pkcs8_pem(LineEnding::LF).unwrap();
    let problem = inspect(&Material {
        private: Some(pem.as_bytes()),
        ..material(&pair)
    })
    .unwrap_err();
    assert_eq!(problem.field, Field::Private);
    assert!(
        problem.message.contains("cosign import-key-pair"),
        "{}",
        problem.message
    );
}

#[test]
fn text_that_is_not_a_key_is_refused_on_its_field() {
    let pair = generate(2048).unwrap();
    let garbage = Material {
        public: Some(b"hello"),
        ..material(&pair)
    };
    assert_eq!(inspect(&garbage).unwrap_err().field, Field::Public);
    let garbage = Material {
        private: Some(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        ..material(&pair)
    };
    let problem = inspect(&garbage).unwrap_err();
    assert_eq!(problem.field, Field::Private);
    assert!(
        problem.message.contains("CERTIFICATE"),
        "{}",
        problem.message
    );
}

#[test]
fn a_pair_made_by_cosign_generate_key_pair_is_accepted_as_ecdsa_p256() {
    let (private, public) = (fixture("ecdsa.key"), fixture("ecdsa.pub"));
    let info = inspect(&Material {
        private: Some(&private),
        public: Some(&public),
        password: Some(b"fixture"),
    })
    .unwrap();
    assert_eq!(info.algorithm, Algorithm::EcdsaP256);
}

#[test]
fn an_rsa_pair_imported_by_cosign_is_accepted_with_its_own_size() {
    let (private, public) = (fixture("rsa3072.key"), fixture("rsa3072.pub"));
    let info = inspect(&Material {
        private: Some(&private),
        public: Some(&public),
        password: Some(b"fixture"),
    })
    .unwrap();
    assert_eq!(info.algorithm, Algorithm::Rsa(3072));
}

#[test]
fn sealing_round_trips_and_the_envelope_is_go_securesystemslibs() {
    let der = b"any bytes";
    let pem_text = sealed::seal(der, b"pw", [7; 32], [9; 24]).unwrap();
    let block = pem::parse(&pem_text).unwrap();
    assert_eq!(block.tag(), SIGSTORE_PEM_TYPE);
    let json: serde_json::Value = serde_json::from_slice(block.contents()).unwrap();
    assert_eq!(json["kdf"]["name"], "scrypt");
    assert_eq!(
        json["kdf"]["params"],
        serde_json::json!({"N": 65536, "r": 8, "p": 1})
    );
    assert_eq!(json["cipher"]["name"], "nacl/secretbox");
    assert_eq!(sealed::open(block.contents(), b"pw").unwrap(), der);
    assert_eq!(
        sealed::open(block.contents(), b"other"),
        Err(sealed::OpenError::WrongPassword)
    );
}

#[test]
fn a_public_key_of_another_algorithm_is_refused_with_what_is_accepted() {
    // Ed25519 SubjectPublicKeyInfo.
    let ed25519 = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
    let problem = inspect(&Material {
        public: Some(ed25519.as_bytes()),
        private: None,
        password: None,
    })
    .unwrap_err();
    assert_eq!(problem.field, Field::Public);
    assert!(
        problem.message.contains("RSA or ECDSA"),
        "{}",
        problem.message
    );
}

#[test]
fn halves_of_different_algorithms_are_not_a_pair() {
    let (private, public) = (fixture("rsa3072.key"), fixture("ecdsa.pub"));
    let problem = inspect(&Material {
        private: Some(&private),
        public: Some(&public),
        password: Some(b"fixture"),
    })
    .unwrap_err();
    assert_eq!(problem.field, Field::Private);
    assert!(
        problem.message.contains("not one key pair"),
        "{}",
        problem.message
    );
    let (private, public) = (fixture("ecdsa.key"), fixture("rsa3072.pub"));
    let problem = inspect(&Material {
        private: Some(&private),
        public: Some(&public),
        password: Some(b"fixture"),
    })
    .unwrap_err();
    assert!(
        problem.message.contains("not one key pair"),
        "{}",
        problem.message
    );
}
