//! zot-operator: runs the zot OCI registry as a declarative `ZotArtifactStore`.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod http;
pub mod metrics;
pub mod platform;
pub mod render;
pub mod telemetry;
pub mod validate;
pub mod zot;
