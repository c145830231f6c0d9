"""Applying ``[network]`` to the command line's :class:`NetworkOptions`.

The command line wins over the configuration, except for a key the organisation locks: then
the configured value wins and a ``config.locked-option-ignored`` warning says that the
command-line value was ignored. CA bundles are never a conflict: the configured ones are added
to the command line's.

A value "came from the command line" when it differs from what ``NetworkOptions()`` holds
when no switch is given (``--ispdb-url`` other than the public ISPDB; ``--proxy`` given at
all, which turns the system's proxy settings off).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from app.core.config.settings import ConfigSource, ConfigWarning, NetworkSettings
from app.core.net.options import DEFAULT_ISPDB_URL, DIRECT, NetworkOptions
from app.core.net.proxy import without_credentials
from app.core.texts import Text

#: Where a command-line value is said to come from in warnings.
COMMAND_LINE = "command line"

#: Returns the layer that locks a key, or None when it is not locked.
LockLookup = Callable[[str], "ConfigSource | None"]


def proxy_text(options: NetworkOptions) -> str:
    """The proxy choice of ``options`` as it is written in a file: empty for the system's,
    ``direct`` for none, else the URL."""
    if options.proxy is not None:
        return without_credentials(options.proxy)
    return "" if options.system_proxy else DIRECT


def _proxy_fields(proxy: str | None) -> tuple[str | None, bool]:
    """(``NetworkOptions.proxy``, ``system_proxy``) for a configured proxy value."""
    if proxy is None:
        return None, True
    if proxy == DIRECT:
        return None, False
    return proxy, False


def apply_network(
    base: NetworkOptions,
    network: NetworkSettings,
    locked_by: LockLookup,
    ignored: list[ConfigWarning] | None = None,
) -> NetworkOptions:
    """``base`` with the configured CA bundles added, and the configured ISPDB URL and proxy
    where the command line did not set them or the key is locked. A ``config.locked-option-
    ignored`` warning is appended to ``ignored`` (when given) for each command-line value a
    lock overrides.

    ``network.ispdb_url = "none"`` becomes ``NetworkOptions.ispdb_url = None``: the ISPDB
    source is then skipped.
    """
    bundles = tuple(dict.fromkeys((*base.ca_bundles, *network.ca_bundle)))
    options = replace(base, ca_bundles=bundles)

    cli_ispdb = base.ispdb_url != DEFAULT_ISPDB_URL
    holder = locked_by("network.ispdb_url")
    if holder is not None or not cli_ispdb:
        if holder is not None and cli_ispdb and base.ispdb_url != network.ispdb_url:
            _warn(ignored, "network.ispdb_url", "--ispdb-url", base.ispdb_url or "", holder)
        options = replace(options, ispdb_url=network.ispdb_url)  # None: the ISPDB is off

    cli_proxy = base.proxy is not None or not base.system_proxy
    holder = locked_by("network.proxy")
    if holder is not None or not cli_proxy:
        proxy, system = _proxy_fields(network.proxy)
        if holder is not None and cli_proxy and proxy_text(base) != (network.proxy or ""):
            _warn(ignored, "network.proxy", "--proxy", proxy_text(base), holder)
        options = replace(options, proxy=proxy, system_proxy=system)
    return options


def _warn(
    ignored: list[ConfigWarning] | None,
    key: str,
    switch: str,
    value: str,
    holder: ConfigSource,
) -> None:
    if ignored is None:
        return
    message = Text(
        "config.locked-option-ignored",
        {"key": key, "option": switch, "value": value or "-", "by": holder.location},
    )
    ignored.append(ConfigWarning("config.locked-option-ignored", COMMAND_LINE, message, key))
