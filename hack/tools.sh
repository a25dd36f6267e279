#!/usr/bin/env bash
# Builds the test platform's tools from Go modules at the versions pinned in hack/versions.env, into a cache outside
# the clone keyed by tool and version. A warm cache makes this a few seconds; a cold one builds from source.
#
#   hack/tools.sh build [TOOL...]   build (or reuse) tools (or the tool of a binary: zli, kubectl); default: all but
#                                   kopium
#   hack/tools.sh path TOOL         print the absolute path of a tool's binary (building it if needed)
#   hack/tools.sh list              print every tool with its version and whether it is cached
#
# Tools: etcd kube (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) kwok (kwok, kwokctl) oras opm
#        operator-sdk (`operator-sdk bundle validate` in tests/olm.rs) servicemonitor-crd
#        helm-operator (operator-sdk's cmd/helm-operator, same module and version: the peer `make bench-compare` runs
#          zot's Helm chart with; not in the default set, built on demand by the benchmark)
#        zot (zot and zli, from zot's source release in ../shared/src, ZOT_OPERATOR_SHARED elsewhere)
#        otelcol (OpenTelemetry Collector from hack/otelcol, for the telemetry tests)
#        kopium (Rust, from crates.io: generates src/openshift/generated/ from ../shared/crds in `make generate`;
#          hack/openshift-types.sh checks its output by a stamp without it, so it is not in the default set)
#        minio, minio-admin (hack/minio-admin), fake-gcs-server, azurite (npm): the object stores hack/services.sh runs
#        cosign (github.com/sigstore/cosign/v2): signs images on real zot pods in tests/supply_chain.rs
#        cert-manager (hack/cert-manager over github.com/cert-manager/cert-manager: its CA/self-signed issuer and
#          certificate controllers, and its CRDs in crds/): issues tls.issuerRef's Certificates in tests/tls.rs
#        keycloak (Maven Central's keycloak-quarkus-dist zip): the OpenID Connect provider `hack/services.sh up keycloak`
#          runs for the rbac.keycloak tests
#        olm (olm and catalog: OLM v0's olm-operator and catalog-operator, github.com/operator-framework/
#          operator-lifecycle-manager): the real OLM hack/olm.sh runs for tests/olm_lifecycle.rs
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# The folder beside the project with the upstream sources (zot's source release in src/), as hack/cluster.sh finds it.
SHARED=${ZOT_OPERATOR_SHARED:-$repo/../shared}
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${ZOT_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zot-operator}
export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false -mod=mod"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
# Keep memory in check on small machines: one package graph at a time per link.
export GOMAXPROCS=${GOMAXPROCS:-$(nproc)}

log() { printf '[tools %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not installed; the test platform is built from Go modules (Go 1.26+)."

version_of() {
  case $1 in
    etcd) echo "$ETCD_VERSION" ;;
    kube) echo "$KUBERNETES_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    oras) echo "$ORAS_VERSION" ;;
    opm) echo "$OPM_VERSION" ;;
    operator-sdk) echo "$OPERATOR_SDK_VERSION" ;;
    helm-operator) echo "$OPERATOR_SDK_VERSION" ;;
    zot) echo "$ZOT_VERSION" ;;
    servicemonitor-crd) echo "$PROMETHEUS_OPERATOR_VERSION" ;;
    otelcol) echo "$OTELCOL_VERSION-$(otelcol_source_hash)" ;;
    kopium) echo "$KOPIUM_VERSION" ;;
    minio) echo "$MINIO_VERSION" ;;
    minio-admin) echo "$MINIO_MADMIN_VERSION-$(minio_admin_source_hash)" ;;
    fake-gcs-server) echo "$FAKE_GCS_SERVER_VERSION" ;;
    azurite) echo "$AZURITE_VERSION" ;;
    cosign) echo "$COSIGN_VERSION" ;;
    keycloak) echo "$KEYCLOAK_VERSION" ;;
    cert-manager) echo "$CERT_MANAGER_VERSION-$(cert_manager_source_hash)" ;;
    olm) echo "$OLM_VERSION" ;;
    *) die "unknown tool '$1'" ;;
  esac
}

binaries_of() {
  case $1 in
    kube) echo "kube-apiserver kube-controller-manager kube-scheduler kubectl" ;;
    kwok) echo "kwok kwokctl" ;;
    zot) echo "zot zli" ;;
    azurite) echo "azurite azurite-blob" ;;
    keycloak) echo "keycloak" ;;
    olm) echo "olm catalog" ;;
    servicemonitor-crd) echo "monitoring.coreos.com_servicemonitors.yaml" ;;
    *) echo "$1" ;;
  esac
}

