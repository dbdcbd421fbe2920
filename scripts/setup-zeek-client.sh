#!/usr/bin/env bash
# Installs zeek-client 1.5.0 (the real peer for the interoperability tests) into .build/zeek-client-venv.
# Idempotent: does nothing when the right version is already there. Prints the zeek-client path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/zeek-client-venv
if ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("zeek-client") == "1.5.0"' 2>/dev/null; then
    rm -rf "$venv"
    mkdir -p .build
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check zeek-client==1.5.0 >&2
fi
echo "$PWD/$venv/bin/zeek-client"
