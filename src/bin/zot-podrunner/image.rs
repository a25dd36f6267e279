//! "Pulling" an image: the zot build whose version is the image's tag.
//!
//! The upstream zot image (zot's build/Dockerfile) holds the binary at `/usr/bin/zot` with
//! `ENTRYPOINT ["/usr/bin/zot"]` and `CMD ["serve", "/etc/zot/config.json"]`, runs as root (no USER) and has the
//! CA bundle at `/etc/ssl/certs/ca-certificates.crt`. Any repository (a mirror too) is accepted; the tag decides.
use std::path::PathBuf;

pub const BINARY_PATH: &str = "/usr/bin/zot";
pub const ENTRYPOINT: &[&str] = &["/usr/bin/zot"];
pub const CMD: &[&str] = &["serve", "/etc/zot/config.json"];

/// The binary for `image`, or the message a kubelet's failed pull would show.
pub fn resolve(image: &str, built: &[(String, PathBuf)]) -> Result<PathBuf, String> {
    let tag = tag_of(image);
    match tag {
        Some(tag) => built
            .iter()
            .find(|(version, _)| version == tag)
            .map(|(_, path)| path.clone())
            .ok_or_else(|| {
                let versions: Vec<&str> = built.iter().map(|(v, _)| v.as_str()).collect();
                format!(
                    "failed to pull and unpack image \"{image}\": not found: the test platform has zot {} built, not tag \"{tag}\"",
                    versions.join(", ")
                )
            }),
        None => Err(format!(
            "failed to pull and unpack image \"{image}\": the test platform maps images to zot builds by tag, and this reference has none"
        )),
    }
}

/// The tag of an image reference (`repo:tag` or `repo:tag@digest`), not a registry port.
fn tag_of(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    last_segment.split_once(':').map(|(_, tag)| tag)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn built() -> Vec<(String, PathBuf)> {
        vec![("v2.1.20".into(), PathBuf::from("/bin/zot"))]
    }

    #[test]
    fn a_tag_that_names_a_built_version_resolves_whatever_the_registry() {
        for image in [
            "ghcr.io/project-zot/zot:v2.1.20",
            "mirror.local:5000/zot/zot:v2.1.20",
            "ghcr.io/project-zot/zot:v2.1.20@sha256:abc",
        ] {
            assert_eq!(
                resolve(image, &built()),
                Ok(PathBuf::from("/bin/zot")),
                "{image}"
            );
        }
    }

    #[test]
    fn an_unknown_tag_or_no_tag_fails_to_pull_with_the_reason() {
        let e = resolve("ghcr.io/project-zot/zot:v9.9.9", &built()).unwrap_err();
        assert!(e.contains("not tag \"v9.9.9\""), "{e}");
        let e = resolve("mirror.local:5000/zot", &built()).unwrap_err();
        assert!(e.contains("has none"), "{e}");
    }
}
