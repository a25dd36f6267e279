#!/usr/bin/env bash
# A small volume provisioner for the local cluster: kwok runs no CSI driver, so every Pending PVC gets a hostPath
# PersistentVolume pre-bound to it (same size, class and access modes); kube-controller-manager's PV controller then
# binds them. Started in the background by hack/cluster.sh; stops when the API server goes away.
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
  while read -r ns name uid size class mode; do
    [[ -n ${uid:-} ]] || continue
    k apply --server-side --field-manager=zot-operator-provisioner -f - >/dev/null 2>&1 <<PV
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-$uid
  labels: {zot-operator.test/provisioned: "true"}
spec:
  capacity: {storage: "$size"}
  accessModes: [${mode:-ReadWriteOnce}]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: "${class:-}"
  claimRef: {namespace: "$ns", name: "$name", uid: "$uid"}
  hostPath: {path: "/tmp/zot-operator-pv/$uid"}
PV
  done <<<"$pending"
  sleep 1
done
