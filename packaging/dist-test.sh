#!/usr/bin/env bash
# Runs the frozen bundle's self-test the way a fresh machine would: a clean environment
# (env -i: no venv, no PYTHONPATH, an empty HOME) on a private X display (Xvfb via xvfb-run).
# Usage: packaging/dist-test.sh [bundle folder, default dist/mailsetup]. Exit code: the
# self-test's (0 all passed, 6 something missing), or 1 if the bundle is not there.
set -euo pipefail

bundle="${1:-dist/mailsetup}"
program="$bundle/mailsetup"
if [ ! -x "$program" ]; then
  echo "error: $program is missing: build it first (make dist)" >&2
  exit 1
fi
program="$(cd "$(dirname "$program")" && pwd)/mailsetup"
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT

# xvfb-run sets DISPLAY and XAUTHORITY; env -i drops everything else (expanded by the inner
# shell, hence the single quotes).
# shellcheck disable=SC2016
xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  bash -c 'exec env -i HOME="$1" PATH=/usr/bin:/bin LANG=C.UTF-8 \
    DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" "$2" --self-test' \
  dist-test "$home" "$program"
