"""Checking the values of the organisation keys: providers, default app, ISPDB mirror, proxy,
branding and support contact.

Same contract as :mod:`app.core.config.values`: each parser takes the value as TOML (or a
policy source) gave it and the folder relative paths are relative to (None for policy sources,
where a path must be absolute), and returns the typed value or raises :class:`InvalidValue`.
An empty string means "not set" (None) everywhere. Only :func:`logo` touches the disk (it checks
that the image exists and is a PNG or SVG).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Literal, TypeAlias, get_args
from urllib.parse import urlsplit

from app.core.config.values import InvalidValue, _string, _strings
from app.core.errors import ConfigError, InvalidAddressError
from app.core.net.options import DEFAULT_ISPDB_URL, DIRECT, parse_ispdb_url, parse_proxy
from app.core.texts import Text

DefaultApp: TypeAlias = Literal[
    "new-outlook", "classic-outlook", "thunderbird", "apple-mail", "other"
]
DEFAULT_APPS: tuple[str, ...] = get_args(DefaultApp)

#: The provider id that stands for every account no catalog provider describes (a company's
#: own server, a small ISP): lets ``providers.allowed`` permit or ``hidden`` hide "the rest".
OTHER_PROVIDER = "other"

#: ``network.ispdb_url = "none"``: the ISPDB source is not asked at all.
ISPDB_NONE = "none"

MAX_PRODUCT_NAME = 64
MAX_SUPPORT_NAME = 120
LOGO_SUFFIXES = (".png", ".svg")

_PROVIDER_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PHONE_RE = re.compile(
    r"\+?[0-9(][0-9 ()./-]*[0-9](?:\s*(?:ext\.?|x|#)\s*[0-9]{1,6})?", re.IGNORECASE
)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _optional_text(value: object, limit: int) -> str | None:
    text = _string(value)
    if not text:
        return None
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidValue(Text("config.org.control-chars"))
    if len(text) > limit:
        raise InvalidValue(Text("config.org.too-long", {"limit": limit}))
    return text


def _from_net(error: ConfigError) -> InvalidValue:
    reason = error.message.params.get("reason")
    return InvalidValue(reason if isinstance(reason, Text) else Text("config.value-invalid"))


# --- [providers] ---------------------------------------------------------------------------------


def provider_ids(value: object, _base: Path | None) -> tuple[str, ...]:
    """Provider ids of the built-in catalog (``google``, ``microsoft365``...) or ``other``.

    Only their form is checked here; ids the catalog does not know are a warning (see
    :func:`unknown_provider_ids`), kept in the list so that a typo in ``allowed`` never opens
    every provider."""
    ids: list[str] = []
    for item in _strings(value):
        name = item.lower()
        if not _PROVIDER_ID_RE.fullmatch(name):
            raise InvalidValue(Text("config.provider-id", {"value": item}))
        ids.append(name)
    return tuple(dict.fromkeys(ids))


def known_provider_ids() -> tuple[str, ...]:
    """Every id ``providers.allowed`` and ``providers.hidden`` may name: the catalog's and
    ``other``."""
    from app.core.discovery.catalog import default_catalog

    return (*(provider.id for provider in default_catalog()), OTHER_PROVIDER)


def unknown_provider_ids(
    ids: tuple[str, ...], known: tuple[str, ...] | None = None
) -> list[tuple[str, str | None]]:
    """Each id of ``ids`` that is not in ``known`` (default :func:`known_provider_ids`), with
    the known id it was probably meant to be (or None)."""
    import difflib

    choices = known_provider_ids() if known is None else known
    result: list[tuple[str, str | None]] = []
    for item in ids:
        if item in choices:
            continue
        close = difflib.get_close_matches(item, choices, n=1, cutoff=0.6)
        result.append((item, close[0] if close else None))
    return result


# --- [organisation] ------------------------------------------------------------------------------


def default_app(value: object, _base: Path | None) -> str | None:
    text = _string(value).lower()
    if not text:
        return None
    if text not in DEFAULT_APPS:
        raise InvalidValue(
            Text("config.default-app", {"value": text, "choices": ", ".join(DEFAULT_APPS)})
        )
    return text


# --- [network] -----------------------------------------------------------------------------------


def ispdb_url(value: object, _base: Path | None) -> str | None:
    """A mirror's base URL (``http`` or ``https``), ``"none"`` (None: the ISPDB is not asked),
    or empty for the public ISPDB."""
    text = _string(value)
    if not text:
        return DEFAULT_ISPDB_URL
    if text.lower() == ISPDB_NONE:
        return None
    try:
        return parse_ispdb_url(text, "network.ispdb_url")
    except ConfigError as error:
        raise _from_net(error) from error


def proxy(value: object, _base: Path | None) -> str | None:
    """A proxy URL (``http://HOST:PORT``), ``"direct"`` (no proxy at all), or empty for the
    system's proxy settings (None). A user name or password in the URL is refused: the file is
    readable by everyone on the computer and would put it in every report."""
    text = _string(value)
    if not text:
        return None
    if text.lower() in (DIRECT, "none"):
        return DIRECT
    try:
        url = parse_proxy(text, "network.proxy")
    except ConfigError as error:
        raise _from_net(error) from error
    if url is None:
        return DIRECT
    if urlsplit(url).username is not None or "@" in urlsplit(url).netloc:
        raise InvalidValue(Text("config.proxy-credentials"), code="config.proxy-credentials")
    return url


# --- [branding] ----------------------------------------------------------------------------------


def product_name(value: object, _base: Path | None) -> str | None:
    return _optional_text(value, MAX_PRODUCT_NAME)


def logo(value: object, base: Path | None) -> Path | None:
    """A PNG or SVG file; a relative path is relative to the file that names it (policy sources
    need an absolute path). The file must exist and look like what its name says."""
    text = _string(value)
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_absolute():
        if base is None:
            raise InvalidValue(Text("config.path-absolute", {"value": text}))
        path = base / path
    if path.suffix.lower() not in LOGO_SUFFIXES:
        raise InvalidValue(Text("config.logo.kind", {"value": text}), code="config.logo")
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise InvalidValue(
            Text("config.logo.missing", {"path": str(path)}),
            code="config.logo",
            detail={"path": str(path), "problem": exc.strerror or str(exc)},
        ) from exc
    is_png = head.startswith(_PNG_MAGIC)
    is_svg = b"<svg" in head.lower()
    if (path.suffix.lower() == ".png" and not is_png) or (
        path.suffix.lower() == ".svg" and not is_svg
    ):
        raise InvalidValue(
            Text("config.logo.content", {"path": str(path)}),
            code="config.logo",
            detail={"path": str(path)},
        )
    return path


# --- [support] -----------------------------------------------------------------------------------


def support_name(value: object, _base: Path | None) -> str | None:
    return _optional_text(value, MAX_SUPPORT_NAME)


def support_email(value: object, _base: Path | None) -> str | None:
    from app.core.model import EmailAddress

    text = _string(value)
    if not text:
        return None
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    try:
        address = EmailAddress.parse(text)
    except InvalidAddressError as error:
        raise InvalidValue(Text("config.support-email", {"value": text})) from error
    if any(ch.isspace() or ch in '<>,;"' for ch in text):
        raise InvalidValue(Text("config.support-email", {"value": text}))
    return str(address)


def support_phone(value: object, _base: Path | None) -> str | None:
    """A telephone number as people write it: digits, spaces, ``+ ( ) - . /``, 5 to 20 digits,
    optionally an extension (``ext. 123``, ``x123``)."""
    text = _string(value)
    if not text:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if not text.isascii() or not _PHONE_RE.fullmatch(text) or not 5 <= digits <= 20:
        raise InvalidValue(Text("config.support-phone", {"value": text}))
    return " ".join(text.split())


def support_url(value: object, _base: Path | None) -> str | None:
    """An ``https`` (or ``http``) web page with a host."""
    text = _string(value)
    if not text:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidValue(Text("config.support-url", {"value": text})) from exc
    if (
        parts.scheme.lower() not in ("https", "http")
        or not parts.hostname
        or port == 0
        or parts.username is not None
        or any(ch.isspace() for ch in text)
    ):
        raise InvalidValue(Text("config.support-url", {"value": text}))
    return text
