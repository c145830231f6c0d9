"""Exchange from the outside, without credentials: does Autodiscover answer anonymously, do the
ActiveSync and EWS addresses it names answer as Exchange does, and do they offer modern
authentication (a ``WWW-Authenticate: Bearer`` challenge with ``authorization_uri``)?

:func:`check_exchange` does what Outlook for iOS and Android's AutoDetect does before a user can
sign in, and reports where it breaks:

1. **Autodiscover v2**, anonymously, on each of ``hosts`` (by default
   ``autodiscover.<domain>``) for ``Protocol=ActiveSync`` and ``Protocol=EWS``, all at once:
   ``GET https://<host>/autodiscover/autodiscover.json?Email=<address>&Protocol=<protocol>``.
   Exchange answers ``{"Protocol": ..., "Url": ...}``. (The path form ``.../autodiscover.json/
   v1.0/<address>?Protocol=...`` asks the same; the query form is the one Microsoft's hybrid
   modern authentication document shows and the rest of the program uses.) Redirects are
   judged by the discovery source's :class:`~app.core.discovery.microsoft.hybrid.RedirectTracker`
   (https only, to another Autodiscover JSON URL for the same address, within the
   organisation's domains or to Exchange Online). For each protocol the first host in
   ``hosts`` order that names a URL wins; what the other hosts said is kept in the facts, not
   reported as a problem.
2. **The service URLs** (the ActiveSync and EWS URLs found), each once, all at once, with an
   empty ``Authorization: Bearer`` header (no credential: it only says "I can do OAuth"):

   - HTTP 401 with a ``Bearer`` challenge carrying ``authorization_uri``: hybrid modern
     authentication works (``exchange.modern-auth``, an ``ok`` finding);
   - 401 with a ``Bearer`` challenge without ``authorization_uri`` (Exchange's server-to-server
     OAuth only): modern authentication for apps is not enabled (``exchange.bearer-no-authority``);
   - 401 with only Basic, NTLM or Negotiate: modern authentication is off, or a device in front of
     Exchange (reverse proxy, load balancer, TLS offloader) answers or strips the challenge
     (``exchange.bearer-missing``);
   - a 200 or a redirect: not Exchange's answer; a pre-authenticating gateway (AD FS with Web
     Application Proxy, F5 BIG-IP APM, Citrix Gateway ...) wants a browser sign-in first
     (``exchange.pre-auth``). Known gateways are named in ``detail["looks_like"]`` from the
     redirect's path or the names (never values) of the cookies they set;
   - anything else: ``exchange.service-unexpected``.

Failures of the network seam are findings too: ``exchange.tls`` (the seam's finer code, such as
``tls.untrusted``, in ``detail["error"]``), ``exchange.timeout``, unreachable hosts. Every
request is bounded by ``seconds`` (default :data:`REQUEST_SECONDS`, redirects included), and the
two steps run their requests concurrently, so the whole check takes at most about twice
``seconds``. Nothing but the Autodiscover question carries the address, and only to the hosts
asked; the facts hold URLs without their query strings, status codes and challenge schemes, never
a body, a cookie value or a token.

Sources:

- Microsoft, "Using hybrid Modern Authentication with Outlook for iOS and Android"
  (learn.microsoft.com/exchange/clients/outlook-for-ios-and-android/use-hybrid-modern-auth;
  MicrosoftDocs/OfficeDocs-Exchange, ``Exchange/ExchangeServer/clients/outlook-for-ios-and-
  android/use-hybrid-modern-auth.md``): connection flow steps 1 and 2 (the anonymous on-premises
  ``autodiscover.json?Email=...&Protocol=activesync`` query; then "an empty bearer challenge" to
  the ActiveSync URL, answered by a 401 whose ``WWW-Authenticate: Bearer`` header holds the
  ``authorization_uri`` of the sign-in service); technical requirements: "AutoDiscover and
  Exchange ActiveSync namespaces must be accessible from the Internet and cannot be fronted by a
  pre-authentication solution", and no SSL/TLS offloading between the load balancer and Exchange
  ("SSL and TLS bridging (termination and re-encryption) is supported").
- Microsoft, "How to configure Exchange Server on-premises to use Hybrid Modern Authentication"
  (MicrosoftDocs/microsoft-365-docs, ``microsoft-365/enterprise/configure-exchange-server-for-
  hybrid-modern-authentication.md``): OAuth on the virtual directories, the EvoSTS auth server as
  default authorization endpoint (``Set-AuthServer ... -IsDefaultAuthorizationEndpoint $true``),
  ``Set-OrganizationConfig -OAuth2ClientProfileEnabled $true``.
- [MS-XOAUTH] 3.2.5.4 "Realm Autodiscovery Through HTTP 401 Challenge" and its example in 4.6:
  a request with an empty Bearer authorization gets a 401 whose Bearer challenge has
  ``client_id`` and ``trusted_issuers`` (that example has no ``authorization_uri``; the
  emulation's "server-to-server" answer copies it), followed by the other schemes (summarised
  in /work/shared/research/microsoft.md, 3.3).

Not verified against live servers or gateways (there is no internet here): the answers are
those the documents above describe, as the test world's emulation plays them; the gateway
markers are the products' usual sign-in paths and cookie names, not measured answers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from html import unescape
from typing import Final
from urllib.parse import urlsplit

import httpx

from app.core.checks.tlsreport import tls_code
from app.core.diagnostics import knowledge
from app.core.discovery.autodiscover_parse import (
    AutodiscoverV2Answer,
    parse_autodiscover_v2,
    parse_www_authenticate,
)
from app.core.discovery.clientconfig import DiscoveryDocumentError, shown
from app.core.discovery.microsoft.clouds import default_clouds
from app.core.discovery.microsoft.hybrid import (
    AUTODISCOVER_PATH,
    RedirectProblem,
    RedirectRefused,
    RedirectTracker,
    autodiscover_url,
    interpret_bearer,
    redact_url,
)
from app.core.discovery.microsoft.tenant import MAX_JSON_BYTES
from app.core.errors import DeadlineError, InvalidSettingError, NetworkError, SetupError, TLSError
from app.core.model import EmailAddress, Finding, normalise_host
from app.core.net import HttpResult, Network
from app.core.texts import ParamValue, Text

__all__ = [
    "CODES",
    "PROTOCOLS",
    "REQUEST_SECONDS",
    "check_exchange",
]

#: Each request (an Autodiscover chain with its redirects, or one service probe) at most.
REQUEST_SECONDS: Final = 5.0
#: The Autodiscover protocols asked for, in the order their URLs are reported.
PROTOCOLS: Final = ("ActiveSync", "EWS")
#: The largest answer read from a service URL (Exchange's 401 body is a few hundred bytes;
#: a gateway's sign-in page may be bigger).
PROBE_BYTES: Final = 256 * 1024
#: Every finding code this check makes (all defined in resources/knowledge/exchange.toml).
CODES: Final = (
    "exchange.modern-auth",
    "exchange.bearer-missing",
    "exchange.bearer-no-authority",
    "exchange.bearer-unreadable",
    "exchange.pre-auth",
    "exchange.service-unexpected",
    "exchange.service-unreachable",
    "exchange.autodiscover-missing",
    "exchange.autodiscover-pre-auth",
    "exchange.autodiscover-unauthorized",
    "exchange.autodiscover-refused",
    "exchange.tls",
    "exchange.timeout",
)

_TITLE: Final = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
# Paths of the sign-in pages of common pre-authenticating gateways (lower case), and the names of
# cookies they set. Heuristics for the helpdesk's detail only; the finding does not depend on them.
_GATEWAY_PATHS: Final = (
    ("/adfs/ls", "AD FS (Web Application Proxy)"),
    ("/my.policy", "F5 BIG-IP APM"),
    ("/vdesk/", "F5 BIG-IP APM"),
    ("/logon/logonpoint", "Citrix Gateway"),
    ("/vpn/index.html", "Citrix Gateway"),
    ("/cookieauth.dll", "Microsoft TMG/UAG forms sign-in"),
    ("/owa/auth/logon.aspx", "Outlook on the web forms sign-in"),
    ("/oauth2/authorize", "an OAuth sign-in page (e.g. Microsoft Entra application proxy)"),
)
_GATEWAY_COOKIES: Final = (
    ("mrhsession", "F5 BIG-IP APM"),
    ("lastmrh_session", "F5 BIG-IP APM"),
    ("nsc_", "Citrix Gateway"),
    ("msisauth", "AD FS (Web Application Proxy)"),
    ("enterpriseapprestproxy", "Microsoft Entra application proxy"),
)


class Result(StrEnum):
    """What one request found (``result`` in the facts)."""

    ANSWER = "answer"  # Autodiscover named a URL
    REFUSED = "refused"  # Autodiscover answered {"ErrorCode": ...}
    MODERN_AUTH = "modern-auth"  # 401 with Bearer and authorization_uri
    BEARER_NO_AUTHORITY = "bearer-no-authority"  # 401 with Bearer, no authorization_uri
    BEARER_MISSING = "bearer-missing"  # 401 without a Bearer challenge
    BEARER_UNREADABLE = "bearer-unreadable"  # 401 with a WWW-Authenticate that cannot be read
    UNAUTHORIZED = "unauthorized"  # Autodiscover wants a sign-in
    PRE_AUTH = "pre-auth"  # a sign-in page or a redirect to one, not Exchange
    UNEXPECTED = "unexpected"  # another status, an unreadable or refused answer
    UNREACHABLE = "unreachable"  # DNS, connection, proxy
    TLS = "tls"
    TIMEOUT = "timeout"


@dataclass
class _Lookup:
    """One Autodiscover question (one host, one protocol)."""

    host: str
    protocol: str
    result: Result = Result.UNEXPECTED
    status: int | None = None
    service_url: str | None = None
    hops: list[str] = field(default_factory=list)
    answer: str | None = None  # what came back instead of an answer, for the texts
    schemes: tuple[str, ...] = ()
    error: str | None = None  # the seam's or the parser's code
    looks_like: str | None = None
    server_said: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "protocol": self.protocol,
            "result": self.result.value,
            "status": self.status,
            "url": redact_url(self.service_url) if self.service_url else None,
            "hops": list(self.hops),
            "answer": self.answer,
            "schemes": list(self.schemes),
            "error": self.error,
            "looks_like": self.looks_like,
        }


@dataclass
class _Probe:
    """One request to a service URL (ActiveSync or EWS, or both when they share the URL)."""

    url: str
    host: str
    services: tuple[str, ...]
    result: Result = Result.UNEXPECTED
    status: int | None = None
    schemes: tuple[str, ...] = ()
    authorization_uri: str | None = None
    authority: str | None = None
    tenant_id: str | None = None
    answer: str | None = None
    error: str | None = None
    looks_like: str | None = None
    server_said: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "url": redact_url(self.url),
            "host": self.host,
            "services": list(self.services),
            "result": self.result.value,
            "status": self.status,
            "schemes": list(self.schemes),
            "bearer": self.result in (Result.MODERN_AUTH, Result.BEARER_NO_AUTHORITY),
            "authorization_uri": self.authorization_uri,
            "tenant_id": self.tenant_id,
            "answer": self.answer,
            "error": self.error,
            "looks_like": self.looks_like,
        }


# --- reading answers (no I/O) ---------------------------------------------------------------------


def _schemes(values: Sequence[str]) -> tuple[str, ...]:
    """The schemes of ``WWW-Authenticate`` values in order (the first word of each line when
    the header cannot be parsed)."""
    if not values:
        return ()
    try:
        challenges = parse_www_authenticate(list(values))
    except DiscoveryDocumentError:
        words = (value.strip().split(None, 1) for value in values)
        return tuple(dict.fromkeys(shown(w[0], 40) for w in words if w))
    return tuple(dict.fromkeys(c.scheme for c in challenges))


def _looks_like(result: HttpResult) -> str | None:
    """A guess at the gateway from the redirect's path or the names of the cookies it sets."""
    if result.location:
        try:
            path = urlsplit(result.location).path.lower()
        except ValueError:
            path = ""
        for marker, name in _GATEWAY_PATHS:
            if marker in path:
                return name
    for cookie in result.headers.get_list("set-cookie"):
        cookie_name = cookie.split("=", 1)[0].strip().lower()
        for marker, name in _GATEWAY_COOKIES:
            if cookie_name.startswith(marker):
                return name
    return None


