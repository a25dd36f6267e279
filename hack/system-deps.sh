#!/usr/bin/env bash
# Debian packages the test suite needs beside the Go-built tools: promtool (package prometheus), the real
# Prometheus parser that checks the operator's and zot's /metrics; jq, which reads the JSON of `go mod download
# -json` in hack/tools.sh; htpasswd (apache2-utils) for the bcrypt entries of zot's htpasswd file; ip and unshare
# (iproute2, util-linux), with which zot-podrunner gives each zot pod its own network and mount namespace; redis-server
# and redis-cli (redis-server, redis-tools), the Redis that hack/services.sh runs for the tests; curl, with which the
# scripts and tests talk HTTP (and SigV4-signed S3). Installs what is missing when run as root. (On a machine with
# systemd, Debian's redis-server package also starts a system Redis on 127.0.0.1:6379; the test platform's own binds
# 10.250.255.3 and does not collide with it.) unzip and Maven (maven) unpack and fetch Keycloak's distribution
# (hack/tools.sh build keycloak), which runs on the machine's JDK 21+ (Temurin 25 on these machines; Debian's
# default JDK 17 is too old, and this script does not install one).
# Chromium (chromium) draws the console's create form in tests/console_form.rs, driven by playwright-core from npm
# (hack/console-form); Node.js and npm come with the machine.
set -euo pipefail
missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v jq >/dev/null || missing+=(jq)
command -v htpasswd >/dev/null || missing+=(apache2-utils)
command -v ip >/dev/null || missing+=(iproute2)
command -v unshare >/dev/null || missing+=(util-linux)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v curl >/dev/null || missing+=(curl)
command -v unzip >/dev/null || missing+=(unzip)
command -v mvn >/dev/null || missing+=(maven)
command -v chromium >/dev/null || missing+=(chromium)
((${#missing[@]})) || exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "[system-deps] ERROR: missing Debian packages: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "[system-deps] installing ${missing[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
