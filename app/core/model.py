"""The data that flows between the layers: addresses, server endpoints, account settings with
where they came from, and the findings of checks. Frozen, typed, and free of I/O.

Everything here has a ``to_dict()`` in the shape the CLI prints as JSON. Texts meant for people
are :class:`~app.core.texts.Text` references, rendered when a language is known.
"""

from __future__ import annotations

import ipaddress
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

import idna
from idna.idnadata import codepoint_classes
from idna.intranges import intranges_contain

from app.core.errors import AddressProblem, Fixer, InvalidAddressError, InvalidSettingError
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

__all__ = [
    "AccountConfig",
    "AuthKind",
    "EmailAddress",
    "Endpoint",
    "Finding",
    "Fixer",
    "Outcome",
    "Protocol",
    "Provenance",
    "Security",
    "Trust",
    "normalise_host",
]

# RFC 5321 4.5.3.1: limits in octets.
MAX_LOCAL_OCTETS: Final = 64
MAX_ADDRESS_OCTETS: Final = 254  # the 256-octet path minus its angle brackets
MAX_DOMAIN_OCTETS: Final = 253  # RFC 1035, in the ASCII (punycode) form, without a final dot
MAX_LABEL_OCTETS: Final = 63

# RFC 5322 atext, plus "." between atoms; RFC 6531 adds any non-ASCII character.
_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")
# Invisible characters that copying an address from a web page or a document leaves around it.
_EDGE_JUNK = "\u200b\u200c\u200d\u2060\ufeff"
# Full stops that mean "." in a domain typed with a Japanese or Chinese input method (UTS 46).
_IDEOGRAPHIC_STOPS = str.maketrans({"\u3002": ".", "\uff61": "."})
_LDH = frozenset(string.ascii_lowercase + string.digits + "-")
_CODE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")


# --- addresses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailAddress:
    """An email address as the person meant it. Build one with :meth:`parse`.

    ``local`` keeps its case (servers may treat it as significant); ``domain`` is the Unicode
    form in lower case (``bücher.example``), ``domain_ascii`` the form DNS uses
    (``xn--bcher-kva.example``). ``str()`` gives the Unicode address.
    """

    local: str
    domain: str
    domain_ascii: str

    @classmethod
    def parse(cls, text: str) -> EmailAddress:
        """Parse what a person typed. Raises InvalidAddressError saying what is wrong.

        Surrounding spaces are dropped and the text is NFKC-normalised first, so full-width
        input (``ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ``) works, and so does ``。`` between domain labels.
        """
        cleaned = unicodedata.normalize("NFKC", text).strip().strip(_EDGE_JUNK).strip()
        if not cleaned:
            raise InvalidAddressError(AddressProblem.EMPTY)
        if any(ch.isspace() for ch in cleaned):
            raise InvalidAddressError(AddressProblem.SPACES)
        at_count = cleaned.count("@")
        if at_count == 0:
            raise InvalidAddressError(AddressProblem.NO_AT)
        if at_count > 1:
            raise InvalidAddressError(AddressProblem.MULTIPLE_AT, {"count": at_count})
        local, domain = cleaned.split("@")
        if not local:
            raise InvalidAddressError(AddressProblem.EMPTY_LOCAL)
        if not domain:
            raise InvalidAddressError(AddressProblem.EMPTY_DOMAIN)
        _check_local(local)
        domain_ascii = _domain_to_ascii(domain)
        octets = len(local.encode("utf-8")) + 1 + len(domain_ascii)
        if octets > MAX_ADDRESS_OCTETS:
            raise InvalidAddressError(
                AddressProblem.TOO_LONG, {"length": octets, "limit": MAX_ADDRESS_OCTETS}
            )
        return cls(local=local, domain=idna.decode(domain_ascii), domain_ascii=domain_ascii)

    @property
    def ascii(self) -> str:
        """``local@punycode-domain``: what goes on the wire. Pure ASCII unless the local part
        is not (then :attr:`needs_smtputf8` is true and there is no ASCII form)."""
        return f"{self.local}@{self.domain_ascii}"

    @property
    def needs_smtputf8(self) -> bool:
        """True when the local part is internationalised (RFC 6531): servers must offer
        SMTPUTF8 (SMTP) or UTF8=ACCEPT (IMAP) to handle it."""
        return not self.local.isascii()

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


