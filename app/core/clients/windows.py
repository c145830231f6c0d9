"""Which mail programs Windows has: classic Outlook and Thunderbird from the registry, new
Outlook from its app package, Thunderbird also from its profiles.

The registry is read through a :class:`HiveRegistry` (``HKLM\\...`` and ``HKCU\\...`` paths,
each hive a :class:`~app.core.config.policy_windows.RegistryReader`): :class:`WinregHiveRegistry`
on Windows, :meth:`HiveRegistry.from_json` / :meth:`HiveRegistry.from_reg_query` over recorded
dumps in tests. Files are reached through the environment's folders (``ProgramFiles``,
``LOCALAPPDATA``, ``APPDATA``), seen under an optional root folder (see
:func:`~app.core.clients.common.host_path`).

Evidence, strongest first:

- classic Outlook: ``Office\\<ver>\\Outlook\\InstallRoot`` (``Path``) in HKLM (also the 32-bit
  ``WOW6432Node`` view), ``App Paths\\OUTLOOK.EXE``, a Click-to-Run product that includes
  Outlook (``ClickToRun\\Configuration`` ``ProductReleaseIds``, less the products whose
  ``<id>.ExcludedApps`` names outlook), then ``Office\\<ver>\\Outlook`` in HKLM or HKCU (the
  weakest: per-user settings can outlive an uninstall). The version is Click-to-Run's
  ``VersionToReport`` when there is one, else the Office version of the key (``16.0``);
- new Outlook (package ``Microsoft.OutlookForWindows``): the package in the user's AppModel
  repository (HKCU), its folder under ``%ProgramFiles%\\WindowsApps`` (listing it is often
  denied), the ``olk.exe`` execution alias under ``%LOCALAPPDATA%\\Microsoft\\WindowsApps``.
  The version comes from the package's full name;
- Thunderbird: ``Software\\Mozilla\\Mozilla Thunderbird`` (``CurrentVersion``) in HKLM or HKCU,
  ``App Paths\\thunderbird.exe``, then a profile in ``profiles.ini``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from app.core.clients.common import InstalledApp, exists, host_path
from app.core.config.policy_windows import (
    MappingRegistryReader,
    RegistryKey,
    RegistryReader,
    RegistryValue,
    WinregReader,
    parse_reg_query,
)
from app.core.profiles.thunderbird import ThunderbirdError, find_profiles

__all__ = ["HiveRegistry", "WinregHiveRegistry", "detect_windows"]

HIVES: Final = ("HKLM", "HKCU")
_HIVE_ALIASES: Final = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU"}
_SOFTWARE_VIEWS: Final = ("Software", "Software\\WOW6432Node")
_APP_PATHS: Final = "Microsoft\\Windows\\CurrentVersion\\App Paths"
_C2R: Final = "HKLM\\Software\\Microsoft\\Office\\ClickToRun\\Configuration"
_OFFICE_VERSION_RE: Final = re.compile(r"^\d+\.\d+$")
#: Click-to-Run product ids whose suites include Outlook (Home & Student does not).
_C2R_WITH_OUTLOOK_RE: Final = re.compile(
    r"^(O365|Outlook|ProPlus|Professional|HomeBusiness|Standard|Mondo)", re.IGNORECASE
)
NEW_OUTLOOK_PACKAGE: Final = "Microsoft.OutlookForWindows"
_APPMODEL_PACKAGES: Final = (
    "HKCU\\Software\\Classes\\Local Settings\\Software\\Microsoft\\Windows\\CurrentVersion"
    "\\AppModel\\Repository\\Packages"
)
_MOZILLA_THUNDERBIRD: Final = "Mozilla\\Mozilla Thunderbird"
_PATH_VARIABLES: Final = ("APPDATA", "LOCALAPPDATA", "USERPROFILE", "PROGRAMFILES", "HOME")


def _hive_of(path: str) -> tuple[str, str]:
    head, _, rest = path.partition("\\")
    hive = _HIVE_ALIASES.get(head.upper(), head.upper())
    if hive not in HIVES:
        raise ValueError(f"{path!r} does not start with HKLM or HKCU")
    return hive, rest


class HiveRegistry:
    """The registry as the detectors read it: ``read_key("HKLM\\Software\\...")`` or
    ``"HKCU\\..."``, each hive answered by its own reader (a missing hive has no keys)."""

    def __init__(self, hives: Mapping[str, RegistryReader]) -> None:
        self._hives = {name.upper(): reader for name, reader in hives.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HiveRegistry:
        """From ``{"HKLM\\\\path": [[name, data, type], ...], "HKCU\\\\...": ...}`` (the format
        of :meth:`MappingRegistryReader.from_json`; keys starting with ``_`` are comments)."""
        split: dict[str, dict[str, Any]] = {hive: {} for hive in HIVES}
        for path, rows in data.items():
            if path.startswith("_"):
                continue
            hive, rest = _hive_of(path)
            split[hive][rest] = rows
        return cls({hive: MappingRegistryReader.from_json(keys) for hive, keys in split.items()})

    @classmethod
    def from_reg_query(cls, text: str) -> HiveRegistry:
        """From what one or more ``reg query HKLM\\... /s`` / ``reg query HKCU\\... /s`` print."""
        split: dict[str, dict[str, list[RegistryValue]]] = {hive: {} for hive in HIVES}
        for path, values in parse_reg_query(text).items():
            hive, rest = _hive_of(path)
            split[hive][rest] = values
        return cls({hive: MappingRegistryReader(keys) for hive, keys in split.items()})

    def read_key(self, path: str) -> RegistryKey | None:
        hive, rest = _hive_of(path)
        reader = self._hives.get(hive)
        return None if reader is None else reader.read_key(rest)


class WinregHiveRegistry(HiveRegistry):
    """The real registry (64-bit view; ``WOW6432Node`` paths reach the 32-bit one). Reads
    nothing off Windows."""

    def __init__(self) -> None:
        super().__init__({hive: WinregReader(hive) for hive in HIVES})


# --- reading helpers --------------------------------------------------------------------------


def _key(registry: HiveRegistry, path: str) -> RegistryKey | None:
    try:
        return registry.read_key(path)
    except OSError:
        return None  # there, but not readable by this user: no evidence either way


def _value(key: RegistryKey | None, name: str) -> object | None:
    if key is None:
        return None
    wanted = name.lower()
    return next((v.data for v in key.values if v.name.lower() == wanted), None)


def _text(key: RegistryKey | None, name: str) -> str | None:
    data = _value(key, name)
    if isinstance(data, list):
        data = ",".join(str(item) for item in data)
    return data.strip() or None if isinstance(data, str) else None


def _office_versions(registry: HiveRegistry, hive: str, software: str) -> list[str]:
    office = _key(registry, f"{hive}\\{software}\\Microsoft\\Office")
    if office is None:
        return []
    found = [name for name in office.subkeys if _OFFICE_VERSION_RE.match(name)]
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")), reverse=True)


# --- classic Outlook --------------------------------------------------------------------------


def _c2r_outlook(registry: HiveRegistry) -> tuple[str | None, bool]:
    """Click-to-Run's version, and whether one of its products includes Outlook."""
    config = _key(registry, _C2R)
    version = _text(config, "VersionToReport")
    products = [p.strip() for p in (_text(config, "ProductReleaseIds") or "").split(",")]
    for product in filter(None, products):
        excluded = (_text(config, f"{product}.ExcludedApps") or "").lower().split(",")
        if _C2R_WITH_OUTLOOK_RE.match(product) and "outlook" not in excluded:
            return version, True
    return version, False


