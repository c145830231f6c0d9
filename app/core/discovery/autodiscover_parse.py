"""Microsoft's discovery answers, parsed without I/O.

- :func:`parse_autodiscover_v2`: the JSON of ``/autodiscover/autodiscover.json?Email=...
  &Protocol=...``, either ``{"Protocol": ..., "Url": ...}`` or ``{"ErrorCode": ...,
  "ErrorMessage": ...}``;
- :func:`parse_pox_autodiscover`: the XML of POX Autodiscover (response schema 2006a):
  settings, a redirect to another address or URL, or an error;
- :func:`parse_www_authenticate` and :func:`bearer_challenge`: the challenges of an HTTP
  ``WWW-Authenticate`` header (RFC 9110 section 11.6.1), and what the empty-Bearer probe of
  hybrid modern authentication learns from the Bearer one (``authorization_uri``,
  ``trusted_issuers``).

An answer the server means as a refusal (``ErrorCode``, ``<Error>``) is a result, not an
exception. What cannot be read raises :class:`~app.core.discovery.clientconfig.
DiscoveryDocumentError` with a code ``discovery.autodiscover.<problem>`` or
``discovery.www-authenticate.<problem>``.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from app.core.discovery.clientconfig import (
    MAX_DOCUMENT_BYTES,
    ParseNote,
    check_size,
    child_text,
    children,
    document_error,
    is_valid_url,
    local_name,
    parse_untrusted_xml,
    shown,
)
from app.core.model import EmailAddress, Endpoint, Protocol, Security, normalise_host
from app.core.texts import Text

__all__ = [
    "MAX_HEADER_BYTES",
    "AutodiscoverV2Answer",
    "AutodiscoverV2Failure",
    "BearerChallenge",
    "Challenge",
    "PoxAction",
    "PoxFailure",
    "PoxProtocol",
    "PoxRedirectAddress",
    "PoxRedirectUrl",
    "PoxResponse",
    "PoxSettings",
    "PoxUser",
    "bearer_challenge",
    "parse_autodiscover_v2",
    "parse_bearer_challenge",
    "parse_pox_autodiscover",
    "parse_www_authenticate",
]

#: The longest ``WWW-Authenticate`` value (all header lines together) that is read.
MAX_HEADER_BYTES: Final = 64 * 1024


# --- Autodiscover v2 (JSON) -------------------------------------------------------------------


@dataclass(frozen=True)
class AutodiscoverV2Answer:
    """``{"Protocol": ..., "Url": ...}``: where the service for ``protocol`` is. ``url`` is a
    checked https URL, ``host`` its normalised host name."""

    protocol: str
    url: str
    host: str


@dataclass(frozen=True)
class AutodiscoverV2Failure:
    """``{"ErrorCode": ..., "ErrorMessage": ...}``: the service refused (an unknown protocol,
    a mailbox it does not know). ``message`` is the server's text, unchanged."""

    code: str
    message: str


def parse_autodiscover_v2(
    data: bytes | str, *, source: str | None = None
) -> AutodiscoverV2Answer | AutodiscoverV2Failure:
    """Parse an Autodiscover v2 JSON answer. Keys are matched case-insensitively.

    Raises DiscoveryDocumentError: ``discovery.autodiscover.too-large``, ``not-json``,
    ``unexpected`` (valid JSON without ``Url`` or ``ErrorCode``) or ``bad-url`` (the URL is
    not a well-formed https address).
    """
    check_size(data, "autodiscover", limit=MAX_DOCUMENT_BYTES, source=source)
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise document_error(
            "autodiscover",
            "not-json",
            Text("discovery.document.not-json"),
            source=source,
            detail={"problem": shown(str(exc), 200)},
        ) from exc
    fields = (
        {key.lower(): item for key, item in value.items() if isinstance(key, str)}
        if isinstance(value, dict)
        else {}
    )
    url = fields.get("url")
    if isinstance(url, str):
        url = url.strip()
        if not is_valid_url(url, https_only=True):
            raise document_error(
                "autodiscover",
                "bad-url",
                Text("discovery.autodiscover.bad-url", {"url": shown(url)}),
                source=source,
            )
        protocol = fields.get("protocol")
        return AutodiscoverV2Answer(
            protocol=protocol.strip() if isinstance(protocol, str) else "",
            url=url,
            host=normalise_host(urlsplit(url).hostname or ""),
        )
    code = fields.get("errorcode")
    if isinstance(code, str | int) and not isinstance(code, bool):
        message = fields.get("errormessage")
        return AutodiscoverV2Failure(
            code=str(code).strip(), message=message if isinstance(message, str) else ""
        )
    raise document_error(
        "autodiscover",
        "unexpected",
        Text("discovery.autodiscover.unexpected"),
        source=source,
        detail={"problem": "no Url or ErrorCode in the JSON answer"},
    )


