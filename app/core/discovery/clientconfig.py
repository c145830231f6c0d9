"""Thunderbird's clientConfig v1.1 format: ISP autoconfig files and ISPDB answers.

A sans-I/O parser. :func:`parse_clientconfig` turns the bytes of a ``config-v1.1.xml`` document
into a :class:`ClientConfig` for one email address (placeholders such as ``%EMAILADDRESS%``
filled in), keeping everything the file says in document order: every incoming and outgoing
server, every sign-in method, the ``<oAuth2>``, ``<addressBook>``, ``<calendar>``,
``<documentation>`` and ``<enable>`` elements. :func:`to_account_configs` then makes one
candidate :class:`~app.core.model.AccountConfig` per usable IMAP or POP3 server.

The documents come from the network and are untrusted: they are parsed with defusedxml
(DTDs, entities and external references refused) after a size check. What the parser cannot
use is skipped and recorded as a :class:`ParseNote` for the helpdesk; a document that cannot be
used at all raises :class:`DiscoveryDocumentError`, the error all discovery parsers share.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal, Unpack
from urllib.parse import quote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_element_tree

from app.core.errors import ErrorOptions, Fault, Fixer, SetupError
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    normalise_host,
)
from app.core.texts import Language, Text

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "AuthMethod",
    "ClientConfig",
    "DavService",
    "DiscoveryDocumentError",
    "Documentation",
    "EnableStep",
    "LocalisedText",
    "OAuth2Settings",
    "ParseNote",
    "ServerKind",
    "ServerSettings",
    "auth_kind_for",
    "expand_placeholders",
    "is_valid_url",
    "parse_clientconfig",
    "parse_untrusted_xml",
    "to_account_configs",
]

#: The largest document any discovery parser reads. Real autoconfig files are a few KB.
MAX_DOCUMENT_BYTES: Final = 1024 * 1024

DocumentKind = Literal["config", "autodiscover", "www-authenticate"]


# --- the error all discovery parsers raise ----------------------------------------------------


@dataclass(frozen=True)
class ParseNote:
    """Something in a document that was skipped or could not be used.

    Technical and in English, for reports and the helpdesk, never shown as prose: ``code`` is
    a short word (``port.invalid``), ``where`` the element (``incomingServer 2 (imap)``),
    ``value`` the offending text (cut to 100 characters).
    """

    code: str
    where: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.code}" + (f" ({self.value!r})" if self.value else "")


class DiscoveryDocumentError(SetupError, ValueError):
    """A document fetched during discovery (autoconfig XML, Autodiscover JSON or XML, an HTTP
    ``WWW-Authenticate`` header) is malformed, unsafe or has nothing usable.

    The fault is the server's: it sent something this program cannot use. ``code`` says what
    exactly (``discovery.config.not-xml``, ``discovery.config.unusable``,
    ``discovery.autodiscover.bad-url``, ``discovery.www-authenticate.malformed`` ...);
    ``notes`` lists what was skipped on the way, ``detail`` holds technical facts (the
    ``source`` URL when the caller gave one, the parser's own complaint as ``problem``).
    """

    default_code = "discovery.document.invalid"
    default_help_topic = "discovery"
    default_fault = Fault.REMOTE_SERVER
    default_fixer = Fixer.PROVIDER

    def __init__(
        self,
        message: Text,
        *,
        notes: Sequence[ParseNote] = (),
        **options: Unpack[ErrorOptions],
    ) -> None:
        merged: ErrorOptions = {"fix": Text("discovery.fix")}
        merged.update(options)
        super().__init__(message, **merged)
        self.notes: tuple[ParseNote, ...] = tuple(notes)


_CHECKED: Final[dict[DocumentKind, Text]] = {
    "config": Text("discovery.check.config"),
    "autodiscover": Text("discovery.check.autodiscover"),
    "www-authenticate": Text("discovery.check.www-authenticate"),
}


def document_error(
    kind: DocumentKind,
    problem: str,
    message: Text,
    *,
    source: str | None = None,
    notes: Sequence[ParseNote] = (),
    detail: dict[str, str | int] | None = None,
) -> DiscoveryDocumentError:
    """The error for ``problem`` in a document of ``kind``: code ``discovery.<kind>.<problem>``.

    Shared by the discovery parsers so that their errors look alike."""
    facts: dict[str, str | int] = dict(detail or {})
    if source is not None:
        facts["source"] = shown(source)
    return DiscoveryDocumentError(
        message,
        notes=notes,
        code=f"discovery.{kind}.{problem}",
        checked=_CHECKED[kind],
        detail=facts,
    )


def shown(value: str, limit: int = 100) -> str:
    """``value`` made safe to show: control and invisible characters as ``?``, cut to
    ``limit`` characters."""
    cleaned = "".join(
        ch if ch == " " or unicodedata.category(ch)[0] not in "CZ" else "?" for ch in value[:limit]
    )
    return cleaned + ("…" if len(value) > limit else "")


def check_size(data: bytes | str, kind: DocumentKind, *, limit: int, source: str | None) -> None:
    """Raise ``discovery.<kind>.too-large`` when ``data`` is over ``limit`` bytes (UTF-8)."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise document_error(
            kind,
            "too-large",
            Text("discovery.document.too-large", {"limit": limit // 1024}),
            source=source,
            detail={"size": size, "limit": limit},
        )


def parse_untrusted_xml(
    data: bytes | str, kind: DocumentKind, *, source: str | None = None
) -> Element:
    """The root element of an XML document from the network.

    Refuses documents over :data:`MAX_DOCUMENT_BYTES` (``discovery.<kind>.too-large``), any
    DTD, entity declaration or external reference (``forbidden-xml``: this is also what stops
    "billion laughs" bombs) and anything that is not well-formed XML (``not-xml``).
    """
    check_size(data, kind, limit=MAX_DOCUMENT_BYTES, source=source)
    try:
        root = safe_element_tree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise document_error(
            kind,
            "forbidden-xml",
            Text("discovery.document.forbidden-xml"),
            source=source,
            detail={"problem": type(exc).__name__},
        ) from exc
    except (ParseError, ValueError, LookupError) as exc:
        # ParseError: not well-formed; ValueError and LookupError: encodings expat refuses.
        raise document_error(
            kind,
            "not-xml",
            Text("discovery.document.not-xml"),
            source=source,
            detail={"problem": shown(str(exc), 200)},
        ) from exc
    if not isinstance(root, Element):  # pragma: no cover - defusedxml always returns one
        raise document_error(kind, "not-xml", Text("discovery.document.not-xml"), source=source)
    return root


def local_name(element: Element) -> str:
    """The tag without its namespace: ``{urn:x}Response`` -> ``Response``."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(element: Element, name: str) -> Iterator[Element]:
    """The direct children called ``name`` (namespace ignored), in document order."""
    return (child for child in element if local_name(child) == name)


def child_text(element: Element, name: str) -> str | None:
    """The stripped text of the first direct child called ``name``; None if there is none or
    it is empty."""
    for child in children(element, name):
        text = (child.text or "").strip()
        return text or None
    return None


def is_valid_url(url: str, *, https_only: bool) -> bool:
    """Whether ``url`` is a well-formed web address to follow: http(s) (https only if asked),
    a valid host name, a valid port, no user name or password in it, no spaces or control
    characters."""
    if not url or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        return False
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme.lower() not in allowed or not host or parts.username or parts.password:
        return False
    if port == 0:
        return False
    try:
        normalise_host(host)
    except ValueError:
        return False
    return True


# --- what the file can say --------------------------------------------------------------------


class ServerKind(StrEnum):
    """The ``type`` of an ``<incomingServer>`` or ``<outgoingServer>`` this parser reads."""

    IMAP = "imap"
    POP3 = "pop3"
    SMTP = "smtp"
    EXCHANGE = "exchange"  # the older single Exchange element (hostname, owaURL, ewsURL)
    EWS = "ews"  # Exchange Web Services, given as a <url>

    @property
    def protocol(self) -> Protocol | None:
        """The model's protocol for IMAP, POP3 and SMTP; None for Exchange kinds."""
        return _PROTOCOLS.get(self)


_PROTOCOLS: Final = {
    ServerKind.IMAP: Protocol.IMAP,
    ServerKind.POP3: Protocol.POP3,
    ServerKind.SMTP: Protocol.SMTP,
}


class AuthMethod(StrEnum):
    """The values of ``<authentication>``, spelled as the format spells them."""

    PASSWORD_CLEARTEXT = "password-cleartext"  # noqa: S105 - a method name, not a password
    PASSWORD_ENCRYPTED = "password-encrypted"  # noqa: S105 - CRAM-MD5 and the like
    OAUTH2 = "OAuth2"
    CLIENT_IP_ADDRESS = "client-IP-address"
    TLS_CLIENT_CERT = "TLS-client-cert"
    NONE = "none"
    SMTP_AFTER_POP = "smtp-after-pop"
    GSSAPI = "GSSAPI"
    NTLM = "NTLM"
    HTTP_BASIC = "http-basic"  # <addressBook> and <calendar>
    HTTP_DIGEST = "http-digest"


# Matched case-insensitively; "plain" and "secure" are the format's older spellings.
_AUTH_METHODS: Final = {method.value.lower(): method for method in AuthMethod} | {
    "plain": AuthMethod.PASSWORD_CLEARTEXT,
    "secure": AuthMethod.PASSWORD_ENCRYPTED,
}

_SOCKET_TYPES: Final = {"ssl": Security.TLS, "starttls": Security.STARTTLS, "plain": Security.PLAIN}


@dataclass(frozen=True)
class ServerSettings:
    """One ``<incomingServer>`` or ``<outgoingServer>`` the parser could use.

    ``host`` is normalised (IDNA ASCII, lower case), ``username`` has its placeholders filled
    in (None when the file gives none). ``auth`` lists every recognised ``<authentication>``
    in the file's order (its order of preference). For Exchange kinds ``url`` is the EWS
    address and ``owa_url`` the web mail address, when given.
    """

    kind: ServerKind
    host: str
    port: int
    security: Security
    username: str | None = None
    auth: tuple[AuthMethod, ...] = ()
    url: str | None = None
    owa_url: str | None = None

    def endpoint(self) -> Endpoint:
        """This server as a model Endpoint; ValueError for Exchange kinds."""
        protocol = self.kind.protocol
        if protocol is None:
            raise ValueError(f"a {self.kind.value} server has no Endpoint")
        return Endpoint(protocol, self.host, self.port, self.security, self.username)


@dataclass(frozen=True)
class OAuth2Settings:
    """The ``<oAuth2>`` element: who issues tokens, for which scopes, at which addresses."""

    issuer: str
    scopes: tuple[str, ...] = ()
    auth_url: str | None = None
    token_url: str | None = None


@dataclass(frozen=True)
class DavService:
    """An ``<addressBook type="carddav">`` or ``<calendar type="caldav">``: the URL to start
    from (placeholders filled in), the user name and the sign-in methods."""

    protocol: Protocol  # CALDAV or CARDDAV
    url: str
    username: str | None = None
    auth: tuple[AuthMethod, ...] = ()


@dataclass(frozen=True)
class LocalisedText:
    """A ``<descr>`` or ``<instruction>``: text in a language (None when the file gives none)."""

    language: str | None
    text: str


def _pick(texts: Sequence[LocalisedText], language: str) -> str | None:
    """The text in ``language`` (``ja`` also matches ``ja-JP``), else English or unmarked,
    else the first one."""
    for wanted in (language, "en", None):
        for entry in texts:
            primary = entry.language.split("-")[0] if entry.language else None
            if wanted in (entry.language, primary):
                return entry.text
    return texts[0].text if texts else None


@dataclass(frozen=True)
class Documentation:
    """A ``<documentation url>``: the provider's page about these settings."""

    url: str
    descriptions: tuple[LocalisedText, ...] = ()

    def description(self, language: Language | str) -> str | None:
        return _pick(self.descriptions, language)


@dataclass(frozen=True)
class EnableStep:
    """An ``<enable visiturl>``: something the person must switch on at the provider first
    ("IMAP must be turned on in the web mail settings"), with the page to do it."""

    url: str | None
    instructions: tuple[LocalisedText, ...] = ()

    def instruction(self, language: Language | str) -> str | None:
        return _pick(self.instructions, language)


@dataclass(frozen=True)
class ClientConfig:
    """Everything a clientConfig document says, for one email address (``address``).

    ``incoming`` and ``outgoing`` keep the file's order, which is the provider's order of
    preference. ``notes`` lists what was skipped.
    """

    address: EmailAddress
    provider_id: str | None
    domains: tuple[str, ...]
    display_name: str | None
    short_name: str | None
    incoming: tuple[ServerSettings, ...]
    outgoing: tuple[ServerSettings, ...]
    oauth2: OAuth2Settings | None = None
    address_books: tuple[DavService, ...] = ()
    calendars: tuple[DavService, ...] = ()
    documentation: tuple[Documentation, ...] = ()
    enable: tuple[EnableStep, ...] = ()
    version: str | None = None
    notes: tuple[ParseNote, ...] = ()

    @property
    def mail_servers(self) -> tuple[ServerSettings, ...]:
        """The incoming IMAP and POP3 servers, in the file's order."""
        return tuple(s for s in self.incoming if s.kind in (ServerKind.IMAP, ServerKind.POP3))

    @property
    def exchange_servers(self) -> tuple[ServerSettings, ...]:
        """The incoming Exchange and EWS servers, in the file's order (reported, not used)."""
        return tuple(s for s in self.incoming if s.kind.protocol is None)


# --- placeholders -----------------------------------------------------------------------------

_PLACEHOLDER: Final = re.compile(r"%(EMAILADDRESS|EMAILLOCALPART|EMAILDOMAIN|REALNAME)%")
# Characters left as they are when a value goes into a URL (RFC 3986 pchar minus "%" and "/").
_URL_SAFE: Final = "@!$&'()*+,;=:-._~"


def expand_placeholders(template: str, address: EmailAddress, *, in_url: bool = False) -> str:
    """``template`` with ``%EMAILADDRESS%``, ``%EMAILLOCALPART%`` and ``%EMAILDOMAIN%`` filled
    in from ``address`` and ``%REALNAME%`` removed (this program does not ask for a name).

    ``in_url``: the values are percent-encoded and the domain is in its ASCII form.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        domain = address.domain_ascii if in_url else address.domain
        filled = {
            "EMAILADDRESS": f"{address.local}@{domain}",
            "EMAILLOCALPART": address.local,
            "EMAILDOMAIN": domain,
            "REALNAME": "",
        }[name]
        return quote(filled, safe=_URL_SAFE) if in_url else filled

    return _PLACEHOLDER.sub(value, template)


# --- parsing ----------------------------------------------------------------------------------

_PORT: Final = re.compile(r"[0-9]{1,5}")
_XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"


class _Notes:
    """Collects ParseNotes while a document is read."""

    def __init__(self) -> None:
        self.items: list[ParseNote] = []

    def add(self, code: str, where: str, value: str = "") -> None:
        self.items.append(ParseNote(code, where, shown(value)))


def parse_clientconfig(
    data: bytes | str, address: EmailAddress, *, source: str | None = None
) -> ClientConfig:
    """Parse a clientConfig v1.1 document for ``address``.

    ``source`` (the URL it came from) only goes into error details. Raises
    DiscoveryDocumentError with code ``discovery.config.<problem>``: ``too-large``,
    ``forbidden-xml``, ``not-xml``, ``wrong-root`` (not ``<clientConfig>``), ``no-provider``
    (no ``<emailProvider>``) or ``unusable`` (no incoming server could be used; ``notes``
    say why).
    """
    root = parse_untrusted_xml(data, "config", source=source)
    if local_name(root) != "clientConfig":
        raise document_error(
            "config",
            "wrong-root",
            Text("discovery.config.wrong-root", {"root": shown(local_name(root) or "?", 40)}),
            source=source,
        )
    notes = _Notes()
    providers = list(children(root, "emailProvider"))
    if not providers:
        raise document_error(
            "config", "no-provider", Text("discovery.config.no-provider"), source=source
        )
    provider = providers[0]
    for index, _extra in enumerate(providers[1:], start=2):
        notes.add("ignored", f"emailProvider {index}")
    # <oAuth2>, <addressBook>, <calendar>, <documentation> and <enable> are read both inside
    # <emailProvider> (where older files put some of them) and beside it.
    sections = (provider, root)

    incoming = _servers(provider, "incomingServer", address, notes)
    outgoing = _servers(provider, "outgoingServer", address, notes)
    if not incoming:
        raise document_error(
            "config",
            "unusable",
            Text("discovery.config.unusable"),
            source=source,
            notes=notes.items,
            detail={"problems": "; ".join(str(n) for n in notes.items)[:500]},
        )
    return ClientConfig(
        address=address,
        provider_id=(provider.get("id") or "").strip() or None,
        domains=tuple(
            dict.fromkeys(
                (child.text or "").strip().lower()
                for child in children(provider, "domain")
                if (child.text or "").strip()
            )
        ),
        display_name=child_text(provider, "displayName"),
        short_name=child_text(provider, "displayShortName"),
        incoming=incoming,
        outgoing=outgoing,
        oauth2=_oauth2(sections, notes),
        address_books=_dav(sections, "addressBook", Protocol.CARDDAV, address, notes),
        calendars=_dav(sections, "calendar", Protocol.CALDAV, address, notes),
        documentation=_documentation(sections, notes),
        enable=_enable(sections, notes),
        version=(root.get("version") or "").strip() or None,
        notes=tuple(notes.items),
    )


def _servers(
    provider: Element, name: str, address: EmailAddress, notes: _Notes
) -> tuple[ServerSettings, ...]:
    servers: list[ServerSettings] = []
    for index, element in enumerate(children(provider, name), start=1):
        server = _server(element, f"{name} {index}", address, notes)
        if server is not None:
            servers.append(server)
    return tuple(servers)


def _server(
    element: Element, where: str, address: EmailAddress, notes: _Notes
) -> ServerSettings | None:
    type_text = (element.get("type") or "").strip()
    where = f"{where} ({shown(type_text, 20) or 'no type'})"
    try:
        kind = ServerKind(type_text.lower())
    except ValueError:
        notes.add("type.unsupported", where, type_text)
        return None
    outgoing = local_name(element) == "outgoingServer"
    if outgoing != (kind is ServerKind.SMTP):
        notes.add("type.wrong-direction", where, type_text)
        return None

    username_text = child_text(element, "username")
    username = expand_placeholders(username_text, address).strip() if username_text else ""
    auth = _auth_methods(element, where, notes)

    if kind is ServerKind.EWS:
        return _ews_server(element, where, username or None, auth, notes)

    host_text = child_text(element, "hostname")
    if host_text is None:
        notes.add("hostname.missing", where)
        return None
    try:
        host = normalise_host(expand_placeholders(host_text, address))
    except ValueError:
        notes.add("hostname.invalid", where, host_text)
        return None
    port = _port(element, where, notes)
    security = _security(element, where, notes)
    if port is None or security is None:
        return None
    url = owa_url = None
    if kind is ServerKind.EXCHANGE:
        url = _optional_url(element, "ewsURL", where, address, notes)
        owa_url = _optional_url(element, "owaURL", where, address, notes)
    return ServerSettings(kind, host, port, security, username or None, auth, url, owa_url)


def _ews_server(
    element: Element,
    where: str,
    username: str | None,
    auth: tuple[AuthMethod, ...],
    notes: _Notes,
) -> ServerSettings | None:
    url = child_text(element, "url")
    if url is None or not is_valid_url(url, https_only=True):
        notes.add("url.missing" if url is None else "url.invalid", where, url or "")
        return None
    parts = urlsplit(url)
    host = normalise_host(parts.hostname or "")
    return ServerSettings(
        ServerKind.EWS, host, parts.port or 443, Security.TLS, username, auth, url=url
    )


def _port(element: Element, where: str, notes: _Notes) -> int | None:
    text = child_text(element, "port")
    if text is None:
        notes.add("port.missing", where)
        return None
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        notes.add("port.invalid", where, text)
        return None
    return int(text)


def _security(element: Element, where: str, notes: _Notes) -> Security | None:
    """The first recognised ``<socketType>``; unknown values are noted and skipped."""
    found = False
    for child in children(element, "socketType"):
        found = True
        text = (child.text or "").strip()
        security = _SOCKET_TYPES.get(text.lower())
        if security is not None:
            return security
        notes.add("socket-type.unknown", where, text)
    if not found:
        notes.add("socket-type.missing", where)
    return None


def _auth_methods(element: Element, where: str, notes: _Notes) -> tuple[AuthMethod, ...]:
    methods: list[AuthMethod] = []
    for child in children(element, "authentication"):
        text = (child.text or "").strip()
        method = _AUTH_METHODS.get(text.lower())
        if method is None:
            notes.add("authentication.unknown", where, text)
        elif method not in methods:
            methods.append(method)
    return tuple(methods)


def _optional_url(
    element: Element,
    name: str,
    where: str,
    address: EmailAddress,
    notes: _Notes,
    *,
    https_only: bool = True,
) -> str | None:
    text = child_text(element, name)
    if text is None:
        return None
    url = expand_placeholders(text, address, in_url=True)
    if not is_valid_url(url, https_only=https_only):
        notes.add(f"{name}.invalid", where, text)
        return None
    return url


def _oauth2(sections: Iterable[Element], notes: _Notes) -> OAuth2Settings | None:
    for section in sections:
        for element in children(section, "oAuth2"):
            issuer_text = child_text(element, "issuer")
            try:
                issuer = normalise_host(issuer_text or "")
            except ValueError:
                notes.add("issuer.invalid", "oAuth2", issuer_text or "")
                continue
            urls: list[str | None] = []
            for name in ("authURL", "tokenURL"):
                url = child_text(element, name)
                if url is not None and not is_valid_url(url, https_only=True):
                    notes.add(f"{name}.invalid", "oAuth2", url)
                    url = None
                urls.append(url)
            scopes = tuple(dict.fromkeys((child_text(element, "scope") or "").split()))
            return OAuth2Settings(issuer, scopes, urls[0], urls[1])
    return None


def _dav(
    sections: Iterable[Element],
    name: str,
    protocol: Protocol,
    address: EmailAddress,
    notes: _Notes,
) -> tuple[DavService, ...]:
    services: list[DavService] = []
    index = 0
    for section in sections:
        for element in children(section, name):
            index += 1
            type_text = (element.get("type") or "").strip()
            where = f"{name} {index} ({shown(type_text, 20) or 'no type'})"
            if type_text.lower() != protocol.value:
                notes.add("type.unsupported", where, type_text)
                continue
            url = _optional_url(element, "serverURL", where, address, notes, https_only=False)
            if url is None:
                if child_text(element, "serverURL") is None:
                    notes.add("serverURL.missing", where)
                continue
            username_text = child_text(element, "username")
            username = expand_placeholders(username_text, address).strip() if username_text else ""
            auth = _auth_methods(element, where, notes)
            services.append(DavService(protocol, url, username or None, auth))
    return tuple(services)


def _language(element: Element) -> str | None:
    value = (element.get("lang") or element.get(_XML_LANG) or "").strip().lower()
    return value or None


def _localised(element: Element, name: str) -> tuple[LocalisedText, ...]:
    return tuple(
        LocalisedText(_language(child), " ".join((child.text or "").split()))
        for child in children(element, name)
        if (child.text or "").strip()
    )


def _documentation(sections: Iterable[Element], notes: _Notes) -> tuple[Documentation, ...]:
    found: list[Documentation] = []
    for section in sections:
        for element in children(section, "documentation"):
            url = (element.get("url") or "").strip()
            if not is_valid_url(url, https_only=False):
                notes.add("url.invalid", "documentation", url)
                continue
            found.append(Documentation(url, _localised(element, "descr")))
    return tuple(found)


def _enable(sections: Iterable[Element], notes: _Notes) -> tuple[EnableStep, ...]:
    found: list[EnableStep] = []
    for section in sections:
        for element in children(section, "enable"):
            url: str | None = (element.get("visiturl") or "").strip() or None
            if url is not None and not is_valid_url(url, https_only=False):
                notes.add("visiturl.invalid", "enable", url)
                url = None
            instructions = _localised(element, "instruction")
            if url is None and not instructions:
                continue
            found.append(EnableStep(url, instructions))
    return tuple(found)


# --- candidates -------------------------------------------------------------------------------

_MICROSOFT_HOSTS: Final = ("office365.com", "outlook.com", "hotmail.com", "live.com", "office.com")
_MICROSOFT_ISSUERS: Final = frozenset(
    {"login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "login.live.com"}
)
_GOOGLE_HOSTS: Final = ("gmail.com", "googlemail.com", "google.com", "googleapis.com")
_GOOGLE_ISSUERS: Final = frozenset({"accounts.google.com", "oauth2.googleapis.com"})


def _under(host: str, suffixes: Iterable[str]) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in suffixes)


def auth_kind_for(server: ServerSettings, oauth2: OAuth2Settings | None = None) -> AuthKind:
    """How to sign in to ``server``: its first ``<authentication>`` this program can do.

    OAuth2 counts only with a sign-in service this program knows: Microsoft (the server is
    under office365.com, outlook.com ... or the ``<oAuth2>`` issuer is Microsoft's) or Google.
    Passwords give PASSWORD, ``none`` gives NONE; other methods (GSSAPI, NTLM, client
    certificates) are passed over. PASSWORD when nothing else fits.
    """
    issuer = oauth2.issuer if oauth2 is not None else ""
    for method in server.auth:
        if method is AuthMethod.OAUTH2:
            if _under(server.host, _MICROSOFT_HOSTS) or issuer in _MICROSOFT_ISSUERS:
                return AuthKind.OAUTH2_MICROSOFT
            if _under(server.host, _GOOGLE_HOSTS) or issuer in _GOOGLE_ISSUERS:
                return AuthKind.OAUTH2_GOOGLE
        elif method in (AuthMethod.PASSWORD_CLEARTEXT, AuthMethod.PASSWORD_ENCRYPTED):
            return AuthKind.PASSWORD
        elif method is AuthMethod.NONE:
            return AuthKind.NONE
    return AuthKind.PASSWORD


def hints_for(parsed: ClientConfig) -> tuple[Text, ...]:
    """Texts for the person from ``<enable>`` (first) and ``<documentation>``, each with the
    provider's page as the ``url`` parameter."""
    hints: list[Text] = []
    for step in parsed.enable:
        if step.url is not None:
            hints.append(Text("discovery.hint.enable", {"url": step.url}))
        else:
            hints.append(Text("discovery.hint.enable-no-link"))
    for page in parsed.documentation:
        hints.append(Text("discovery.hint.documentation", {"url": page.url}))
    return tuple(dict.fromkeys(hints))


def to_account_configs(
    parsed: ClientConfig, address: EmailAddress, provenance: Provenance
) -> list[AccountConfig]:
    """One candidate per usable IMAP or POP3 server, in the file's order (the provider's
    preference), each with the first SMTP server, the first CalDAV and CardDAV URLs, the sign-in
    kind (:func:`auth_kind_for`), the provider's id and name, and hints (:func:`hints_for`).

    ``address`` must be the one ``parsed`` was parsed for (ValueError otherwise: the usernames
    and URLs were filled in for it). Raises DiscoveryDocumentError ``discovery.config.
    exchange-only`` when the file offers only Exchange servers.
    """
    if parsed.address != address:
        raise ValueError(f"the settings were parsed for {parsed.address}, not for {address}")
    mail = parsed.mail_servers
    if not mail:
        kinds = ", ".join(dict.fromkeys(s.kind.value for s in parsed.incoming))
        raise DiscoveryDocumentError(
            Text("discovery.config.exchange-only"),
            code="discovery.config.exchange-only",
            checked=Text("discovery.check.config"),
            fixer=Fixer.ADMIN,
            detail={"kinds": kinds, **({"source": provenance.url} if provenance.url else {})},
            notes=parsed.notes,
        )
    outgoing = parsed.outgoing[0].endpoint() if parsed.outgoing else None
    caldav = parsed.calendars[0].url if parsed.calendars else None
    carddav = parsed.address_books[0].url if parsed.address_books else None
    hints = hints_for(parsed)
    return [
        AccountConfig(
            incoming=server.endpoint(),
            outgoing=outgoing,
            caldav=caldav,
            carddav=carddav,
            auth=auth_kind_for(server, parsed.oauth2),
            provider_id=parsed.provider_id,
            provider_name=parsed.display_name,
            hints=hints,
            provenance=provenance,
        )
        for server in mail
    ]