def _check_local(local: str) -> None:
    bad = [ch for ch in local if not (ch in _ATEXT or ch == "." or _is_utf8_atext(ch))]
    if bad:
        raise InvalidAddressError(
            AddressProblem.LOCAL_CHARACTERS, {"characters": _show_characters(bad)}
        )
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidAddressError(AddressProblem.LOCAL_DOTS)
    octets = len(local.encode("utf-8"))
    if octets > MAX_LOCAL_OCTETS:
        raise InvalidAddressError(
            AddressProblem.LOCAL_TOO_LONG, {"length": octets, "limit": MAX_LOCAL_OCTETS}
        )


def _is_utf8_atext(ch: str) -> bool:
    """A non-ASCII character usable in an internationalised local part: letters, marks,
    digits, punctuation and symbols; not controls, format characters or separators."""
    return not ch.isascii() and unicodedata.category(ch)[0] in "LMNPS"


def _domain_to_ascii(domain: str) -> str:
    """The domain's ASCII form, lower case, or InvalidAddressError saying what is wrong."""
    domain = domain.translate(_IDEOGRAPHIC_STOPS)
    if domain.endswith(".") and not domain.endswith(".."):
        domain = domain[:-1]  # a fully qualified "example.jp." means "example.jp"
        if not domain:
            raise InvalidAddressError(AddressProblem.EMPTY_DOMAIN)
    labels = domain.split(".")
    if any(not label for label in labels):
        raise InvalidAddressError(AddressProblem.DOMAIN_EMPTY_LABEL)
    if len(labels) < 2:
        raise InvalidAddressError(AddressProblem.DOMAIN_NO_DOT, {"domain": domain})
    bad = [ch for ch in domain if ch != "." and not _is_domain_character(ch)]
    if bad:
        raise InvalidAddressError(
            AddressProblem.DOMAIN_CHARACTERS, {"characters": _show_characters(bad)}
        )
    ascii_labels: list[str] = []
    for label in labels:
        if label.startswith("-") or label.endswith("-"):
            raise InvalidAddressError(AddressProblem.DOMAIN_HYPHEN, {"label": label})
        too_long = InvalidAddressError(
            AddressProblem.LABEL_TOO_LONG, {"label": label, "limit": MAX_LABEL_OCTETS}
        )
        if label.isascii() and len(label) > MAX_LABEL_OCTETS:
            raise too_long
        try:
            encoded = idna.encode(label, uts46=True, std3_rules=True).decode("ascii")
        except UnicodeError as exc:  # idna.IDNAError and the punycode codec's errors
            if "too long" in str(exc).lower():
                raise too_long from exc
            raise InvalidAddressError(AddressProblem.DOMAIN_INVALID, {"domain": domain}) from exc
        if len(encoded) > MAX_LABEL_OCTETS:
            raise too_long
        ascii_labels.append(encoded)
    if ascii_labels[-1].isdigit():
        raise InvalidAddressError(AddressProblem.DOMAIN_NUMERIC, {"domain": domain})
    domain_ascii = ".".join(ascii_labels)
    if len(domain_ascii) > MAX_DOMAIN_OCTETS:
        raise InvalidAddressError(AddressProblem.DOMAIN_TOO_LONG, {"limit": MAX_DOMAIN_OCTETS})
    try:
        # Rules that span labels (bidirectional text) are checked on the whole name, and the
        # ASCII form must decode back.
        idna.encode(domain_ascii, uts46=True, std3_rules=True)
        idna.decode(domain_ascii)
    except UnicodeError as exc:
        raise InvalidAddressError(AddressProblem.DOMAIN_INVALID, {"domain": domain}) from exc
    return domain_ascii