def _is_page(result: HttpResult) -> bool:
    body = result.body.lstrip()[:64].lower()
    return result.content_type in ("text/html", "application/xhtml+xml") or body.startswith(
        (b"<!doctype html", b"<html")
    )


def _page_title(result: HttpResult) -> str | None:
    if not _is_page(result):
        return None
    found = _TITLE.search(result.text()[:PROBE_BYTES])
    if found is None:
        return None
    title = " ".join(unescape(found.group(1)).split())
    return shown(title, 80) if title else None


def _describe(result: HttpResult) -> str:
    """What came back, in a few technical words for the texts: ``302 -> https://sts.example/
    adfs/ls/`` or ``200 text/html "Sign In"`` (never a query string or a body)."""
    if result.location:
        return shown(f"HTTP {result.status} -> {redact_url(result.location)}", 200)
    parts = [f"HTTP {result.status}"]
    if result.content_type:
        parts.append(shown(result.content_type, 60))
    title = _page_title(result)
    if title:
        parts.append(f'"{title}"')
    return " ".join(parts)


def _failure(error: SetupError) -> tuple[Result, str]:
    """The result of a failed request, and the code to name it by."""
    if isinstance(error, TLSError):
        problem = error.detail.get("problem")
        return Result.TLS, tls_code(problem) if isinstance(problem, str) else error.code
    if isinstance(error, DeadlineError):
        return Result.TIMEOUT, error.code
    if isinstance(error, NetworkError):
        return Result.UNREACHABLE, error.code
    return Result.UNEXPECTED, error.code


