//! `olm`: generates the OLM bundle (bundle/) and the file-based catalog (catalog/) from the code and config/.
//!
//! `make bundle`, `make catalog` and `make generate` run it; its output is committed and reproduced byte for byte.
#![forbid(unsafe_code)]

mod bundle;
mod catalog;
mod csv;
mod error;
mod inputs;
mod install;
mod release;
mod yaml;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use semver::Version;

use crate::bundle::{BUNDLE_DIR, File};
use crate::catalog::{CATALOG_FILE, Existing};
use crate::error::Error;
use crate::inputs::Inputs;

/// Generates the OLM bundle and file-based catalog of zot-operator.
#[derive(Parser, Debug)]
#[command(name = "olm", version, about)]
struct Cli {
    /// Repository root the inputs (config/, hack/versions.env, the committed catalog/) are read from.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Where bundle/ and catalog/ are written; defaults to the root.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Version to release; defaults to the crate version in Cargo.toml. Set it only to rehearse a release.
    #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
    release_version: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// Write bundle/: the ClusterServiceVersion, the CRDs, the Service, annotations.yaml and the scorecard config.
    Bundle,
    /// Add this release to catalog/ (keeping earlier releases) and write it.
    Catalog,
    /// Both.
    Generate,
}

fn run(cli: &Cli) -> Result<Vec<String>, Error> {
    let version = Version::parse(&cli.release_version).map_err(|source| Error::Version {
        version: cli.release_version.clone(),
        source,
    })?;
    if !version.build.is_empty() {
        return Err(Error::invalid(
            "Cargo.toml",
            format!("version {version} has build metadata, which an image tag cannot carry"),
        ));
    }
    let inputs = Inputs::read(&cli.root)?;
    let existing = Existing::read(&cli.root)?;
    let plan = release::plan(&existing.published()?, &version)?;
    let built = csv::build(&inputs, &plan)?;
    let out = cli.out.clone().unwrap_or_else(|| cli.root.clone());
    let mut written = Vec::new();
    if matches!(cli.command, Command::Bundle | Command::Generate) {
        let files = bundle::files(&inputs, &plan, &built)?;
        replace_dir(&out.join(BUNDLE_DIR))?;
        written.extend(write(&out, &files)?);
    }
    if matches!(cli.command, Command::Catalog | Command::Generate) {
        let file = catalog::file(&existing, &inputs, &plan, &built)?;
        if let Some(dir) = Path::new(CATALOG_FILE).parent() {
            replace_dir(&out.join(dir))?;
        }
        written.extend(write(&out, &[file])?);
    }
    Ok(written)
}

/// Empties a generated directory, so that a file the generator no longer makes does not linger.
fn replace_dir(dir: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::WriteOutput {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

fn write(out: &Path, files: &[File]) -> Result<Vec<String>, Error> {
    let mut written = Vec::new();
    for (relative, content) in files {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::WriteOutput {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, content).map_err(|source| Error::WriteOutput {
            path: path.clone(),
            source,
        })?;
        written.push(relative.clone());
    }
    Ok(written)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(written) => {
            for file in written {
                eprintln!("wrote {file}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
