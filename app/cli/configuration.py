"""The configuration as the CLI sees it: loaded once per command, warnings shown, errors fatal.

Unknown keys and other warnings go to standard error in the user's language and never stop the
command; an invalid configuration raises ``ConfigError``, which ``main`` turns into exit code 6.
"""

from __future__ import annotations

import argparse
import sys

from app.cli.netargs import network_options_from_args
from app.core.config import Config, ConfigWarning, load_config
from app.core.net import NetworkOptions
from app.core.texts import Language, language_from_environment


def load(language: Language) -> Config:
    """The merged configuration; its warnings printed to standard error."""
    config = load_config()
    for warning in config.warnings:
        sys.stderr.write(f"mailsetup: {warning.render(language)}\n")
    return config


def network_options(
    args: argparse.Namespace, config: Config, language: Language | None = None
) -> NetworkOptions:
    """The command line's network switches plus the configured CA bundles, ISPDB mirror and
    proxy; a switch that a locked setting overrides is named on standard error."""
    ignored: list[ConfigWarning] = []
    options = config.network_options(network_options_from_args(args), ignored)
    shown_in = language or language_from_environment()
    for warning in ignored:
        sys.stderr.write(f"mailsetup: {warning.render(shown_in)}\n")
    return options