# --- POX Autodiscover (XML) -------------------------------------------------------------------


class PoxAction(StrEnum):
    """``<Account><Action>``."""

    SETTINGS = "settings"
    REDIRECT_ADDRESS = "redirectAddr"
    REDIRECT_URL = "redirectUrl"


@dataclass(frozen=True)
class PoxUser:
    """``<User>``: the mailbox's display name and primary SMTP address, as the server says."""

    display_name: str | None = None
    smtp_address: str | None = None


# Ports on which "SSL on" without an <Encryption> element still means STARTTLS (as Outlook and
# Thunderbird read Autodiscover answers).
_STARTTLS_PORTS: Final = frozenset({143, 110, 25, 587})

_POX_PROTOCOLS: Final = {"IMAP": Protocol.IMAP, "POP3": Protocol.POP3, "SMTP": Protocol.SMTP}


@dataclass(frozen=True)
class PoxProtocol:
    """One ``<Protocol>`` of an Autodiscover answer.

    ``type`` is upper case: ``EXCH``, ``EXPR``, ``WEB``, ``IMAP``, ``POP3``, ``SMTP`` (others,
    such as ``EXHTTP`` or ``MAPIHTTP``, are kept as given). ``server`` is a normalised host
    name, None when missing or invalid. ``ssl`` and ``spa`` are the on/off flags, None when
    absent; ``encryption`` is lower case (``none``, ``ssl``, ``tls``, ``auto``). The URLs are
    checked http(s) addresses or None.
    """

    type: str
    server: str | None = None
    port: int | None = None
    ssl: bool | None = None
    encryption: str | None = None
    spa: bool | None = None
    auth_package: str | None = None
    login_name: str | None = None
    ews_url: str | None = None
    as_url: str | None = None
    owa_url: str | None = None

    @property
    def security(self) -> Security:
        """The connection security the answer means: ``Encryption`` first (None -> plain,
        SSL -> TLS, TLS -> STARTTLS); otherwise ``SSL off`` -> plain, and ``SSL on`` (the
        default) -> STARTTLS on the ports 143, 110, 25 and 587, TLS on any other."""
        if self.encryption == "none" or (self.encryption is None and self.ssl is False):
            return Security.PLAIN
        if self.encryption == "ssl":
            return Security.TLS
        if self.encryption == "tls":
            return Security.STARTTLS
        if self.port is None:
            return Security.TLS
        return Security.STARTTLS if self.port in _STARTTLS_PORTS else Security.TLS

    def endpoint(self) -> Endpoint | None:
        """An IMAP, POP3 or SMTP protocol with a server as a model Endpoint (the standard port
        if the answer gives none); None for other types or without a server."""
        protocol = _POX_PROTOCOLS.get(self.type)
        if protocol is None or self.server is None:
            return None
        security = self.security
        port = self.port if self.port is not None else protocol.default_port(security)
        return Endpoint(protocol, self.server, port, security, self.login_name)


@dataclass(frozen=True)
class PoxSettings:
    """``<Action>settings</Action>``: the account's protocols, in the answer's order."""

    user: PoxUser | None
    account_type: str | None
    protocols: tuple[PoxProtocol, ...]
    notes: tuple[ParseNote, ...] = ()

    def endpoints(self) -> tuple[Endpoint, ...]:
        """The IMAP, POP3 and SMTP servers of the answer, in its order."""
        found = (protocol.endpoint() for protocol in self.protocols)
        return tuple(endpoint for endpoint in found if endpoint is not None)

    @property
    def ews_url(self) -> str | None:
        """The first Exchange Web Services URL (from an EXCH or EXPR protocol, EXPR first:
        it is the one from outside the organisation's network)."""
        for wanted in ("EXPR", "EXCH"):
            for protocol in self.protocols:
                if protocol.type == wanted and protocol.ews_url is not None:
                    return protocol.ews_url
        return None


@dataclass(frozen=True)
class PoxRedirectAddress:
    """``<Action>redirectAddr</Action>``: ask again with this address."""

    address: EmailAddress
    user: PoxUser | None = None


@dataclass(frozen=True)
class PoxRedirectUrl:
    """``<Action>redirectUrl</Action>``: ask again at this https URL."""

    url: str


