"""``mailsetup config show [--json]``: the configuration in effect, for IT and helpdesks.

Prints every key with its value, the source it came from (defaults, publisher, user,
environment, machine, policy) and whether the organisation locks it (and where); then the
network options in effect with this command's own network switches (``--proxy``,
``--ispdb-url``... a locked key's configured value wins over them, with a warning); then every
warning (unknown keys with "did you mean", ignored values, unknown provider ids).

With ``--json``: ``{"sources": [...], "settings": {key: {"value", "source", "locked",
"locked_by"}}, "network_options": {...}, "warnings": [{"code", "source", "key", "suggestion",
"message"}]}``. Exit codes: 0 shown (warnings or not), 6 the configuration is invalid (the
error names the file or policy source and the key), 1 a malformed network switch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from app.cli.exitcodes import ExitCode
from app.cli.netargs import add_network_arguments, network_options_from_args
from app.cli.output import print_json
from app.core.config import Config, ConfigSource, ConfigWarning, load_config
from app.core.net import NetworkOptions
from app.core.net.proxy import without_credentials
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="config_command", metavar="CONFIG_COMMAND", required=True)
    show = commands.add_parser(
        "show",
        help="print the configuration in effect: each value, its source, locks and warnings",
        description="Print the configuration in effect: each value with its source and "
        "whether it is locked, the network options with this command's switches, and warnings.",
    )
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.add_argument(
        "--language", choices=LANGUAGES, help="language of messages (default: the system's)"
    )
    add_network_arguments(show)


def json_value(value: object) -> JSONValue:
    """A configuration value as JSON: paths as strings, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [json_value(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _source(source: ConfigSource | None) -> JSONValue:
    return None if source is None else {"kind": source.kind.value, "location": source.location}


def _warning(warning: ConfigWarning, language: Language) -> JSONValue:
    return {
        "code": warning.code,
        "source": warning.source,
        "key": warning.key,
        "suggestion": warning.suggestion,
        "message": warning.render(language),
    }


def _network(options: NetworkOptions, config: Config) -> dict[str, JSONValue]:
    return {
        "ispdb_url": options.ispdb_url if config.network.ispdb_enabled else None,
        "proxy": None if options.proxy is None else without_credentials(options.proxy),
        "system_proxy": options.system_proxy,
        "ca_bundles": [str(path) for path in options.ca_bundles],
    }


def show_dict(
    config: Config, options: NetworkOptions, warnings: list[ConfigWarning], language: Language
) -> dict[str, JSONValue]:
    """What ``config show --json`` prints."""
    settings: dict[str, JSONValue] = {}
    for key, value in config.values.items():
        holder = config.locked_by(key)
        settings[key] = {
            "value": json_value(value),
            "source": _source(config.origins.get(key)),
            "locked": config.is_locked(key),
            "locked_by": None if holder is None else holder.location,
        }
    return {
        "sources": [_source(source) for source in config.sources],
        "settings": settings,
        "locked": [json_value(key) for key in sorted(config.locked)],
        "network_options": _network(options, config),
        "warnings": [_warning(w, language) for w in warnings],
    }


def _shown(value: object, key: str = "") -> str:
    if value is None:
        return '"none"' if key == "network.ispdb_url" else '""'
    return json.dumps(json_value(value), ensure_ascii=False)


def write_text(
    out: TextIO,
    config: Config,
    options: NetworkOptions,
    warnings: list[ConfigWarning],
    language: Language,
) -> None:
    """What ``config show`` prints without ``--json``."""

    def line(text: Text | str, indent: int = 0) -> None:
        shown = text if isinstance(text, str) else render(text, language)
        out.write(" " * indent + shown + "\n")

    line(Text("cli.config.sources"))
    for source in config.sources:
        line(str(source), 2)
    line("")
    line(Text("cli.config.keys"))
    for key, value in config.values.items():
        origin = config.origins.get(key)
        text = f"{key} = {_shown(value, key)}  ({origin})"
        holder = config.locked_by(key)
        if config.is_locked(key):
            by = render(
                Text("cli.config.locked-by", {"by": holder.location if holder else "-"}), language
            )
            text += f"  [locked: {by}]"
        line(text, 2)
    line("")
    line(Text("cli.config.network"))
    network = _network(options, config)
    ispdb = network["ispdb_url"]
    line(f"ispdb_url: {ispdb if ispdb else render(Text('cli.config.ispdb-off'), language)}", 2)
    if options.proxy is not None:
        proxy = str(network["proxy"])
    elif options.system_proxy:
        proxy = render(Text("cli.config.system-proxy"), language)
    else:
        proxy = render(Text("cli.config.no-proxy"), language)
    line(f"proxy: {proxy}", 2)
    line(f"ca_bundles: {_shown(options.ca_bundles)}", 2)
    line("")
    if not warnings:
        line(Text("cli.config.no-warnings"))
        return
    line(Text("cli.config.warnings"))
    for warning in warnings:
        line(f"- {warning.render(language)}", 2)


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    base = network_options_from_args(args)
    config = load_config()
    ignored: list[ConfigWarning] = []
    options = config.network_options(base, ignored)
    warnings = [*config.warnings, *ignored]
    if args.json:
        print_json(show_dict(config, options, warnings, language))
    else:
        write_text(sys.stdout, config, options, warnings, language)
    return ExitCode.OK
