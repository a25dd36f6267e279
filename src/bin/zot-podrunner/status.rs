//! The pod status a kubelet would write, from what the worker knows about the pod's containers.
use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Now, as the API's RFC 3339 second-precision time.
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A container's state, as in `containerStatuses[].state`.
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Running {
        started_at: String,
    },
    Terminated(Terminated),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Terminated {
    pub exit_code: i32,
    pub reason: String,
    pub message: String,
    pub started_at: String,
    pub finished_at: String,
    pub container_id: String,
}

/// What the status says about one container.
#[derive(Clone, Debug)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub container_id: Option<String>,
    pub state: State,
    pub last: Option<Terminated>,
    pub restarts: i32,
    pub started: bool,
    pub ready: bool,
}

impl Container {
    pub fn new(name: &str, image: &str) -> Self {
        Container {
            name: name.into(),
            image: image.into(),
            image_id: String::new(),
            container_id: None,
            state: State::Waiting {
                reason: "ContainerCreating".into(),
                message: None,
            },
            last: None,
            restarts: 0,
            started: false,
            ready: false,
        }
    }
}

fn state_json(state: &State) -> Value {
    match state {
        State::Waiting { reason, message } => {
            let mut w = json!({"reason": reason});
            if let Some(m) = message {
                w["message"] = json!(m);
            }
            json!({"waiting": w})
        }
        State::Running { started_at } => json!({"running": {"startedAt": started_at}}),
        State::Terminated(t) => json!({"terminated": terminated_json(t)}),
    }
}

fn terminated_json(t: &Terminated) -> Value {
    let mut v = json!({
        "exitCode": t.exit_code,
        "reason": t.reason,
        "startedAt": t.started_at,
        "finishedAt": t.finished_at,
        "containerID": t.container_id,
    });
    if !t.message.is_empty() {
        v["message"] = json!(t.message);
    }
    v
}

/// The pod's status fields this runner owns; conditions keep their transition time while their status holds.
pub struct Pod {
    pub host_ip: String,
    pub pod_ip: Option<String>,
    pub start_time: String,
    pub sandbox_ready: bool,
    pub containers: Vec<Container>,
    /// Conditions the worker keeps: type → (status, lastTransitionTime).
    pub transitions: BTreeMap<&'static str, (bool, String)>,
}

impl Pod {
    /// The status to write; `scheduled` is the scheduler's PodScheduled condition, kept as it is.
    pub fn render(&mut self, scheduled: Option<Value>) -> Value {
        let all_ready = !self.containers.is_empty() && self.containers.iter().all(|c| c.ready);
        let unready: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| !c.ready)
            .map(|c| c.name.as_str())
            .collect();
        let running = self
            .containers
            .iter()
            .any(|c| matches!(c.state, State::Running { .. }) || c.restarts > 0);
        let mut conditions: Vec<Value> = scheduled.into_iter().collect();
        let not_ready_message = format!("containers with unready status: [{}]", unready.join(" "));
        for (kind, status, reason) in [
            ("PodReadyToStartContainers", self.sandbox_ready, None),
            ("Initialized", true, None),
            ("ContainersReady", all_ready, Some("ContainersNotReady")),
            ("Ready", all_ready, Some("ContainersNotReady")),
        ] {
            let entry = self
                .transitions
                .entry(kind)
                .or_insert_with(|| (status, now()));
            if entry.0 != status {
                *entry = (status, now());
            }
            let mut c = json!({
                "type": kind,
                "status": if status { "True" } else { "False" },
                "lastProbeTime": null,
                "lastTransitionTime": entry.1,
            });
            if let (false, Some(reason)) = (status, reason) {
                c["reason"] = json!(reason);
                c["message"] = json!(not_ready_message);
            }
            conditions.push(c);
        }
        let statuses: Vec<Value> = self
            .containers
            .iter()
            .map(|c| {
                let mut s = json!({
                    "name": c.name,
                    "image": c.image,
                    "imageID": c.image_id,
                    "ready": c.ready,
                    "started": c.started,
                    "restartCount": c.restarts,
                    "state": state_json(&c.state),
                    "lastState": c.last.as_ref().map(|t| json!({"terminated": terminated_json(t)})).unwrap_or(json!({})),
                });
                if let Some(id) = &c.container_id {
                    s["containerID"] = json!(id);
                }
                s
            })
            .collect();
        let mut status = json!({
            "phase": if running { "Running" } else { "Pending" },
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": self.start_time,
            "conditions": conditions,
            "containerStatuses": statuses,
        });
        if let Some(ip) = &self.pod_ip {
            status["podIP"] = json!(ip);
            status["podIPs"] = json!([{"ip": ip}]);
        }
        status
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pod() -> Pod {
        Pod {
            host_ip: "10.0.0.1".into(),
            pod_ip: Some("10.250.0.2".into()),
            start_time: now(),
            sandbox_ready: true,
            containers: vec![Container::new("zot", "ghcr.io/project-zot/zot:v2.1.20")],
            transitions: BTreeMap::new(),
        }
    }

    #[test]
    fn a_creating_pod_is_pending_and_not_ready() {
        let status = pod().render(None);
        assert_eq!(status["phase"], "Pending");
        assert_eq!(status["conditions"][3]["type"], "Ready");
        assert_eq!(status["conditions"][3]["status"], "False");
        assert_eq!(
            status["conditions"][3]["message"],
            "containers with unready status: [zot]"
        );
        assert_eq!(
            status["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
    }

    #[test]
    fn a_ready_container_makes_the_pod_running_and_ready() {
        let mut p = pod();
        p.containers[0].state = State::Running { started_at: now() };
        p.containers[0].ready = true;
        let status = p.render(Some(json!({"type": "PodScheduled", "status": "True"})));
        assert_eq!(status["phase"], "Running");
        assert_eq!(status["conditions"][0]["type"], "PodScheduled");
        assert_eq!(status["conditions"][4]["status"], "True");
        assert_eq!(status["podIP"], "10.250.0.2");
    }

    #[test]
    fn a_crashed_container_keeps_its_exit_code_and_message_in_last_state() {
        let mut p = pod();
        p.containers[0].restarts = 1;
        p.containers[0].last = Some(Terminated {
            exit_code: 1,
            reason: "Error".into(),
            message: "config invalid".into(),
            started_at: now(),
            finished_at: now(),
            container_id: "x".into(),
        });
        p.containers[0].state = State::Waiting {
            reason: "CrashLoopBackOff".into(),
            message: Some("back-off".into()),
        };
        let status = p.render(None);
        assert_eq!(status["phase"], "Running");
        assert_eq!(
            status["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
            1
        );
        assert_eq!(
            status["containerStatuses"][0]["lastState"]["terminated"]["message"],
            "config invalid"
        );
        assert_eq!(status["containerStatuses"][0]["restartCount"], 1);
    }
}
