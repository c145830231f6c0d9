"""Checking and converting the value of one configuration key.

Each parser takes the value as TOML gave it and the folder of the file it came from (for
relative paths), and returns the typed value or raises :class:`InvalidValue` carrying a
translatable reason. The loader turns that into a ``ConfigError`` naming the key and the file.
No parser does I/O except :func:`ca_bundles`, which checks that each file holds certificates.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeAlias, get_args
from urllib.parse import urlsplit

from app.core.errors import ConfigError
from app.core.net.options import check_ca_bundle, normalize_host
from app.core.texts import Text

#: How a parser is called: (value from TOML, folder of the file it came from or None).
Parser: TypeAlias = Callable[[object, Path | None], object]

AccountTypes: TypeAlias = Literal["organizations", "consumers", "common", "single-tenant"]
ACCOUNT_TYPES: tuple[str, ...] = get_args(AccountTypes)

#: Scopes MSAL adds by itself and refuses when a caller passes them.
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})

_GUID_RE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_TENANT_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_HOST_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
# Microsoft does not support the IPv6 loopback address ([::1]) in redirect URIs.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})


class InvalidValue(Exception):
    """A value that does not fit its key; ``reason`` says why, ``code`` is the finding code."""

    def __init__(
        self, reason: Text, code: str = "config.value", detail: dict[str, str] | None = None
    ) -> None:
        super().__init__(reason.key)
        self.reason = reason
        self.code = code
        self.detail: dict[str, str] = dict(detail or {})


def toml_kind(value: object) -> str:
    """The TOML name of a value's type, as the messages show it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime.date | datetime.time):
        return "datetime"
    return type(value).__name__


def wrong_type(expected: str, value: object) -> InvalidValue:
    """``expected`` is one of: string, integer, array, table, string-or-array."""
    kinds = {
        "string": Text("config.kind.string"),
        "integer": Text("config.kind.integer"),
        "array": Text("config.kind.array"),
        "table": Text("config.kind.table"),
        "string-or-array": Text("config.kind.string-or-array"),
    }
    return InvalidValue(
        Text("config.type", {"expected": kinds[expected], "actual": toml_kind(value)}),
        code="config.type",
    )


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise wrong_type("string", value)
    return value.strip()


def _strings(value: object, *, allow_single: bool = False) -> tuple[str, ...]:
    if allow_single and isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise wrong_type("string-or-array" if allow_single else "array", value)
    items: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise InvalidValue(
                Text("config.list-item", {"actual": toml_kind(item)}), code="config.type"
            )
        text = item.strip()
        if not text:
            raise InvalidValue(Text("config.list-empty-item"))
        items.append(text)
    return tuple(dict.fromkeys(items))


# --- the parsers ---------------------------------------------------------------------------------