def _interpret_probe(probe: _Probe, result: HttpResult) -> None:
    """Fill ``probe`` from the service URL's answer to the empty-Bearer request."""
    probe.status = result.status
    if result.status == 401:
        values = result.headers.get_list("www-authenticate")
        probe.schemes = _schemes(values)
        try:
            found = interpret_bearer(result.status, values, source=redact_url(probe.url))
        except DiscoveryDocumentError as exc:
            probe.result, probe.error = Result.BEARER_UNREADABLE, exc.code
            return
        bearer = found.bearer
        if bearer is None:
            probe.result = Result.BEARER_MISSING
        elif bearer.authorization_uri is None:
            probe.result = Result.BEARER_NO_AUTHORITY
        else:
            probe.result = Result.MODERN_AUTH
            probe.authorization_uri = shown(bearer.authorization_uri, 200)
            probe.authority = bearer.authority
            probe.tenant_id = bearer.tenant_id
        return
    if result.is_redirect or 200 <= result.status < 300:
        probe.result = Result.PRE_AUTH
        probe.looks_like = _looks_like(result)
        probe.server_said = _page_title(result)
    else:
        probe.result = Result.UNEXPECTED
    probe.answer = _describe(result)


# --- the requests ---------------------------------------------------------------------------------


async def _lookup(
    net: Network,
    client: httpx.AsyncClient,
    address: EmailAddress,
    host: str,
    protocol: str,
    seconds: float,
    microsoft_hosts: Sequence[str],
) -> _Lookup:
    lookup = _Lookup(host, protocol)
    start = autodiscover_url(f"https://{host}{AUTODISCOVER_PATH}", address, protocol)
    try:
        tracker = RedirectTracker(address, start, microsoft_hosts)
    except ValueError:  # a host name no URL can be made of (checked in _hosts: not expected)
        lookup.error = "invalid-url"
        return lookup
    try:
        async with asyncio.timeout(seconds):
            while True:
                url = tracker.current.url
                lookup.hops.append(redact_url(url))
                result = await net.fetch(
                    url,
                    headers={"Accept": "application/json"},
                    max_bytes=MAX_JSON_BYTES,
                    client=client,
                )
                lookup.status = result.status
                if result.is_redirect and result.location is not None:
                    followed = tracker.follow(result.location)
                    if isinstance(followed, RedirectRefused):
                        lookup.answer = _describe(result)
                        lookup.looks_like = _looks_like(result)
                        if followed.problem is RedirectProblem.NOT_AUTODISCOVER:
                            lookup.result = Result.PRE_AUTH
                        else:
                            lookup.result = Result.UNEXPECTED
                            lookup.error = f"redirect.{followed.problem.value}"
                        return lookup
                    continue
                _interpret_lookup(lookup, result, url)
                return lookup
    except TimeoutError:
        lookup.result, lookup.error = Result.TIMEOUT, "deadline.exceeded"
    except SetupError as error:
        lookup.result, lookup.error = _failure(error)
    return lookup


