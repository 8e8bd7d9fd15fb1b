#!/usr/bin/env bash
# Install the shells and the terminal the completion and pick tests run in (tests/
# test_completion.py, tests/test_pick.py): zsh, fish and tmux, Debian's packages. Does nothing
# when all three are there; the tests skip, saying why, on a machine without them.
set -euo pipefail
missing=()
for tool in zsh fish tmux; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "setup-shells: need root or passwordless sudo to install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
