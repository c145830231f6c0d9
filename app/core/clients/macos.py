"""Which mail programs macOS has: the application bundles in ``/Applications``,
``/System/Applications`` and ``~/Applications``, and Thunderbird's profiles.

Mail is part of macOS, so Apple Mail is always reported (its bundle as evidence when found).
``Microsoft Outlook.app`` is reported as ``new-outlook``: current Outlook for Mac is the one
that signs in to Microsoft 365 and iCloud by itself, which is what that answer means to the
wizard's advice. The version is the bundle's ``CFBundleShortVersionString``.
"""

from __future__ import annotations

import plistlib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from app.core.clients.common import InstalledApp, exists, host_path
from app.core.config.orgvalues import DefaultApp
from app.core.profiles.thunderbird import ThunderbirdError, find_profiles

__all__ = ["detect_macos"]

BUNDLES: Final[tuple[tuple[DefaultApp, str], ...]] = (
    ("new-outlook", "Microsoft Outlook.app"),
    ("thunderbird", "Thunderbird.app"),
    ("apple-mail", "Mail.app"),
)
MAIL_IS_BUILT_IN: Final = "Mail is part of macOS"


def bundle_version(bundle: Path) -> str | None:
    """The bundle's short version, or None when its Info.plist is missing or unreadable."""
    try:
        with (bundle / "Contents" / "Info.plist").open("rb") as handle:
            info = plistlib.load(handle)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None
    version = info.get("CFBundleShortVersionString") if isinstance(info, dict) else None
    return version.strip() or None if isinstance(version, str) else None


def detect_macos(environ: Mapping[str, str], root: Path | None) -> list[InstalledApp]:
    """The mail programs in the applications folders under ``root`` (default ``/``) and the
    home folder ``environ["HOME"]`` names (also under ``root``)."""
    home = host_path(environ["HOME"], root) if environ.get("HOME") else None
    folders = [host_path("/Applications", root), host_path("/System/Applications", root)]
    if home is not None:
        folders.append(home / "Applications")
    found: dict[DefaultApp, InstalledApp] = {}
    for app, name in BUNDLES:
        for folder in folders:
            bundle = folder / name
            if exists(bundle):
                found[app] = InstalledApp(app, bundle_version(bundle), str(bundle))
                break
    if "thunderbird" not in found and home is not None:
        try:
            profiles = find_profiles("macos", home=home, environ=environ)
        except ThunderbirdError:
            profiles = ()
        if profiles:
            found["thunderbird"] = InstalledApp("thunderbird", None, str(profiles[0].path))
    found.setdefault("apple-mail", InstalledApp("apple-mail", None, MAIL_IS_BUILT_IN))
    return list(found.values())
