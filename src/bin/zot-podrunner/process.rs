//! One container as one process: a private mount namespace whose root is a fresh tmpfs laid out like the image, with
//! the pod's volumes bind-mounted at their `mountPath`, inside the pod's network namespace, run as the pod's user.
//!
//! `ip netns exec` and `unshare` exec without forking, and `chroot` execs the entrypoint, so the process this module
//! spawns *is* the container's main process: signals go straight to zot.
use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A bind mount into the container's root.
#[derive(Clone, Debug)]
pub struct Mount {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// Everything needed to start one container.
#[derive(Debug)]
pub struct Launch {
    pub netns: String,
    pub hostname: String,
    /// The container's folder in the runner's state: holds its root mount point, launcher and logs.
    pub dir: PathBuf,
    pub binary: PathBuf,
    pub mounts: Vec<Mount>,
    pub etc_hosts: PathBuf,
    pub resolv_conf: PathBuf,
    pub termination_log: PathBuf,
    pub termination_path: String,
    pub read_only_root: bool,
    /// uid, gid and supplementary groups; `None` runs as the image's user (root).
    pub user: Option<(i64, i64, Vec<i64>)>,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
}

/// Single-quotes `s` for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The launcher script: builds the root, then execs the entrypoint as the pod's user.
fn script(launch: &Launch) -> String {
    let root = launch.dir.join("root");
    let r = |p: &str| quote(&format!("{}{}", root.display(), p));
    let mut s = String::from("set -e\nexport PATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
    let _ = writeln!(s, "mount -t tmpfs -o mode=0755 rootfs {}", r(""));
    for d in [
        "/usr/bin",
        "/etc/ssl/certs",
        "/dev",
        "/proc",
        "/tmp",
        "/var/tmp",
    ] {
        let _ = writeln!(s, "mkdir -p {}", r(d));
    }
    let mut bind_file = |source: &Path, target: &str, ro: bool| {
        let _ = writeln!(
            s,
            "mkdir -p \"$(dirname {})\"; touch {}",
            r(target),
            r(target)
        );
        let _ = writeln!(
            s,
            "mount --bind {} {}",
            quote(&source.display().to_string()),
            r(target)
        );
        if ro {
            let _ = writeln!(s, "mount -o remount,bind,ro {}", r(target));
        }
    };
    bind_file(&launch.binary, crate::image::BINARY_PATH, true);
    bind_file(
        Path::new("/etc/ssl/certs/ca-certificates.crt"),
        "/etc/ssl/certs/ca-certificates.crt",
        true,
    );
    for dev in ["null", "zero", "random", "urandom"] {
        bind_file(&Path::new("/dev").join(dev), &format!("/dev/{dev}"), false);
    }
    bind_file(&launch.etc_hosts, "/etc/hosts", true);
    bind_file(&launch.resolv_conf, "/etc/resolv.conf", true);
    bind_file(&launch.termination_log, &launch.termination_path, false);
    let _ = writeln!(s, "chmod 1777 {} {}", r("/tmp"), r("/var/tmp"));
    let _ = writeln!(s, "mount -t proc proc {}", r("/proc"));
    for m in &launch.mounts {
        let source = quote(&m.source.display().to_string());
        let target = r(&m.target);
        let _ = writeln!(
            s,
            "if [ -d {source} ]; then mkdir -p {target}; else mkdir -p \"$(dirname {target})\"; touch {target}; fi"
        );
        let _ = writeln!(s, "mount --bind {source} {target}");
        if m.read_only {
            let _ = writeln!(s, "mount -o remount,bind,ro {target}");
        }
    }
    if launch.read_only_root {
        let _ = writeln!(s, "mount -o remount,ro {}", r(""));
    }
    let _ = writeln!(s, "hostname {}", quote(&launch.hostname));
    let user = match &launch.user {
        Some((uid, gid, groups)) if !groups.is_empty() => {
            let groups: Vec<String> = groups.iter().map(i64::to_string).collect();
            format!("--userspec={uid}:{gid} --groups={} ", groups.join(","))
        }
        Some((uid, gid, _)) => format!("--userspec={uid}:{gid} "),
        None => String::new(),
    };
    let _ = writeln!(s, "exec chroot {user}{} \"$@\"", r(""));
    s
}

/// Starts the container; its stdout and stderr go to `launch.log`.
pub fn spawn(launch: &Launch) -> Result<Child, String> {
    std::fs::create_dir_all(launch.dir.join("root")).map_err(|e| e.to_string())?;
    let launcher = launch.dir.join("launch.sh");
    std::fs::write(&launcher, script(launch)).map_err(|e| format!("writing the launcher: {e}"))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&launch.log)
        .map_err(|e| format!("opening {}: {e}", launch.log.display()))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        &launch.netns,
        "unshare",
        "--mount",
        "--uts",
        "--propagation",
        "private",
        "--",
    ])
    .arg("/bin/sh")
    .arg(&launcher)
    .args(&launch.argv)
    .env_clear()
    .envs(launch.env.iter().map(|(k, v)| (k, v)))
    .stdin(Stdio::null())
    .stdout(Stdio::from(log))
    .stderr(Stdio::from(err))
    .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting the container: {e}"))?;
    if let Some(pid) = child.id() {
        let _ = std::fs::write(launch.dir.join("pid"), pid.to_string());
    }
    Ok(child)
}

