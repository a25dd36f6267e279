//! A pod's volumes as folders on the host, laid out the way a kubelet lays them out: Secret, ConfigMap, projected
//! and downward-API volumes through an atomic-writer `..data` symlink, emptyDirs as fresh folders, and a PVC as the
//! folder of the PersistentVolume bound to it (so a restarted or re-created pod finds its data). With an `fsGroup`,
//! ownership and modes follow the kubelet's volume ownership rules.
use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::{PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{
    ConfigMap, DownwardAPIVolumeFile, KeyToPath, PersistentVolume, PersistentVolumeClaim, Pod,
    Secret, Volume,
};
use kube::api::Api;
use kube::{Client, ResourceExt};

/// Files of an atomically written volume: relative path → (content, mode).
type Files = BTreeMap<String, (Vec<u8>, u32)>;

/// Folder of every volume of the pod, by volume name; or the message of a failed mount.
pub async fn prepare(
    client: &Client,
    pod: &Pod,
    pod_dir: &Path,
    fs_group: Option<i64>,
) -> Result<HashMap<String, PathBuf>, String> {
    let mut dirs = HashMap::new();
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.clone())
        .unwrap_or_default();
    for volume in &volumes {
        let dir = pod_dir.join("volumes").join(&volume.name);
        let prepared = prepare_one(client, pod, volume, &dir, fs_group)
            .await
            .map_err(|e| {
                format!(
                    "MountVolume.SetUp failed for volume \"{}\" : {e}",
                    volume.name
                )
            })?;
        dirs.insert(volume.name.clone(), prepared);
    }
    Ok(dirs)
}

async fn prepare_one(
    client: &Client,
    pod: &Pod,
    volume: &Volume,
    dir: &Path,
    fs_group: Option<i64>,
) -> Result<PathBuf, String> {
    let namespace = pod.namespace().unwrap_or_default();
    if let Some(files) = atomic_files(client, pod, volume).await? {
        write_atomic(dir, &files, fs_group)?;
        return Ok(dir.to_path_buf());
    }
    if volume.empty_dir.is_some() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        set_mode(dir, 0o777)?;
        return Ok(dir.to_path_buf());
    }
    if let Some(claim) = &volume.persistent_volume_claim {
        let path = persistent_volume_path(client, &namespace, &claim.claim_name).await?;
        std::fs::create_dir_all(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
        if let Some(group) = fs_group {
            own_for_writing(&path, group)?;
        }
        return Ok(path);
    }
    Err("this volume type is not supported by the test platform's pod runner".into())
}

/// Re-reads the pod's Secret, ConfigMap and projected volumes and rewrites those whose content changed, as the
/// kubelet's periodic sync does: a new timestamped folder, `..data` swapped to it, the old folder removed (which is
/// what a program watching the files with inotify, like zot's TLS certificate watcher, sees). Files mounted with
/// subPath keep their content, as with a kubelet. Errors (a Secret deleted meanwhile) leave the volume as it is.
pub async fn refresh(client: &Client, pod: &Pod, pod_dir: &Path, fs_group: Option<i64>) {
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.clone())
        .unwrap_or_default();
    for volume in volumes
        .iter()
        .filter(|v| v.secret.is_some() || v.config_map.is_some() || v.projected.is_some())
    {
        let dir = pod_dir.join("volumes").join(&volume.name);
        let Ok(Some(files)) = atomic_files(client, pod, volume).await else {
            continue;
        };
        let current = current_files(&dir.join("..data"));
        let wanted: BTreeMap<&String, &Vec<u8>> = files
            .iter()
            .map(|(path, (content, _))| (path, content))
            .collect();
        let unchanged = current.len() == wanted.len()
            && current
                .iter()
                .all(|(path, content)| wanted.get(path) == Some(&content));
        if !unchanged {
            let _ = write_atomic(&dir, &files, fs_group);
        }
    }
}

/// The files under `dir` (an atomic writer's data folder), by relative path.
fn current_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let (Ok(content), Ok(relative)) =
                (std::fs::read(&path), path.strip_prefix(dir))
            {
                out.insert(relative.to_string_lossy().into_owned(), content);
            }
        }
    }
    out
}

