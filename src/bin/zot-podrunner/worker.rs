//! One pod, from its binding to a node to its deletion: sandbox, volumes, containers, probes, status.
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Event, Namespace, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use tokio::process::Child;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::net::{GATEWAY, Sandbox};
use crate::probe::Report;
use crate::process::{self, Launch, Mount};
use crate::status::{self, State, Terminated, now};
use crate::{Runner, SIMULATED_LABEL, env, image, volumes};

const UID_RANGE: &str = "openshift.io/sa.scc.uid-range";
const GROUP_RANGE: &str = "openshift.io/sa.scc.supplemental-groups";
/// The range OpenShift's cluster-policy-controller would have given a namespace that has none yet.
const DEFAULT_SCC_RANGE: &str = "1000650000/10000";
const MAX_BACKOFF: Duration = Duration::from_secs(300);
const FIRST_BACKOFF: Duration = Duration::from_secs(10);
/// A container that ran this long without crashing starts its back-off afresh.
const BACKOFF_RESET: Duration = Duration::from_secs(600);

/// How often mounted Secret and ConfigMap volumes are brought up to date with their objects.
const VOLUME_REFRESH: Duration = Duration::from_secs(5);

pub async fn run(runner: Arc<Runner>, mut rx: watch::Receiver<Option<Pod>>) {
    // Until the scheduler binds the pod, there is nothing for a kubelet to do.
    let pod = loop {
        let current = rx.borrow_and_update().clone();
        match current {
            None => return,
            Some(p) if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() => break p,
            Some(_) => {}
        }
        if rx.changed().await.is_err() {
            return;
        }
    };
    let namespace = pod.namespace().unwrap_or_default();
    let ns = Api::<Namespace>::all(runner.client.clone())
        .get_opt(&namespace)
        .await
        .ok()
        .flatten();
    let simulated = ns
        .as_ref()
        .and_then(|n| n.labels().get(SIMULATED_LABEL))
        .map(String::as_str)
        == Some("simulated");
    let mut worker = Worker::new(runner, pod, ns).await;
    if simulated {
        worker.simulate(rx).await;
    } else {
        worker.run(rx).await;
    }
}

/// One container slot of the pod.
struct Slot {
    spec: Container,
    status: status::Container,
    child: Option<Child>,
    probes: Option<JoinHandle<()>>,
    /// Counts container instances, so that reports of an aborted probe task are ignored.
    instance: u64,
    next_start: Option<Instant>,
    backoff: Duration,
    started: Option<(Instant, String)>,
    log: PathBuf,
    termination_log: PathBuf,
    last_event: Option<String>,
}

struct Worker {
    runner: Arc<Runner>,
    pod: Pod,
    namespace: Option<Namespace>,
    api: Api<Pod>,
    dir: PathBuf,
    sandbox: Option<Sandbox>,
    status: status::Pod,
    slots: Vec<Slot>,
    volumes: Option<HashMap<String, PathBuf>>,
    next_mount: Instant,
    /// When the Secret and ConfigMap volumes are next compared with their objects.
    next_refresh: Instant,
    mount_error: Option<String>,
    written: Option<Value>,
    reports_tx: mpsc::UnboundedSender<(usize, u64, Report)>,
    reports_rx: mpsc::UnboundedReceiver<(usize, u64, Report)>,
}

