"""Which mail programs are installed on this computer, so the wizard can preselect one.

Pure core (no Qt): :func:`installed_apps` looks through an injectable registry view, file-system
root and environment; :func:`preselect` turns what it found, the organisation's default app and
the provider into the one app the "Which app will you use?" page starts with.
"""

from __future__ import annotations

from app.core.clients.installed import (
    SIGNS_IN_BY_ITSELF,
    InstalledApp,
    installed_apps,
    preselect,
    preselect_from,
)
from app.core.clients.windows import HiveRegistry, WinregHiveRegistry

__all__ = [
    "SIGNS_IN_BY_ITSELF",
    "HiveRegistry",
    "InstalledApp",
    "WinregHiveRegistry",
    "installed_apps",
    "preselect",
    "preselect_from",
]