def _is_domain_character(ch: str) -> bool:
    """Whether ``ch`` can appear in a domain name as typed (IDNA 2008 after UTS 46 mapping).

    Only used to point at the offending characters; idna itself has the final word."""
    if ch.isascii():
        return ch.lower() in _LDH
    try:
        mapped = idna.uts46_remap(ch, std3_rules=True, transitional=False)
    except idna.IDNAError:
        return False
    return all(
        (m.isascii() and m.lower() in _LDH)
        or any(intranges_contain(ord(m), codepoint_classes[kind]) for kind in codepoint_classes)
        for m in mapped
    )


def _show_characters(chars: list[str]) -> str:
    """The offending characters, each once, in order, invisible ones as U+XXXX."""
    shown: list[str] = []
    for ch in dict.fromkeys(chars):
        printable = ch.isprintable() and unicodedata.category(ch)[0] not in "CZM"
        shown.append(ch if printable else f"U+{ord(ch):04X}")
    return " ".join(shown)


# --- servers ----------------------------------------------------------------------------------


class Protocol(StrEnum):
    IMAP = "imap"
    POP3 = "pop3"
    SMTP = "smtp"
    CALDAV = "caldav"
    CARDDAV = "carddav"

    @property
    def is_incoming(self) -> bool:
        """IMAP and POP3: the protocols an account reads mail with."""
        return self in (Protocol.IMAP, Protocol.POP3)

    def default_port(self, security: Security) -> int:
        """The standard port for this protocol with this kind of security."""
        return _DEFAULT_PORTS[self][security]


class Security(StrEnum):
    TLS = "tls"  # implicit TLS: encrypted from the first byte (993, 995, 465, 443)
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS
    PLAIN = "plain"  # no encryption

    @property
    def is_encrypted(self) -> bool:
        return self is not Security.PLAIN

    @property
    def rank(self) -> int:
        """Higher is better: implicit TLS, then STARTTLS, then plain."""
        return {Security.TLS: 2, Security.STARTTLS: 1, Security.PLAIN: 0}[self]


_DEFAULT_PORTS: Final[Mapping[Protocol, Mapping[Security, int]]] = {
    Protocol.IMAP: {Security.TLS: 993, Security.STARTTLS: 143, Security.PLAIN: 143},
    Protocol.POP3: {Security.TLS: 995, Security.STARTTLS: 110, Security.PLAIN: 110},
    Protocol.SMTP: {Security.TLS: 465, Security.STARTTLS: 587, Security.PLAIN: 587},
    Protocol.CALDAV: {Security.TLS: 443, Security.STARTTLS: 80, Security.PLAIN: 80},
    Protocol.CARDDAV: {Security.TLS: 443, Security.STARTTLS: 80, Security.PLAIN: 80},
}


def normalise_host(host: str) -> str:
    """A host name in the form to connect to and compare: IDNA ASCII, lower case, no final dot;
    IP addresses in their compressed form, IPv6 without brackets.

    Raises InvalidSettingError for an empty or malformed name. Underscores are allowed in
    ASCII names (some internal hosts have them).
    """
    text = unicodedata.normalize("NFKC", host).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text:
        raise InvalidSettingError("host", Text("setting.host-empty"))
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    try:
        ascii_name = name if name.isascii() else idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidSettingError("host", Text("setting.host-invalid", {"host": host})) from exc
    ascii_name = ascii_name.lower()
    labels = ascii_name.split(".")
    valid = len(ascii_name) <= MAX_DOMAIN_OCTETS and all(
        0 < len(label) <= MAX_LABEL_OCTETS
        and all(ch in _LDH or ch == "_" for ch in label)
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )
    if not valid:
        raise InvalidSettingError("host", Text("setting.host-invalid", {"host": host}))
    return ascii_name


