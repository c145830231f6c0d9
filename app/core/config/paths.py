"""Where the configuration layers live on each operating system.

Layers, later winning (see :mod:`app.core.config`):

1. the built-in defaults, ``resources/config/defaults.toml``;
2. the build's publisher settings, ``resources/config/publisher.toml``;
3. the user's settings, ``config.toml`` in the per-user configuration folder;
4. the file named by the environment variable ``MAILSETUP_CONFIG``;
5. the machine-wide organisation file.

Everything here is a pure function of its arguments (platform name, environment), so the paths
of every platform can be computed and tested on any one of them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path, PureWindowsPath

import platformdirs

from app.core.resources import resource_path

APP_NAME = "MailSetup"
CONFIG_FILE_NAME = "config.toml"
ENV_VAR = "MAILSETUP_CONFIG"

_WINDOWS_PROGRAM_DATA = r"C:\ProgramData"
_MACOS_MACHINE_DIR = "/Library/Application Support/MailSetup"
_UNIX_MACHINE_DIR = "/etc/mailsetup"


def defaults_path() -> Path:
    """The built-in defaults shipped with the program."""
    return resource_path("config", "defaults.toml")


def publisher_path() -> Path:
    """The publisher settings written into the build by the packaging."""
    return resource_path("config", "publisher.toml")


def user_config_path() -> Path:
    """The user's own settings file: ``%APPDATA%\\MailSetup\\config.toml`` (roaming) on Windows,
    ``~/Library/Application Support/MailSetup/config.toml`` on macOS and
    ``$XDG_CONFIG_HOME/MailSetup/config.toml`` (``~/.config/...``) elsewhere."""
    folder = platformdirs.user_config_path(APP_NAME, appauthor=False, roaming=True)
    return folder / CONFIG_FILE_NAME


def machine_config_paths(
    platform: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, ...]:
    """The machine-wide organisation file(s) for ``platform`` (``sys.platform`` by default).

    Windows: ``%ProgramData%\\MailSetup\\config.toml``; macOS:
    ``/Library/Application Support/MailSetup/config.toml``; Linux and other systems:
    ``/etc/mailsetup/config.toml``.
    """
    name = sys.platform if platform is None else platform
    env = os.environ if environ is None else environ
    if name.startswith("win"):
        base = env.get("ProgramData") or env.get("PROGRAMDATA") or _WINDOWS_PROGRAM_DATA
        return (Path(str(PureWindowsPath(base, APP_NAME, CONFIG_FILE_NAME))),)
    if name == "darwin":
        return (Path(_MACOS_MACHINE_DIR, CONFIG_FILE_NAME),)
    return (Path(_UNIX_MACHINE_DIR, CONFIG_FILE_NAME),)
