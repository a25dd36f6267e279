//! zot-operator: runs the zot OCI registry as a declarative `ZotArtifactStore`.
pub mod zot;