def _interpret_lookup(lookup: _Lookup, result: HttpResult, url: str) -> None:
    """Fill ``lookup`` from a final (not redirected) Autodiscover answer."""
    if result.status == 200:
        try:
            parsed = parse_autodiscover_v2(result.body, source=redact_url(url))
        except DiscoveryDocumentError as exc:
            lookup.answer = _describe(result)
            if _is_page(result):
                lookup.result = Result.PRE_AUTH
                lookup.looks_like = _looks_like(result)
                lookup.server_said = _page_title(result)
            else:
                lookup.result, lookup.error = Result.UNEXPECTED, exc.code
            return
        if isinstance(parsed, AutodiscoverV2Answer):
            lookup.result, lookup.service_url = Result.ANSWER, parsed.url
        else:
            lookup.result = Result.REFUSED
            lookup.server_said = shown(f"{parsed.code}: {parsed.message}", 300)
        return
    lookup.answer = _describe(result)
    if result.status == 401:
        lookup.result = Result.UNAUTHORIZED
        lookup.schemes = _schemes(result.headers.get_list("www-authenticate"))
    else:
        lookup.result = Result.UNEXPECTED


async def _probe(
    net: Network, client: httpx.AsyncClient, url: str, services: tuple[str, ...], seconds: float
) -> _Probe:
    host = (urlsplit(url).hostname or "").lower()
    probe = _Probe(url, host, services)
    try:
        async with asyncio.timeout(seconds):
            # An empty Bearer authorization: no credential, it only asks for the OAuth challenge
            # (MS-XOAUTH 3.2.5.4; Outlook for iOS and Android's AutoDetect sends the same).
            result = await net.fetch(
                url, headers={"Authorization": "Bearer"}, max_bytes=PROBE_BYTES, client=client
            )
    except TimeoutError:
        probe.result, probe.error = Result.TIMEOUT, "deadline.exceeded"
        return probe
    except SetupError as error:
        probe.result, probe.error = _failure(error)
        probe.answer = probe.error
        return probe
    _interpret_probe(probe, result)
    return probe