dir_of() { echo "$CACHE/tools/$1-$(version_of "$1")"; }

# A fresh wrapper module in which `go get` resolves the tool's module with our replaces.
wrapper() {
  local name=$1 w
  w="$CACHE/src/$name-$(version_of "$name")"
  rm -rf "$w" && mkdir -p "$w"
  printf 'module zot-operator.local/tools/%s\n\ngo 1.26\n' "$name" >"$w/go.mod"
  echo "$w"
}

# Runs "$@" (a long go build, whose -v prints one line per compiled package) in the background with its output in
# $out/build.log, logging progress every 30 s against the `total` packages expected; shows the log if it fails.
compile_with_progress() {
  local name=$1 out=$2 total=$3 pid ticks=0
  shift 3
  "$@" >"$out/build.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((++ticks % 30 == 0)); then
      log "$name: $(wc -l <"$out/build.log") of about $total packages compiled (${ticks}s)"
    fi
  done
  if ! wait "$pid"; then
    cat "$out/build.log" >&2
    return 1
  fi
  rm -f "$out/build.log"
}

build_etcd() {
  local out=$1 w
  w=$(wrapper etcd)
  # server/v3's own replace directives point at sibling folders; as a dependency they are ignored and its requires
  # (the same etcd release) are used instead.
  (cd "$w" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_kube() {
  local out=$1 w gomod minor staging ldflags pkg
  w=$(wrapper kube)
  gomod=$(cd "$w" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | jq -r '.GoMod // empty')
  [[ -f $gomod ]] || die "could not download k8s.io/kubernetes@$KUBERNETES_VERSION"
  # Every staging module k8s.io/kubernetes replaces with ./staging/src/... is published as v0.<minor>.<patch>.
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod" | sort -u)
  [[ -n $staging ]] || die "found no staging modules in $gomod"
  minor=${KUBERNETES_VERSION#v1.}
  {
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo "replace ("
    for m in $staging; do echo "	$m => $m v0.$minor"; done
    echo ")"
  } >>"$w/go.mod"
  log "kube: $(wc -w <<<"$staging") staging modules replaced with v0.$minor"
  ldflags="-s -w"
  local major=1 mnr=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$mnr"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (
    cd "$w"
    for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      go get "k8s.io/kubernetes/cmd/$b@$KUBERNETES_VERSION"
    done
    for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      log "kube: building $b"
      go build -trimpath -ldflags "$ldflags" -o "$out/$b" "k8s.io/kubernetes/cmd/$b"
    done
  )
}

build_kwok() {
  local out=$1 w ldflags
  w=$(wrapper kwok)
  ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBERNETES_VERSION"
  (
    cd "$w"
    go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
    for b in kwok kwokctl; do
      go build -trimpath -ldflags "$ldflags" -o "$out/$b" "sigs.k8s.io/kwok/cmd/$b"
    done
  )
}

build_oras() {
  local out=$1 w
  w=$(wrapper oras)
  (cd "$w" && go get "oras.land/oras/cmd/oras@$ORAS_VERSION" &&
    go build -trimpath -ldflags "-s -w -X oras.land/oras/internal/version.Version=${ORAS_VERSION#v} -X oras.land/oras/internal/version.BuildMetadata=" -o "$out/oras" oras.land/oras/cmd/oras)
}

# containers/image needs gpgme (cgo) unless told to use its pure-Go OpenPGP implementation.
CONTAINERS_TAGS=containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper

build_opm() {
  local out=$1 w
  w=$(wrapper opm)
  (cd "$w" && go get "github.com/operator-framework/operator-registry/cmd/opm@$OPM_VERSION" &&
    go build -trimpath -tags "$CONTAINERS_TAGS" -ldflags "-s -w -X github.com/operator-framework/operator-registry/cmd/opm/version.gitCommit=$OPM_VERSION -X github.com/operator-framework/operator-registry/cmd/opm/version.opmVersion=$OPM_VERSION" \
      -o "$out/opm" github.com/operator-framework/operator-registry/cmd/opm)
}

build_operator-sdk() {
  local out=$1 w
  w=$(wrapper operator-sdk)
  local v=github.com/operator-framework/operator-sdk/internal/version
  # The version stamps operator-sdk's Makefile sets (the release's tag and commit, the Kubernetes it is built on).
  log "operator-sdk: compiling (about 7 minutes on 2 busy cores the first time)"
  (cd "$w" && go get "github.com/operator-framework/operator-sdk@$OPERATOR_SDK_VERSION" &&
    go build -trimpath -tags "$CONTAINERS_TAGS" -ldflags "-s -w -X $v.Version=$OPERATOR_SDK_VERSION -X $v.GitVersion=$OPERATOR_SDK_VERSION -X $v.GitCommit=$OPERATOR_SDK_COMMIT -X $v.KubernetesVersion=$(go list -m -f '{{.Version}}' k8s.io/api | sed 's/^v0\./v1./')" \
      -o "$out/operator-sdk" github.com/operator-framework/operator-sdk/cmd/operator-sdk)
}

# The Helm operator of the same operator-sdk release (cmd/helm-operator, on helm-operator-plugins): the peer of
# `make bench-compare`, run as a process against the local cluster. Same stamps as operator-sdk's Makefile.
build_helm-operator() {
  local out=$1 w
  w=$(wrapper helm-operator)
  local v=github.com/operator-framework/operator-sdk/internal/version
  log "helm-operator: compiling (several minutes on 2 busy cores the first time)"
  (cd "$w" && go get "github.com/operator-framework/operator-sdk@$OPERATOR_SDK_VERSION" &&
    go build -trimpath -tags "$CONTAINERS_TAGS" -ldflags "-s -w -X $v.Version=$OPERATOR_SDK_VERSION -X $v.GitVersion=$OPERATOR_SDK_VERSION -X $v.GitCommit=$OPERATOR_SDK_COMMIT -X $v.KubernetesVersion=$(go list -m -f '{{.Version}}' k8s.io/api | sed 's/^v0\./v1./')" \
      -o "$out/helm-operator" github.com/operator-framework/operator-sdk/cmd/helm-operator)
}

# zot from its source release in the shared folder (the module proxy refuses zotregistry.dev/zot/v2; its
# dependencies are ordinary modules it serves), built the way zot's Makefile builds a release: every extension but
# `ui`, jsonv2, no cgo, release tag and commit stamped into pkg/buildinfo. zli is built from the same tree with the
# same tags (as zot's Makefile does), so it reuses the server's compiled packages.
build_zot() {
  local out=$1 tarball src total ldflags bi=zotregistry.dev/zot/v2/pkg/buildinfo tags=$ZOT_BUILD_TAGS
  # zot's go.mod and go.sum pin every dependency: use them as they are.
  local -x GOFLAGS="-buildvcs=false -mod=readonly" GOEXPERIMENT=jsonv2
  tarball="$SHARED/src/zot-$ZOT_VERSION.tar.gz"
  [[ -f $tarball ]] || die "zot: source release not found at $tarball (set ZOT_OPERATOR_SHARED to the shared folder)"
  sha256sum -c --quiet - <<<"$ZOT_SHA256  $tarball" >&2 ||
    die "zot: $tarball does not have the sha256 pinned in hack/versions.env (ZOT_SHA256=$ZOT_SHA256)"
  src="$CACHE/src/zot-$ZOT_VERSION"
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$tarball" -C "$src" --strip-components=1 || die "zot: cannot unpack $tarball"
  ldflags="-s -w -X $bi.ReleaseTag=$ZOT_VERSION -X $bi.Commit=$ZOT_COMMIT"
  ldflags+=" -X $bi.BinaryType=-${tags//,/-} -X $bi.GoVersion=$(go env GOVERSION)"
  log "zot: downloading the modules of zot $ZOT_VERSION's go.sum"
  total=$(cd "$src" && go list -deps -tags "$tags" ./cmd/zot ./cmd/zli | sort -u | wc -l) ||
    die "zot: resolving the packages of zot $ZOT_VERSION failed"
  log "zot: compiling $total packages (about 13 minutes and 3.5 GB on 2 cores the first time)"
  build_zot_binaries() {
    cd "$src" &&
      go build -v -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/zot" ./cmd/zot &&
      go build -v -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/zli" ./cmd/zli
  }
  compile_with_progress zot "$out" "$total" build_zot_binaries || return 1
  "$out/zot" --version >/dev/null 2>&1 || die "zot: the built binary does not run"
}

build_servicemonitor-crd() {
  local out=$1 w dir
  w=$(wrapper servicemonitor-crd)
  dir=$(cd "$w" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" | jq -r '.Dir // empty')
  cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" "$out/"
}

# The OpenTelemetry Collector the telemetry tests export spans to: OTLP receiver + file exporter, from the wrapper
# module hack/otelcol (its go.mod/go.sum pin the collector release; OTELCOL_VERSION must name the same release). The
# cache key adds a hash of that module's files, so editing them rebuilds it.
otelcol_source_hash() {
  cat "$here"/otelcol/go.mod "$here"/otelcol/go.sum "$here"/otelcol/*.go | sha256sum | cut -c1-12
}

build_otelcol() {
  local out=$1 src="$here/otelcol" pinned total
  local -x GOFLAGS="-buildvcs=false -mod=readonly"
  pinned=$(cd "$src" && go list -m -f '{{.Version}}' go.opentelemetry.io/collector/otelcol) ||
    die "otelcol: cannot read hack/otelcol/go.mod"
  [[ $pinned == "$OTELCOL_VERSION" ]] ||
    die "otelcol: hack/otelcol/go.mod requires go.opentelemetry.io/collector/otelcol $pinned but hack/versions.env says OTELCOL_VERSION=$OTELCOL_VERSION: change both together"
  log "otelcol: downloading the modules of hack/otelcol"
  total=$(cd "$src" && go list -deps . | wc -l) || die "otelcol: resolving the packages of hack/otelcol failed"
  log "otelcol: compiling $total packages (a few minutes on 2 cores the first time)"
  compile_with_progress otelcol "$out" "$total" \
    go -C "$src" build -v -trimpath -ldflags "-s -w -X main.version=$OTELCOL_VERSION" -o "$out/otelcol" . || return 1
}

# cert-manager's controllers from the wrapper module hack/cert-manager (its go.mod pins the cert-manager release;
# CERT_MANAGER_VERSION must name the same), and the release's CRDs (deploy/crds of the module) in crds/. The cache
# key adds a hash of the wrapper's files.
cert_manager_source_hash() {
  cat "$here"/cert-manager/go.mod "$here"/cert-manager/go.sum "$here"/cert-manager/*.go | sha256sum | cut -c1-12
}

build_cert-manager() {
  local out=$1 src="$here/cert-manager" pinned dir total
  local -x GOFLAGS="-buildvcs=false -mod=readonly"
  pinned=$(cd "$src" && go list -m -f '{{.Version}}' github.com/cert-manager/cert-manager) ||
    die "cert-manager: cannot read hack/cert-manager/go.mod"
  [[ $pinned == "$CERT_MANAGER_VERSION" ]] ||
    die "cert-manager: hack/cert-manager/go.mod requires github.com/cert-manager/cert-manager $pinned but hack/versions.env says CERT_MANAGER_VERSION=$CERT_MANAGER_VERSION: change both together"
  log "cert-manager: downloading the modules of hack/cert-manager"
  (cd "$src" && go mod download) >&2 || die "cert-manager: downloading the modules failed"
  dir=$(cd "$src" && go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager) ||
    die "cert-manager: cannot locate the module github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION"
  mkdir -p "$out/crds"
  cp "$dir"/deploy/crds/*.yaml "$out/crds/" || die "cert-manager: the module has no deploy/crds"
  chmod u+w "$out"/crds/*.yaml
  total=$(cd "$src" && go list -deps . | wc -l) || die "cert-manager: resolving the packages of hack/cert-manager failed"
  log "cert-manager: compiling $total packages (a few minutes on 2 cores the first time)"
  compile_with_progress cert-manager "$out" "$total" \
    go -C "$src" build -v -trimpath -ldflags "-s -w" -o "$out/cert-manager" . || return 1
}

# kopium is a Rust tool: cargo builds it from crates.io with its own lock file. The build directory is kept in the
# cache, so an interrupted build resumes.
build_kopium() {
  local out=$1 src
  command -v cargo >/dev/null || die "kopium: cargo is not installed"
  src="$CACHE/src/kopium-$KOPIUM_VERSION"
  mkdir -p "$src"
  CARGO_TARGET_DIR="$src/target" cargo install kopium --version "${KOPIUM_VERSION#v}" --locked --root "$src/root"
  cp "$src/root/bin/kopium" "$out/kopium"
}

# MinIO, the S3 server of the test platform (hack/services.sh), from its module at a pseudo-version (MinIO publishes
# no module tags). Stamped as a DEVELOPMENT build, so it never looks for updates.
build_minio() {
  local out=$1 w total ts ldflags pkg=github.com/minio/minio/cmd
  w=$(wrapper minio)
  # v0.0.0-20260212201848-7aac2a2c5b7c: its commit time and commit.
  ts=$(sed -E 's/^v0\.0\.0-([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})-.*/\1-\2-\3T\4:\5:\6Z/' <<<"$MINIO_VERSION")
  ldflags="-s -w -X $pkg.Version=$ts -X $pkg.ReleaseTag=DEVELOPMENT.${ts//:/-}"
  ldflags+=" -X $pkg.CommitID=${MINIO_VERSION##*-} -X $pkg.ShortCommitID=${MINIO_VERSION##*-}"
  log "minio: downloading the modules of minio $MINIO_VERSION"
  (cd "$w" && go get "github.com/minio/minio@$MINIO_VERSION") >&2 || die "minio: go get failed"
  total=$(cd "$w" && go list -deps github.com/minio/minio | wc -l) || die "minio: resolving its packages failed"
  log "minio: compiling $total packages (about 10 minutes and 2.5 GB on 2 cores the first time)"
  compile_with_progress minio "$out" "$total" \
    go -C "$w" build -v -trimpath -ldflags "$ldflags" -o "$out/minio" github.com/minio/minio || return 1
  "$out/minio" --version >/dev/null 2>&1 || die "minio: the built binary does not run"
}

# minio-admin (hack/minio-admin): the few MinIO admin calls the tests need (add a user with a policy), over
# github.com/minio/madmin-go at the version minio's go.mod requires (MINIO_MADMIN_VERSION must name it). The cache
# key adds a hash of that module's files, so editing them rebuilds it.
minio_admin_source_hash() {
  cat "$here"/minio-admin/go.mod "$here"/minio-admin/go.sum "$here"/minio-admin/*.go | sha256sum | cut -c1-12
}

build_minio-admin() {
  local out=$1 src="$here/minio-admin" pinned
  local -x GOFLAGS="-buildvcs=false -mod=readonly"
  pinned=$(cd "$src" && go list -m -f '{{.Version}}' github.com/minio/madmin-go/v3) ||
    die "minio-admin: cannot read hack/minio-admin/go.mod"
  [[ $pinned == "$MINIO_MADMIN_VERSION" ]] ||
    die "minio-admin: hack/minio-admin/go.mod requires github.com/minio/madmin-go/v3 $pinned but hack/versions.env says MINIO_MADMIN_VERSION=$MINIO_MADMIN_VERSION: change both together"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out/minio-admin" .)
}

# fake-gcs-server, the Google Cloud Storage emulator of the test platform (hack/services.sh).
build_fake-gcs-server() {
  local out=$1 w
  w=$(wrapper fake-gcs-server)
  (cd "$w" && go get "github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION" &&
    go build -trimpath -ldflags "-s -w" -o "$out/fake-gcs-server" github.com/fsouza/fake-gcs-server)
}

# Azurite, the Azure Storage emulator of the test platform (hack/services.sh): the npm package at its pinned version
# (3.35.0 is the newest that runs on Node.js 20: 3.36 needs Node.js 21, 3.37 Node.js 22), installed with the machine's
# Node.js into the tool's cache folder; `azurite` (blob, queue and table) and `azurite-blob` there run it.
build_azurite() {
  local out=$1 b
  command -v npm >/dev/null || die "azurite: npm (Node.js) is not installed"
  npm install --no-audit --no-fund --loglevel=error --prefix "$out/node" "azurite@$AZURITE_VERSION" >&2 ||
    die "azurite: npm install azurite@$AZURITE_VERSION failed"
  for b in azurite azurite-blob; do
    [[ -e $out/node/node_modules/.bin/$b ]] || die "azurite: the package has no $b"
    # Relative to the wrapper: the build's folder is renamed when complete.
    printf '#!/bin/sh\nexec "$(dirname "$0")/node/node_modules/.bin/%s" "$@"\n' "$b" >"$out/$b"
    chmod +x "$out/$b"
  done
}

# cosign, which tests/supply_chain.rs signs images with (offline: a key file, no transparency log), from its module
# with the release's version stamped in as its Makefile does (CGO_ENABLED=0: no PIV/PKCS#11 keys, which we do not use).
build_cosign() {
  local out=$1 w total ldflags pkg=sigs.k8s.io/release-utils/version
  w=$(wrapper cosign)
  ldflags="-s -w -buildid= -X $pkg.gitVersion=$COSIGN_VERSION -X $pkg.gitTreeState=clean"
  ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
  log "cosign: downloading the modules of cosign $COSIGN_VERSION"
  (cd "$w" && go get "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION") >&2 || die "cosign: go get failed"
  total=$(cd "$w" && go list -deps github.com/sigstore/cosign/v2/cmd/cosign | wc -l) ||
    die "cosign: resolving its packages failed"
  log "cosign: compiling $total packages (several minutes on 2 cores the first time)"
  compile_with_progress cosign "$out" "$total" \
    go -C "$w" build -v -trimpath -ldflags "$ldflags" -o "$out/cosign" github.com/sigstore/cosign/v2/cmd/cosign ||
    return 1
  "$out/cosign" version >/dev/null 2>&1 || die "cosign: the built binary does not run"
}

# Keycloak, the OpenID Connect provider of the test platform (hack/services.sh up keycloak): the Quarkus distribution
# zip from Maven Central through the machine's Maven (a local repository of its own in the cache, so that ~/.m2 does not
# keep a second 177 MB copy), unpacked into the tool's folder. `keycloak` there runs bin/kc.sh on a JDK 21 or newer:
# KEYCLOAK_JAVA_HOME, else the newest such JDK under /usr/lib/jvm (the machine's default Java 17 is too old).
build_keycloak() {
  local out=$1 m2="$CACHE/src/keycloak-m2" zip
  command -v mvn >/dev/null || die "keycloak: mvn (Maven) is not installed"
  command -v unzip >/dev/null || die "keycloak: unzip is not installed (apt-get install unzip)"
  log "keycloak: downloading org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip (about 177 MB) with Maven"
  mvn -B -q -Dmaven.repo.local="$m2" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dstyle.color=never -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$out" >&2 ||
    die "keycloak: the Maven download of org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip failed"
  zip="$out/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  [[ -f $zip ]] || die "keycloak: Maven left no $zip"
  # The plugins stay in the cache's local repository; the distribution itself is not kept twice.
  rm -rf "$m2/org/keycloak"
  unzip -q "$zip" -d "$out" || die "keycloak: cannot unpack $zip"
  rm -f "$zip"
  mv "$out/keycloak-$KEYCLOAK_VERSION" "$out/dist"
  [[ -x $out/dist/bin/kc.sh ]] || die "keycloak: the distribution has no bin/kc.sh"
  cat >"$out/keycloak" <<'WRAPPER'
#!/usr/bin/env bash
# Runs Keycloak's bin/kc.sh on a JDK 21 or newer: KEYCLOAK_JAVA_HOME, else the newest under /usr/lib/jvm.
set -euo pipefail
major() { "$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p'; }
if [[ -n ${KEYCLOAK_JAVA_HOME:-} ]]; then
  JAVA_HOME=$KEYCLOAK_JAVA_HOME
else
  JAVA_HOME= best=0
  for j in /usr/lib/jvm/*/; do
    j=${j%/}
    [[ -x $j/bin/java ]] || continue
    m=$(major "$j")
    if [[ -n $m ]] && ((m > best)); then best=$m JAVA_HOME=$j; fi
  done
fi
m=$(major "${JAVA_HOME:-/nonexistent}" 2>/dev/null || true)
if [[ -z $m ]] || ((m < 21)); then
  echo "keycloak: needs a JDK 21 or newer (found ${JAVA_HOME:-none} ${m:+version $m}); set KEYCLOAK_JAVA_HOME" >&2
  exit 1
fi
export JAVA_HOME
exec "$(dirname "$0")/dist/bin/kc.sh" "$@"
WRAPPER
  chmod +x "$out/keycloak"
}

# OLM (v0): olm-operator (`olm`) and catalog-operator (`catalog`) as OLM's Makefile builds them (its `json1` tag is for
# cgo sqlite, which catalogs served over gRPC by address do not use; CGO_ENABLED=0 as upstream), version stamped into
# pkg/version. OLM's go.mod carries no replace directives: the wrapper requires the release, and Go's minimal version
# selection then picks exactly the versions its go.mod lists (hack/olm.sh runs them against the local cluster).
build_olm() {
  local out=$1 w total ldflags mod=github.com/operator-framework/operator-lifecycle-manager
  w=$(wrapper olm)
  ldflags="-s -w -X $mod/pkg/version.OLMVersion=$OLM_VERSION -X $mod/pkg/version.GitCommit=$OLM_COMMIT"
  log "olm: downloading the modules of $mod $OLM_VERSION"
  (cd "$w" && go get "$mod/cmd/olm@$OLM_VERSION" "$mod/cmd/catalog@$OLM_VERSION") >&2 || die "olm: go get failed"
  total=$(cd "$w" && go list -tags json1 -deps "$mod/cmd/olm" "$mod/cmd/catalog" | sort -u | wc -l) ||
    die "olm: resolving its packages failed"
  log "olm: compiling $total packages (a few minutes on 2 cores the first time)"
  build_olm_binaries() {
    go -C "$w" build -v -trimpath -tags json1 -ldflags "$ldflags" -o "$out/olm" "$mod/cmd/olm" &&
      go -C "$w" build -v -trimpath -tags json1 -ldflags "$ldflags" -o "$out/catalog" "$mod/cmd/catalog"
  }
  compile_with_progress olm "$out" "$total" build_olm_binaries || return 1
  "$out/olm" --help >/dev/null 2>&1 || die "olm: the built olm-operator does not run"
}

ensure() {
  local tool=$1 dir start
  dir=$(dir_of "$tool")
  if [[ -f $dir/.complete ]]; then
    return 0
  fi
  # Several test threads (or processes) may ask for the same tool at once: one builds it under a lock on the tool's
  # directory, the others wait and then find it complete. The lock is held in a subshell, so that it is released
  # however the build ends.
  mkdir -p "$(dirname "$dir")"
  (
    flock 8
    [[ -f $dir/.complete ]] && exit 0
    log "$tool $(version_of "$tool"): building (or fetching) into $dir (first time only)"
    start=$SECONDS
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    "build_$tool" "$dir.tmp" 8>&- || die "building $tool $(version_of "$tool") failed"
    rm -rf "$dir" && mv "$dir.tmp" "$dir" && touch "$dir/.complete"
    log "$tool $(version_of "$tool"): built in $((SECONDS - start))s"
  ) 8>"$dir.lock" || exit 1
}

ALL_TOOLS=(etcd kwok kube servicemonitor-crd oras opm otelcol zot minio minio-admin fake-gcs-server azurite
  keycloak cosign operator-sdk cert-manager olm)
# Built only when asked for: kopium by `make generate` (CI checks its output by a stamp), helm-operator by
# `make bench-compare`.
KNOWN_TOOLS=("${ALL_TOOLS[@]}" kopium helm-operator)

# The tool that builds NAME, a tool or one of its binaries (`zli` is built by `zot`, `kubectl` by `kube`).
tool_of() {
  local t b
  for t in "${KNOWN_TOOLS[@]}"; do
    for b in $(binaries_of "$t"); do
      if [[ $b == "$1" || $t == "$1" ]]; then
        echo "$t"
        return 0
      fi
    done
  done
  die "unknown tool '$1'"
}

case ${1:-build} in
  build)
    shift || true
    tools=("$@")
    ((${#tools[@]})) || tools=("${ALL_TOOLS[@]}")
    for t in "${tools[@]}"; do
      t=$(tool_of "$t") || exit 1
      ensure "$t"
    done
    log "ready: ${tools[*]}"
    ;;
  path)
    tool=${2:?usage: tools.sh path TOOL}
    t=$(tool_of "$tool") || exit 1
    ensure "$t"
    # A tool's own name names its first binary (`path zot` is the server, `path kube` kube-apiserver).
    for b in $(binaries_of "$t"); do
      if [[ $b == "$tool" || $t == "$tool" ]]; then
        echo "$(dir_of "$t")/$b"
        exit 0
      fi
    done
    ;;
  dir)
    ensure "${2:?usage: tools.sh dir TOOL}"
    dir_of "$2"
    ;;
  list)
    for t in "${KNOWN_TOOLS[@]}"; do
      state=missing
      [[ -f $(dir_of "$t")/.complete ]] && state=cached
      printf '%-20s %-10s %s\n' "$t" "$(version_of "$t")" "$state"
    done
    ;;
  *) die "usage: tools.sh build [TOOL...] | path TOOL | dir TOOL | list" ;;
esac
