//! The CSV's install strategy from config/rbac/ and config/manager/, the way OLM will recreate those objects.
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::inputs::{MANAGER_DIR, RBAC_DIR};

/// The operator's objects as a bundle carries them.
pub struct Install {
    /// `spec.install.spec` of the CSV: clusterPermissions, permissions and deployments.
    pub strategy: Value,
    /// Objects shipped beside the CSV (Services), without a namespace: OLM puts them in the operator's.
    pub extra: Vec<Value>,
    /// The operator's Namespace, for the console's suggested-namespace template.
    pub namespace: Option<Value>,
    /// Every container image of the operator's Deployments, with the Deployment's name.
    pub images: Vec<(String, String)>,
    /// Every `RELATED_IMAGE_<NAME>` environment variable of the operator: (name, image).
    pub related_env: Vec<(String, String)>,
}

fn kind(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

fn without_namespace(mut object: Value) -> Value {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("namespace");
    }
    object
}

/// Builds the install strategy; `operator_image` replaces the image of every container that runs the operator
/// (an image of `operator_repository`).
pub fn install(
    rbac: &[Value],
    manager: &[Value],
    operator_repository: &str,
    operator_image: &str,
) -> Result<Install, Error> {
    let mut deployments = Vec::new();
    let mut extra = Vec::new();
    let mut namespace = None;
    let mut images = Vec::new();
    let mut related_env = Vec::new();
    for object in manager {
        match kind(object) {
            "Namespace" => namespace = Some(object.clone()),
            "Service" => extra.push(without_namespace(object.clone())),
            "Deployment" => {
                let mut spec = object["spec"].clone();
                let pod = &mut spec["template"]["spec"];
                for list in ["initContainers", "containers"] {
                    let Some(containers) = pod.get_mut(list).and_then(Value::as_array_mut) else {
                        continue;
                    };
                    for container in containers {
                        let image = container["image"].as_str().unwrap_or_default();
                        if image.starts_with(&format!("{operator_repository}:"))
                            || image.starts_with(&format!("{operator_repository}@"))
                        {
                            container["image"] = json!(operator_image);
                        }
                        images.push((
                            name(object).to_string(),
                            container["image"].as_str().unwrap_or_default().to_string(),
                        ));
                        for env in container["env"].as_array().into_iter().flatten() {
                            if let (Some(var), Some(value)) =
                                (env["name"].as_str(), env["value"].as_str())
                                && let Some(image_name) = var.strip_prefix("RELATED_IMAGE_")
                            {
                                related_env.push((
                                    image_name.to_lowercase().replace('_', "-"),
                                    value.to_string(),
                                ));
                            }
                        }
                    }
                }
                let mut deployment = Map::new();
                deployment.insert("name".into(), json!(name(object)));
                if let Some(labels) = object["metadata"].get("labels") {
                    deployment.insert("label".into(), labels.clone());
                }
                deployment.insert("spec".into(), spec);
                deployments.push(Value::Object(deployment));
            }
            other => {
                return Err(Error::invalid(
                    MANAGER_DIR,
                    format!(
                        "holds a {other} '{}' that a bundle cannot carry",
                        name(object)
                    ),
                ));
            }
        }
    }
    if deployments.is_empty() {
        return Err(Error::invalid(MANAGER_DIR, "holds no Deployment"));
    }
    let accounts: Vec<&str> = deployments
        .iter()
        .filter_map(|d| d["spec"]["template"]["spec"]["serviceAccountName"].as_str())
        .collect();
    let (cluster_permissions, permissions) = permissions(rbac, &accounts)?;
    Ok(Install {
        strategy: json!({
            "clusterPermissions": cluster_permissions,
            "permissions": permissions,
            "deployments": deployments,
        }),
        extra,
        namespace,
        images,
        related_env,
    })
}

/// (clusterPermissions, permissions): the rules of every (Cluster)Role bound to one of the operator's accounts.
fn permissions(rbac: &[Value], accounts: &[&str]) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut cluster = Vec::new();
    let mut namespaced = Vec::new();
    for object in rbac {
        let (roles, binding_kind, out) = match kind(object) {
            "ServiceAccount" => {
                if !accounts.contains(&name(object)) {
                    return Err(Error::invalid(
                        RBAC_DIR,
                        format!("ServiceAccount '{}' is used by no Deployment", name(object)),
                    ));
                }
                continue;
            }
            "ClusterRole" | "Role" => continue,
            "ClusterRoleBinding" => ("ClusterRole", "ClusterRoleBinding", &mut cluster),
            "RoleBinding" => ("Role", "RoleBinding", &mut namespaced),
            other => {
                return Err(Error::invalid(
                    RBAC_DIR,
                    format!(
                        "holds a {other} '{}' that the install strategy cannot express",
                        name(object)
                    ),
                ));
            }
        };
        let role_name = object["roleRef"]["name"].as_str().unwrap_or_default();
        if object["roleRef"]["kind"].as_str() != Some(roles) {
            return Err(Error::invalid(
                RBAC_DIR,
                format!("{binding_kind} '{}' must refer to a {roles}", name(object)),
            ));
        }
        let role = rbac
            .iter()
            .find(|o| kind(o) == roles && name(o) == role_name)
            .ok_or_else(|| Error::invalid(RBAC_DIR, format!("{roles} '{role_name}' is missing")))?;
        for subject in object["subjects"].as_array().into_iter().flatten() {
            let account = subject["name"].as_str().unwrap_or_default();
            if subject["kind"].as_str() != Some("ServiceAccount") || !accounts.contains(&account) {
                return Err(Error::invalid(
                    RBAC_DIR,
                    format!(
                        "{binding_kind} '{}' binds something other than the operator's ServiceAccount",
                        name(object)
                    ),
                ));
            }
            out.push(json!({"serviceAccountName": account, "rules": role["rules"].clone()}));
        }
    }
    // Every role must be bound: an unbound role would be dropped without a word.
    for object in rbac
        .iter()
        .filter(|o| matches!(kind(o), "ClusterRole" | "Role"))
    {
        let binding = if kind(object) == "ClusterRole" {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        };
        let bound = rbac
            .iter()
            .any(|b| kind(b) == binding && b["roleRef"]["name"].as_str() == Some(name(object)));
        if !bound {
            return Err(Error::invalid(
                RBAC_DIR,
                format!("{} '{}' is bound to nothing", kind(object), name(object)),
            ));
        }
    }
    Ok((cluster, namespaced))
}
