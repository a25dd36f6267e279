#!/usr/bin/env bash
# The servers outside the cluster that zot stores use: S3 (MinIO), Redis, a Google Cloud Storage emulator
# (fake-gcs-server) and an Azure Blob Storage emulator (Azurite), at fixed addresses that zot pods (on the bridge
# zotpods0, see src/bin/zot-podrunner/net.rs) and the host reach alike, as they would reach a service outside the
# cluster; and, on demand only (heavy: about 45 s to start and 450 MiB), Keycloak with the realm of
# hack/keycloak/realm.json, the OpenID Connect provider of the rbac.keycloak tests. They run in the network namespace zp-services, attached to the bridge by a veth pair like a pod, with one
# address per server in 10.250.255.0/24 (outside both flavours' pod ranges: vanilla 10.250.0.0/17, openshift
# 10.250.128.0/18). One set serves both flavours; hack/cluster.sh up starts it.
#
#   hack/services.sh up [SERVICE...]   start (or reuse) the servers (default: s3, redis, gcs, azurite; keycloak only
#                                      when named) and wait until each answers
#   hack/services.sh down              stop the servers this checkout started and remove zp-services once it is empty
#   hack/services.sh restart SERVICE   stop and start one server (s3, redis, gcs, azurite, keycloak) and wait until it
#                                      answers
#   hack/services.sh env               print the endpoints and credentials as shell variables
#   hack/services.sh status            print which servers answer
#
# Logs, pid files and data are in .cluster/services/ (ZOT_OPERATOR_CLUSTER_DIR/services). A server that already
# answers at its address with the expected credentials is reused, whoever started it. Redis keeps its data across
# `restart redis` (append-only file); MinIO, fake-gcs-server and Azurite keep theirs in their data folders until
# `down`, which deletes them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
state=${ZOT_OPERATOR_CLUSTER_DIR:-$repo/.cluster}
dir="$state/services"

# Shared with zot-podrunner (src/bin/zot-podrunner/net.rs).
BRIDGE=zotpods0
BRIDGE_NET=10.250.0.0/16
GATEWAY=10.250.0.1/16
NETNS=zp-services
VETH=zvservices

S3_ADDR=10.250.255.2 S3_PORT=9000
REDIS_ADDR=10.250.255.3 REDIS_PORT=6379
GCS_ADDR=10.250.255.4 GCS_PORT=4443
AZURITE_ADDR=10.250.255.5 AZURITE_PORT=10000
KEYCLOAK_ADDR=10.250.255.6 KEYCLOAK_PORT=8080
# What `up` starts without arguments; keycloak only when asked for (`up keycloak`).
SERVICES=(s3 redis gcs azurite)
ALL_SERVICES=("${SERVICES[@]}" keycloak)

# Fixed test credentials (nothing secret: the servers are reachable from this machine only).
S3_REGION=us-east-1
S3_ROOT_USER=zot-s3-root
S3_ROOT_PASSWORD=zot-s3-root-secret
# The restricted second account: every S3 action, but only on buckets named other-*. Any other bucket is "owned by
# another account" for it: HeadBucket and ListObjects answer 403 AccessDenied.
S3_OTHER_USER=zot-s3-other
S3_OTHER_PASSWORD=zot-s3-other-secret
S3_OTHER_POLICY=zot-s3-other-buckets
S3_OTHER_BUCKETS=other-
REDIS_PASSWORD=zot-redis-secret
# Azurite's well-known development account (https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
AZURE_ACCOUNT=devstoreaccount1
AZURE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# Keycloak: the realm, its clients, users and groups are in hack/keycloak/realm.json (the tests' fixed accounts);
# the master realm's administrator is for the tests that change a client (its secret) through the admin API.
KEYCLOAK_REALM=zot-test
KEYCLOAK_ADMIN=admin
KEYCLOAK_ADMIN_PASSWORD=zot-keycloak-admin

log() { printf '[services %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || die "$c is not installed: run hack/system-deps.sh (as root)"
  done
}

tool() { "$here/tools.sh" path "$1"; }

# The bridge as zot-podrunner makes it (net.rs ensure_bridge): whichever comes first creates it, the other reuses it.
ensure_bridge() {
  local dev addr
  while read -r _ dev _ addr _; do
    [[ $dev != "$BRIDGE" ]] || continue
    if python3 -c 'import ipaddress,sys; sys.exit(0 if ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network(sys.argv[2]) else 1)' \
      "${addr%/*}" "$BRIDGE_NET"; then
      die "interface $dev has $addr, inside the pod network $BRIDGE_NET: the test platform would collide with it"
    fi
  done < <(ip -4 -o addr show)
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge 2>/dev/null || ip link show "$BRIDGE" >/dev/null 2>&1 ||
      die "cannot create the bridge $BRIDGE"
  fi
  ip -4 -o addr show dev "$BRIDGE" | grep -qF " $GATEWAY " || ip addr add "$GATEWAY" dev "$BRIDGE" 2>/dev/null || true
  ip link set "$BRIDGE" up
}

