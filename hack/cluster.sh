#!/usr/bin/env bash
# A real local Kubernetes control plane on 127.0.0.1, built from source (hack/tools.sh) and run by kwokctl's binary
# runtime: etcd, kube-apiserver (RBAC + PodSecurity admission), kube-controller-manager, kube-scheduler and kwok,
# which plays two fake nodes so that pods are scheduled and become Running/Ready. No container engine is needed.
# The pods of a ZotArtifactStore are not kwok's (hack/kwok-stages.yaml): the test platform's kubelet for zot pods,
# zot-podrunner (src/bin/zot-podrunner), runs each as a real zot process in a network namespace of its own, with an
# address on the bridge zotpods0 (10.250.0.0/16; vanilla pods in 10.250.0.0/17, openshift pods in 10.250.128.0/18).
# The servers outside the cluster that stores use (S3, Redis, GCS and Azure Blob emulators) are hack/services.sh's, at
# fixed addresses in 10.250.255.0/24 on the same bridge: `up` starts them (one set for both flavours), `down` stops
# them once no cluster of this checkout is left.
# Namespaces labelled zot-operator.test/pods=simulated keep kwok-style fake readiness (admission and scale tests).
# ZOT_OPERATOR_PODRUNNER names its binary (the tests pass theirs); unset, cargo builds it.
#
#   hack/cluster.sh up   [--flavour vanilla|openshift]   start (or reuse) the cluster and print how to use it
#   hack/cluster.sh down [--flavour vanilla|openshift]   stop and delete it
#   hack/cluster.sh env  [--flavour vanilla|openshift]   print `export KUBECONFIG=...` for the cluster
#
# The openshift flavour also installs every CRD in ../shared/crds (Route, SCC, config.openshift.io, OLM), the
# ServiceMonitor CRD, an ingresses.config.openshift.io/cluster object with an apps domain and the restricted-v2 SCC.
# The API server writes an audit log of the operator's requests (hack/audit-policy.yaml) to
# .cluster/kwok/clusters/zot-<flavour>/logs/audit.log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
SHARED=${ZOT_OPERATOR_SHARED:-$repo/../shared}
APPS_DOMAIN=${ZOT_OPERATOR_APPS_DOMAIN:-apps.zot.test}
# kwok's fake nodes and the pods each holds (kwok's default is 110): 2 x 250 for the tests; `make bench-compare` asks
# for enough nodes for its stores (ZOT_OPERATOR_NODES), so that the platform never limits what it measures. A running
# cluster with fewer nodes gets more on `up`.
NODES=${ZOT_OPERATOR_NODES:-2}
NODE_PODS=${ZOT_OPERATOR_NODE_PODS:-250}
# Room for thousands of Services (the API server's default, a /24, runs out at about 127 stores: `make bench`).
SERVICE_CIDR=${ZOT_OPERATOR_SERVICE_CIDR:-10.96.0.0/16}
# shellcheck source=versions.env
source "$here/versions.env"