@dataclass(frozen=True)
class PoxFailure:
    """``<Error>``: the server refused (e.g. ``500`` "The e-mail address cannot be found.")."""

    code: str
    message: str
    debug_data: str | None = None


PoxResponse = PoxSettings | PoxRedirectAddress | PoxRedirectUrl | PoxFailure

_ACTIONS: Final = {action.value.lower(): action for action in PoxAction}
_FLAGS: Final = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}
_PORT: Final = re.compile(r"[0-9]{1,5}")


def parse_pox_autodiscover(data: bytes | str, *, source: str | None = None) -> PoxResponse:
    """Parse a POX Autodiscover answer (``<Autodiscover><Response>...``); namespaces are
    ignored, element names are matched exactly.

    Raises DiscoveryDocumentError: ``discovery.autodiscover.too-large``, ``forbidden-xml``,
    ``not-xml``, ``wrong-root`` (not ``<Autodiscover>``), ``unexpected`` (no ``<Response>``,
    no ``<Account>``, an unknown ``<Action>``), ``bad-redirect`` (the redirect is not an email
    address or not an https URL).
    """
    root = parse_untrusted_xml(data, "autodiscover", source=source)
    if local_name(root) != "Autodiscover":
        raise document_error(
            "autodiscover",
            "wrong-root",
            Text("discovery.autodiscover.wrong-root", {"root": shown(local_name(root) or "?", 40)}),
            source=source,
        )
    response = next(children(root, "Response"), None)
    if response is None:
        raise _unexpected("no <Response> element", source)
    error = next(children(response, "Error"), None)
    if error is not None:
        return PoxFailure(
            code=child_text(error, "ErrorCode") or "",
            message=child_text(error, "Message") or "",
            debug_data=child_text(error, "DebugData"),
        )
    user = _user(response)
    account = next(children(response, "Account"), None)
    if account is None:
        raise _unexpected("no <Account> element", source)
    action_text = child_text(account, "Action")
    if action_text is None:
        # Older servers leave the action out when they send settings.
        action = PoxAction.SETTINGS
    else:
        found = _ACTIONS.get(action_text.lower())
        if found is None:
            raise _unexpected(f"unknown action {shown(action_text, 40)!r}", source)
        action = found
    if action is PoxAction.REDIRECT_ADDRESS:
        target = child_text(account, "RedirectAddr") or ""
        try:
            return PoxRedirectAddress(EmailAddress.parse(target), user)
        except ValueError as exc:  # InvalidAddressError, and anything idna may raise
            raise _bad_redirect(target, source) from exc
    if action is PoxAction.REDIRECT_URL:
        target = child_text(account, "RedirectUrl") or ""
        if not is_valid_url(target, https_only=True):
            raise _bad_redirect(target, source)
        return PoxRedirectUrl(target)
    notes: list[ParseNote] = []
    protocols = tuple(
        _protocol(element, index, notes)
        for index, element in enumerate(children(account, "Protocol"), start=1)
    )
    return PoxSettings(
        user=user,
        account_type=child_text(account, "AccountType"),
        protocols=protocols,
        notes=tuple(notes),
    )


def _unexpected(problem: str, source: str | None) -> Exception:
    return document_error(
        "autodiscover",
        "unexpected",
        Text("discovery.autodiscover.unexpected"),
        source=source,
        detail={"problem": problem},
    )


def _bad_redirect(target: str, source: str | None) -> Exception:
    return document_error(
        "autodiscover",
        "bad-redirect",
        Text("discovery.autodiscover.bad-redirect", {"target": shown(target) or "?"}),
        source=source,
    )


def _user(response: Element) -> PoxUser | None:
    element = next(children(response, "User"), None)
    if element is None:
        return None
    return PoxUser(
        display_name=child_text(element, "DisplayName"),
        smtp_address=child_text(element, "AutoDiscoverSMTPAddress"),
    )


