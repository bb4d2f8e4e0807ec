#!/usr/bin/env bash
# The original Tycho README's demo (validate -> up -> status -> down -> status), run against the embedded
# fake Tycho (`tycho mock`) instead of a Kubernetes cluster. Needs `tycho` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

url_file=$(mktemp)
tycho mock --port 0 >"$url_file" &
mock=$!
trap 'kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null; rm -f "$url_file"' EXIT

# `tycho mock` prints its URL once it is listening.
for _ in $(seq 100); do
  [ -s "$url_file" ] && break
  sleep 0.1
done
export TYCHO_URL=$(head -n 1 "$url_file")
echo "# fake Tycho at $TYCHO_URL"

set -x
tycho validate examples/jupyter-ds/docker-compose.yaml
tycho up -f examples/jupyter-ds/docker-compose.yaml
tycho status
tycho down jupyter-ds   # by the name status shows (or by GUID)
tycho status
set +x
