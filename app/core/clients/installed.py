"""The installed mail programs on any system, and the one the wizard preselects.

:func:`installed_apps` asks the detector of the system (:mod:`.windows`, :mod:`.macos`, Linux
here: Thunderbird's profiles, or its program on ``PATH``). Everything it reads is injectable:
the registry view, a root folder standing for the disk, the environment.

:func:`preselect` decides, in this order:

1. the organisation's default app (``organisation.default_app``) whenever it is set, installed
   or not: the organisation chose the program its people use, and the wizard's advice follows
   it (the page can say it is not installed yet). The one exception is ``apple-mail`` where
   Apple Mail is not found (it exists only on macOS): it falls through to the rules below;
2. new Outlook when it is installed and the provider is one it signs in to by itself
   (:data:`SIGNS_IN_BY_ITSELF`: Microsoft 365, Outlook.com, iCloud), so no app password;
3. classic Outlook when installed;
4. Thunderbird when installed;
5. Apple Mail when installed (always on macOS);
6. new Outlook when installed, whatever the provider (it reads IMAP mail too; on a new
   Windows 11 computer it may be the only mail program);
7. ``other``.
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Final

from app.core.clients.common import InstalledApp, host_path
from app.core.clients.macos import detect_macos
from app.core.clients.windows import HiveRegistry, WinregHiveRegistry, detect_windows
from app.core.config.orgvalues import DEFAULT_APPS, DefaultApp
from app.core.profiles.thunderbird import ThunderbirdError, find_profiles

__all__ = [
    "SIGNS_IN_BY_ITSELF",
    "InstalledApp",
    "installed_apps",
    "preselect",
    "preselect_from",
]

#: Catalog provider ids whose accounts new Outlook adds by signing in (no app password).
SIGNS_IN_BY_ITSELF: Final = frozenset({"microsoft365", "outlook", "icloud"})
#: Program names of Thunderbird on Linux (distribution package, Flatpak export).
THUNDERBIRD_PROGRAMS: Final = ("thunderbird", "org.mozilla.Thunderbird")


def _kind(system: str) -> str:
    name = system.lower()
    if name.startswith("win"):
        return "windows"
    if name in ("darwin", "macos", "mac"):
        return "macos"
    return "linux"


def _detect_linux(environ: Mapping[str, str], root: Path | None) -> list[InstalledApp]:
    home = host_path(environ["HOME"], root) if environ.get("HOME") else None
    mapped = dict(environ)
    if environ.get("XDG_CONFIG_HOME"):
        mapped["XDG_CONFIG_HOME"] = str(host_path(environ["XDG_CONFIG_HOME"], root))
    if home is not None:
        try:
            profiles = find_profiles("linux", home=home, environ=mapped)
        except ThunderbirdError:
            profiles = ()
        if profiles:
            return [InstalledApp("thunderbird", None, str(profiles[0].path))]
    search = os.pathsep.join(
        str(host_path(entry, root)) for entry in environ.get("PATH", "").split(os.pathsep) if entry
    )
    for program in THUNDERBIRD_PROGRAMS:
        found = shutil.which(program, path=search) if search else None
        if found:
            return [InstalledApp("thunderbird", None, found)]
    return []


def installed_apps(
    system: str | None = None,
    *,
    registry: HiveRegistry | None = None,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[InstalledApp, ...]:
    """The mail programs installed on ``system`` (``platform.system()`` by default:
    ``Windows``, ``Darwin``, ``Linux``), one per app id, in ``DefaultApp`` order.

    ``registry`` is the Windows registry view (default: the real one); ``root`` a folder that
    stands for the disk's root (default: the real disk); ``environ`` the environment whose
    ``HOME``, ``PATH``, ``APPDATA``, ``LOCALAPPDATA``, ``ProgramFiles`` are used (default:
    ``os.environ``)."""
    kind = _kind(system if system is not None else platform.system())
    env = os.environ if environ is None else environ
    if kind == "windows":
        found = detect_windows(registry or WinregHiveRegistry(), env, root)
    elif kind == "macos":
        found = detect_macos(env, root)
    else:
        found = _detect_linux(env, root)
    by_app = {app.app: app for app in reversed(found)}  # the first found for an id wins
    return tuple(by_app[app] for app in DEFAULT_APPS if app in by_app)


def preselect(
    installed: tuple[InstalledApp, ...] | list[InstalledApp],
    *,
    org_default: DefaultApp | None = None,
    provider_id: str | None = None,
) -> DefaultApp:
    """The app the "Which app will you use?" page starts with (rules in the module's doc)."""
    return preselect_from({app.app for app in installed}, org_default, provider_id)


def preselect_from(
    present: Collection[str], org_default: DefaultApp | None, provider_id: str | None
) -> DefaultApp:
    """:func:`preselect` for the ids of the apps present (what the wizard's state holds)."""
    if org_default is not None and (org_default != "apple-mail" or "apple-mail" in present):
        return org_default
    if "new-outlook" in present and provider_id in SIGNS_IN_BY_ITSELF:
        return "new-outlook"
    for app in ("classic-outlook", "thunderbird", "apple-mail", "new-outlook"):
        if app in present:
            return app
    return "other"