# zp-services with eth0 on the bridge and one address per server. No default route, like a pod.
ensure_netns() {
  local a
  ensure_bridge
  ip netns list | awk '{print $1}' | grep -qx "$NETNS" || ip netns add "$NETNS"
  if ! ip -n "$NETNS" link show eth0 >/dev/null 2>&1; then
    ip link delete "$VETH" 2>/dev/null || true
    ip link add "$VETH" type veth peer name eth0 netns "$NETNS"
  fi
  # Also after the bridge was deleted and made anew.
  ip link set "$VETH" master "$BRIDGE" up
  for a in "$S3_ADDR" "$REDIS_ADDR" "$GCS_ADDR" "$AZURITE_ADDR" "$KEYCLOAK_ADDR"; do
    ip -n "$NETNS" addr replace "$a/${BRIDGE_NET#*/}" dev eth0
  done
  ip -n "$NETNS" link set eth0 up
  ip -n "$NETNS" link set lo up
}

# Whether a server answers at its address, as a client would see it (from the host, through the bridge).
answers() {
  case $1 in
    s3) curl -fsS -m 2 -o /dev/null "http://$S3_ADDR:$S3_PORT/minio/health/ready" 2>/dev/null ;;
    redis) [[ $(redis-cli -h "$REDIS_ADDR" -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_PASSWORD" ping 2>/dev/null) == PONG ]] ;;
    gcs) curl -fsS -m 2 -o /dev/null "http://$GCS_ADDR:$GCS_PORT/storage/v1/b" 2>/dev/null ;;
    # Any HTTP answer: without a signature Azurite answers 403 (AuthorizationFailure).
    azurite) [[ $(curl -sS -m 2 -o /dev/null -w '%{http_code}' "http://$AZURITE_ADDR:$AZURITE_PORT/$AZURE_ACCOUNT?comp=list" 2>/dev/null) =~ ^[1-5][0-9][0-9]$ ]] ;;
    # The test realm's OpenID discovery: Keycloak is up and the realm imported.
    keycloak) curl -fsS -m 2 -o /dev/null "http://$KEYCLOAK_ADDR:$KEYCLOAK_PORT/realms/$KEYCLOAK_REALM/.well-known/openid-configuration" 2>/dev/null ;;
    *) die "unknown service '$1' (known: ${ALL_SERVICES[*]})" ;;
  esac
}

# The command line of each server (into the array cmd), run inside zp-services.
command_of() {
  case $1 in
    s3)
      cmd=(env MINIO_ROOT_USER="$S3_ROOT_USER" MINIO_ROOT_PASSWORD="$S3_ROOT_PASSWORD" MINIO_REGION="$S3_REGION"
        MINIO_UPDATE=off MINIO_BROWSER=off MINIO_CI_CD=1
        "$(tool minio)" server --quiet --address "$S3_ADDR:$S3_PORT" "$dir/s3/data")
      ;;
    redis)
      cmd=(redis-server --bind "$REDIS_ADDR" --port "$REDIS_PORT" --requirepass "$REDIS_PASSWORD"
        --protected-mode no --daemonize no --dir "$dir/redis" --appendonly yes --save "" --logfile "")
      ;;
    gcs)
      cmd=("$(tool fake-gcs-server)" -scheme http -host "$GCS_ADDR" -port "$GCS_PORT"
        -public-host "$GCS_ADDR:$GCS_PORT" -external-url "http://$GCS_ADDR:$GCS_PORT"
        -backend filesystem -filesystem-root "$dir/gcs/data" -log-level warn)
      ;;
    azurite)
      cmd=("$(tool azurite-blob)" --blobHost "$AZURITE_ADDR" --blobPort "$AZURITE_PORT" --location "$dir/azurite"
        --skipApiVersionCheck --loose --disableProductStyleUrl --disableTelemetry)
      ;;
    keycloak)
      # Development mode with an in-memory database: every start imports the realm file afresh (Keycloak reads
      # --import-realm files from data/import of its home, the tool's folder), so no state outlives a restart.
      # The hostname is fixed, so that the issuer is the same URL for zot pods and tests whatever Host they send.
      local home
      home=$("$here/tools.sh" dir keycloak)/dist
      mkdir -p "$home/data/import"
      cp "$here/keycloak/realm.json" "$home/data/import/$KEYCLOAK_REALM-realm.json"
      cmd=(env KC_BOOTSTRAP_ADMIN_USERNAME="$KEYCLOAK_ADMIN" KC_BOOTSTRAP_ADMIN_PASSWORD="$KEYCLOAK_ADMIN_PASSWORD"
        JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m"
        "$(tool keycloak)" start-dev --import-realm --db=dev-mem --http-host="$KEYCLOAK_ADDR"
        --http-port="$KEYCLOAK_PORT" --hostname="http://$KEYCLOAK_ADDR:$KEYCLOAK_PORT")
      ;;
  esac
}

