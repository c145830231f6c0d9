"""Reading one layer of configuration: a TOML file into a table, with its kind and location.

A missing file is simply absent (except the one ``MAILSETUP_CONFIG`` names: asking for a file
that is not there is a mistake worth reporting). A file that exists but cannot be read, is not
UTF-8 or is not TOML is a ``ConfigError`` naming the file (and the line, for TOML errors). A
UTF-8 byte-order mark, which Windows Notepad may write, is accepted.

Later versions add machine-wide layers that are not files (Windows policy registry values,
macOS managed preferences): they become a :class:`Layer` too, with ``base_dir`` None.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.config.settings import ConfigSource, LayerKind
from app.core.errors import ConfigError
from app.core.texts import Text

_LINE_RE = re.compile(r"at line (\d+), column (\d+)")
_BOM = "\ufeff"


@dataclass(frozen=True)
class Layer:
    """One source of settings before checking: its raw TOML table and where it came from.

    ``base_dir`` is the folder relative paths in it are relative to (the file's folder).
    """

    source: ConfigSource
    data: dict[str, Any] = field(default_factory=dict)
    base_dir: Path | None = None

    @property
    def kind(self) -> LayerKind:
        return self.source.kind

    @property
    def location(self) -> str:
        return self.source.location


def read_layer(path: Path, kind: LayerKind, *, required: bool = False) -> Layer | None:
    """The layer in the TOML file ``path``, or None when there is no such file (a
    ``ConfigError`` instead when ``required``)."""
    location = str(path)
    try:
        present = path.exists()
    except OSError:  # a folder on the way that this user may not enter: try, and report
        present = True
    if not present:
        if required:
            raise ConfigError(
                location, Text("config.missing"), code="config.missing", detail=_detail(path)
            )
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            location,
            Text("config.unreadable", {"problem": exc.strerror or str(exc)}),
            code="config.unreadable",
            detail=_detail(path),
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            location, Text("config.encoding"), code="config.syntax", detail=_detail(path)
        ) from exc
    try:
        data = tomllib.loads(text.removeprefix(_BOM))
    except tomllib.TOMLDecodeError as exc:
        detail = _detail(path)
        found = _LINE_RE.search(str(exc))
        if found:
            detail["line"] = int(found.group(1))
            detail["column"] = int(found.group(2))
        raise ConfigError(
            location,
            Text("config.syntax", {"problem": str(exc)}),
            code="config.syntax",
            detail=detail,
        ) from exc
    source = ConfigSource(kind, location, path)
    return Layer(source, data, path.parent.absolute())


def _detail(path: Path) -> dict[str, str | int]:
    return {"where": str(path), "file": str(path)}
