#!/usr/bin/env bash
# The main job on a fresh machine: build (or reuse) the tools, start the local cluster, install the CRD and RBAC,
# run the operator as its least-privilege ServiceAccount, apply config/samples/minimal.yaml and show the store Ready.
#
#   hack/run.sh [--flavour vanilla|openshift] [--foreground]
#
# The operator keeps running in the background (log: .cluster/operator.<flavour>.log); stop everything with
# `hack/run.sh stop` (or `make run-stop`). To run the operator against a real cluster instead, install
# config/default (`kubectl apply -k config/default`) or run `cargo run -- run` with KUBECONFIG pointing at it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
log() { printf '[run %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

flavour=vanilla
foreground=false
action=start
while (($#)); do
  case $1 in
    --flavour) flavour=$2; shift 2 ;;
    --foreground) foreground=true; shift ;;
    stop) action=stop; shift ;;
    *) echo "usage: hack/run.sh [stop] [--flavour vanilla|openshift] [--foreground]" >&2; exit 2 ;;
  esac
done
state="$repo/.cluster"
pidfile="$state/operator.$flavour.pid"

if [[ $action == stop ]]; then
  [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null && log "operator stopped"
  rm -f "$pidfile"
  hack/cluster.sh down --flavour "$flavour"
  exit 0
fi

log "1/6 building the operator"
cargo build --locked --quiet
log "2/6 building or reusing the test-platform tools"
hack/tools.sh build etcd kube kwok servicemonitor-crd zot
log "3/6 starting the local $flavour cluster"
eval "$(hack/cluster.sh up --flavour "$flavour" | grep '^export KUBECONFIG=')"
kubectl() { "$(hack/tools.sh path kubectl)" "$@"; }

log "4/6 installing the CRD, the operator namespace and its RBAC"
kubectl apply --server-side --force-conflicts -f config/crd/bases/ >/dev/null
kubectl apply --server-side --force-conflicts -f - >/dev/null <<NS
apiVersion: v1
kind: Namespace
metadata:
  name: zot-operator-system
  labels: {pod-security.kubernetes.io/enforce: restricted}
NS
kubectl apply --server-side --force-conflicts -f config/rbac/service_account.yaml -f config/rbac/role.yaml \
  -f config/rbac/role_binding.yaml >/dev/null
# Polled: `kubectl wait --for=condition=Established` fails at once while the new CRD has no status.conditions yet.
established() {
  [[ $(kubectl get crd/zotartifactstores.artifact.zotregistry.io \
    -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}') == True ]]
}
for _ in $(seq 300); do established && break; sleep 0.2; done
established || { log "the ZotArtifactStore CRD did not become Established within 60 s"; exit 1; }

log "5/6 running the operator as ServiceAccount zot-operator-system/zot-operator"
token=$(kubectl create token zot-operator -n zot-operator-system --duration=24h)
server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
ca=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')
operator_kubeconfig="$state/operator.$flavour.kubeconfig"
cat >"$operator_kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority: "$ca"}}]
users: [{name: zot-operator, user: {token: "$token"}}]
contexts: [{name: local, context: {cluster: local, user: zot-operator}}]
current-context: local
KC
[[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
oplog="$state/operator.$flavour.log"
KUBECONFIG="$operator_kubeconfig" POD_NAMESPACE=zot-operator-system \
  nohup target/debug/zot-operator run --http-addr 127.0.0.1:8080 >"$oplog" 2>&1 </dev/null &
echo $! >"$pidfile"

log "6/6 applying config/samples/minimal.yaml in namespace artifacts and waiting for Ready"
kubectl create namespace artifacts --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl label namespace artifacts pod-security.kubernetes.io/enforce=restricted --overwrite >/dev/null
kubectl apply -n artifacts -f config/samples/minimal.yaml
if ! kubectl wait -n artifacts --for=condition=Ready zas/minimal-artifact-store --timeout=180s; then
  echo "The store did not become Ready; the operator's log is $oplog" >&2
  exit 1
fi
kubectl get zas -n artifacts
# The store's pod is a real zot process (zot-podrunner) with an address of its own on this machine.
ip=$(kubectl get pods -n artifacts -l app.kubernetes.io/instance=minimal-artifact-store \
  -o 'jsonpath={.items[0].status.podIP}')
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ip:5000/v2/" || true)
[[ $code == 200 ]] || { echo "zot at http://$ip:5000/v2/ answered '$code', not 200" >&2; exit 1; }
cat <<EOF2

The registry answers at http://$ip:5000/v2/ (HTTP $code). Push to it with the project's oras:
  $(hack/tools.sh path oras) push --plain-http $ip:5000/demo/hello:v1 some-file.txt

The operator runs in the background (pid $(cat "$pidfile"), log $oplog, metrics http://127.0.0.1:8080/metrics).
  export KUBECONFIG=$KUBECONFIG
  kubectl get zas,statefulset,svc,pvc -n artifacts
Stop everything with: hack/run.sh stop   (or make run-stop)
EOF2
if $foreground; then
  log "following the operator's log (Ctrl-C stops following; the operator keeps running)"
  tail -f "$oplog"
fi
