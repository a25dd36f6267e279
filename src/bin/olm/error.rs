//! What can stop the generator, each variant naming the step that failed.
use std::path::PathBuf;

use crate::release::PlanError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    ReadInput {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing {path}: {source}")]
    ParseInput {
        path: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("{path}: {message}")]
    InvalidInput { path: PathBuf, message: String },
    #[error("version '{version}' is not semantic versioning: {source}")]
    Version {
        version: String,
        source: semver::Error,
    },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("serializing {what}: {source}")]
    SerializeYaml {
        what: String,
        source: serde_yaml::Error,
    },
    #[error("serializing {what}: {source}")]
    SerializeJson {
        what: String,
        source: serde_json::Error,
    },
    #[error("writing {path}: {source}")]
    WriteOutput {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            path: path.into(),
            message: message.into(),
        }
    }
}
