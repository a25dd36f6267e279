//! The `zot-operator` binary: a thin command line over the library.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use zot_operator::api::{crd, names};

/// Runs the zot OCI registry on Kubernetes and OpenShift.
#[derive(Parser, Debug)]
#[command(name = "zot-operator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print every CustomResourceDefinition of the operator as YAML.
    Crd,
    /// Print, without a cluster, every object the operator would create for a ZotArtifactStore.
    Render {
        /// File holding one ZotArtifactStore as YAML or JSON (`-` reads standard input).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Platform to render for.
        #[arg(long, value_enum, default_value_t = PlatformArg::Kubernetes)]
        platform: PlatformArg,
        /// The cluster's apps domain (OpenShift), used for default Route hosts.
        #[arg(long)]
        apps_domain: Option<String>,
        /// Render as if the monitoring.coreos.com ServiceMonitor CRD were installed (always so on OpenShift).
        #[arg(long)]
        service_monitor: bool,
        /// zot image used when the store names none (the operator reads RELATED_IMAGE_ZOT).
        #[arg(long, env = "RELATED_IMAGE_ZOT", default_value = names::DEFAULT_ZOT_IMAGE)]
        default_image: String,
    },
    /// Print the operator's version and its default zot image.
    Version,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PlatformArg {
    Kubernetes,
    Openshift,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => match crd::yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: serializing the CRDs: {err}");
                ExitCode::FAILURE
            }
        },
        Command::Render {
            file,
            platform,
            apps_domain,
            service_monitor,
            default_image,
        } => {
            let mut platform = match platform {
                PlatformArg::Kubernetes => zot_operator::platform::Platform::kubernetes(),
                PlatformArg::Openshift => zot_operator::platform::Platform::openshift(apps_domain),
            };
            platform.service_monitor_crd |= service_monitor;
            platform.default_image = default_image;
            match zot_operator::cli::render_file(&file, &platform) {
                Ok(stream) => {
                    print!("{stream}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::from(err.exit_code())
                }
            }
        }
        Command::Version => {
            println!("zot-operator {}", env!("CARGO_PKG_VERSION"));
            let image = std::env::var("RELATED_IMAGE_ZOT")
                .unwrap_or_else(|_| names::DEFAULT_ZOT_IMAGE.to_string());
            println!("default zot image: {image}");
            ExitCode::SUCCESS
        }
    }
}
