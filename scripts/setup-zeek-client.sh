#!/usr/bin/env bash
# Installs the real peers of the interoperability tests into .build/zeek-client-venv: zeek-client 1.5.0, and
# websockets 15.0.1 (a Python WebSocket server over TLS, see scripts/tls-test-peer.py).
# Idempotent: does nothing when the right versions are already there. Prints the zeek-client path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/zeek-client-venv
if ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("zeek-client") == "1.5.0"' 2>/dev/null; then
    rm -rf "$venv"
    mkdir -p .build
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check zeek-client==1.5.0 >&2
fi
if ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("websockets") == "15.0.1"' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check websockets==15.0.1 >&2
fi
echo "$PWD/$venv/bin/zeek-client"