pid_alive() { [[ -f $dir/$1.pid ]] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

start() {
  local svc=$1 cmd=()
  if answers "$svc"; then
    return 0
  fi
  if pid_alive "$svc"; then
    # Started, not answering yet (or hung): wait() decides.
    return 0
  fi
  mkdir -p "$dir/s3/data" "$dir/redis" "$dir/gcs/data" "$dir/azurite"
  command_of "$svc"
  log "starting $svc"
  printf '\n=== %(%F %T)T start: %s\n' -1 "${cmd[*]}" >>"$dir/$svc.log"
  # `ip netns exec` execs the server: the pid is the server's. setsid: out of the caller's process group.
  nohup setsid ip netns exec "$NETNS" "${cmd[@]}" >>"$dir/$svc.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/$svc.pid"
}

wait_answers() {
  local svc=$1 deadline=$((SECONDS + ${2:-90}))
  until answers "$svc"; do
    if ! pid_alive "$svc" && ! answers "$svc"; then
      die "$svc exited without answering; the end of $dir/$svc.log:
$(tail -n 20 "$dir/$svc.log")"
    fi
    ((SECONDS < deadline)) || die "$svc did not answer within ${2:-90}s; the end of $dir/$svc.log:
$(tail -n 20 "$dir/$svc.log")"
    sleep 0.3
  done
}

stop() {
  local svc=$1 pid
  if [[ -f $dir/$svc.pid ]]; then
    pid=$(cat "$dir/$svc.pid")
    # The whole process group (setsid at start): Keycloak's kc.sh runs java as its child.
    if kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null; then
      for _ in {1..200}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$svc.pid"
  fi
}

# The restricted second S3 account (idempotent).
s3_accounts() {
  local policy="$dir/s3/$S3_OTHER_POLICY.json"
  # The servers may have been started by another checkout: this one's folder may not exist yet.
  mkdir -p "$dir/s3"
  cat >"$policy" <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": ["arn:aws:s3:::*"]},
    {"Effect": "Allow", "Action": ["s3:*"],
     "Resource": ["arn:aws:s3:::$S3_OTHER_BUCKETS*", "arn:aws:s3:::$S3_OTHER_BUCKETS*/*"]}
  ]
}
EOF
  "$(tool minio-admin)" -endpoint "$S3_ADDR:$S3_PORT" -user "$S3_ROOT_USER" -password "$S3_ROOT_PASSWORD" \
    add-user "$S3_OTHER_USER" "$S3_OTHER_PASSWORD" "$S3_OTHER_POLICY" "$policy" >/dev/null ||
    die "could not add the restricted S3 user $S3_OTHER_USER"
}

# The time a server may take to answer after its start: Keycloak's first start (Quarkus builds its application
# once) took 96 s on 2 busy cores, later ones about 45 s.
timeout_of() {
  case $1 in
    keycloak) echo 300 ;;
    *) echo 90 ;;
  esac
}

up() {
  local svc wanted=("$@")
  ((${#wanted[@]})) || wanted=("${SERVICES[@]}")
  for svc in "${wanted[@]}"; do
    [[ " ${ALL_SERVICES[*]} " == *" $svc "* ]] || die "unknown service '$svc' (known: ${ALL_SERVICES[*]})"
  done
  need ip curl python3
  [[ " ${wanted[*]} " != *" redis "* ]] || need redis-server redis-cli
  mkdir -p "$dir"
  exec 9>"$state/services.lock"
  flock 9
  for svc in "${wanted[@]}"; do
    case $svc in
      s3) "$here/tools.sh" build minio minio-admin ;;
      gcs) "$here/tools.sh" build fake-gcs-server ;;
      azurite | keycloak) "$here/tools.sh" build "$svc" ;;
    esac
  done
  ensure_netns
  for svc in "${wanted[@]}"; do start "$svc"; done
  for svc in "${wanted[@]}"; do wait_answers "$svc" "$(timeout_of "$svc")"; done
  [[ " ${wanted[*]} " != *" s3 "* ]] || s3_accounts
  log "up: $(for svc in "${wanted[@]}"; do printf '%s ' "$svc"; done)(hack/services.sh env prints the addresses)"
}

