#!/bin/sh
# Installs the system packages the test suite runs for real: Chromium (browser tests),
# systemd's systemd-analyze (the unit file check) and systemd-journal-remote (real journal
# files for the journal source). Debian/Ubuntu through apt-get; what is there already is
# not installed again, and apt-get is not run at all when nothing is missing.
set -eu

missing=""
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
have chromium || have chromium-browser || [ -n "${LOGWARD_CHROMIUM:-}" ] || missing="$missing chromium"
have systemd-analyze || missing="$missing systemd"
have /lib/systemd/systemd-journal-remote || have /usr/lib/systemd/systemd-journal-remote || missing="$missing systemd-journal-remote"
have journalctl || missing="$missing systemd"

if [ -z "$missing" ]; then
  echo "test-deps: chromium, systemd-analyze, journalctl and systemd-journal-remote are installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing:$missing; install them with your package manager (no apt-get here)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "test-deps: missing:$missing; run this script as root (or install sudo)" >&2
    exit 1
  fi
fi
echo "test-deps: installing$missing"
$sudo apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
