#!/usr/bin/env bash
# `make demo`: the main job, against the bundled starter library, in a temporary home that is
# removed afterwards. Touches nothing of yours: PROMPTLIB_HOME and git's global config point
# into the temp dir.
set -euo pipefail
promptlib=${1:-promptlib}
demo_home=$(mktemp -d)
trap 'rm -rf "$demo_home"' EXIT
export PROMPTLIB_HOME="$demo_home/home"
export GIT_CONFIG_GLOBAL="$demo_home/gitconfig"
git config --file "$GIT_CONFIG_GLOBAL" user.name "Demo User"
git config --file "$GIT_CONFIG_GLOBAL" user.email "demo@example.invalid"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "promptlib search logs"
"$promptlib" search logs

step "promptlib search --tag ticket-deflection"
"$promptlib" search --tag ticket-deflection

step "printf '...OOMKilled...' | promptlib render log-triage -v service=checkout --no-input"
printf '%s\n' \
  '2026-11-27T03:12:01Z ERROR checkout-7f9c payment call failed: connection refused (10.0.3.7:8443)' \
  '2026-11-27T03:12:04Z WARN  checkout-7f9c retry 3/3 exhausted; circuit open' \
  '2026-11-27T03:12:09Z ERROR kubelet: container checkout OOMKilled (limit 512Mi)' \
  'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLWRlbW8' \
  | "$promptlib" render log-triage -v service=checkout --no-input

step "promptlib lint"
"$promptlib" lint