def _protocol(element: Element, index: int, notes: list[ParseNote]) -> PoxProtocol:
    kind = (child_text(element, "Type") or element.get("Type") or "").strip().upper()
    where = f"Protocol {index} ({shown(kind, 20) or 'no type'})"

    def note(code: str, value: str = "") -> None:
        notes.append(ParseNote(code, where, shown(value)))

    server: str | None = None
    server_text = child_text(element, "Server")
    if server_text is not None:
        try:
            server = normalise_host(server_text)
        except ValueError:
            note("server.invalid", server_text)
    port: int | None = None
    port_text = child_text(element, "Port")
    if port_text is not None:
        if _PORT.fullmatch(port_text) and 1 <= int(port_text) <= 65535:
            port = int(port_text)
        else:
            note("port.invalid", port_text)

    def flag(name: str) -> bool | None:
        text = child_text(element, name)
        if text is None:
            return None
        value = _FLAGS.get(text.lower())
        if value is None:
            note(f"{name}.invalid", text)
        return value

    def url(name: str, parent: Element = element) -> str | None:
        text = child_text(parent, name)
        if text is None:
            return None
        if not is_valid_url(text, https_only=False):
            note(f"{name}.invalid", text)
            return None
        return text

    encryption = child_text(element, "Encryption")
    owa_url = None
    for side in ("External", "Internal"):  # WEB: <External><OWAUrl>, outside address first
        for container in children(element, side):
            owa_url = owa_url or url("OWAUrl", container)
    return PoxProtocol(
        type=kind,
        server=server,
        port=port,
        ssl=flag("SSL"),
        encryption=encryption.lower() if encryption else None,
        spa=flag("SPA"),
        auth_package=child_text(element, "AuthPackage"),
        login_name=child_text(element, "LoginName"),
        ews_url=url("EwsUrl"),
        as_url=url("ASUrl"),
        owa_url=owa_url,
    )


