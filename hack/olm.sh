#!/usr/bin/env bash
# The real OLM (v0, github.com/operator-framework/operator-lifecycle-manager at OLM_VERSION in hack/versions.env) on
# the local cluster of hack/cluster.sh: olm-operator and catalog-operator, built by hack/tools.sh, run as processes
# against the local API server as OLM's own ServiceAccount (olm/olm-operator-serviceaccount with OLM's ClusterRole
# system:controller:operator-lifecycle-manager, a TokenRequest token), laid out as on OpenShift:
#   - olm-operator in namespace `olm` (OLM's upstream layout; OpenShift calls it openshift-operator-lifecycle-manager);
#   - catalog-operator with `openshift-marketplace` as its global catalog namespace, so a CatalogSource there serves
#     every namespace, as on OpenShift (docs/install.md);
#   - `openshift-operators` with the global OperatorGroup `global-operators`, and OLMConfig `cluster`.
# The OLM CRDs come from hack/cluster.sh (the openshift flavour installs ../shared/crds). There are no images here:
# catalogs are served by `opm serve` on 127.0.0.1 and reached by a CatalogSource's spec.address
# (tests/support/olm_catalog.rs), and bundles must carry their manifests (olm.bundle.object properties, no bundle
# image) so that OLM installs them without an unpack Job. Neither process writes a ClusterOperator
# (--writeStatusName ""), and the packageserver (the
# aggregated packages.operators.coreos.com API behind `oc get packagemanifests`) is not run.
#
#   hack/olm.sh up   [--flavour openshift|vanilla]   start (or keep) both operators (restarted if their build changed)
#   hack/olm.sh down [--flavour openshift|vanilla]   stop them (by process group)
#   hack/olm.sh status [--flavour ...]               print whether each runs
#
# Logs: .cluster/<flavour>.olm-operator.log and .cluster/<flavour>.catalog-operator.log; hack/cluster.sh down stops
# them.
# Both serve their health and metrics on :8080 (fixed in OLM v0.40.0's pkg/lib/server): the second to start logs that
# the port is taken and runs on without it; nothing here uses those endpoints.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

