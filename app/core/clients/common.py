"""What every per-system detector shares: the found app and how a path is found under a root."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.core.config.orgvalues import DefaultApp


@dataclass(frozen=True)
class InstalledApp:
    """One installed mail program: its id (a ``DefaultApp`` value), its version when the
    evidence says it, and the evidence (a registry key, a file or folder) that showed it."""

    app: DefaultApp
    version: str | None
    evidence: str

    def to_dict(self) -> dict[str, object]:
        return {"app": self.app, "version": self.version, "evidence": self.evidence}


def host_path(text: str, root: Path | None) -> Path:
    """The path ``text`` names (``C:\\Program Files`` or ``/Applications``), seen under
    ``root`` when one is given (``root/C/Program Files``, ``root/Applications``): how tests
    give a whole fake disk as a folder. Without ``root`` the path is used as it is."""
    if root is None:
        return Path(text)
    parts = [part for part in re.split(r"[\\/]", text) if part]
    if parts and len(parts[0]) == 2 and parts[0][1] == ":":
        parts[0] = parts[0][0].upper()
    return root.joinpath(*parts)


def exists(path: Path) -> bool:
    """Whether ``path`` exists; False when it cannot be looked at (no permission)."""
    try:
        return path.exists()
    except OSError:
        return False