impl Worker {
    async fn new(runner: Arc<Runner>, pod: Pod, namespace: Option<Namespace>) -> Worker {
        let ns = pod.namespace().unwrap_or_default();
        let api = Api::namespaced(runner.client.clone(), &ns);
        let dir = runner.args.state_dir.join("pods").join(format!(
            "{ns}_{}_{}",
            pod.name_any(),
            pod.uid().unwrap_or_default()
        ));
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let host_ip = Api::<Node>::all(runner.client.clone())
            .get_opt(&node)
            .await
            .ok()
            .flatten()
            .and_then(|n| {
                n.status?
                    .addresses?
                    .into_iter()
                    .find(|a| a.type_ == "InternalIP")
            })
            .map(|a| a.address)
            .unwrap_or_else(|| "127.0.0.1".into());
        let containers = pod
            .spec
            .as_ref()
            .map(|s| s.containers.clone())
            .unwrap_or_default();
        let slots = containers
            .into_iter()
            .map(|spec| {
                let cdir = dir.join(&spec.name);
                Slot {
                    status: status::Container::new(
                        &spec.name,
                        spec.image.as_deref().unwrap_or_default(),
                    ),
                    log: cdir.join("0.log"),
                    termination_log: cdir.join("termination-log"),
                    spec,
                    child: None,
                    probes: None,
                    instance: 0,
                    next_start: None,
                    backoff: Duration::ZERO,
                    started: None,
                    last_event: None,
                }
            })
            .collect();
        let start_time = pod
            .status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(now);
        let (reports_tx, reports_rx) = mpsc::unbounded_channel();
        Worker {
            runner,
            pod,
            namespace,
            api,
            dir,
            sandbox: None,
            status: status::Pod {
                host_ip,
                pod_ip: None,
                start_time,
                sandbox_ready: false,
                containers: Vec::new(),
                transitions: BTreeMap::new(),
            },
            slots,
            volumes: None,
            next_mount: Instant::now(),
            next_refresh: Instant::now() + VOLUME_REFRESH,
            mount_error: None,
            written: None,
            reports_tx,
            reports_rx,
        }
    }

    fn key(&self) -> String {
        format!(
            "{}/{}",
            self.pod.namespace().unwrap_or_default(),
            self.pod.name_any()
        )
    }

    fn previous_ip(&self) -> Option<std::net::Ipv4Addr> {
        self.pod.status.as_ref()?.pod_ip.as_ref()?.parse().ok()
    }

    fn take_ip(&self) -> Option<std::net::Ipv4Addr> {
        let preferred = self.previous_ip();
        self.runner.addresses.lock().ok()?.take(preferred)
    }

    fn release_ip(&self, ip: std::net::Ipv4Addr) {
        if let Ok(mut a) = self.runner.addresses.lock() {
            a.release(ip);
        }
    }

    /// A kwok-like pod: Ready at once, nothing run.
    async fn simulate(&mut self, mut rx: watch::Receiver<Option<Pod>>) {
        let ip = self.take_ip();
        self.status.pod_ip = ip.map(|i| i.to_string());
        self.status.sandbox_ready = true;
        for slot in &mut self.slots {
            slot.status.state = State::Running { started_at: now() };
            slot.status.started = true;
            slot.status.ready = true;
        }
        loop {
            let current = rx.borrow_and_update().clone();
            match current {
                None => break,
                Some(pod) => {
                    self.pod = pod;
                    if self.pod.metadata.deletion_timestamp.is_some() {
                        self.delete_object().await;
                        break;
                    }
                    self.write_status().await;
                }
            }
            if rx.changed().await.is_err() {
                break;
            }
        }
        if let Some(ip) = ip {
            self.release_ip(ip);
        }
    }

    async fn run(&mut self, mut rx: watch::Receiver<Option<Pod>>) {
        info!(pod = %self.key(), "starting pod");
        match self.take_ip() {
            Some(ip) => match Sandbox::create(&self.runner.args.name, ip).await {
                Ok(sandbox) => {
                    self.status.pod_ip = Some(ip.to_string());
                    self.status.sandbox_ready = true;
                    self.sandbox = Some(sandbox);
                }
                Err(e) => {
                    self.release_ip(ip);
                    self.event(
                        "Warning",
                        "FailedCreatePodSandBox",
                        &format!("Failed to create pod sandbox: {e}"),
                    )
                    .await;
                }
            },
            None => {
                self.event(
                    "Warning",
                    "FailedCreatePodSandBox",
                    "Failed to create pod sandbox: no free pod address",
                )
                .await;
            }
        }
        loop {
            let current = rx.borrow_and_update().clone();
            let Some(pod) = current else {
                // Deleted without us (grace period 0): stop at once.
                self.stop(Duration::ZERO).await;
                break;
            };
            self.pod = pod;
            if self.pod.metadata.deletion_timestamp.is_some() {
                let grace = self
                    .pod
                    .metadata
                    .deletion_grace_period_seconds
                    .unwrap_or(30);
                self.stop(Duration::from_secs(u64::try_from(grace).unwrap_or(0)))
                    .await;
                self.delete_object().await;
                break;
            }
            if self.sandbox.is_some() {
                self.step().await;
            }
            self.write_status().await;
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { self.stop(Duration::ZERO).await; break; },
                Some((index, instance, report)) = self.reports_rx.recv() => self.on_report(index, instance, report).await,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.destroy().await;
            self.release_ip(sandbox.ip);
        }
        let _ = tokio::fs::remove_dir_all(&self.dir).await;
        info!(pod = %self.key(), "pod stopped");
    }