# --- findings -------------------------------------------------------------------------------------


def _joined(names: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(names))


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g}"


def _finding(
    code: str,
    checked: Text,
    params: dict[str, ParamValue],
    detail: dict[str, str | int | None],
    server_said: str | None = None,
) -> Finding:
    return knowledge.finding(
        code,
        checked=checked,
        params=params,
        server_said=server_said,
        detail={k: v for k, v in detail.items() if v is not None and v != ""},
    )


def _lookup_findings(
    lookups: Sequence[_Lookup], hosts: Sequence[str], seconds: float
) -> list[Finding]:
    """Problems of the Autodiscover step, for the protocols no host named a URL for."""
    answered = {item.protocol for item in lookups if item.result is Result.ANSWER}
    checked = Text("discovery.check.autodiscover")
    made: list[Finding] = []
    missing: list[str] = []
    for protocol in PROTOCOLS:
        if protocol in answered:
            continue
        specific = False
        for item in (i for i in lookups if i.protocol == protocol):
            detail: dict[str, str | int | None] = {
                "host": item.host,
                "protocol": protocol,
                "status": item.status,
                "error": item.error,
                "looks_like": item.looks_like,
            }
            if item.result is Result.PRE_AUTH:
                made.append(
                    _finding(
                        "exchange.autodiscover-pre-auth",
                        checked,
                        {"host": item.host, "answer": item.answer or ""},
                        detail,
                        item.server_said,
                    )
                )
            elif item.result is Result.UNAUTHORIZED:
                schemes = _joined(item.schemes) or "-"
                made.append(
                    _finding(
                        "exchange.autodiscover-unauthorized",
                        checked,
                        {"host": item.host, "schemes": schemes},
                        {**detail, "schemes": schemes},
                    )
                )
            elif item.result is Result.REFUSED:
                made.append(
                    _finding(
                        "exchange.autodiscover-refused",
                        checked,
                        {"host": item.host, "protocol": protocol},
                        detail,
                        item.server_said,
                    )
                )
            elif item.result is Result.TLS:
                made.append(_tls_finding(item.host, item.error or "tls.handshake"))
            elif item.result is Result.TIMEOUT:
                made.append(_timeout_finding(item.host, seconds, checked))
            else:
                continue
            specific = True
        if not specific:
            missing.append(protocol)
    if missing:
        made.append(
            _finding(
                "exchange.autodiscover-missing",
                checked,
                {"hosts": _joined(hosts)},
                {"host": hosts[0], "hosts": _joined(hosts), "protocols": _joined(missing)},
            )
        )
    return made


