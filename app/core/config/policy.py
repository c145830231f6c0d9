"""The policy sources of this computer: the machine-wide layers that come after the machine
file (Windows: :mod:`~app.core.config.policy_windows`; macOS:
:mod:`~app.core.config.policy_macos`; other systems have none)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from app.core.config.layers import Layer


def read_policy_layers(
    platform: str | None = None, environ: Mapping[str, str] | None = None
) -> list[Layer]:
    """The policy layers of ``platform`` (``sys.platform`` by default) that exist, lowest
    first. Raises ``ConfigError`` for one that exists but cannot be read."""
    name = sys.platform if platform is None else platform
    env = os.environ if environ is None else environ
    if name.startswith("win"):
        from app.core.config.policy_windows import WinregReader, read_windows_policy

        layer = read_windows_policy(WinregReader(), environ=env)
        return [] if layer is None else [layer]
    if name == "darwin":
        from app.core.config.policy_macos import read_macos_policy

        return read_macos_policy(env)
    return []