    /// Mount volumes, start containers whose time has come, notice exits.
    async fn step(&mut self) {
        if self.volumes.is_some() && Instant::now() >= self.next_refresh {
            // Secret and ConfigMap volumes follow their objects, as with a kubelet (which syncs about every
            // minute; here every few seconds, to keep tests short).
            let (_, _, _, fs_group) = self.identity(None);
            volumes::refresh(&self.runner.client, &self.pod, &self.dir, fs_group).await;
            self.next_refresh = Instant::now() + VOLUME_REFRESH;
        }
        if self.volumes.is_none() {
            if Instant::now() < self.next_mount {
                return;
            }
            let (_, _, _, fs_group) = self.identity(None);
            match volumes::prepare(&self.runner.client, &self.pod, &self.dir, fs_group).await {
                Ok(v) => {
                    self.volumes = Some(v);
                    self.mount_error = None;
                }
                Err(e) => {
                    if self.mount_error.as_deref() != Some(e.as_str()) {
                        self.event("Warning", "FailedMount", &e).await;
                        self.mount_error = Some(e);
                    }
                    self.next_mount = Instant::now() + Duration::from_secs(2);
                    return;
                }
            }
        }
        for index in 0..self.slots.len() {
            self.poll_exit(index).await;
            let due = self.slots[index].child.is_none()
                && self.slots[index]
                    .next_start
                    .is_none_or(|t| Instant::now() >= t)
                && !matches!(self.slots[index].status.state, State::Terminated(_));
            if due {
                self.start(index).await;
            }
        }
    }

