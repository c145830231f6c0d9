#!/usr/bin/env bash
# Installs the Debian packages the test world and the GUI tests need, only those missing.
# Safe to run repeatedly; does nothing when everything is present. Needs root (or sudo) to install.
set -euo pipefail

packages=(
  # mail servers of the test world
  dovecot-imapd dovecot-pop3d
  # virtual screen, screenshots, Japanese and Latin fonts
  xvfb xauth imagemagick fonts-ipafont-gothic fonts-dejavu-core
  # Qt's xcb platform plugin and Qt WebEngine's shared libraries
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libegl1 libgl1
  libgl1-mesa-dri libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1
  libasound2 libxshmfence1 libgbm1 libdbus-1-3
  # the Secret Service keyring under a private D-Bus session
  dbus dbus-x11 gnome-keyring libsecret-tools
  # finding, reading and typing into the real window in end-to-end tests
  xdotool
  # a test CA for Qt WebEngine (certutil), a shifted clock for skew tests
  libnss3-tools faketime
  # the real Thunderbird, to prove that exported accounts load; openssl checks CMS signatures
  thunderbird openssl
  # checks the packaging shell scripts
  shellcheck
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing missing system packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "error: these packages are missing and this is not root: ${missing[*]}" >&2
    exit 1
  fi
fi

# Packages such as dovecot must not start system-wide services: the tests start their own.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