/// The files of a Secret, ConfigMap, projected or downward-API volume; None for other volume types.
async fn atomic_files(
    client: &Client,
    pod: &Pod,
    volume: &Volume,
) -> Result<Option<Files>, String> {
    let namespace = pod.namespace().unwrap_or_default();
    if let Some(source) = &volume.secret {
        let name = source.secret_name.clone().unwrap_or_default();
        let optional = source.optional.unwrap_or(false);
        let mode = source.default_mode.unwrap_or(0o644);
        let files = match secret_data(client, &namespace, &name, optional).await? {
            Some(data) => select(
                &data,
                source.items.as_deref(),
                mode,
                optional,
                "secret",
                &name,
            )?,
            None => Files::new(),
        };
        return Ok(Some(files));
    }
    if let Some(source) = &volume.config_map {
        let name = source.name.clone();
        let optional = source.optional.unwrap_or(false);
        let mode = source.default_mode.unwrap_or(0o644);
        let files = match config_map_data(client, &namespace, &name, optional).await? {
            Some(data) => select(
                &data,
                source.items.as_deref(),
                mode,
                optional,
                "configmap",
                &name,
            )?,
            None => Files::new(),
        };
        return Ok(Some(files));
    }
    if let Some(projected) = &volume.projected {
        let default_mode = projected.default_mode.unwrap_or(0o644);
        let mut files = Files::new();
        for source in projected.sources.iter().flatten() {
            if let Some(s) = &source.secret {
                let optional = s.optional.unwrap_or(false);
                if let Some(data) = secret_data(client, &namespace, &s.name, optional).await? {
                    files.extend(select(
                        &data,
                        s.items.as_deref(),
                        default_mode,
                        optional,
                        "secret",
                        &s.name,
                    )?);
                }
            } else if let Some(c) = &source.config_map {
                let optional = c.optional.unwrap_or(false);
                if let Some(data) = config_map_data(client, &namespace, &c.name, optional).await? {
                    files.extend(select(
                        &data,
                        c.items.as_deref(),
                        default_mode,
                        optional,
                        "configmap",
                        &c.name,
                    )?);
                }
            } else if let Some(d) = &source.downward_api {
                files.extend(downward(
                    pod,
                    d.items.as_deref().unwrap_or_default(),
                    default_mode,
                )?);
            } else {
                return Err("the test platform's pod runner supports secret, configMap and downwardAPI projections only".into());
            }
        }
        return Ok(Some(files));
    }
    if let Some(d) = &volume.downward_api {
        let files = downward(
            pod,
            d.items.as_deref().unwrap_or_default(),
            d.default_mode.unwrap_or(0o644),
        )?;
        return Ok(Some(files));
    }
    Ok(None)
}

async fn secret_data(
    client: &Client,
    namespace: &str,
    name: &str,
    optional: bool,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await.map_err(|e| e.to_string())? {
        Some(secret) => Ok(Some(
            secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect(),
        )),
        None if optional => Ok(None),
        None => Err(format!("secret \"{name}\" not found")),
    }
}

async fn config_map_data(
    client: &Client,
    namespace: &str,
    name: &str,
    optional: bool,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await.map_err(|e| e.to_string())? {
        Some(cm) => {
            let mut data: BTreeMap<String, Vec<u8>> = cm
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect();
            data.extend(
                cm.binary_data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.0)),
            );
            Ok(Some(data))
        }
        None if optional => Ok(None),
        None => Err(format!("configmap \"{name}\" not found")),
    }
}

/// The files a Secret or ConfigMap volume shows: every key, or the listed items at their paths.
fn select(
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    default_mode: i32,
    optional: bool,
    kind: &str,
    name: &str,
) -> Result<Files, String> {
    let mode = |m: Option<i32>| (m.unwrap_or(default_mode) as u32) & 0o777;
    let mut files = Files::new();
    match items {
        None => {
            for (key, value) in data {
                files.insert(key.clone(), (value.clone(), mode(None)));
            }
        }
        Some(items) => {
            for item in items {
                match data.get(&item.key) {
                    Some(value) => {
                        files.insert(item.path.clone(), (value.clone(), mode(item.mode)));
                    }
                    None if optional => {}
                    None => {
                        return Err(format!(
                            "references non-existent {kind} key {} (in {kind} \"{name}\")",
                            item.key
                        ));
                    }
                }
            }
        }
    }
    Ok(files)
}

/// Downward-API files: the pod's name, namespace, uid, labels and annotations.
fn downward(
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: i32,
) -> Result<Files, String> {
    let mut files = Files::new();
    for item in items {
        let mode = (item.mode.unwrap_or(default_mode) as u32) & 0o777;
        let Some(field) = &item.field_ref else {
            return Err(
                "downwardAPI resourceFieldRef is not supported by the test platform".into(),
            );
        };
        let value = match field.field_path.as_str() {
            "metadata.labels" => pairs(pod.labels()),
            "metadata.annotations" => pairs(pod.annotations()),
            path => crate::env::field(pod, path)?,
        };
        files.insert(item.path.clone(), (value.into_bytes(), mode));
    }
    Ok(files)
}

fn pairs(map: &BTreeMap<String, String>) -> String {
    map.iter().map(|(k, v)| format!("{k}={v:?}\n")).collect()
}