    /// uid, gid, supplementary groups and fsGroup of a container (the pod's when `container` is `None`), with the
    /// SCC's assignment standing in where the pod leaves them open and the runner plays OpenShift.
    fn identity(
        &self,
        container: Option<&Container>,
    ) -> (Option<i64>, Option<i64>, Vec<i64>, Option<i64>) {
        let pod_sc = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.security_context.clone())
            .unwrap_or_default();
        let sc = container
            .and_then(|c| c.security_context.clone())
            .unwrap_or_default();
        let range_start = |key: &str| {
            let annotations = self
                .namespace
                .as_ref()
                .map(|n| n.annotations().clone())
                .unwrap_or_default();
            let range = annotations
                .get(key)
                .cloned()
                .unwrap_or_else(|| DEFAULT_SCC_RANGE.to_string());
            range
                .split(['/', '-'])
                .next()
                .and_then(|s| s.parse::<i64>().ok())
        };
        let scc = self.runner.args.assign_scc_ids;
        let uid = sc
            .run_as_user
            .or(pod_sc.run_as_user)
            .or_else(|| scc.then(|| range_start(UID_RANGE)).flatten());
        let gid = sc.run_as_group.or(pod_sc.run_as_group);
        let fs_group = pod_sc.fs_group.or_else(|| {
            scc.then(|| {
                let has_groups = self
                    .namespace
                    .as_ref()
                    .is_some_and(|n| n.annotations().contains_key(GROUP_RANGE));
                range_start(if has_groups { GROUP_RANGE } else { UID_RANGE })
            })
            .flatten()
        });
        let mut groups: Vec<i64> = fs_group.into_iter().collect();
        groups.extend(pod_sc.supplemental_groups.unwrap_or_default());
        (uid, gid, groups, fs_group)
    }

    async fn start(&mut self, index: usize) {
        let pod_name = format!(
            "{}_{}({})",
            self.pod.name_any(),
            self.pod.namespace().unwrap_or_default(),
            self.pod.uid().unwrap_or_default()
        );
        let spec = self.slots[index].spec.clone();
        let image_name = spec.image.clone().unwrap_or_default();
        let binary = match image::resolve(&image_name, &self.runner.args.zots) {
            Ok(b) => b,
            Err(message) => {
                let slot = &mut self.slots[index];
                let reason = if matches!(&slot.status.state, State::Waiting { reason, .. } if reason == "ErrImagePull")
                {
                    "ImagePullBackOff"
                } else {
                    "ErrImagePull"
                };
                slot.status.state = State::Waiting {
                    reason: reason.into(),
                    message: Some(message.clone()),
                };
                slot.next_start = Some(Instant::now() + Duration::from_secs(5));
                self.event_once(
                    index,
                    "Warning",
                    "Failed",
                    &format!("Failed to pull image \"{image_name}\": {message}"),
                )
                .await;
                return;
            }
        };
        let version = self
            .runner
            .args
            .zots
            .iter()
            .find(|(_, p)| *p == binary)
            .map(|(v, _)| v.clone())
            .unwrap_or_default();
        let (uid, gid, groups, _) = self.identity(Some(&spec));
        let run_as_non_root = spec
            .security_context
            .as_ref()
            .and_then(|s| s.run_as_non_root)
            .or(self
                .pod
                .spec
                .as_ref()
                .and_then(|s| s.security_context.as_ref())
                .and_then(|s| s.run_as_non_root))
            .unwrap_or(false);
        let vars = match env::resolve(&self.runner.client, &self.pod, &spec).await {
            Ok(v) => v,
            Err(message) => return self.config_error(index, message).await,
        };
        if let Some(message) = self.outside_scc_range(uid) {
            return self.config_error(index, message).await;
        }
        if run_as_non_root && uid.unwrap_or(0) == 0 {
            let message = format!(
                "container has runAsNonRoot and image will run as root (pod: \"{pod_name}\", container: {})",
                spec.name
            );
            return self.config_error(index, message).await;
        }
        let Some(volumes) = self.volumes.clone() else {
            return;
        };
        let mut mounts = Vec::new();
        for m in spec.volume_mounts.iter().flatten() {
            let Some(source) = volumes.get(&m.name) else {
                return self
                    .config_error(
                        index,
                        format!("volume \"{}\" not found in the pod's volumes", m.name),
                    )
                    .await;
            };
            let mut source = source.clone();
            if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                source = source.join(sub);
                // Secret-style volumes show their keys through symlinks: mount the file itself.
                source = std::fs::canonicalize(&source).unwrap_or(source);
                if !source.exists() {
                    let _ = std::fs::create_dir_all(&source);
                }
            }
            mounts.push(Mount {
                source,
                target: m.mount_path.clone(),
                read_only: m.read_only.unwrap_or(false),
            });
        }
        let Some(sandbox) = &self.sandbox else { return };
        let ip = sandbox.ip.to_string();
        let hostname = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.hostname.clone())
            .unwrap_or_else(|| self.pod.name_any());
        let namespace = self.pod.namespace().unwrap_or_default();
        let fqdn = match self.pod.spec.as_ref().and_then(|s| s.subdomain.as_ref()) {
            Some(sub) => format!("{hostname}.{sub}.{namespace}.svc.cluster.local {hostname}"),
            None => hostname.clone(),
        };
        let cdir = self.dir.join(&spec.name);
        let _ = std::fs::create_dir_all(&cdir);
        let etc_hosts = self.dir.join("hosts");
        let resolv_conf = self.dir.join("resolv.conf");
        let written = std::fs::write(&etc_hosts, format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{ip}\t{fqdn}\n"))
            .and_then(|()| {
                std::fs::write(&resolv_conf, format!("search {namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver {GATEWAY}\noptions ndots:5\n"))
            })
            .and_then(|()| std::fs::write(&self.slots[index].termination_log, b""));
        if let Err(e) = written {
            return self
                .config_error(index, format!("preparing the container's files: {e}"))
                .await;
        }
        let substitute = |list: &Option<Vec<String>>| {
            list.as_ref()
                .map(|l| l.iter().map(|a| env::expand(a, &vars)).collect::<Vec<_>>())
        };
        let argv = match (substitute(&spec.command), substitute(&spec.args)) {
            (Some(command), args) => [command, args.unwrap_or_default()].concat(),
            (None, Some(args)) => [
                image::ENTRYPOINT.iter().map(|s| s.to_string()).collect(),
                args,
            ]
            .concat(),
            (None, None) => image::ENTRYPOINT
                .iter()
                .chain(image::CMD)
                .map(|s| s.to_string())
                .collect(),
        };
        let mut env = vec![
            (
                "PATH".to_string(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            ),
            ("HOSTNAME".to_string(), hostname.clone()),
            ("HOME".to_string(), "/".to_string()),
        ];
        for (k, v) in vars {
            env.retain(|(name, _)| *name != k);
            env.push((k, v));
        }
        let read_only_root = spec
            .security_context
            .as_ref()
            .and_then(|s| s.read_only_root_filesystem)
            .unwrap_or(false);
        let slot = &mut self.slots[index];
        slot.log = cdir.join(format!("{}.log", slot.status.restarts));
        let launch = Launch {
            netns: sandbox.netns.clone(),
            hostname,
            dir: cdir,
            binary,
            mounts,
            etc_hosts,
            resolv_conf,
            termination_log: slot.termination_log.clone(),
            termination_path: spec
                .termination_message_path
                .clone()
                .unwrap_or_else(|| "/dev/termination-log".into()),
            read_only_root,
            user: uid
                .filter(|u| *u != 0 || gid.is_some())
                .map(|u| (u, gid.unwrap_or(0), groups)),
            argv,
            env,
            log: slot.log.clone(),
        };
        match process::spawn(&launch) {
            Ok(child) => {
                let started_at = now();
                slot.instance += 1;
                slot.status.container_id = Some(format!(
                    "zot-podrunner://{}/{}/{}",
                    self.pod.uid().unwrap_or_default(),
                    spec.name,
                    slot.status.restarts
                ));
                slot.status.image_id = format!("zot-podrunner://zot@{version}");
                slot.status.state = State::Running {
                    started_at: started_at.clone(),
                };
                slot.status.started = false;
                slot.status.ready = false;
                slot.started = Some((Instant::now(), started_at));
                slot.child = Some(child);
                let (tx, instance) = (self.reports_tx.clone(), slot.instance);
                let (probe_tx, mut probe_rx) = mpsc::unbounded_channel();
                let container = spec.clone();
                let ip = sandbox.ip;
                slot.probes = Some(tokio::spawn(async move {
                    let forward = async {
                        while let Some(report) = probe_rx.recv().await {
                            if tx.send((index, instance, report)).is_err() {
                                break;
                            }
                        }
                    };
                    tokio::join!(crate::probe::run(container, ip, probe_tx), forward);
                }));
                info!(pod = %self.key(), container = %spec.name, "container started");
                self.event_once(
                    index,
                    "Normal",
                    "Started",
                    &format!("Started container {}", spec.name),
                )
                .await;
            }
            Err(message) => {
                slot.status.state = State::Waiting {
                    reason: "RunContainerError".into(),
                    message: Some(message.clone()),
                };
                slot.next_start = Some(Instant::now() + Duration::from_secs(5));
                self.event_once(index, "Warning", "Failed", &message).await;
            }
        }
    }

    /// Playing OpenShift, the restricted-v2 SCC refuses a pod whose UID lies outside the namespace's range (real
    /// admission would not create the pod at all; here it exists, and is not run).
    fn outside_scc_range(&self, uid: Option<i64>) -> Option<String> {
        if !self.runner.args.assign_scc_ids {
            return None;
        }
        let uid = uid?;
        let range = self
            .namespace
            .as_ref()
            .and_then(|n| n.annotations().get(UID_RANGE).cloned())
            .unwrap_or_else(|| DEFAULT_SCC_RANGE.to_string());
        let (start, size) = range.split_once('/')?;
        let (start, size): (i64, i64) = (start.parse().ok()?, size.parse().ok()?);
        let end = start + size - 1;
        (uid < start || uid > end).then(|| {
            format!(
                "unable to validate against any security context constraint: [provider \"restricted-v2\": \
                 .spec.securityContext.runAsUser: Invalid value: {uid}: must be in the ranges: [{start}, {end}]]"
            )
        })
    }

    async fn config_error(&mut self, index: usize, message: String) {
        let slot = &mut self.slots[index];
        slot.status.state = State::Waiting {
            reason: "CreateContainerConfigError".into(),
            message: Some(message.clone()),
        };
        slot.next_start = Some(Instant::now() + Duration::from_secs(2));
        self.event_once(index, "Warning", "Failed", &format!("Error: {message}"))
            .await;
    }

    async fn on_report(&mut self, index: usize, instance: u64, report: Report) {
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        if slot.instance != instance || slot.child.is_none() {
            return;
        }
        match report {
            Report::Started => slot.status.started = true,
            Report::Ready(ready) => slot.status.ready = ready,
            Report::Unhealthy { probe, message } => {
                self.event_once(
                    index,
                    "Warning",
                    "Unhealthy",
                    &format!("{probe} probe failed: {message}"),
                )
                .await;
            }
            Report::Restart { message } => {
                let name = slot.spec.name.clone();
                self.event(
                    "Normal",
                    "Killing",
                    &format!(
                        "Container {name} {}",
                        message.trim_start_matches("Container ")
                    ),
                )
                .await;
                let grace = self.grace();
                let slot = &mut self.slots[index];
                if let Some(mut child) = slot.child.take() {
                    let code = process::terminate(&mut child, grace).await;
                    self.exited(index, code).await;
                }
            }
        }
    }

    fn grace(&self) -> Duration {
        let seconds = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .unwrap_or(30);
        Duration::from_secs(u64::try_from(seconds).unwrap_or(30))
    }

    async fn poll_exit(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        let Some(child) = slot.child.as_mut() else {
            return;
        };
        if let Ok(Some(status)) = child.try_wait() {
            slot.child = None;
            self.exited(index, process::exit_code(status)).await;
        }
    }

    /// A container ended: record it and schedule the restart the pod's restart policy asks for, with back-off.
    async fn exited(&mut self, index: usize, code: i32) {
        let restart_policy = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.clone())
            .unwrap_or_else(|| "Always".into());
        let pod_name = format!(
            "{}_{}({})",
            self.pod.name_any(),
            self.pod.namespace().unwrap_or_default(),
            self.pod.uid().unwrap_or_default()
        );
        let slot = &mut self.slots[index];
        slot.child = None;
        if let Some(p) = slot.probes.take() {
            p.abort();
        }
        let (ran_for, started_at) = slot
            .started
            .take()
            .map(|(i, s)| (i.elapsed(), s))
            .unwrap_or((Duration::ZERO, now()));
        let mut message = std::fs::read_to_string(&slot.termination_log).unwrap_or_default();
        message.truncate(4096);
        if message.is_empty()
            && code != 0
            && slot.spec.termination_message_policy.as_deref() == Some("FallbackToLogsOnError")
        {
            message = process::tail(&slot.log, 80, 4096);
        }
        let terminated = Terminated {
            exit_code: code,
            reason: if code == 0 {
                "Completed".into()
            } else {
                "Error".into()
            },
            message,
            started_at,
            finished_at: now(),
            container_id: slot.status.container_id.clone().unwrap_or_default(),
        };
        warn!(pod = %pod_name, container = %slot.spec.name, exit_code = code, "container exited");
        slot.status.ready = false;
        slot.status.started = false;
        let restart = match restart_policy.as_str() {
            "Never" => false,
            "OnFailure" => code != 0,
            _ => true,
        };
        if !restart {
            slot.status.state = State::Terminated(terminated);
            return;
        }
        slot.status.last = Some(terminated);
        slot.status.restarts += 1;
        if ran_for >= BACKOFF_RESET {
            slot.backoff = Duration::ZERO;
        }
        if slot.backoff.is_zero() {
            slot.backoff = FIRST_BACKOFF;
            slot.next_start = None;
            slot.status.state = State::Waiting {
                reason: "ContainerCreating".into(),
                message: None,
            };
        } else {
            slot.next_start = Some(Instant::now() + slot.backoff);
            let message = format!(
                "back-off {}s restarting failed container={} pod={pod_name}",
                slot.backoff.as_secs(),
                slot.spec.name
            );
            slot.status.state = State::Waiting {
                reason: "CrashLoopBackOff".into(),
                message: Some(message.clone()),
            };
            slot.backoff = (slot.backoff * 2).min(MAX_BACKOFF);
            self.event_once(index, "Warning", "BackOff", &message).await;
        }
    }

    /// preStop hooks, SIGTERM, SIGKILL once `grace` has passed.
    async fn stop(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        let mut stops = Vec::new();
        for slot in &mut self.slots {
            if let Some(p) = slot.probes.take() {
                p.abort();
            }
            let Some(mut child) = slot.child.take() else {
                continue;
            };
            let pre_stop = slot
                .spec
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.as_ref())
                .and_then(|h| h.sleep.as_ref())
                .map(|s| s.seconds);
            stops.push(async move {
                if let Some(seconds) = pre_stop {
                    let wait = Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
                    let _ = tokio::time::timeout(
                        deadline.saturating_duration_since(Instant::now()),
                        tokio::time::sleep(wait),
                    )
                    .await;
                }
                process::terminate(
                    &mut child,
                    deadline.saturating_duration_since(Instant::now()),
                )
                .await
            });
        }
        futures::future::join_all(stops).await;
    }

    /// The kubelet's final word on a deleted pod: remove the object now that its containers are gone.
    async fn delete_object(&self) {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: self.pod.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        if let Err(e) = self.api.delete(&self.pod.name_any(), &params).await
            && !matches!(&e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
        {
            warn!(pod = %self.key(), error = %e, "deleting the pod failed");
        }
    }

    async fn write_status(&mut self) {
        self.status.containers = self.slots.iter().map(|s| s.status.clone()).collect();
        let scheduled = self
            .pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"))
            .and_then(|c| serde_json::to_value(c).ok());
        let status = self.status.render(scheduled);
        if self.written.as_ref() == Some(&status) {
            return;
        }
        let patch = json!({"status": status});
        match self
            .api
            .patch_status(
                &self.pod.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => self.written = Some(status),
            Err(e) => warn!(pod = %self.key(), error = %e, "writing the pod status failed"),
        }
    }

    /// An event, once per distinct message of the container slot.
    async fn event_once(&mut self, index: usize, kind: &str, reason: &str, message: &str) {
        let key = format!("{reason}: {message}");
        if self.slots[index].last_event.as_deref() == Some(key.as_str()) {
            return;
        }
        self.slots[index].last_event = Some(key);
        self.event(kind, reason, message).await;
    }

    async fn event(&self, kind: &str, reason: &str, message: &str) {
        let namespace = self.pod.namespace().unwrap_or_default();
        let event = Event {
            metadata: ObjectMeta {
                generate_name: Some(format!("{}.", self.pod.name_any())),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some(Pod::kind(&()).into_owned()),
                name: Some(self.pod.name_any()),
                namespace: Some(namespace.clone()),
                uid: self.pod.uid(),
                ..ObjectReference::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some(kind.into()),
            source: Some(k8s_openapi::api::core::v1::EventSource {
                component: Some("kubelet".into()),
                host: self.pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            }),
            count: Some(1),
            first_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            )),
            last_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            )),
            ..Event::default()
        };
        let api: Api<Event> = Api::namespaced(self.runner.client.clone(), &namespace);
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            warn!(pod = %self.key(), error = %e, "recording an event failed");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Some(p) = slot.probes.take() {
                p.abort();
            }
        }
    }
}