down() {
  local svc pids
  mkdir -p "$dir"
  exec 9>"$state/services.lock"
  flock 9
  for svc in "${ALL_SERVICES[@]}"; do stop "$svc"; done
  if ip netns list | awk '{print $1}' | grep -qx "$NETNS"; then
    pids=$(ip netns pids "$NETNS" 2>/dev/null | tr '\n' ' ')
    if [[ -n ${pids// /} ]]; then
      log "leaving $NETNS: processes this checkout did not start still run in it (pids $pids)"
    else
      ip netns delete "$NETNS"
      ip link delete "$VETH" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir/s3" "$dir/gcs" "$dir/azurite" "$dir/redis"
  log "down"
}

restart() {
  local svc=${1:?usage: hack/services.sh restart s3|redis|gcs|azurite|keycloak}
  [[ " ${ALL_SERVICES[*]} " == *" $svc "* ]] || die "unknown service '$svc' (known: ${ALL_SERVICES[*]})"
  mkdir -p "$dir"
  exec 9>"$state/services.lock"
  flock 9
  pid_alive "$svc" || ! answers "$svc" || die "$svc answers but was not started by this checkout ($dir/$svc.pid): not restarting it"
  stop "$svc"
  ensure_netns
  start "$svc"
  wait_answers "$svc" "$(timeout_of "$svc")"
  [[ $svc != s3 ]] || s3_accounts
  log "restarted $svc"
}

env_vars() {
  cat <<EOF
# The test platform's servers (hack/services.sh up), reachable from the host and from zot pods alike.
ZOT_TEST_S3_ENDPOINT=http://$S3_ADDR:$S3_PORT
ZOT_TEST_S3_REGION=$S3_REGION
ZOT_TEST_S3_ACCESS_KEY=$S3_ROOT_USER
ZOT_TEST_S3_SECRET_KEY=$S3_ROOT_PASSWORD
# The restricted account: full access to buckets named $S3_OTHER_BUCKETS* only.
ZOT_TEST_S3_OTHER_ACCESS_KEY=$S3_OTHER_USER
ZOT_TEST_S3_OTHER_SECRET_KEY=$S3_OTHER_PASSWORD
ZOT_TEST_S3_OTHER_BUCKET_PREFIX=$S3_OTHER_BUCKETS
ZOT_TEST_REDIS_ADDR=$REDIS_ADDR:$REDIS_PORT
ZOT_TEST_REDIS_PASSWORD=$REDIS_PASSWORD
ZOT_TEST_REDIS_URL=redis://:$REDIS_PASSWORD@$REDIS_ADDR:$REDIS_PORT
ZOT_TEST_GCS_ENDPOINT=http://$GCS_ADDR:$GCS_PORT
ZOT_TEST_AZURE_BLOB_ENDPOINT=http://$AZURITE_ADDR:$AZURITE_PORT/$AZURE_ACCOUNT
ZOT_TEST_AZURE_ACCOUNT=$AZURE_ACCOUNT
ZOT_TEST_AZURE_KEY=$AZURE_KEY
# Keycloak (only after \`hack/services.sh up keycloak\`): the realm's issuer; accounts in hack/keycloak/realm.json.
ZOT_TEST_KEYCLOAK_URL=http://$KEYCLOAK_ADDR:$KEYCLOAK_PORT
ZOT_TEST_KEYCLOAK_ISSUER=http://$KEYCLOAK_ADDR:$KEYCLOAK_PORT/realms/$KEYCLOAK_REALM
ZOT_TEST_KEYCLOAK_ADMIN=$KEYCLOAK_ADMIN
ZOT_TEST_KEYCLOAK_ADMIN_PASSWORD=$KEYCLOAK_ADMIN_PASSWORD
EOF
}

status() {
  local svc ok=0
  for svc in "${SERVICES[@]}"; do
    if answers "$svc"; then echo "$svc answers"; else echo "$svc does not answer"; ok=1; fi
  done
  # Started on demand only: its absence is no failure.
  if answers keycloak; then echo "keycloak answers"; else echo "keycloak does not answer (started by \`up keycloak\` only)"; fi
  return $ok
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) down ;;
  restart) restart "${2:-}" ;;
  env) env_vars ;;
  status) status ;;
  *) die "usage: hack/services.sh up [SERVICE...]|down|restart SERVICE|env|status" ;;
esac
