#!/usr/bin/env bash
# Set-up, build, then run the default pipeline: 100,000 users from the built-in API into
# ./dataforge-data. Extra arguments go to `dataforge run` (e.g. --max-records 0 to run until
# Ctrl-C, or --source-url https://randomuser.me/api/?results=500).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dataforge
if (($#)); then
  exec build/src/dataforge run "$@"
fi
exec build/src/dataforge run --max-records 100000
