"""macOS managed preferences as machine-wide configuration layers.

A configuration profile (MDM: Jamf, Intune, Kandji...) for the preference domain
``com.mailsetup`` makes macOS write ``/Library/Managed Preferences/com.mailsetup.plist``
(device profile) and ``/Library/Managed Preferences/<user>/com.mailsetup.plist`` (user
profile). Both are written by the system for the MDM only, so both are administrative layers
that may lock keys; the user's comes second and wins, as macOS gives user-scoped managed
settings precedence.

The plist mirrors the TOML file: ``schema_version`` (integer), ``locked`` (array of strings),
and one dictionary per table (``microsoft`` -> ``client_id``...). A plist value of a type a key
does not take (a boolean, a date, data) is refused by the key's parser, naming the key and the
file. Read with :mod:`plistlib` (XML or binary).
"""

from __future__ import annotations

import plistlib
from collections.abc import Mapping
from pathlib import Path

from app.core.config.layers import Layer
from app.core.config.settings import ConfigSource, LayerKind
from app.core.errors import ConfigError
from app.core.texts import Text

PREFERENCE_DOMAIN = "com.mailsetup"
MANAGED_PREFERENCES_DIR = Path("/Library/Managed Preferences")


def managed_preference_paths(
    user: str | None, root: Path = MANAGED_PREFERENCES_DIR
) -> tuple[Path, ...]:
    """The device-wide file, then the one for ``user`` (when known), lowest first."""
    name = f"{PREFERENCE_DOMAIN}.plist"
    machine = root / name
    if not user or "/" in user or user in (".", ".."):
        return (machine,)
    return (machine, root / user / name)


def current_user(environ: Mapping[str, str]) -> str | None:
    """The login name the per-user managed preferences are filed under."""
    return environ.get("USER") or environ.get("LOGNAME") or None


def read_managed_preferences(path: Path) -> Layer | None:
    """The layer in the managed-preferences plist ``path``, or None when there is none.
    A file that cannot be read or is not a property list of a dictionary is a
    ``ConfigError`` naming it."""
    location = str(path)
    detail: dict[str, str | int] = {"where": location, "file": location}
    try:
        with path.open("rb") as handle:
            data = plistlib.load(handle)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            location,
            Text("config.unreadable", {"problem": exc.strerror or str(exc)}),
            code="config.unreadable",
            detail=detail,
        ) from exc
    except (plistlib.InvalidFileException, ValueError) as exc:
        raise ConfigError(
            location,
            Text("config.plist", {"problem": str(exc) or type(exc).__name__}),
            code="config.syntax",
            detail=detail,
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            location,
            Text("config.plist", {"problem": "the top level is not a dictionary"}),
            code="config.syntax",
            detail=detail,
        )
    return Layer(ConfigSource(LayerKind.POLICY, location, path), dict(data), None)


def read_macos_policy(
    environ: Mapping[str, str], root: Path = MANAGED_PREFERENCES_DIR
) -> list[Layer]:
    """The device's and the current user's managed preferences that exist, lowest first."""
    found = (
        read_managed_preferences(path)
        for path in managed_preference_paths(current_user(environ), root)
    )
    return [layer for layer in found if layer is not None]
