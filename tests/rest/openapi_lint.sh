#!/usr/bin/env bash
# Lints the OpenAPI document with an independent validator, Redocly's CLI (npm), at a pinned
# version installed once into TOOLS_DIR (cached across runs; the product takes nothing from npm).
# Fails on any error or warning of the recommended ruleset (tests/rest/redocly.yaml).
# Usage: openapi_lint.sh DOCUMENT TOOLS_DIR
set -euo pipefail
doc=$1
tools=$2
version=2.77.0
here=$(cd "$(dirname "$0")" && pwd)
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
installed=$(node -p "require('$tools/node_modules/@redocly/cli/package.json').version" 2>/dev/null || true)
if [[ $installed != "$version" ]]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --no-save --loglevel=error \
    "@redocly/cli@$version" >/dev/null
fi
out=$("$tools/node_modules/.bin/redocly" lint --config "$here/redocly.yaml" "$doc" 2>&1) || {
  echo "$out"
  echo "openapi_lint: redocly lint found errors in $doc" >&2
  exit 1
}
echo "$out" | tail -3
if grep -qE "You have [0-9]+ warning" <<<"$out"; then
  echo "$out"
  echo "openapi_lint: redocly lint warns about $doc" >&2
  exit 1
fi