log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# Waits until every named CRD is Established. Not `kubectl wait --for=condition=Established`: that fails at once,
# instead of waiting, while a just-created CRD has no status.conditions yet.
wait_established() {
  local crd deadline=$((SECONDS + 120))
  for crd in "$@"; do
    until [[ $(kubectl get "$crd" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}') == True ]]; do
      ((SECONDS < deadline)) || die "$crd did not become Established within 120 s"
      sleep 0.2
    done
  done
}

cmd=${1:-}
shift || true
flavour=vanilla
while (($#)); do
  case $1 in
    --flavour) flavour=${2:?--flavour needs vanilla or openshift}; shift 2 ;;
    --flavour=*) flavour=${1#*=}; shift ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ $flavour == vanilla || $flavour == openshift ]] || die "flavour must be vanilla or openshift, not '$flavour'"

name="zot-$flavour"
state=${ZOT_OPERATOR_CLUSTER_DIR:-$repo/.cluster}
export KWOK_WORKDIR="$state/kwok"
kubeconfig="$state/$flavour.kubeconfig"
mkdir -p "$state"

kwokctl() { "$("$here/tools.sh" path kwokctl)" --name "$name" "$@"; }
kubectl() { "$("$here/tools.sh" path kubectl)" --kubeconfig "$kubeconfig" "$@"; }

# Running, and started with today's audit policy and Service range (a cluster from before them is recreated).
healthy() {
  [[ -f $kubeconfig ]] && kubectl get --raw /readyz >/dev/null 2>&1 &&
    cmp -s "$here/audit-policy.yaml" "$KWOK_WORKDIR/clusters/$name/audit.yaml" &&
    grep -qF "service-cluster-ip-range" "$KWOK_WORKDIR/clusters/$name/kwok.yaml" &&
    grep -qF "app.kubernetes.io/managed-by" "$KWOK_WORKDIR/clusters/$name/kwok.yaml" &&
    grep -qF "$SERVICE_CIDR" "$KWOK_WORKDIR/clusters/$name/kwok.yaml"
}

wait_for() { # seconds description command...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out waiting for $what"
    sleep 1
  done
}

# Scales kwok's fake nodes up to $NODES, each with room for $NODE_PODS pods (never down: pods may run on them).
add_nodes() {
  local have
  have=$(kubectl get nodes -o name 2>/dev/null | wc -l)
  ((have < NODES)) || return 0
  log "adding $((NODES - have)) fake nodes ($NODES in all, $NODE_PODS pods each)"
  kwokctl scale node --replicas "$NODES" --param ".allocatable.pods=$NODE_PODS" >&2 9>&-
  wait_for 120 "nodes to be Ready" kubectl wait --for=condition=Ready node --all --timeout=5s
}

storage() {
  # A default StorageClass, and a small provisioner (hack/provisioner.sh) that gives every Pending PVC a volume:
  # kwok runs no CSI driver.
  kubectl apply --server-side --field-manager=zot-operator-cluster -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
reclaimPolicy: Delete
EOF
  start_provisioner
}

start_provisioner() {
  local pidfile="$state/$flavour.provisioner.pid"
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    return 0
  fi
  nohup setsid "$here/provisioner.sh" "$("$here/tools.sh" path kubectl)" "$kubeconfig" \
    >"$state/$flavour.provisioner.log" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
}

stop_provisioner() {
  local pidfile="$state/$flavour.provisioner.pid"
  [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null
  rm -f "$pidfile"
}

podrunner_bin() {
  if [[ -n ${ZOT_OPERATOR_PODRUNNER:-} ]]; then
    echo "$ZOT_OPERATOR_PODRUNNER"
  else
    (cd "$repo" && cargo build --locked --quiet --bin zot-podrunner >&2) || die "building zot-podrunner failed"
    echo "$repo/target/debug/zot-podrunner"
  fi
}

# The kubelet for zot pods. Restarted when its binary changed (it then restarts the pods it runs).
start_podrunner() {
  local pidfile="$state/$flavour.podrunner.pid" bin zot stamp cidr=10.250.0.0/17 scc=()
  # openshift: a /18, so that the allocator (which cycles through its range) never hands out 10.250.192.0/18, where
  # hack/services.sh's servers (10.250.255.0/24) and the tests' sandboxes (10.250.254.0/24) live.
  [[ $flavour == openshift ]] && cidr=10.250.128.0/18
  bin=$(podrunner_bin)
  zot=$("$here/tools.sh" path zot)
  [[ -x $bin ]] || die "zot-podrunner binary $bin does not exist"
  stamp="$(stat -c %Y "$bin") $bin $zot $cidr"
  if [[ -f $pidfile ]] && kill -0 "$(head -n1 "$pidfile")" 2>/dev/null; then
    [[ $(sed -n 2p "$pidfile") == "$stamp" ]] && return 0
    log "restarting zot-podrunner (its binary changed)"
  fi
  stop_podrunner
  [[ $flavour == openshift ]] && scc=(--assign-scc-ids)
  nohup setsid "$bin" --kubeconfig "$kubeconfig" --state-dir "$state/pods-$flavour" --name "$flavour" \
    --pod-cidr "$cidr" --zot "$ZOT_VERSION=$zot" "${scc[@]}" \
    >>"$state/$flavour.podrunner.log" 2>&1 </dev/null 9>&- &
  printf '%s\n%s\n' "$!" "$stamp" >"$pidfile"
  sleep 0.5
  kill -0 "$(head -n1 "$pidfile")" 2>/dev/null || die "zot-podrunner did not start: $(tail -n 5 "$state/$flavour.podrunner.log")"
}

# Stops the runner and whatever it ran (its containers survive a SIGKILL of the runner: kill them by pid file).
stop_podrunner() {
  local pidfile="$state/$flavour.podrunner.pid" pid f
  if [[ -f $pidfile ]]; then
    pid=$(head -n1 "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  for f in "$state/pods-$flavour"/pods/*/*/pid; do
    [[ -f $f ]] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  ip netns list 2>/dev/null | awk '{print $1}' | grep "^zp-$flavour-" | xargs -r -n1 ip netns delete 2>/dev/null || true
}

openshift() {
  [[ -d $SHARED/crds ]] || die "OpenShift CRDs not found at $SHARED/crds (set ZOT_OPERATOR_SHARED)"
  log "installing OpenShift, OLM and ServiceMonitor CRDs"
  local f
  for f in "$SHARED"/crds/*.yaml "$("$here/tools.sh" dir servicemonitor-crd)"/*.yaml; do
    # Server-side: the ClusterServiceVersion CRD is too large for client-side apply's annotation.
    kubectl apply --server-side --force-conflicts --field-manager=zot-operator-cluster -f "$f" >/dev/null
  done
  # shellcheck disable=SC2046 # one CRD name per word
  wait_established $(kubectl get crd -o name)
  log "creating ingresses.config.openshift.io/cluster (domain $APPS_DOMAIN) and the restricted-v2 SCC"
  kubectl apply --server-side --field-manager=zot-operator-cluster -f - >/dev/null <<EOF
apiVersion: config.openshift.io/v1
kind: Ingress
metadata:
  name: cluster
spec:
  domain: $APPS_DOMAIN
EOF
  kubectl apply --server-side --field-manager=zot-operator-cluster -f "$SHARED/crds/fixtures/restricted-v2-scc.yaml" >/dev/null
}

up() {
  exec 9>"$state/$flavour.lock"
  flock 9
  if healthy; then
    log "cluster $name is already running"
    add_nodes
    start_provisioner
    start_podrunner
    "$here/services.sh" up 9>&-
  else
    "$here/tools.sh" build etcd kube kwok servicemonitor-crd zot
    local tools
    tools() { "$here/tools.sh" path "$1"; }
    kwokctl delete cluster >/dev/null 2>&1 || true
    # OLM's operators of a previous cluster hold a token this one does not know.
    "$here/olm.sh" down --flavour "$flavour" 9>&- || true
    log "starting cluster $name (kwokctl binary runtime, Kubernetes $(grep ^KUBERNETES_VERSION "$here/versions.env" | cut -d= -f2))"
    kwokctl create cluster \
      --runtime binary \
      --kubeconfig "$kubeconfig" \
      --etcd-binary "$(tools etcd)" \
      --kube-apiserver-binary "$(tools kube-apiserver)" \
      --kube-controller-manager-binary "$(tools kube-controller-manager)" \
      --kube-scheduler-binary "$(tools kube-scheduler)" \
      --kwok-controller-binary "$(tools kwok)" \
      --kube-authorization=true \
      --kube-admission=true \
      --kube-audit-policy "$here/audit-policy.yaml" \
      --config "$here/kwok-stages.yaml" \
      --extra-args "kube-apiserver=service-cluster-ip-range=$SERVICE_CIDR" \
      --disable-qps-limits \
      --wait 3m >&2 9>&-  # the components it starts must not inherit our lock
    wait_for 120 "the API server to be ready" healthy
    add_nodes
    storage
    [[ $flavour == openshift ]] && openshift
    start_podrunner
    "$here/services.sh" up 9>&-
    log "cluster $name is ready"
  fi
  cat <<EOF
# Cluster '$name' ($flavour) is up. Use it with:
export KUBECONFIG=$kubeconfig
# Its servers (S3, Redis, GCS, Azure Blob) and their credentials: hack/services.sh env
# and, for this project's tools: export PATH=$(dirname "$("$here/tools.sh" path kubectl)"):\$PATH
EOF
}

down() {
  log "deleting cluster $name"
  # OLM's operators (hack/olm.sh), if a test started them on this cluster.
  "$here/olm.sh" down --flavour "$flavour" || true
  stop_provisioner
  stop_podrunner
  kwokctl delete cluster >&2 || true
  # Whatever kwokctl could not stop (e.g. after an interrupted start) must not hold ports or memory.
  pkill -f "$KWOK_WORKDIR/clusters/$name/" 2>/dev/null || true
  rm -f "$kubeconfig"
  # The servers are shared by both flavours: stopped with the last cluster of this checkout.
  local other=vanilla
  [[ $flavour == vanilla ]] && other=openshift
  if [[ -f $state/$other.kubeconfig ]]; then
    log "keeping hack/services.sh's servers: cluster zot-$other still uses them"
  else
    "$here/services.sh" down
  fi
}

case $cmd in
  up) up ;;
  down) down ;;
  env) [[ -f $kubeconfig ]] || die "cluster $name is not up (hack/cluster.sh up --flavour $flavour)"; echo "export KUBECONFIG=$kubeconfig" ;;
  *) die "usage: hack/cluster.sh up|down|env [--flavour vanilla|openshift]" ;;
esac