def _tls_finding(host: str, error: str) -> Finding:
    return _finding(
        "exchange.tls",
        Text("check.tls", {"host": host}),
        {"host": host, "error": error},
        {"host": host, "error": error},
    )


def _timeout_finding(host: str, seconds: float, checked: Text) -> Finding:
    return _finding(
        "exchange.timeout",
        checked,
        {"host": host, "seconds": _seconds_text(seconds)},
        {"host": host, "seconds": _seconds_text(seconds)},
    )


_PROBE_CODES: Final = {
    Result.MODERN_AUTH: "exchange.modern-auth",
    Result.BEARER_NO_AUTHORITY: "exchange.bearer-no-authority",
    Result.BEARER_MISSING: "exchange.bearer-missing",
    Result.BEARER_UNREADABLE: "exchange.bearer-unreadable",
    Result.PRE_AUTH: "exchange.pre-auth",
    Result.UNEXPECTED: "exchange.service-unexpected",
    Result.UNREACHABLE: "exchange.service-unreachable",
}


def _probe_findings(probes: Sequence[_Probe], seconds: float) -> list[Finding]:
    """One finding per (result, host): ActiveSync and EWS on one host with the same result
    make one finding naming both."""
    groups: dict[tuple[Result, str], list[_Probe]] = {}
    for probe in probes:
        groups.setdefault((probe.result, probe.host), []).append(probe)
    made: list[Finding] = []
    for (result, host), members in groups.items():
        checked = Text("discovery.microsoft.check.bearer", {"host": host})
        first = members[0]
        if result is Result.TLS:
            made.append(_tls_finding(host, first.error or "tls.handshake"))
            continue
        if result is Result.TIMEOUT:
            made.append(_timeout_finding(host, seconds, checked))
            continue
        services = _joined(s for m in members for s in m.services)
        schemes = _joined(s for m in members for s in m.schemes)
        params: dict[str, ParamValue] = {"host": host, "services": services}
        if result is Result.MODERN_AUTH:
            params["authority"] = first.authority or first.authorization_uri or "-"
        elif result is Result.BEARER_MISSING:
            params["schemes"] = schemes or "-"
        elif result in (Result.PRE_AUTH, Result.UNEXPECTED):
            params["answer"] = first.answer or "-"
        elif result is Result.UNREACHABLE:
            params["error"] = first.error or "network.failed"
        detail: dict[str, str | int | None] = {
            "host": host,
            "services": services,
            "status": first.status,
            "schemes": schemes,
            "url": redact_url(first.url),
            "error": first.error,
            "looks_like": first.looks_like,
            "authorization_uri": first.authorization_uri,
            "tenant_id": first.tenant_id,
        }
        made.append(_finding(_PROBE_CODES[result], checked, params, detail, first.server_said))
    return made


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    """Each (code, host) once: the same TLS failure seen by both steps is one finding."""
    seen: set[tuple[str, str]] = set()
    kept: list[Finding] = []
    for item in findings:
        key = (item.code, str(item.detail.get("host", "")))
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


