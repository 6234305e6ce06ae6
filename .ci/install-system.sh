#!/usr/bin/env bash
# Install the system packages the end-to-end tests need on a fresh Debian machine.
# Idempotent and non-interactive; run as root. The tests start their own redis-server on
# a free port, so the package's system service is not started (policy-rc.d answers 101).
set -euo pipefail

# redis-server: the broker the tests start; python3-venv: venvs from /usr/bin/python3;
# util-linux and mount: unshare, setpriv and mount give each service a private /tmp.
packages=(redis-server python3-venv util-linux mount)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "install-system.sh: need root to install: ${missing[*]}" >&2
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    # A policy-rc.d answering 101 keeps dpkg from starting redis-server's service.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created_policy=1
    fi
    log=$(mktemp)
    trap 'if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi; rm -f "$log"' EXIT
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "install-system.sh: apt-get failed for: ${missing[*]}" >&2
        exit 1
    fi
    echo "install-system.sh: installed ${missing[*]}"
fi

for tool in redis-server unshare setpriv mount /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "install-system.sh: $tool missing" >&2; exit 1; }
done