# --- WWW-Authenticate (RFC 9110 section 11.6.1) -----------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header.

    ``scheme`` as sent (compare with :meth:`is_scheme`, schemes are case-insensitive);
    ``token68`` for schemes such as ``Negotiate <base64>``; ``params`` the auth-params in order,
    names in lower case, values with quoting and escapes removed.
    """

    scheme: str
    token68: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def is_scheme(self, name: str) -> bool:
        return self.scheme.lower() == name.lower()

    def param(self, name: str) -> str | None:
        """The first value of the parameter ``name`` (case-insensitive), None if absent."""
        wanted = name.lower()
        return next((value for key, value in self.params if key == wanted), None)


_TCHAR: Final = frozenset("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_WHITESPACE: Final = " \t"


class _Scanner:
    """Walks a header value; raises the malformed-header error with its position."""

    def __init__(self, text: str, source: str | None) -> None:
        self.text = text
        self.pos = 0
        self.source = source

    def fail(self, problem: str) -> Exception:
        return document_error(
            "www-authenticate",
            "malformed",
            Text("discovery.www-authenticate.malformed"),
            source=self.source,
            detail={"problem": problem, "position": self.pos},
        )

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> bool:
        """Skip spaces and tabs; whether there were any."""
        start = self.pos
        while self.peek() and self.peek() in _WHITESPACE:
            self.pos += 1
        return self.pos > start

    def token(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in _TCHAR:
            self.pos += 1
        return self.text[start : self.pos]

    def value(self) -> str:
        """A quoted-string (unescaped) or, leniently, any run of characters up to a space,
        comma or quote (real servers send unquoted values that are not RFC tokens, such as
        ``x@*``)."""
        if self.peek() == '"':
            return self.quoted()
        start = self.pos
        while self.peek() and self.peek() not in ' \t,"':
            self.pos += 1
        if self.pos == start:
            raise self.fail("a parameter has no value")
        return self.text[start : self.pos]

    def quoted(self) -> str:
        self.pos += 1  # the opening quote
        parts: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise self.fail("a quoted string is not closed")
            self.pos += 1
            if ch == '"':
                return "".join(parts)
            if ch == "\\":
                escaped = self.peek()
                if not escaped:
                    raise self.fail("a quoted string ends with a backslash")
                self.pos += 1
                parts.append(escaped)
            else:
                parts.append(ch)

    def end_of_element(self) -> None:
        """After a list element: optional spaces, then a comma or the end."""
        self.skip_space()
        if not self.at_end and self.peek() != ",":
            raise self.fail(f"unexpected {self.peek()!r}")


def parse_www_authenticate(
    headers: str | Sequence[str], *, source: str | None = None
) -> tuple[Challenge, ...]:
    """The challenges of a ``WWW-Authenticate`` value, in order. Several header lines may be
    given as a sequence (they are one comma-separated list). Raises DiscoveryDocumentError
    ``discovery.www-authenticate.malformed`` (or ``too-large``)."""
    text = headers if isinstance(headers, str) else ", ".join(headers)
    check_size(text, "www-authenticate", limit=MAX_HEADER_BYTES, source=source)
    scanner = _Scanner(text, source)
    bad = next((i for i, ch in enumerate(text) if ch != "\t" and (ch < " " or ch == "\x7f")), None)
    if bad is not None:
        scanner.pos = bad
        raise scanner.fail("a control character")

    challenges: list[Challenge] = []
    scheme: str | None = None
    token68: str | None = None
    params: list[tuple[str, str]] = []

    def finish() -> None:
        if scheme is not None:
            challenges.append(Challenge(scheme, token68, tuple(params)))

    while True:
        while scanner.skip_space() or scanner.peek() == ",":  # empty list elements are allowed
            if scanner.peek() == ",":
                scanner.pos += 1
        if scanner.at_end:
            break
        name = scanner.token()
        if not name:
            raise scanner.fail(f"expected a scheme or parameter name, found {scanner.peek()!r}")
        scanner.skip_space()
        if scanner.peek() == "=" and scheme is not None and token68 is None:
            # Another auth-param of the current challenge.
            scanner.pos += 1
            scanner.skip_space()
            params.append((name.lower(), scanner.value()))
            scanner.end_of_element()
            continue
        if scanner.peek() == "=":
            raise scanner.fail("a parameter outside of a challenge")
        finish()
        scheme, token68, params = name, None, []
        if scanner.at_end or scanner.peek() == ",":
            continue
        if scanner.text[scanner.pos - 1] not in _WHITESPACE:
            raise scanner.fail("no space after the scheme")
        match = _TOKEN68.match(text, scanner.pos)
        if match is not None:
            after = match.end()
            while after < len(text) and text[after] in _WHITESPACE:
                after += 1
            if after >= len(text) or text[after] == ",":
                token68 = match.group()
                scanner.pos = after
                continue
        first = scanner.token()
        if not first:
            raise scanner.fail(f"expected a parameter, found {scanner.peek()!r}")
        scanner.skip_space()
        if scanner.peek() != "=":
            raise scanner.fail("a parameter without '='")
        scanner.pos += 1
        scanner.skip_space()
        params.append((first.lower(), scanner.value()))
        scanner.end_of_element()
    finish()
    return tuple(challenges)


@dataclass(frozen=True)
class BearerChallenge:
    """What a ``Bearer`` challenge says (MS-XOAUTH 3.2.5.4, RFC 6750).

    ``authorization_uri`` is a checked https URL and ``authority`` its first path segment
    (``https://login.microsoftonline.com/common``), the authority to give MSAL.
    ``trusted_issuers`` are ``<app id>@<tenant>`` entries; ``tenant_id`` is the first tenant
    among them that is not ``*``. ``token_types`` is split on spaces.
    """

    authorization_uri: str | None = None
    authority: str | None = None
    trusted_issuers: tuple[str, ...] = ()
    tenant_id: str | None = None
    client_id: str | None = None
    realm: str | None = None
    token_types: tuple[str, ...] = ()
    error: str | None = None
    error_description: str | None = None


def bearer_challenge(
    challenges: Iterable[Challenge], *, source: str | None = None
) -> BearerChallenge | None:
    """The first ``Bearer`` challenge among ``challenges``, interpreted; None if there is none
    (the server offers no modern authentication). Raises DiscoveryDocumentError
    ``discovery.www-authenticate.bad-authorization-uri`` when ``authorization_uri`` is not a
    well-formed https URL."""
    found = next((c for c in challenges if c.is_scheme("Bearer")), None)
    if found is None:
        return None
    uri = found.param("authorization_uri")
    authority = None
    if uri is not None:
        uri = uri.strip()
        if not is_valid_url(uri, https_only=True):
            raise document_error(
                "www-authenticate",
                "bad-authorization-uri",
                Text("discovery.www-authenticate.bad-authorization-uri", {"url": shown(uri)}),
                source=source,
            )
        parts = urlsplit(uri)
        segment = next((s for s in parts.path.split("/") if s), None)
        authority = f"https://{parts.netloc}" + (f"/{segment}" if segment else "")
    issuers = tuple(
        item.strip() for item in (found.param("trusted_issuers") or "").split(",") if item.strip()
    )
    tenant = next(
        (
            tenant
            for _app, at, tenant in (issuer.partition("@") for issuer in issuers)
            if at and tenant and tenant != "*"
        ),
        None,
    )
    return BearerChallenge(
        authorization_uri=uri,
        authority=authority,
        trusted_issuers=issuers,
        tenant_id=tenant,
        client_id=found.param("client_id"),
        realm=found.param("realm"),
        token_types=tuple((found.param("token_types") or "").split()),
        error=found.param("error"),
        error_description=found.param("error_description"),
    )


def parse_bearer_challenge(
    headers: str | Sequence[str], *, source: str | None = None
) -> BearerChallenge | None:
    """:func:`parse_www_authenticate` then :func:`bearer_challenge`."""
    return bearer_challenge(parse_www_authenticate(headers, source=source), source=source)