# --- the check ------------------------------------------------------------------------------------


def _hosts(address: EmailAddress, hosts: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The hosts to ask (normalised, in order, each once) and the ones that are not host names."""
    given = [hosts] if isinstance(hosts, str) else list(hosts or ())
    if not given:
        given = [f"autodiscover.{address.domain_ascii}"]
    kept: list[str] = []
    ignored: list[str] = []
    for name in given:
        try:
            kept.append(normalise_host(name))
        except InvalidSettingError:
            ignored.append(shown(name, 100))
    return list(dict.fromkeys(kept)), ignored


async def check_exchange(
    address: EmailAddress,
    net: Network,
    *,
    hosts: Sequence[str] | None = None,
    seconds: float = REQUEST_SECONDS,
) -> tuple[dict[str, object], list[Finding]]:
    """Ask Exchange, without credentials, what an app that signs in with modern authentication
    asks first (module docstring): Autodiscover v2 on ``hosts`` (host names; by default
    ``autodiscover.<domain>``, e.g. also ``outlook.office365.com`` or the on-premises
    Autodiscover host the Microsoft discovery source found), then the ActiveSync and EWS URLs
    named, with an empty Bearer authorization. Each request is bounded by ``seconds``.

    Returns the facts (JSON-ready: per Autodiscover question and per service URL the status,
    the challenge schemes and the result; never a body, cookie or token) and the findings
    (codes ``exchange.*``, see :data:`CODES`). Never raises for what the network or the
    servers do; offline, it asks nothing and returns ``{"skipped": "offline"}``."""
    asked, ignored = _hosts(address, hosts)
    facts: dict[str, object] = {"hosts": list(asked), "seconds": seconds}
    if ignored:
        facts["ignored_hosts"] = ignored
    if net.options.offline:
        facts["skipped"] = "offline"
        return facts, []
    if not asked:
        facts["skipped"] = "no-hosts"
        return facts, []
    microsoft_hosts = sorted(default_clouds().exchange_hosts)
    async with net.http_client() as client:
        lookups = list(
            await asyncio.gather(
                *(
                    _lookup(net, client, address, host, protocol, seconds, microsoft_hosts)
                    for host in asked
                    for protocol in PROTOCOLS
                )
            )
        )
        urls: dict[str, list[str]] = {}  # service URL -> the protocols it serves
        chosen: dict[str, str] = {}
        for protocol in PROTOCOLS:
            found = next(
                (
                    item.service_url
                    for host in asked
                    for item in lookups
                    if item.host == host and item.protocol == protocol and item.service_url
                ),
                None,
            )
            if found is not None:
                chosen[protocol] = found
                urls.setdefault(found, []).append(protocol)
        probes = list(
            await asyncio.gather(
                *(_probe(net, client, url, tuple(names), seconds) for url, names in urls.items())
            )
        )
    findings = _unique(
        [*_lookup_findings(lookups, asked, seconds), *_probe_findings(probes, seconds)]
    )
    facts["autodiscover"] = [item.to_dict() for item in lookups]
    facts["services"] = [item.to_dict() for item in probes]
    facts["urls"] = {protocol: redact_url(url) for protocol, url in chosen.items()}
    facts["modern_auth"] = {
        protocol: next(
            (p.result is Result.MODERN_AUTH for p in probes if protocol in p.services), None
        )
        for protocol in PROTOCOLS
    }
    facts["pre_authentication"] = any(i.result is Result.PRE_AUTH for i in lookups) or any(
        p.result is Result.PRE_AUTH for p in probes
    )
    return facts, findings
