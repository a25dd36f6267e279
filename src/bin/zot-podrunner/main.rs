//! zot-podrunner: the test platform's kubelet for zot pods.
//!
//! kwok plays the local cluster's nodes and makes every pod Running/Ready without running anything. The pods of a
//! `ZotArtifactStore` (label `app.kubernetes.io/managed-by=zot-operator`) are left to this program instead
//! (hack/kwok-stages.yaml keeps kwok's hands off them): for each one bound to a node it starts a real zot process
//! from the pod spec the API server holds, the way a kubelet would —
//! - a network namespace of its own with an address on the platform's bridge (two replicas both listen on :5000);
//! - a private mount namespace whose root is a fresh tmpfs holding the zot binary at the image's `/usr/bin/zot`,
//!   with every volume (Secret, ConfigMap, projected, downward API, emptyDir, PVC) at its `mountPath`, so the paths
//!   inside the rendered config are unchanged;
//! - the container's command/args (else the upstream image's entrypoint and cmd), env (incl. `valueFrom`), user and
//!   groups; the startup, readiness and liveness probes run against it;
//! - the pod status written back (IPs, conditions, container states, restarts, a crash's exit code and last log
//!   lines, `ErrImagePull` for an image no built zot version matches), deletion with the grace period.
//!
//! Namespaces labelled `zot-operator.test/pods=simulated` opt out: their pods are made Ready at once, as kwok would,
//! for tests that only check admission or scale.
#![forbid(unsafe_code)]

mod env;
mod image;
mod net;
mod probe;
mod process;
mod status;
mod volumes;
mod worker;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config, ResourceExt};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

/// Pods this runner runs: the ones the operator makes.
pub const SELECTOR: &str = "app.kubernetes.io/managed-by=zot-operator";
/// Namespace label that keeps kwok-style fake readiness for its pods.
pub const SIMULATED_LABEL: &str = "zot-operator.test/pods";

#[derive(Parser, Debug)]
#[command(
    about = "Runs the local cluster's zot pods as real zot processes (the test platform's kubelet)"
)]
pub struct Args {
    /// Admin kubeconfig of the local cluster.
    #[arg(long)]
    pub kubeconfig: PathBuf,
    /// Folder for the pods' sandboxes, logs and volumes (wiped of stale sandboxes at start).
    #[arg(long)]
    pub state_dir: PathBuf,
    /// A built zot: `VERSION=PATH` (e.g. `v2.1.20=/cache/tools/zot-v2.1.20/zot`); repeatable. An image whose tag
    /// names none of them fails to pull.
    #[arg(long = "zot", value_parser = parse_zot, required = true)]
    pub zots: Vec<(String, PathBuf)>,
    /// Addresses this runner gives pods, inside the bridge's network (one range per cluster).
    #[arg(long)]
    pub pod_cidr: net::Cidr,
    /// Short name of this runner (e.g. the cluster flavour): prefixes its network namespaces and interfaces.
    #[arg(long)]
    pub name: String,
    /// Stand in for OpenShift's restricted-v2 SCC admission, which a CRD-only cluster lacks: a pod that leaves its
    /// UID/fsGroup to the SCC gets the first UID of the namespace's `openshift.io/sa.scc.uid-range` and the first
    /// group of `openshift.io/sa.scc.supplemental-groups`.
    #[arg(long)]
    pub assign_scc_ids: bool,
}

fn parse_zot(s: &str) -> Result<(String, PathBuf), String> {
    let (version, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected VERSION=PATH, got '{s}'"))?;
    let path = PathBuf::from(path);
    if !path.is_file() {
        return Err(format!("zot binary {} does not exist", path.display()));
    }
    Ok((version.to_string(), path))
}

/// What every pod worker shares.
pub struct Runner {
    pub client: Client,
    pub args: Args,
    pub addresses: std::sync::Mutex<net::Allocator>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,kube=warn".into()),
        )
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("zot-podrunner: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let client = connect(&args.kubeconfig).await?;
    net::ensure_bridge(&args.pod_cidr).await?;
    net::remove_stale(&args.name).await;
    process::kill_stale(&args.state_dir);
    let _ = std::fs::remove_dir_all(args.state_dir.join("pods"));
    std::fs::create_dir_all(args.state_dir.join("pods"))
        .map_err(|e| format!("creating {}: {e}", args.state_dir.display()))?;
    let allocator = net::Allocator::new(&args.pod_cidr);
    let runner = Arc::new(Runner {
        client: client.clone(),
        args,
        addresses: std::sync::Mutex::new(allocator),
    });
    info!(name = %runner.args.name, cidr = %runner.args.pod_cidr, "running zot pods");

    let pods: Api<Pod> = Api::all(client);
    let mut events = std::pin::pin!(watcher::watcher(
        pods,
        watcher::Config::default().labels(SELECTOR)
    ));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
    let mut workers: HashMap<String, watch::Sender<Option<Pod>>> = HashMap::new();
    let mut listed: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            Some(uid) = done_rx.recv() => { workers.remove(&uid); }
            event = events.try_next() => match event {
                Ok(Some(Event::Apply(pod) | Event::InitApply(pod))) => {
                    let uid = pod.uid().unwrap_or_default();
                    listed.insert(uid.clone());
                    match workers.get(&uid) {
                        Some(tx) => { let _ = tx.send(Some(pod)); }
                        None => {
                            let (tx, rx) = watch::channel(Some(pod));
                            workers.insert(uid.clone(), tx);
                            let (runner, done) = (runner.clone(), done_tx.clone());
                            tokio::spawn(async move {
                                worker::run(runner, rx).await;
                                let _ = done.send(uid);
                            });
                        }
                    }
                }
                Ok(Some(Event::Delete(pod))) => {
                    if let Some(tx) = workers.get(&pod.uid().unwrap_or_default()) {
                        let _ = tx.send(None);
                    }
                }
                Ok(Some(Event::Init)) => listed.clear(),
                Ok(Some(Event::InitDone)) => {
                    // A re-list after a broken watch: pods that went away meanwhile are gone.
                    for (uid, tx) in &workers {
                        if !listed.contains(uid) {
                            let _ = tx.send(None);
                        }
                    }
                }
                Ok(None) => return Err("the pod watch ended".into()),
                Err(e) => {
                    warn!(error = %e, "pod watch failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            },
        }
    }
}

async fn connect(kubeconfig: &std::path::Path) -> Result<Client, String> {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).map_err(|e| e.to_string())?;
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    // The local API server listens on loopback: never through a proxy from the environment.
    config.proxy_url = None;
    Client::try_from(config).map_err(|e| e.to_string())
}