@dataclass(frozen=True)
class Endpoint:
    """One server to connect to. ``host`` is stored normalised (see :func:`normalise_host`).

    ``username`` is the sign-in name for this server; None means it is not known and the person
    must be asked (an iCloud custom domain signs in with the @icloud.com address).
    """

    protocol: Protocol
    host: str
    port: int
    security: Security
    username: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "protocol", Protocol(self.protocol))
        object.__setattr__(self, "security", Security(self.security))
        object.__setattr__(self, "host", normalise_host(self.host))
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise InvalidSettingError("port", Text("setting.port-range", {"port": str(self.port)}))
        if not 1 <= self.port <= 65535:
            raise InvalidSettingError("port", Text("setting.port-range", {"port": self.port}))

    @property
    def host_unicode(self) -> str:
        """The host as people read it (``bücher.example`` rather than punycode)."""
        try:
            return idna.decode(self.host)
        except idna.IDNAError:
            return self.host  # IP addresses, names with underscores

    @property
    def is_ip_address(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def netloc(self) -> str:
        """``host:port`` with an IPv6 address in brackets, for URLs and messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def to_dict(self) -> dict[str, object]:
        return {
            "protocol": self.protocol.value,
            "host": self.host,
            "port": self.port,
            "security": self.security.value,
            "username": self.username,
        }


# --- account settings and where they came from ------------------------------------------------


class AuthKind(StrEnum):
    """How the account signs in. The values appear in JSON; never change them."""

    PASSWORD = "password"  # noqa: S105 - a kind of sign-in, not a password
    APP_PASSWORD = "app-password"  # noqa: S105
    OAUTH2_MICROSOFT = "oauth2-microsoft"
    OAUTH2_GOOGLE = "oauth2-google"
    EXCHANGE_HYBRID = "exchange-hybrid"
    NONE = "none"

    @property
    def is_oauth(self) -> bool:
        return self in (AuthKind.OAUTH2_MICROSOFT, AuthKind.OAUTH2_GOOGLE)


class Trust(StrEnum):
    """How far settings can be believed without the person confirming them.

    HIGH: the built-in catalog, the provider's or ISP's own answer over HTTPS, ISPDB.
    MEDIUM: authoritative-looking but unauthenticated (DNS SRV records, an ISP file found
    through an MX record), or servers found by probing over verified TLS.
    LOW: fetched over plain HTTP, or guessed without verification.
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is more trusted; for sorting candidates."""
        return {Trust.HIGH: 2, Trust.MEDIUM: 1, Trust.LOW: 0}[self]


@dataclass(frozen=True)
class Provenance:
    """Where settings came from. ``source`` names the discovery source ("catalog",
    "autoconfig", "ispdb", "mx", "srv", "autodiscover", "guess", "manual"); ``url`` the document
    they came from, if any; ``detail`` a technical note for the helpdesk (the MX host, the SRV
    record), not shown as prose to users."""

    source: str
    trust: Trust
    over_https: bool
    url: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("a Provenance needs a source")
        object.__setattr__(self, "trust", Trust(self.trust))

    @property
    def trusted(self) -> bool:
        """Whether the settings may be used without asking the person to confirm them."""
        return self.trust is Trust.HIGH

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "trust": self.trust.value,
            "over_https": self.over_https,
            "url": self.url,
            "detail": self.detail,
        }


@dataclass(frozen=True, kw_only=True)
class AccountConfig:
    """The settings of one account: where to read and send mail, calendars and contacts, how to
    sign in, and where the settings came from. ``hints`` are short notes for the person (the
    provider's own advice, such as "create an app password first")."""

    incoming: Endpoint
    provenance: Provenance
    outgoing: Endpoint | None = None
    caldav: str | None = None
    carddav: str | None = None
    auth: AuthKind = AuthKind.PASSWORD
    provider_id: str | None = None
    provider_name: str | None = None
    hints: tuple[Text, ...] = ()

    def __post_init__(self) -> None:
        if not self.incoming.protocol.is_incoming:
            raise InvalidSettingError(
                "incoming",
                Text("setting.incoming-protocol", {"protocol": self.incoming.protocol.value}),
            )
        if self.outgoing is not None and self.outgoing.protocol is not Protocol.SMTP:
            raise InvalidSettingError(
                "outgoing",
                Text("setting.outgoing-protocol", {"protocol": self.outgoing.protocol.value}),
            )
        for name in ("caldav", "carddav"):
            url = getattr(self, name)
            if url is not None and not _is_web_url(url):
                raise InvalidSettingError(name, Text("setting.url-invalid", {"url": url}))
        object.__setattr__(self, "auth", AuthKind(self.auth))
        object.__setattr__(self, "hints", tuple(self.hints))

    def to_dict(self, language: Language = DEFAULT_LANGUAGE) -> dict[str, object]:
        """The JSON shape of detection results; ``hints`` rendered in ``language``."""
        provider = None
        if self.provider_id is not None or self.provider_name is not None:
            provider = {"id": self.provider_id, "name": self.provider_name}
        return {
            "incoming": self.incoming.to_dict(),
            "outgoing": None if self.outgoing is None else self.outgoing.to_dict(),
            "caldav": self.caldav,
            "carddav": self.carddav,
            "auth": self.auth.value,
            "provider": provider,
            "source": self.provenance.source,
            "trusted": self.provenance.trusted,
            "provenance": self.provenance.to_dict(),
            "hints": [render(hint, language) for hint in self.hints],
        }


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# --- findings ---------------------------------------------------------------------------------


class Outcome(StrEnum):
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Higher is worse; ``max(findings, key=lambda f: f.outcome.severity)`` is the worst."""
        return {Outcome.OK: 0, Outcome.INFO: 1, Outcome.WARNING: 2, Outcome.ERROR: 3}[self]

    @property
    def is_problem(self) -> bool:
        return self in (Outcome.WARNING, Outcome.ERROR)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One result of a check or one failure, with everything a person or helpdesk needs.

    ``code`` is stable and machine-readable (``imap.auth.wrong-password``: lower case, parts
    joined by "." or "-"). ``checked``, ``cause`` and ``fix`` are Texts, so the same finding
    renders in English or Japanese. For an OK finding ``cause`` states what was found.
    ``server_said`` is the server's reply, already redacted; ``detail`` technical parameters
    (host, port, status code), also free of secrets.
    """

    code: str
    checked: Text
    outcome: Outcome
    cause: Text
    fix: Text | None = None
    fixer: Fixer = Fixer.NOBODY
    help_topic: str = ""
    server_said: str | None = None
    detail: Mapping[str, str | int] = field(default_factory=dict)
    title: Text | None = None  # a short headline ("The password was not accepted")

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"finding code {self.code!r} is not like 'imap.auth.wrong-password'")
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "fixer", Fixer(self.fixer))
        object.__setattr__(self, "detail", dict(self.detail))

    def __hash__(self) -> int:
        return hash((self.code, self.checked, self.outcome, self.cause, self.server_said))

    def to_dict(self, language: Language = DEFAULT_LANGUAGE) -> dict[str, object]:
        """The JSON shape of a finding, its texts rendered in ``language``."""
        return {
            "code": self.code,
            "outcome": self.outcome.value,
            "title": None if self.title is None else render(self.title, language),
            "checked": render(self.checked, language),
            "cause": render(self.cause, language),
            "fix": None if self.fix is None else render(self.fix, language),
            "fixer": self.fixer.value,
            "help_topic": self.help_topic,
            "server_said": self.server_said,
            "detail": dict(self.detail),
        }