/// Exit code as a kubelet reports it: the code, or 128 + the signal that ended the process.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// SIGTERM, then SIGKILL after `grace`; returns the exit code.
pub async fn terminate(child: &mut Child, grace: Duration) -> i32 {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(Ok(status)) => exit_code(status),
        _ => {
            let _ = child.start_kill();
            child.wait().await.map(exit_code).unwrap_or(137)
        }
    }
}

/// Kills the containers a previous run left behind (their pid files in the state folder).
pub fn kill_stale(state_dir: &Path) {
    let Ok(pods) = std::fs::read_dir(state_dir.join("pods")) else {
        return;
    };
    for pod in pods.flatten() {
        let Ok(containers) = std::fs::read_dir(pod.path()) else {
            continue;
        };
        for container in containers.flatten() {
            let Ok(pid) = std::fs::read_to_string(container.path().join("pid")) else {
                continue;
            };
            let pid = pid.trim();
            // Only a process that is still one of our launchers.
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&state_dir.display().to_string()) {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", pid])
                    .status();
            }
        }
    }
}

/// The last lines of a log, as a kubelet's `FallbackToLogsOnError` puts them in the termination message
/// (at most 80 lines and 12 KiB... of which the API keeps 4 KiB: the tail is kept).
pub fn tail(log: &Path, max_lines: usize, max_bytes: usize) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let mut out = lines[start..].join("\n");
    if out.len() > max_bytes {
        let mut cut = out.len() - max_bytes;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        out = out[cut..].to_string();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn launch() -> Launch {
        Launch {
            netns: "zp-t-10-250-0-2".into(),
            hostname: "store-0".into(),
            dir: PathBuf::from("/state/pods/p/zot"),
            binary: PathBuf::from("/cache/zot"),
            mounts: vec![Mount {
                source: PathBuf::from("/state/pods/p/volumes/config"),
                target: "/etc/zot".into(),
                read_only: true,
            }],
            etc_hosts: PathBuf::from("/state/hosts"),
            resolv_conf: PathBuf::from("/state/resolv.conf"),
            termination_log: PathBuf::from("/state/termination-log"),
            termination_path: "/dev/termination-log".into(),
            read_only_root: true,
            user: Some((1000, 1000, vec![1000])),
            argv: vec![
                "/usr/bin/zot".into(),
                "serve".into(),
                "/etc/zot/config.json".into(),
            ],
            env: vec![],
            log: PathBuf::from("/state/0.log"),
        }
    }

    #[test]
    fn the_launcher_mounts_volumes_read_only_and_execs_as_the_pod_user() {
        let s = script(&launch());
        assert!(
            s.contains(
                "mount --bind '/state/pods/p/volumes/config' '/state/pods/p/zot/root/etc/zot'"
            ),
            "{s}"
        );
        assert!(
            s.contains("mount -o remount,bind,ro '/state/pods/p/zot/root/etc/zot'"),
            "{s}"
        );
        assert!(
            s.contains("mount -o remount,ro '/state/pods/p/zot/root'"),
            "{s}"
        );
        assert!(
            s.ends_with(
                "exec chroot --userspec=1000:1000 --groups=1000 '/state/pods/p/zot/root' \"$@\"\n"
            ),
            "{s}"
        );
    }

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn the_tail_keeps_the_last_lines_within_the_byte_limit() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        std::fs::write(
            &log,
            (1..=100).map(|i| format!("line {i}\n")).collect::<String>(),
        )
        .unwrap();
        let t = tail(&log, 80, 4096);
        assert!(t.starts_with("line 21\n") && t.ends_with("line 100"), "{t}");
        let t = tail(&log, 80, 10);
        assert_eq!(t, "9\nline 100");
    }
}
