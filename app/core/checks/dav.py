"""The CalDAV and CardDAV check: RFC 6764 bootstrapping from the user's own machine.

``check_dav(target, context)`` (also exported as ``check_caldav`` and ``check_carddav``; the
target's ``protocol`` says which service) speaks plain WebDAV through the network seam's HTTP
client, which never follows redirects by itself: the check judges each one.

1. **Without credentials** (always, so that it runs alongside the other checks before any
   sign-in): ``PROPFIND`` (Depth 0) for ``current-user-principal`` on the given URL, or, when
   the URL is a server root, on ``/.well-known/caldav|carddav`` first and the root after a 404.
   Redirects are followed (at most :data:`MAX_REDIRECTS`; a loop, too many, or a step down from
   https to http is a finding, and the http address is never asked). The first answer gives
   the ``connect`` and ``tls`` steps; the address reached is the *context URL*; a ``401`` is
   the sign-in challenge, whose schemes (Basic, Bearer...) are reported.
2. **With credentials** (HTTP Basic for a password or app password, Bearer for an OAuth2
   token), after ``await context.gate.turn(credentials)``: the same PROPFIND on the context
   URL names the principal; a PROPFIND on the principal gives ``calendar-home-set`` /
   ``addressbook-home-set``; a Depth 1 PROPFIND on the home set lists the calendars (display
   name, supported components) or address books. A 401 ends the check at once, so a wrong
   password costs exactly one failed sign-in.

Credentials travel only over https and only to hosts of the starting host's registered
domain (by the public suffix list: ``caldav.icloud.com`` may send them to
``p07-caldav.icloud.com``, never to another domain). A redirect, principal or home set that
points elsewhere is reported and not contacted with them. An IP address or a single-label
host name is its own domain.

Steps (stable names): ``connect``, ``tls``, ``well-known`` (failed but harmless when the server
has none and its root answers), ``challenge``, ``principal``, ``home-set``, ``collections``.
Findings come from ``resources/knowledge/dav.toml`` (``dav.*``); failures of DNS, TCP and TLS
keep the network seam's codes (``dns.*``, ``connect.*``, ``tls.*``, through
``tlsreport.error_finding``); each host's certificate is looked at (``tls.intercepted``,
``tls.configured-ca``, ``tls.expiring-soon``) and the first answer's ``Date`` against this
computer's clock (``clock.skew``). ``ok`` is False on any error, or when a problem stopped the
check short (no calendars, a sign-in skipped by the gate); warnings on the way do not fail it.
``data`` holds what was learned: ``service``, ``start_url``, ``context_url``, ``redirects``,
``auth_schemes``, ``auth_method``, ``username``, ``username_differs``, ``principal_url``,
``home_set_url``, ``calendar_user_addresses``, ``collections``. Secrets appear nowhere in it.
"""

from __future__ import annotations

import base64
import http
import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from publicsuffixlist import PublicSuffixList

from app.core.checks import davxml, tlsreport
from app.core.checks.base import (
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    CredentialKind,
    Credentials,
)
from app.core.checks.davxml import DavXmlError, Multistatus, Service
from app.core.checks.mailcheck import seam_finding, tls_detail, tls_findings
from app.core.diagnostics import knowledge
from app.core.diagnostics.redact import redact
from app.core.discovery.autodiscover_parse import parse_www_authenticate
from app.core.errors import DeadlineError, ServerError, SetupError, TLSError
from app.core.model import Finding, Outcome, Protocol
from app.core.net import HttpResult, TLSInfo
from app.core.texts import Text

__all__ = ["MAX_REDIRECTS", "check_caldav", "check_carddav", "check_dav", "registered_domain"]

#: Redirects followed for one request; more is a finding (a working server needs one or two).
MAX_REDIRECTS: Final = 5
_NOT_THERE: Final = frozenset({404, 405, 501})  # no DAV service at this address
_SNIPPET: Final = 200  # characters of a server's body shown in a finding


@cache
def _public_suffixes() -> PublicSuffixList:
    # Shipped with the package (no download); ICANN section only, as discovery.mx does.
    return PublicSuffixList(only_icann=True)


def registered_domain(host: str) -> str:
    """The domain a host belongs to for the purpose of sending credentials: its registered
    domain by the public suffix list (``p07-caldav.icloud.com`` -> ``icloud.com``); an IP
    address, a single-label name or a public suffix is its own domain."""
    name = host.strip().rstrip(".").lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return name
    if "." not in name:
        return name
    return _public_suffixes().privatesuffix(name) or name


