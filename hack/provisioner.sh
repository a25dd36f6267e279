#!/usr/bin/env bash
# A small volume provisioner for the local cluster: kwok runs no CSI driver, so every Pending PVC gets a hostPath
# PersistentVolume pre-bound to it (same size, class and access modes); kube-controller-manager's PV controller then
# binds them. Started in the background by hack/cluster.sh; stops when the API server goes away.
# Each pass lists the Pending claims once and creates all their volumes with ONE server-side apply, so that hundreds
# of claims (`make bench-compare`) are provisioned in a pass, not one `kubectl` per claim; the volumes of deleted
# claims (Released or Failed: their class has no real deleter) are deleted in one request per pass too.
set -uo pipefail
kubectl=${1:?usage: provisioner.sh KUBECTL KUBECONFIG}
kubeconfig=${2:?usage: provisioner.sh KUBECTL KUBECONFIG}
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }

failures=0
while ((failures < 30)); do
  if ! pending=$(k get pvc -A -o jsonpath='{range .items[?(@.status.phase=="Pending")]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.uid}{" "}{.spec.resources.requests.storage}{" "}{.spec.storageClassName}{" "}{.spec.accessModes[0]}{"\n"}{end}' 2>/dev/null); then
    failures=$((failures + 1)); sleep 2; continue
  fi
  failures=0
  volumes=""
  while read -r ns name uid size class mode; do
    [[ -n ${uid:-} ]] || continue
    volumes+="---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-$uid
  labels: {zot-operator.test/provisioned: \"true\"}
spec:
  capacity: {storage: \"$size\"}
  accessModes: [${mode:-ReadWriteOnce}]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: \"${class:-}\"
  claimRef: {namespace: \"$ns\", name: \"$name\", uid: \"$uid\"}
  hostPath: {path: \"/tmp/zot-operator-pv/$uid\"}
"
  done <<<"$pending"
  if [[ -n $volumes ]]; then
    k apply --server-side --field-manager=zot-operator-provisioner -f - >/dev/null 2>&1 <<<"$volumes"
  fi
  released=$(k get pv -l zot-operator.test/provisioned=true -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}{range .items[?(@.status.phase=="Failed")]}{.metadata.name}{"\n"}{end}' 2>/dev/null)
  if [[ -n $released ]]; then
    # shellcheck disable=SC2086 # one volume name per word
    k delete pv --wait=false --ignore-not-found $released >/dev/null 2>&1
  fi
  sleep 1
done
