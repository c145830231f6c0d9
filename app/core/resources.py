"""Where the program's data files (``resources/``) are, in every way the program can be run.

- a frozen bundle (PyInstaller): ``<bundle>/resources``;
- a source checkout (``make run``, tests): the top-level ``resources/`` beside ``app/``;
- an installed wheel: ``app/resources`` inside the package (setup.py maps the folder there).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_root() -> Path:
    """The folder holding the program's resources; raises FileNotFoundError if there is none."""
    candidates: list[Path] = []
    frozen_base = getattr(sys, "_MEIPASS", None)
    if frozen_base:
        candidates.append(Path(frozen_base) / "resources")
    package_dir = Path(__file__).resolve().parent.parent
    candidates.append(package_dir.parent / "resources")  # source checkout
    candidates.append(package_dir / "resources")  # installed wheel
    for candidate in candidates:
        if (candidate / "MANIFEST.txt").is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"the program's resources folder is missing (looked in: {tried})")


def resource_path(*parts: str) -> Path:
    """The path of one resource, e.g. ``resource_path("texts", "core.toml")``."""
    return resources_root().joinpath(*parts)