def _classic_outlook_evidence(registry: HiveRegistry) -> Iterator[tuple[str, str | None]]:
    """(evidence, Office version) pairs, strongest first."""
    for software in _SOFTWARE_VIEWS:
        for version in _office_versions(registry, "HKLM", software):
            path = f"HKLM\\{software}\\Microsoft\\Office\\{version}\\Outlook\\InstallRoot"
            if _text(_key(registry, path), "Path"):
                yield path, version
    for software in _SOFTWARE_VIEWS:
        path = f"HKLM\\{software}\\{_APP_PATHS}\\OUTLOOK.EXE"
        if _key(registry, path) is not None:
            yield path, None
    if _c2r_outlook(registry)[1]:
        yield f"{_C2R} (ProductReleaseIds)", None
    for hive in HIVES:
        for software in _SOFTWARE_VIEWS:
            for version in _office_versions(registry, hive, software):
                path = f"{hive}\\{software}\\Microsoft\\Office\\{version}\\Outlook"
                if _key(registry, path) is not None:
                    yield path, version


def classic_outlook(registry: HiveRegistry) -> InstalledApp | None:
    evidence = next(_classic_outlook_evidence(registry), None)
    if evidence is None:
        return None
    c2r_version, c2r_has_outlook = _c2r_outlook(registry)
    version = c2r_version if c2r_has_outlook else evidence[1]
    return InstalledApp("classic-outlook", version, evidence[0])


