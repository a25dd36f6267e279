#!/usr/bin/env bash
# Draws the OpenShift console's create form of every kind the bundle owns in headless Chromium, submits every
# alm-example through it and a filled-in form per kind, and writes what was submitted and a screenshot per kind:
#
#   hack/console-form.sh --bundle bundle --out DIR [--fill JSON] [--namespace NS]   (see hack/console-form/draw.mjs)
#
# Needs Node.js 20+ with npm and Debian's Chromium (hack/system-deps.sh installs it; CHROMIUM names another). The npm
# packages of hack/console-form/package-lock.json are installed once into the tool cache, keyed by the lock file's
# hash, and linked as hack/console-form/node_modules.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
app="$here/console-form"
CACHE=${ZOT_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zot-operator}
die() { printf '[console-form] ERROR: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed: the console's form is drawn by Node.js 20+ with playwright-core"
command -v npm >/dev/null || die "npm is not installed (it comes with Node.js)"
chromium=${CHROMIUM:-$(command -v chromium || true)}
[[ -x $chromium ]] || die "Chromium is not installed: run hack/system-deps.sh as root (Debian package chromium) or set CHROMIUM"

key=$(sha256sum "$app/package-lock.json" | cut -c1-12)
modules="$CACHE/tools/console-form-$key"
if [[ ! -e $modules/.complete ]]; then
  mkdir -p "$CACHE/tools"
  (
    flock 8
    if [[ ! -e $modules/.complete ]]; then
      printf '[console-form] installing the npm packages of hack/console-form into %s (first time only)\n' "$modules" >&2
      rm -rf "$modules" && mkdir -p "$modules"
      cp "$app/package.json" "$app/package-lock.json" "$modules/"
      (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error >&2)
      touch "$modules/.complete"
    fi
  ) 8>"$modules.lock"
fi
ln -sfn "$modules/node_modules" "$app/node_modules"
exec node "$app/draw.mjs" --chromium "$chromium" "$@"
