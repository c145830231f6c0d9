"""The program's version, read from the installed distribution's metadata.

pyproject.toml is the one place the version is written. A source checkout that was never
installed, or a frozen bundle without metadata, falls back to reading pyproject.toml or to the
``version.txt`` that the packaging writes into resources/.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

_DIST = "mailsetup"


def _read_version() -> str:
    checkout_pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if checkout_pyproject.is_file():
        match = re.search(
            r'^version\s*=\s*"([^"]+)"', checkout_pyproject.read_text("utf-8"), re.MULTILINE
        )
        if match:
            return match.group(1)
    try:
        return metadata.version(_DIST)
    except metadata.PackageNotFoundError:
        pass
    from app.core.resources import resource_path

    stamp = resource_path("version.txt")
    if stamp.is_file():
        return stamp.read_text("utf-8").strip()
    return "0+unknown"


__version__ = _read_version()