# --- new Outlook ------------------------------------------------------------------------------


def _package_version(full_name: str) -> str | None:
    """The version in a package full name: ``1.2024.1023.300`` from
    ``Microsoft.OutlookForWindows_1.2024.1023.300_x64__8wekyb3d8bbwe``."""
    parts = full_name.split("_")
    return parts[1] if len(parts) > 2 and parts[1] else None


def _is_package(name: str) -> bool:
    return name.lower().startswith(NEW_OUTLOOK_PACKAGE.lower() + "_")


def _newest_first(names: Iterable[str]) -> list[str]:
    """The new Outlook package names among ``names``, the highest version first."""

    def version(name: str) -> tuple[int, ...]:
        text = _package_version(name) or ""
        return tuple(int(part) for part in text.split(".") if part.isdigit())

    return sorted((name for name in names if _is_package(name)), key=version, reverse=True)


def _listing(folder: Path) -> list[str]:
    try:
        return sorted(entry.name for entry in folder.iterdir())
    except OSError:  # WindowsApps is usually not listable by users
        return []


def new_outlook(registry: HiveRegistry, env: Callable[[str], Path | None]) -> InstalledApp | None:
    packages = _key(registry, _APPMODEL_PACKAGES)
    for name in _newest_first(packages.subkeys if packages else ()):
        return InstalledApp("new-outlook", _package_version(name), f"{_APPMODEL_PACKAGES}\\{name}")
    program_files = env("PROGRAMFILES")
    if program_files is not None:
        apps = program_files / "WindowsApps"
        for name in _newest_first(_listing(apps)):
            return InstalledApp("new-outlook", _package_version(name), str(apps / name))
    local = env("LOCALAPPDATA")
    if local is not None:
        aliases = local / "Microsoft" / "WindowsApps"
        for alias in (
            aliases / "olk.exe",
            aliases / f"{NEW_OUTLOOK_PACKAGE}_8wekyb3d8bbwe" / "olk.exe",
        ):
            if exists(alias) or alias.is_symlink():
                return InstalledApp("new-outlook", None, str(alias))
    return None


# --- Thunderbird ------------------------------------------------------------------------------

_TB_VERSION_RE: Final = re.compile(r"^\s*([0-9][0-9a-z.]*)")


def thunderbird(
    registry: HiveRegistry, env: Callable[[str], Path | None], environ: Mapping[str, str]
) -> InstalledApp | None:
    for hive in HIVES:
        for software in _SOFTWARE_VIEWS:
            path = f"{hive}\\{software}\\{_MOZILLA_THUNDERBIRD}"
            current = _text(_key(registry, path), "CurrentVersion")
            if current:
                match = _TB_VERSION_RE.match(current)
                return InstalledApp("thunderbird", match.group(1) if match else None, path)
    for software in _SOFTWARE_VIEWS:
        path = f"HKLM\\{software}\\{_APP_PATHS}\\thunderbird.exe"
        if _key(registry, path) is not None:
            return InstalledApp("thunderbird", None, path)
    home = env("USERPROFILE") or env("HOME")
    try:
        profiles = find_profiles("windows", home=home, environ=environ)
    except ThunderbirdError:
        profiles = ()
    if profiles:
        return InstalledApp("thunderbird", None, str(profiles[0].path))
    return None


# --- all of them ------------------------------------------------------------------------------


def detect_windows(
    registry: HiveRegistry, environ: Mapping[str, str], root: Path | None
) -> list[InstalledApp]:
    """Every mail program ``registry`` and the folders of ``environ`` (under ``root``) show."""
    folded = {name.upper(): value for name, value in environ.items() if value}

    def env(name: str) -> Path | None:
        value = folded.get(name.upper())
        return None if value is None else host_path(value, root)

    mapped = dict(environ)
    for name in _PATH_VARIABLES:
        path = env(name)
        if path is not None:
            mapped[name] = str(path)
    found = [
        new_outlook(registry, env),
        classic_outlook(registry),
        thunderbird(registry, env, mapped),
    ]
    return [app for app in found if app is not None]