log() { printf '[olm %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[olm] ERROR: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}
shift || true
flavour=openshift
while (($#)); do
  case $1 in
    --flavour) flavour=${2:?--flavour needs vanilla or openshift}; shift 2 ;;
    --flavour=*) flavour=${1#*=}; shift ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ $flavour == vanilla || $flavour == openshift ]] || die "flavour must be vanilla or openshift, not '$flavour'"

state=${ZOT_OPERATOR_CLUSTER_DIR:-$repo/.cluster}
kubeconfig="$state/$flavour.kubeconfig"
OLM_NAMESPACE=olm
CATALOG_NAMESPACE=openshift-marketplace
OPERATORS_NAMESPACE=openshift-operators
SERVICE_ACCOUNT=olm-operator-serviceaccount

kubectl() { "$("$here/tools.sh" path kubectl)" --kubeconfig "$kubeconfig" "$@"; }

pidfile() { echo "$state/$flavour.$1.pid"; }

# Running (the process group leader of the pid file is alive) with the build of the stamp.
running() {
  local f
  f=$(pidfile "$1")
  [[ -f $f ]] && kill -0 "$(head -n1 "$f")" 2>/dev/null && [[ $(sed -n 2p "$f") == "${2:-$(sed -n 2p "$f")}" ]]
}

stop() {
  local f pid
  f=$(pidfile "$1")
  [[ -f $f ]] || return 0
  pid=$(head -n1 "$f")
  # Started with setsid: the pid is its process group.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$f"
}

# Namespaces, OLM's ServiceAccount and ClusterRole (as deploy/chart of OLM v0.40.0), the global OperatorGroups and
# OLMConfig; then a kubeconfig with a token of that ServiceAccount.
setup() {
  kubectl apply --server-side --force-conflicts --field-manager=zot-operator-olm -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $OLM_NAMESPACE
---
apiVersion: v1
kind: Namespace
metadata:
  name: $CATALOG_NAMESPACE
---
apiVersion: v1
kind: Namespace
metadata:
  name: $OPERATORS_NAMESPACE
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:controller:operator-lifecycle-manager
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["watch", "list", "get", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind"]
- nonResourceURLs: ["*"]
  verbs: ["*"]
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: $SERVICE_ACCOUNT
  namespace: $OLM_NAMESPACE
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: olm-operator-binding-$OLM_NAMESPACE
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:controller:operator-lifecycle-manager
subjects:
- kind: ServiceAccount
  name: $SERVICE_ACCOUNT
  namespace: $OLM_NAMESPACE
---
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata:
  name: global-operators
  namespace: $OPERATORS_NAMESPACE
---
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata:
  name: olm-operators
  namespace: $OLM_NAMESPACE
spec:
  targetNamespaces: [$OLM_NAMESPACE]
---
apiVersion: operators.coreos.com/v1
kind: OLMConfig
metadata:
  name: cluster
EOF
  local token server ca
  token=$(kubectl create token "$SERVICE_ACCOUNT" -n "$OLM_NAMESPACE" --duration=48h) ||
    die "TokenRequest for $OLM_NAMESPACE/$SERVICE_ACCOUNT failed"
  server=$(kubectl config view --raw -o 'jsonpath={.clusters[0].cluster.server}')
  ca=$(kubectl config view --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority}')
  umask 077
  cat >"$state/$flavour.olm.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority: "$ca"}}]
users: [{name: olm, user: {token: "$token"}}]
contexts: [{name: local, context: {cluster: local, user: olm}}]
current-context: local
EOF
}

# start NAME BINARY ARGS...: runs it in a process group of its own, as OLM's ServiceAccount.
start() {
  local name=$1 bin=$2 stamp
  shift 2
  stamp="$(stat -c %Y "$bin") $bin"
  if running "$name" "$stamp"; then
    return 0
  fi
  stop "$name"
  log "starting $name ($bin)"
  # Without CI in its environment: with CI set (as .ci/run sets it), OLM wraps its clients in a developer check
  # (validatingroundtripper) that panics on objects without its olm.managed label, TokenRequests included.
  env -u CI KUBECONFIG="$state/$flavour.olm.kubeconfig" OPERATOR_NAMESPACE=$OLM_NAMESPACE OPERATOR_NAME=$name \
    nohup setsid "$bin" "$@" >>"$state/$flavour.$name.log" 2>&1 </dev/null 9>&- &
  printf '%s\n%s\n' "$!" "$stamp" >"$(pidfile "$name")"
}

up() {
  [[ -f $kubeconfig ]] || die "cluster zot-$flavour is not up (hack/cluster.sh up --flavour $flavour)"
  kubectl get crd clusterserviceversions.operators.coreos.com >/dev/null 2>&1 ||
    die "the OLM CRDs are not installed on zot-$flavour (the openshift flavour of hack/cluster.sh installs them)"
  exec 9>"$state/$flavour.olm.lock"
  flock 9
  local dir
  dir=$(dirname "$("$here/tools.sh" path olm)")
  if ! running olm-operator "$(stat -c %Y "$dir/olm") $dir/olm" ||
    ! running catalog-operator "$(stat -c %Y "$dir/catalog") $dir/catalog"; then
    setup
  fi
  start olm-operator "$dir/olm" --namespace "$OLM_NAMESPACE" --writeStatusName "" --writePackageServerStatusName ""
  # The image flags name what OLM would run in pods (catalog pods for image sources, bundle unpack Jobs): neither
  # exists here, and neither is needed for address sources whose bundles carry their manifests.
  start catalog-operator "$dir/catalog" --namespace "$CATALOG_NAMESPACE" --writeStatusName "" \
    --configmapServerImage none.invalid/configmap-server --opmImage none.invalid/opm --util-image none.invalid/olm
  sleep 2
  local name
  for name in olm-operator catalog-operator; do
    running "$name" || die "$name exited at start: $(tail -n 20 "$state/$flavour.$name.log")"
  done
  log "OLM $(grep ^OLM_VERSION= "$here/versions.env" | cut -d= -f2) runs on zot-$flavour (logs: $state/$flavour.{olm,catalog}-operator.log)"
}

down() {
  stop catalog-operator
  stop olm-operator
  rm -f "$state/$flavour.olm.kubeconfig"
}

case $cmd in
  up) up ;;
  down) down ;;
  status)
    for name in olm-operator catalog-operator; do
      if running "$name"; then echo "$name: running (pid $(head -n1 "$(pidfile "$name")"))"; else echo "$name: stopped"; fi
    done
    ;;
  *) die "usage: hack/olm.sh up|down|status [--flavour openshift|vanilla]" ;;
esac
