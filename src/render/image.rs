//! Which zot image the pods run.
use crate::platform::Platform;
use crate::validate::ValidatedStore;

/// The zot image reference: the store's repository and tag over the platform's default image. A tag that is a
/// digest (`sha256:…`) is joined with `@`.
pub fn image(store: &ValidatedStore, platform: &Platform) -> String {
    let (default_repository, default_reference) = split(&platform.default_image);
    let spec = &store.spec.image;
    let repository = spec.repository.as_deref().unwrap_or(default_repository);
    match spec.tag.as_deref() {
        Some(tag) if tag.contains(':') => format!("{repository}@{tag}"),
        Some(tag) => format!("{repository}:{tag}"),
        None => format!("{repository}{default_reference}"),
    }
}

/// The version of zot an image runs, as far as its reference tells: the tag, or None for a digest.
pub fn version(image: &str) -> Option<String> {
    let (_, reference) = split(image);
    reference.strip_prefix(':').map(str::to_string)
}

/// Splits `registry:port/path:tag` or `path@sha256:…` into the repository and the reference with its `:` or
/// `@` separator (empty when there is none).
fn split(image: &str) -> (&str, &str) {
    if let Some(at) = image.find('@') {
        return image.split_at(at);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(colon) => image.split_at(last_slash + colon),
        None => (image, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_tag_not_at_a_registry_port() {
        assert_eq!(
            split("ghcr.io/project-zot/zot:v2.1.20"),
            ("ghcr.io/project-zot/zot", ":v2.1.20")
        );
        assert_eq!(split("mirror:5000/zot"), ("mirror:5000/zot", ""));
        assert_eq!(split("mirror:5000/zot:v1"), ("mirror:5000/zot", ":v1"));
        assert_eq!(split("zot@sha256:abc"), ("zot", "@sha256:abc"));
    }

    #[test]
    fn the_version_is_the_tag_of_the_image() {
        assert_eq!(
            version("ghcr.io/project-zot/zot:v2.1.20").as_deref(),
            Some("v2.1.20")
        );
        assert_eq!(version("zot@sha256:abc"), None);
    }
}
