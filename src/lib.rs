//! zot-operator: runs the zot OCI registry as a declarative `ZotArtifactStore`.
#![forbid(unsafe_code)]

pub mod access;
pub mod api;
pub mod apply;
pub mod cached;
pub mod children;
pub mod cli;
pub mod client;
pub mod controller;
pub mod http;
pub mod keycloak;
pub mod leader;
pub mod metrics;
pub mod openshift;
pub mod pki;
pub mod platform;
pub mod render;
pub mod s3;
pub mod scope;
pub mod signing;
pub mod status;
pub mod telemetry;
pub mod validate;
pub mod vulndb;
pub mod writes;
pub mod zot;