/// Writes `files` under `dir` the way the kubelet's atomic writer does: a timestamped folder, `..data` pointing at
/// it, and a symlink per top-level entry through `..data`.
fn write_atomic(dir: &Path, files: &Files, fs_group: Option<i64>) -> Result<(), String> {
    let err = |e: std::io::Error| format!("writing {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(err)?;
    let stamp = format!(
        "..{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let data_dir = dir.join(&stamp);
    std::fs::create_dir_all(&data_dir).map_err(err)?;
    let group = fs_group.and_then(|g| u32::try_from(g).ok());
    for (path, (content, mode)) in files {
        let file = data_dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        std::fs::write(&file, content).map_err(err)?;
        // Read-only volumes get group read for the fsGroup, as the kubelet's SetVolumeOwnership does.
        let mode = if group.is_some() { mode | 0o440 } else { *mode };
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).map_err(err)?;
        if let Some(g) = group {
            chown(&file, None, Some(g)).map_err(err)?;
        }
    }
    let previous = std::fs::read_link(dir.join("..data")).ok();
    let tmp_link = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp_link);
    symlink(&stamp, &tmp_link).map_err(err)?;
    std::fs::rename(&tmp_link, dir.join("..data")).map_err(err)?;
    // The kubelet's atomic writer removes the previous data folder once `..data` names the new one.
    if let Some(previous) = previous.filter(|p| p.as_os_str() != stamp.as_str()) {
        let _ = std::fs::remove_dir_all(dir.join(previous));
    }
    for top in files
        .keys()
        .filter_map(|p| p.split('/').next())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let link = dir.join(top);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{top}"), &link).map_err(err)?;
        }
    }
    Ok(())
}

/// The host folder of the PersistentVolume bound to the claim.
async fn persistent_volume_path(
    client: &Client,
    namespace: &str,
    claim: &str,
) -> Result<PathBuf, String> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let pvc = claims
        .get_opt(claim)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("persistentvolumeclaim \"{claim}\" not found"))?;
    let bound = pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    let volume = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .filter(|_| bound);
    let Some(volume) = volume else {
        return Err(format!(
            "persistentvolumeclaim \"{claim}\" is not bound yet"
        ));
    };
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    let pv = pvs
        .get(&volume)
        .await
        .map_err(|e| format!("persistentvolume \"{volume}\": {e}"))?;
    let spec = pv.spec.unwrap_or_default();
    spec.host_path
        .map(|h| PathBuf::from(h.path))
        .or(spec.local.map(|l| PathBuf::from(l.path)))
        .ok_or_else(|| format!("persistentvolume \"{volume}\" has no hostPath or local path"))
}

/// Group ownership and group write for the fsGroup, with the setgid bit on folders (the kubelet's
/// SetVolumeOwnership with `OnRootMismatch`: nothing to do when the root already belongs to the group).
fn own_for_writing(root: &Path, group: i64) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let Ok(group) = u32::try_from(group) else {
        return Ok(());
    };
    let meta = std::fs::metadata(root).map_err(|e| e.to_string())?;
    if meta.gid() == group && meta.mode() & 0o2070 == 0o2070 {
        return Ok(());
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
        if meta.file_type().is_symlink() {
            continue;
        }
        chown(&path, None, Some(group)).map_err(|e| format!("chown {}: {e}", path.display()))?;
        let extra = if meta.is_dir() { 0o2770 } else { 0o660 };
        set_mode(&path, (meta.mode() & 0o7777) | extra)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)
                .map_err(|e| e.to_string())?
                .flatten()
            {
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_volume_shows_every_key_through_the_data_link() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Files::new();
        files.insert("config.json".into(), (b"{}".to_vec(), 0o440));
        files.insert("certs/tls.crt".into(), (b"pem".to_vec(), 0o440));
        write_atomic(dir.path(), &files, None).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("config.json")).unwrap(),
            b"{}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("certs/tls.crt")).unwrap(),
            b"pem"
        );
        assert!(
            std::fs::symlink_metadata(dir.path().join("config.json"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let mode = std::fs::metadata(dir.path().join("config.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o440);
    }

    #[test]
    fn a_missing_item_key_fails_the_mount_unless_optional() {
        let mut data = BTreeMap::new();
        data.insert("a".to_string(), b"1".to_vec());
        let items = [KeyToPath {
            key: "b".into(),
            path: "b".into(),
            mode: None,
        }];
        let e = select(&data, Some(&items), 0o644, false, "secret", "s").unwrap_err();
        assert_eq!(e, "references non-existent secret key b (in secret \"s\")");
        assert!(
            select(&data, Some(&items), 0o644, true, "secret", "s")
                .unwrap()
                .is_empty()
        );
    }
}
