#!/usr/bin/env bash
# Install headless Chromium (Debian's `chromium` package) for tests/test_report_html.py, which
# opens `promptlib report --html` in it. Does nothing when /usr/bin/chromium is already there.
# Needs root, or passwordless sudo, and apt.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "setup-chromium: need root or passwordless sudo to install chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium
/usr/bin/chromium --version