def _host(url: str) -> str:
    """The URL's host in lower case; "" when there is none or the URL is unusable."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def _is_icloud(host: str) -> bool:
    return registered_domain(host) == "icloud.com"


class _Stop(Exception):
    """Ends the check with ``finding`` as its main problem."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.code)
        self.finding = finding


@dataclass(frozen=True)
class _Answer:
    result: HttpResult
    url: str  # the URL that gave ``result`` (after redirects)


class _DavCheck:
    """One run of the check; ``run()`` never raises for server or network failures."""

    def __init__(self, target: CheckTarget, context: CheckContext) -> None:
        self.target = target
        self.context = context
        self.service = Service.CALDAV if target.protocol is Protocol.CALDAV else Service.CARDDAV
        self.credentials: Credentials | None = target.credentials
        self.timeline = context.timeline(target.protocol)
        self.findings: list[Finding] = []
        self.data: dict[str, object] = {"service": self.service.value}
        self.redirects: list[dict[str, object]] = []
        self.tls: TLSInfo | None = None
        self.origin = ""  # the starting host
        self.domain = ""  # its registered domain: the only one credentials go to
        self.client: httpx.AsyncClient | None = None
        self.connected = False  # the connect/tls steps are recorded
        self.holding_turn = False  # this check took the gate's turn and owes it an outcome
        self.authenticated = False
        self.auth_tried = False
        self.challenged = False  # the unauthenticated request was answered with 401
        self.analysed: set[str] = set()  # hosts whose TLS was looked at
        self.stop: Finding | None = None  # what ended the check early

    # ------------------------------------------------------------------ the run

    async def run(self) -> CheckResult:
        shown = self._shown_target()
        try:
            start = self._start_url(shown)
            async with self.context.net.http_client() as client:
                self.client = client
                await self._discover(start)
        except _Stop as stop:
            self.stop = stop.finding
            self.findings.insert(0, stop.finding)
        finally:
            if self.holding_turn and self.credentials is not None:
                self.context.gate.release(self.credentials)  # no outcome was reported
        if self.redirects:
            self.data["redirects"] = self.redirects
        # ok: no error, and not stopped short by a problem (no calendars, a skipped sign-in);
        # warnings on the way (a wrong clock, TLS inspection) are told but do not fail it
        stopped = self.stop is not None and self.stop.outcome.is_problem
        errors = [f for f in self.findings if f.outcome is Outcome.ERROR]
        main = self.stop if stopped else (errors[0] if errors else None)
        ordered = ([main] if main else []) + [f for f in self.findings if f is not main]
        return CheckResult(
            protocol=self.target.protocol,
            target=shown,
            ok=main is None,
            authenticated=self.authenticated,
            steps=tuple(self.timeline.steps),
            tls=self.tls,
            finding=main,
            findings=tuple(ordered),
            data=self.data,
            auth_tried=self.auth_tried,
        )

    def _shown_target(self) -> str:
        if self.target.url is not None:
            return self.target.url
        endpoint = self.target.endpoint
        if endpoint is None:
            return self.service.value
        host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
        port = "" if endpoint.port == 443 else f":{endpoint.port}"
        return f"https://{host}{port}/"

    def _start_url(self, shown: str) -> str:
        try:
            parts = urlsplit(shown.strip())
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            host = None
            parts = urlsplit("")
        if parts.scheme.lower() not in ("http", "https") or not host:
            raise _Stop(self._finding("dav.url.invalid", shown))
        self.origin = host.lower()
        self.domain = registered_domain(self.origin)
        url = urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))
        self.data["start_url"] = url
        if parts.scheme.lower() == "http":
            insecure = self._finding("dav.insecure-url", url)
            if self.credentials is not None:
                raise _Stop(insecure)
            self.findings.append(insecure)
        if self.credentials is not None:
            username = self.credentials.username
            self.data["username"] = username
            self.data["auth_method"] = (
                "bearer" if self.credentials.kind is CredentialKind.OAUTH2 else "basic"
            )
            address = self.target.address
            differs = bool(address) and username.casefold() != (address or "").casefold()
            self.data["username_differs"] = differs
            if differs and "@" in username:
                self.findings.append(
                    self._finding("dav.username-differs", url, username=username, address=address)
                )
        return url

    async def _discover(self, start: str) -> None:
        body = davxml.principal_request(self.service)
        context_answer = await self._find_context(start, body)
        context_url = context_answer.url
        self.data["context_url"] = context_url
        status = context_answer.result.status
        schemes: list[str] = []
        self.challenged = status == 401
        if status == 401:
            started = time.monotonic()
            schemes = _schemes(context_answer.result)
            self.data["auth_schemes"] = schemes
            shown = ", ".join(schemes) if schemes else "none named"
            self.timeline.add("challenge", True, started, f"401: sign-in offered: {shown}")
        if self.credentials is None:
            if status == 401:
                self.findings.append(
                    self._finding(
                        "dav.auth.required", context_url, schemes=", ".join(schemes) or "-"
                    )
                )
                return
            started = time.monotonic()
            multistatus = self._multistatus(context_answer, "principal", started)
            await self._walk(multistatus, context_url, started, auth=False)
            return
        await self._sign_in(context_url, schemes, body)

    async def _find_context(self, start: str, body: bytes) -> _Answer:
        """The unauthenticated first request(s): where the service is (the context URL)."""
        path = urlsplit(start).path
        if path in ("", "/"):
            candidates = [urljoin(start, self.service.well_known_path), start]
        else:
            candidates = [start]
        for index, url in enumerate(candidates):
            is_well_known = urlsplit(url).path.rstrip("/") == self.service.well_known_path
            stage = "well-known" if is_well_known else "principal"
            started = time.monotonic()
            answer = await self._propfind(url, body, "0", auth=False, stage=stage, started=started)
            status = answer.result.status
            last = index == len(candidates) - 1
            if is_well_known:
                if status in _NOT_THERE and not last:
                    self.timeline.add(stage, False, started, f"{status}: trying the server root")
                    continue
                moved = "" if answer.url == url else f" at {answer.url}"
                self.timeline.add(stage, status not in _NOT_THERE, started, f"{status}{moved}")
            if status == 401 or 200 <= status < 300:
                return answer
            finding = self._status_finding(answer, auth=False)
            if is_well_known:
                raise _Stop(finding)  # its step is recorded above
            raise self._failed(stage, started, finding)
        raise AssertionError("unreachable: the last candidate returns or raises")

    async def _sign_in(self, context_url: str, schemes: list[str], body: bytes) -> None:
        """The principal request with credentials: the one sign-in, through the gate."""
        assert self.credentials is not None
        credentials = self.credentials
        started = time.monotonic()
        if not self._may_send(context_url):
            raise self._failed(
                "principal", started, self._foreign("dav.redirect.foreign", context_url)
            )
        wanted = "Bearer" if credentials.kind is CredentialKind.OAUTH2 else "Basic"
        if schemes and not any(s.lower() == wanted.lower() for s in schemes):
            code = (
                "dav.auth.bearer-not-offered"
                if wanted == "Bearer"
                else "dav.auth.basic-not-offered"
            )
            finding = self._finding(code, context_url, schemes=", ".join(schemes))
            raise self._failed("principal", started, finding)
        if not await self.context.gate.turn(credentials):
            skipped = self._finding("dav.auth.skipped", context_url)
            raise self._failed("principal", started, skipped)  # its ms: the wait
        self.holding_turn = True
        started = time.monotonic()
        self.auth_tried = True
        answer = await self._propfind(
            context_url, body, "0", auth=True, stage="principal", started=started
        )
        status = answer.result.status
        if status == 401:
            self._report(AuthOutcome.CREDENTIALS_REJECTED)
        elif 200 <= status < 300:
            self._report(AuthOutcome.SUCCEEDED)
            # proven only if the same request without credentials was refused: a server that
            # lets anyone in would accept any password
            self.authenticated = self.challenged
        else:
            self._report(AuthOutcome.FAILED_OTHERWISE)
        multistatus = self._multistatus(answer, "principal", started, auth=True)
        await self._walk(multistatus, answer.url, started, auth=True)

    def _report(self, outcome: AuthOutcome) -> None:
        if self.holding_turn and self.credentials is not None:
            self.context.gate.done(self.credentials, outcome)
            self.holding_turn = False

    async def _walk(self, first: Multistatus, url: str, started: float, *, auth: bool) -> None:
        """From the answer on the context URL: principal -> home set -> collections."""
        own = first.for_url(url)
        if own is not None and own.unauthenticated and not auth:
            self.timeline.add("principal", True, started, "nobody signed in")
            self.findings.append(self._finding("dav.auth.required", url, schemes="-"))
            return
        principal = (own.href_of(davxml.CURRENT_USER_PRINCIPAL) if own else None) or (
            first.first_href(davxml.CURRENT_USER_PRINCIPAL)
        )
        home = first.first_href(self.service.home_set)
        if principal is None and home is None:
            raise self._failed("principal", started, self._finding("dav.no-principal", url))
        self.timeline.add("principal", True, started, principal or f"home set at {url}")
        if principal is not None:
            self.data["principal_url"] = principal
        home_named_by = url
        if home is None:
            assert principal is not None
            home, home_named_by = await self._home_set(principal, url, auth=auth)
        self.data["home_set_url"] = home
        await self._collections(home, home_named_by, auth=auth)

    async def _home_set(self, principal: str, named_by: str, *, auth: bool) -> tuple[str, str]:
        """The home set named by the principal, and the URL whose answer named it."""
        started = time.monotonic()
        self._check_link("home-set", principal, named_by, started, auth=auth)
        answer = await self._propfind(
            principal,
            davxml.home_set_request(self.service),
            "0",
            auth=auth,
            stage="home-set",
            started=started,
        )
        multistatus = self._multistatus(answer, "home-set", started, auth=auth)
        own = multistatus.for_url(answer.url)
        home = (own.href_of(self.service.home_set) if own else None) or multistatus.first_href(
            self.service.home_set
        )
        if own is not None and self.service is Service.CALDAV:
            addresses = [h for h in own.hrefs(davxml.CALENDAR_USER_ADDRESS_SET) if h]
            if addresses:
                self.data["calendar_user_addresses"] = addresses
        if home is None:
            raise self._failed("home-set", started, self._finding("dav.no-home-set", answer.url))
        self.timeline.add("home-set", True, started, home)
        return home, answer.url

    async def _collections(self, home: str, named_by: str, *, auth: bool) -> None:
        started = time.monotonic()
        self._check_link("collections", home, named_by, started, auth=auth)
        answer = await self._propfind(
            home,
            davxml.collections_request(self.service),
            "1",
            auth=auth,
            stage="collections",
            started=started,
        )
        multistatus = self._multistatus(answer, "collections", started, auth=auth)
        found = davxml.collections_in(multistatus, self.service, answer.url)
        self.data["collections"] = [c.to_dict() for c in found]
        if not found:
            code = "dav.no-calendars" if self.service is Service.CALDAV else "dav.no-address-books"
            raise self._failed("collections", started, self._finding(code, home))
        names = ", ".join(c.displayname or urlsplit(c.url).path for c in found)
        self.timeline.add("collections", True, started, f"{len(found)}: {names}"[:_SNIPPET])

    # ------------------------------------------------------------------ requests

    def _may_send(self, url: str) -> bool:
        """Whether credentials may go to ``url``: https, and a host of the provider's domain."""
        host = _host(url)
        return (
            _scheme(url) == "https"
            and bool(host)
            and (host == self.origin or registered_domain(host) == self.domain)
        )

    def _check_link(
        self, stage: str, url: str, named_by: str, started: float, *, auth: bool
    ) -> None:
        """A principal or home set named by ``named_by``'s answer: a usable URL, never a step
        down from https to http, and with credentials only within the provider's domain."""
        if _scheme(url) not in ("http", "https") or not _host(url):
            raise self._failed(stage, started, self._finding("dav.url.invalid", url))
        if _scheme(url) == "http" and (auth or _scheme(named_by) == "https"):
            raise self._failed(stage, started, self._redirect_finding("insecure", named_by, url))
        if auth and not self._may_send(url):
            raise self._failed(stage, started, self._foreign("dav.href.foreign", url))

    def _authorization(self) -> str:
        assert self.credentials is not None
        secret = self.credentials.secret.reveal()
        if self.credentials.kind is CredentialKind.OAUTH2:
            return f"Bearer {secret}"
        pair = f"{self.credentials.username}:{secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    async def _propfind(
        self, url: str, body: bytes, depth: str, *, auth: bool, stage: str, started: float
    ) -> _Answer:
        """One PROPFIND, its redirects followed as the rules allow."""
        seen = {url}
        current = url
        hops = 0
        while True:
            result = await self._fetch(
                current, body, depth, auth=auth, stage=stage, started=started
            )
            if not (300 <= result.status < 400) or result.status == 304:
                return _Answer(result, current)
            location = result.location
            if not location or _scheme(location) not in ("http", "https") or not _host(location):
                raise self._failed(
                    stage,
                    started,
                    self._finding("dav.redirect.invalid", current, status=result.status),
                )
            self.redirects.append({"from": current, "to": location, "status": result.status})
            if _scheme(location) == "http" and (_scheme(current) == "https" or auth):
                raise self._failed(
                    stage, started, self._redirect_finding("insecure", current, location)
                )
            if location in seen:
                raise self._failed(
                    stage, started, self._redirect_finding("loop", current, location)
                )
            hops += 1
            if hops > MAX_REDIRECTS:
                raise self._failed(
                    stage,
                    started,
                    self._redirect_finding("too-many", current, location, count=MAX_REDIRECTS),
                )
            if auth and not self._may_send(location):
                raise self._failed(stage, started, self._foreign("dav.redirect.foreign", location))
            seen.add(location)
            current = location

    async def _fetch(
        self, url: str, body: bytes, depth: str, *, auth: bool, stage: str, started: float
    ) -> HttpResult:
        headers = {
            "Depth": depth,
            "Content-Type": "application/xml; charset=utf-8",
            "Accept": "application/xml, text/xml;q=0.9, */*;q=0.1",
        }
        if auth:
            if not self._may_send(url):  # the callers check; this is the last line of defence
                raise self._failed(stage, started, self._foreign("dav.redirect.foreign", url))
            headers["Authorization"] = self._authorization()
        try:
            result = await self.context.net.fetch(
                url,
                method="PROPFIND",
                headers=headers,
                content=body,
                max_bytes=davxml.MAX_BYTES,
                client=self.client,
            )
        except SetupError as error:
            raise self._network_failure(error, url, stage, started) from None
        host = _host(url)
        if not self.connected:
            self.connected = True
            self.tls = result.tls
            peer = None if result.peer is None else f"{result.peer[0]}:{result.peer[1]}"
            self.timeline.add("connect", True, started, peer)
            if result.tls is not None:
                self.timeline.add("tls", True, started, self._secured(result.tls, host))
            skew = tlsreport.clock_skew(result.headers.get("date", ""), host=host)
            if skew is not None:
                self.findings.append(skew)
        elif result.tls is not None and host not in self.analysed:
            self._secured(result.tls, host)  # another host (iCloud's pNN): its own certificate
        return result

    def _secured(self, tls: TLSInfo, host: str) -> str:
        """Note what a handshake with ``host`` showed (interception, a configured CA, a
        certificate about to expire); the ``tls`` step's detail."""
        self.analysed.add(host)
        self.findings.extend(tls_findings(tls, host, self.context))
        return tls_detail(tls, starttls=False)

    def _network_failure(self, error: SetupError, url: str, stage: str, started: float) -> _Stop:
        host = _host(url)
        if isinstance(error, ServerError) and error.code == "http.too-large":
            self._mark_connected(started)
            finding = self._finding(
                "dav.response.too-large", url, host=host, limit=davxml.MAX_BYTES
            )
        elif isinstance(error, DeadlineError):
            finding = self._finding("dav.timeout", url, host=host, seconds=error.seconds)
        else:
            finding = self._seam_finding(error, url)
            if not self.connected:
                if isinstance(error, TLSError):
                    self.timeline.add("connect", True, started, host)
                    self.connected = True
                    return self._failed("tls", started, finding)
                self.connected = True
                return self._failed("connect", started, finding)
        return self._failed(stage, started, finding)

    def _seam_finding(self, error: SetupError, url: str) -> Finding:
        """A failure of the network seam (DNS, TCP, TLS) by its own code, with the knowledge
        catalog's texts (``tlsreport.error_finding``), redacted once more."""
        host = _host(url) or self.origin
        return seam_finding(error, Text("check.server", {"host": host}), self._redact)

    def _mark_connected(self, started: float) -> None:
        if not self.connected:
            self.connected = True
            self.timeline.add("connect", True, started, None)

    def _multistatus(
        self, answer: _Answer, stage: str, started: float, *, auth: bool = False
    ) -> Multistatus:
        """The answer as a multistatus, or the finding its status or body calls for."""
        result = answer.result
        if not 200 <= result.status < 300:
            raise self._failed(stage, started, self._status_finding(answer, auth=auth))
        if result.status != 207:
            raise self._failed(stage, started, self._finding("dav.not-dav", answer.url))
        try:
            return davxml.parse_multistatus(result.body, answer.url)
        except DavXmlError as error:
            if error.problem == davxml.TOO_LARGE:
                code = "dav.response.too-large"
            elif error.problem == davxml.NOT_MULTISTATUS:
                code = "dav.not-dav"
            else:
                code = "dav.response.malformed"
            finding = self._finding(
                code,
                answer.url,
                limit=davxml.MAX_BYTES,
                detail={"problem": error.problem, "reason": error.detail[:_SNIPPET]},
            )
            raise self._failed(stage, started, finding) from None

    # ------------------------------------------------------------------ findings

    def _failed(self, stage: str, started: float, finding: Finding) -> _Stop:
        self.timeline.add(stage, False, started, finding.code)
        return _Stop(finding)

    def _finding(
        self,
        code: str,
        url: str,
        *,
        server_said: str | None = None,
        detail: Mapping[str, str | int] | None = None,
        **params: str | int | float | None,
    ) -> Finding:
        host = _host(url) or self.origin or url
        values: dict[str, str | int | float] = {"host": host, "url": url, "domain": self.domain}
        values.update({k: v for k, v in params.items() if v is not None})
        shown_detail: dict[str, str | int] = {"host": host, "url": url}
        for key in ("status", "target", "count"):
            value = values.get(key)
            if isinstance(value, str | int):
                shown_detail[key] = value
        shown_detail.update(detail or {})
        return knowledge.finding(
            code,
            checked=Text("check.server", {"host": host}),
            server_said=None if server_said is None else self._redact(server_said),
            params=values,
            detail=shown_detail,
        )

    def _redirect_finding(self, kind: str, current: str, location: str, count: int = 0) -> Finding:
        return self._finding(f"dav.redirect.{kind}", current, target=location, count=count or None)

    def _foreign(self, code: str, target: str) -> Finding:
        return self._finding(code, f"https://{self.origin}/", target=target)

    def _status_finding(self, answer: _Answer, *, auth: bool) -> Finding:
        result = answer.result
        status = result.status
        said = self._server_said(result)
        if status == 401 and auth and self.credentials is not None:
            icloud = _is_icloud(_host(answer.url)) or _is_icloud(self.origin)
            code = "dav.auth.icloud" if icloud else "dav.auth.failed"
            return self._finding(
                code,
                answer.url,
                server_said=said,
                status=status,
                username=self.credentials.username,
            )
        if status == 401:
            schemes = ", ".join(_schemes(result)) or "-"
            return self._finding("dav.auth.required", answer.url, schemes=schemes, status=status)
        if status == 403:
            code = "dav.forbidden"
        elif status in _NOT_THERE:
            code = "dav.not-found"
        elif status >= 500:
            code = "dav.server-error"
        else:
            code = "dav.unexpected-status"
        return self._finding(code, answer.url, server_said=said, status=status)

    def _server_said(self, result: HttpResult) -> str:
        try:
            phrase = http.HTTPStatus(result.status).phrase
        except ValueError:
            phrase = ""
        said = f"HTTP {result.status} {phrase}".rstrip()
        kind = result.content_type
        if result.body and (kind.startswith("text/") or kind.endswith("xml")):
            text = " ".join(result.text().split())[:_SNIPPET]
            if text:
                said = f"{said}: {text}"
        return said

    def _redact(self, text: str) -> str:
        secrets = () if self.credentials is None else (self.credentials.secret,)
        return redact(text, secrets)


