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
    Crd {
        /// Write each CRD into DIR/<group>_<plural>.yaml instead (config/crd/bases).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
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
        /// Also make the store's own CA and serving certificate (TLS by default) as the operator does for a new
        /// store: the Secrets <store>-ca and <store>-tls, with new keys on every run.
        #[arg(long)]
        certificates: bool,
    },
    /// Print the operator's version and its default zot image.
    Version,
    /// Run the operator: reconcile the ZotArtifactStores of the cluster, or of one namespace (in-cluster config or
    /// KUBECONFIG).
    Run(RunArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Address of the /metrics, /healthz and /readyz endpoints.
    #[arg(long, env = "ZOT_OPERATOR_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    http_addr: std::net::SocketAddr,
    /// Hold a coordination.k8s.io Lease so that only one replica reconciles. Default: on when the Lease's
    /// namespace is known (POD_NAMESPACE, or the namespace of the pod the operator runs in), off for a local run
    /// outside the cluster (then run one operator only).
    #[arg(long, env = "ZOT_OPERATOR_LEADER_ELECT", action = clap::ArgAction::Set)]
    leader_elect: Option<bool>,
    /// Namespace of the Lease (the operator's own namespace). Default: the namespace of the pod the operator runs
    /// in.
    #[arg(long, env = "POD_NAMESPACE")]
    leader_election_namespace: Option<String>,
    /// Name of the Lease.
    #[arg(long, env = "ZOT_OPERATOR_LEASE_NAME", default_value = "zot-operator")]
    lease_name: String,
    /// Identity of this replica (its pod name).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// zot image for stores that name none.
    #[arg(long, env = "RELATED_IMAGE_ZOT", default_value = names::DEFAULT_ZOT_IMAGE)]
    default_image: String,
    /// The one namespace whose stores to reconcile; empty for every namespace. OLM sets WATCH_NAMESPACE to the
    /// OperatorGroup's target namespaces.
    #[arg(long, env = "WATCH_NAMESPACE", default_value = "")]
    watch_namespace: String,
    /// Lifetime, in seconds, of the serving certificates the stores' own CAs sign (TLS by default); they are
    /// renewed after two thirds of it. Default: 90 days.
    #[arg(long, env = "ZOT_OPERATOR_SERVING_CERT_LIFETIME", default_value_t = zot_operator::pki::SERVING_LIFETIME.as_secs(), value_parser = clap::value_parser!(u64).range(60..))]
    serving_cert_lifetime: u64,
    /// How many stores are reconciled at once at most: the load the operator may put on the API server (a burst
    /// of changes queues instead of flooding it).
    #[arg(long, env = "ZOT_OPERATOR_MAX_CONCURRENT_RECONCILES", default_value_t = zot_operator::controller::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=256))]
    max_concurrent_reconciles: u16,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PlatformArg {
    Kubernetes,
    Openshift,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd { dir: Some(dir) } => match crd::files() {
            Ok(files) => {
                for (name, text) in files {
                    if let Err(err) = std::fs::write(dir.join(&name), text) {
                        eprintln!("error: writing {name}: {err}");
                        return ExitCode::FAILURE;
                    }
                }
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: serializing the CRDs: {err}");
                ExitCode::FAILURE
            }
        },
        Command::Crd { dir: None } => match crd::yaml() {
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
            certificates,
        } => {
            let mut platform = match platform {
                PlatformArg::Kubernetes => zot_operator::platform::Platform::kubernetes(),
                PlatformArg::Openshift => zot_operator::platform::Platform::openshift(apps_domain),
            };
            platform.service_monitor_crd |= service_monitor;
            platform.default_image = default_image;
            match zot_operator::cli::render_file(&file, &platform, certificates) {
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
        Command::Run(args) => run(args),
        Command::Version => {
            println!("zot-operator {}", env!("CARGO_PKG_VERSION"));
            let image = std::env::var("RELATED_IMAGE_ZOT")
                .unwrap_or_else(|_| names::DEFAULT_ZOT_IMAGE.to_string());
            println!("default zot image: {image}");
            ExitCode::SUCCESS
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let scope = match zot_operator::controller::Scope::parse(&args.watch_namespace) {
        Ok(scope) => scope,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: starting the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let telemetry = match zot_operator::telemetry::init() {
            Ok(t) => t,
            Err(err) => {
                eprintln!("error: setting up logs and traces: {err}");
                return ExitCode::FAILURE;
            }
        };
        let identity = args.identity.unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            format!("{}-{}", host.trim(), std::process::id())
        });
        let lease_namespace = args
            .leader_election_namespace
            .filter(|ns| !ns.is_empty())
            .or_else(in_cluster_namespace);
        let lease_namespace = match (args.leader_elect, lease_namespace) {
            (Some(false), _) => None,
            (_, Some(namespace)) => Some(namespace),
            (Some(true), None) => {
                tracing::error!(
                    "--leader-elect needs the Lease's namespace: not running in a pod, the operator cannot tell its \
                     own; set --leader-election-namespace (POD_NAMESPACE), or --leader-elect=false to run one \
                     operator without a Lease"
                );
                telemetry.shutdown().await;
                return ExitCode::from(2);
            }
            (None, None) => {
                tracing::info!(
                    "not running in a pod and no --leader-election-namespace: leader election is off, run one \
                     operator only (--leader-elect=true --leader-election-namespace=NS turns it on)"
                );
                None
            }
        };
        let config = zot_operator::controller::RunConfig {
            http_addr: args.http_addr,
            lease: lease_namespace.map(|namespace| {
                zot_operator::controller::lease_config(
                    namespace,
                    args.lease_name,
                    identity.clone(),
                )
            }),
            default_image: args.default_image,
            instance: Some(identity),
            scope,
            serving_lifetime: std::time::Duration::from_secs(args.serving_cert_lifetime),
            concurrency: args.max_concurrent_reconciles,
        };
        let result = zot_operator::controller::run(config).await;
        if let Err(err) = &result {
            tracing::error!(error = %err, "the operator stopped");
        }
        telemetry.shutdown().await;
        if result.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

/// The namespace of the pod the operator runs in, from its ServiceAccount token mount; None outside a pod.
fn in_cluster_namespace() -> Option<String> {
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty())
}