def schema_version(value: object, _base: Path | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type("integer", value)
    if value < 1:
        raise InvalidValue(Text("config.schema-version", {"value": value}))
    return value


def client_id(value: object, _base: Path | None) -> str | None:
    """An application (client) ID: a GUID. Empty means "none"."""
    text = _string(value)
    if not text:
        return None
    if not _GUID_RE.fullmatch(text):
        raise InvalidValue(Text("config.client-id", {"value": text}))
    return text.lower()


def authority(value: object, _base: Path | None) -> str | None:
    """A full ``https`` authority URL with a tenant path; the trailing slash is dropped."""
    text = _string(value)
    if not text:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port  # ValueError for a port that is not a number
    except ValueError as exc:
        raise InvalidValue(Text("config.authority.form", {"value": text})) from exc
    if parts.scheme.lower() == "http":
        raise InvalidValue(Text("config.authority.https", {"value": text}))
    if (
        parts.scheme.lower() != "https"
        or not parts.hostname
        or port == 0
        or parts.username is not None
        or parts.query
        or parts.fragment
        or not parts.path.strip("/")
    ):
        raise InvalidValue(Text("config.authority.form", {"value": text}))
    return text.rstrip("/")


def tenant(value: object, _base: Path | None) -> str | None:
    """A tenant: its GUID or one of its domain names (``contoso.onmicrosoft.com``)."""
    text = _string(value)
    if not text:
        return None
    if not _TENANT_RE.fullmatch(text) or ".." in text:
        raise InvalidValue(Text("config.tenant", {"value": text}))
    return text


def account_types(value: object, _base: Path | None) -> str:
    text = _string(value).lower()
    if text not in ACCOUNT_TYPES:
        raise InvalidValue(
            Text(
                "config.account-types",
                {"value": text, "choices": ", ".join(ACCOUNT_TYPES)},
            )
        )
    return text


def redirect_uri(value: object, _base: Path | None) -> str:
    """An ``https`` URL, or an ``http`` URL on the loopback interface (``http://localhost``)."""
    text = _string(value)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidValue(Text("config.redirect-uri", {"value": text})) from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    fits = (scheme == "https" and bool(host)) or (scheme == "http" and host in _LOOPBACK_HOSTS)
    if not fits or port == 0 or parts.fragment or parts.username is not None:
        raise InvalidValue(Text("config.redirect-uri", {"value": text}))
    return text


def scopes(value: object, _base: Path | None) -> tuple[str, ...]:
    """At least one scope, none that MSAL reserves, all on one resource (one token per
    resource: Microsoft refuses a request that mixes them)."""
    items = _strings(value)
    if not items:
        raise InvalidValue(Text("config.scopes.empty"))
    for item in items:
        if item.lower() in RESERVED_SCOPES:
            raise InvalidValue(Text("config.scopes.reserved", {"value": item}))
    resources = dict.fromkeys(scope_resource(item) for item in items)
    if len(resources) > 1:
        raise InvalidValue(
            Text("config.scopes.resources", {"resources": ", ".join(r or "-" for r in resources)})
        )
    return items


def scope_resource(scope: str) -> str:
    """The resource part of a scope (``https://outlook.office.com`` of
    ``https://outlook.office.com/SMTP.Send``); empty for a bare scope such as ``User.Read``."""
    if "://" not in scope:
        return ""
    head, _, _ = scope.rpartition("/")
    return head.lower() if "://" in head else scope.lower()


def host_names(value: object, _base: Path | None) -> tuple[str, ...]:
    """Host names; an entry may start with ``*.`` to stand for every name under a domain."""
    names: list[str] = []
    for item in _strings(value):
        wildcard = item.startswith("*.")
        name = normalize_host(item[2:] if wildcard else item)
        labels = name.split(".")
        if not all(_HOST_LABEL_RE.fullmatch(label) for label in labels) or (
            wildcard and len(labels) < 2
        ):
            raise InvalidValue(Text("config.host", {"value": item}))
        names.append(f"*.{name}" if wildcard else name)
    return tuple(dict.fromkeys(names))


def ca_bundles(value: object, base: Path | None) -> tuple[Path, ...]:
    """PEM files of extra trusted CAs; a relative path is relative to ``base`` (the folder of
    the file that names it). Each must be readable and hold at least one certificate."""
    paths: list[Path] = []
    for item in _strings(value, allow_single=True):
        path = Path(item).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        try:
            check_ca_bundle(path, "network.ca_bundle")
        except ConfigError as error:
            reason = error.message.params.get("reason")
            raise InvalidValue(
                reason if isinstance(reason, Text) else Text("config.value-invalid"),
                code="config.ca-bundle",
                detail={"path": str(path), "problem": str(error.detail.get("problem", ""))},
            ) from error
        paths.append(path)
    return tuple(dict.fromkeys(paths))


def host_matches(host: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """True when ``host`` is one of ``patterns`` (as :func:`host_names` returns them): equal
    to a name, or under the domain of a ``*.domain`` entry (not the domain itself)."""
    name = normalize_host(host)
    for pattern in patterns:
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]) and name != pattern[2:]:
                return True
        elif name == pattern:
            return True
    return False