def _schemes(result: HttpResult) -> list[str]:
    """The sign-in schemes a 401 offers (``Basic``, ``Bearer``...), in order, once each."""
    values = result.headers.get_list("www-authenticate")
    if not values:
        return []
    try:
        names = [c.scheme for c in parse_www_authenticate(values)]
    except (SetupError, ValueError):
        names = [v.strip().split(" ", 1)[0].rstrip(",") for v in values if v.strip()]
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(name.lower(), name)
    return list(unique.values())[:10]


async def check_dav(target: CheckTarget, context: CheckContext) -> CheckResult:
    """Verify the CalDAV or CardDAV service of ``target`` (``target.protocol`` says which;
    ``target.url`` is where to start, else ``https://<endpoint host>/``). Never raises for
    server or network failures; cancellable at any await (its connections close at once)."""
    if target.protocol not in (Protocol.CALDAV, Protocol.CARDDAV):
        raise ValueError(f"check_dav checks CalDAV or CardDAV, not {target.protocol.value}")
    return await _DavCheck(target, context).run()


async def check_caldav(target: CheckTarget, context: CheckContext) -> CheckResult:
    """``check_dav`` for a CalDAV target."""
    return await check_dav(target, context)


async def check_carddav(target: CheckTarget, context: CheckContext) -> CheckResult:
    """``check_dav`` for a CardDAV target."""
    return await check_dav(target, context)
