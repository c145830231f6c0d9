#!/usr/bin/env bash
# Builds "Mail Setup Wizard.app" (packaging/build.py) and wraps it in a .dmg, on macOS.
# Signing and notarisation happen only when their environment variables are set:
#
#   MACOS_SIGN_IDENTITY     codesign identity, e.g. "Developer ID Application: Example (TEAMID)";
#                           unset: the app and the .dmg stay unsigned (ad-hoc only)
#   MACOS_KEYCHAIN          optional keychain that holds the identity (CI imports it there)
#   MACOS_NOTARY_PROFILE    a notarytool keychain profile (xcrun notarytool store-credentials), or
#   MACOS_NOTARY_APPLE_ID, MACOS_NOTARY_TEAM_ID, MACOS_NOTARY_PASSWORD (app-specific password)
#                           unset: no notarisation (needs MACOS_SIGN_IDENTITY)
#   SKIP_BUILD=1            use the existing dist/Mail Setup Wizard.app
#
# Output: dist/MailSetupWizard-<version>.dmg. Exit code 0 on success.
set -euo pipefail

cd "$(dirname "$0")/../.."
APP_NAME="Mail Setup Wizard"
APP="dist/$APP_NAME.app"
ENTITLEMENTS="packaging/macos/entitlements.plist"
PYTHON="${PYTHON:-python3}"

if [ "$(uname -s)" != "Darwin" ]; then
  echo "error: build-dmg.sh runs on macOS only" >&2
  exit 1
fi
if [ "${SKIP_BUILD:-}" != "1" ]; then
  "$PYTHON" packaging/build.py
fi
VERSION="$("$PYTHON" -c 'import json; print(json.load(open("build/stage/version.json"))["version"])')"
DMG="dist/MailSetupWizard-$VERSION.dmg"

sign() {
  # sign one file or bundle with the hardened runtime and a secure timestamp
  local args=(--force --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY")
  if [ -n "${MACOS_KEYCHAIN:-}" ]; then args+=(--keychain "$MACOS_KEYCHAIN"); fi
  codesign "${args[@]}" "$@"
}

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  echo "signing $APP as $MACOS_SIGN_IDENTITY"
  # inside out: libraries and plug-ins, the WebEngine helper, frameworks, then the app itself
  while IFS= read -r -d '' binary; do
    sign "$binary"
  done < <(find "$APP/Contents" -type f \( -name '*.dylib' -o -name '*.so' \) -print0)
  while IFS= read -r -d '' helper; do
    sign --entitlements "$ENTITLEMENTS" "$helper"
  done < <(find "$APP/Contents" -type d -name 'QtWebEngineProcess.app' -print0)
  while IFS= read -r -d '' framework; do
    sign "$framework"
  done < <(find "$APP/Contents" -type d -name '*.framework' -prune -print0)
  sign --entitlements "$ENTITLEMENTS" "$APP"
  codesign --verify --deep --strict --verbose=2 "$APP"
else
  echo "MACOS_SIGN_IDENTITY is not set: the app stays unsigned"
fi

# the disk image: the app and a link to /Applications to drag it onto
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -R "$APP" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$DMG"
hdiutil create -volname "$APP_NAME" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$DMG"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  sign "$DMG"
  notary=()
  if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
    notary=(--keychain-profile "$MACOS_NOTARY_PROFILE")
  elif [ -n "${MACOS_NOTARY_APPLE_ID:-}" ]; then
    notary=(--apple-id "$MACOS_NOTARY_APPLE_ID" --team-id "${MACOS_NOTARY_TEAM_ID:?}"
      --password "${MACOS_NOTARY_PASSWORD:?}")
  fi
  if [ ${#notary[@]} -gt 0 ]; then
    echo "notarising $DMG"
    xcrun notarytool submit "$DMG" "${notary[@]}" --wait
    xcrun stapler staple "$DMG"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"
  else
    echo "no notarisation credentials: $DMG is signed but not notarised"
  fi
fi
echo "built $DMG"
