"""ISP autoconfig: the settings file a mail provider publishes on its own web servers.

The source asks, at the same time and in this order of preference:

1. ``https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>``
2. ``https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=<address>``

The first usable answer in that order wins: a usable answer from (1) ends the run at once
(the other request is cancelled); one from (2) waits only for (1). Answers over HTTPS are
trusted (``Trust.HIGH``).

Only when both HTTPS requests found *no server or no file* (the name does not exist, the
connection was refused, HTTP 404/410, or an authenticated server answered with a web page
instead of a settings file) are the same two places asked over plain HTTP, without the
address in the URL. What comes that way is flagged: ``Trust.LOW``, ``over_https`` False, a
finding ``discovery.autoconfig.plain-http`` and a hint on every candidate. A TLS failure, a
timeout, a server error or a refused redirect never leads to plain HTTP: an attacker on the
path can cause those, and must not be able to force the downgrade.

Redirects are followed a few times (:data:`MAX_REDIRECTS`), only to the same scheme: an
HTTPS request never follows a redirect to ``http:`` (finding ``redirect-downgrade``), loops
end with ``redirect-loop``. Bodies are capped at 1 MiB; every request, redirects included,
fits in the seam's exchange deadline (twice its timeout).

:func:`fetch_clientconfig` (one URL with its redirects, classified) and :func:`first_found`
(concurrent attempts taken in priority order) are shared with the ISPDB source
(``ispdb.py``), which also does the MX-derived ISP autoconfig look-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from app.core.discovery.base import (
    DiscoveryContext,
    JSONValue,
    SourceOutcome,
    SourceReport,
    Stopwatch,
)
from app.core.discovery.clientconfig import (
    MAX_DOCUMENT_BYTES,
    ClientConfig,
    DiscoveryDocumentError,
    parse_clientconfig,
    to_account_configs,
)
from app.core.errors import (
    ConnectError,
    ConnectFailure,
    DeadlineError,
    DNSError,
    DNSFailure,
    Fixer,
    SetupError,
    TLSError,
)
from app.core.model import AccountConfig, EmailAddress, Finding, Outcome, Provenance, Trust
from app.core.net import Network
from app.core.texts import Text

__all__ = [
    "AUTOCONFIG_PATH",
    "MAX_REDIRECTS",
    "WELL_KNOWN_PATH",
    "AutoconfigSource",
    "ConfigFetch",
    "Verdict",
    "autoconfig_urls",
    "fetch_clientconfig",
    "first_found",
    "shown_url",
]

AUTOCONFIG_PATH: Final = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH: Final = "/.well-known/autoconfig/mail/config-v1.1.xml"
MAX_REDIRECTS: Final = 3
ACCEPT: Final = "application/xml, text/xml;q=0.9, */*;q=0.1"

# Types a settings file is served with in practice; anything else (text/html, JSON, images)
# is not one. Static web servers send .xml files as one of the XML types, some as text/plain.
_DOCUMENT_TYPES: Final = frozenset(
    {"", "application/xml", "text/xml", "text/plain", "application/octet-stream"}
)
_HTML_STARTS: Final = (b"<!doctype html", b"<html")

T = TypeVar("T")


class Verdict(StrEnum):
    """What one URL gave."""

    FOUND = "found"  # a settings file with at least one IMAP or POP server
    ABSENT = "absent"  # no server there, or it has no such file: a plain-HTTP try may follow
    FAILED = "failed"  # a failure an attacker could cause, or a broken file: no plain HTTP


@dataclass(frozen=True)
class ConfigFetch:
    """The result of :func:`fetch_clientconfig` for one URL.

    ``url`` and ``final_url`` are shown forms (no query string, so no address);
    ``final_url`` is where the file came from after redirects. ``plain_http`` is true when
    the answer came without TLS. ``finding`` says what went wrong (or, for an HTML page
    instead of a file, what was seen); ``note`` is a one-line technical summary.
    """

    url: str
    verdict: Verdict
    note: str
    final_url: str | None = None
    config: ClientConfig | None = None
    plain_http: bool = False
    finding: Finding | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {"url": self.url, "result": self.verdict.value, "note": self.note}


def shown_url(url: str) -> str:
    """``url`` without its query string and fragment: safe to show and to log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def autoconfig_urls(
    address: EmailAddress, *, https: bool = True, well_known: bool = True
) -> list[str]:
    """The ISP autoconfig URLs for ``address`` in order of preference. Over HTTPS they carry
    ``?emailaddress=``; over plain HTTP never."""
    domain = address.domain_ascii
    scheme = "https" if https else "http"
    query = "?" + urlencode({"emailaddress": address.ascii}) if https else ""
    urls = [f"{scheme}://autoconfig.{domain}{AUTOCONFIG_PATH}{query}"]
    if well_known:
        urls.append(f"{scheme}://{domain}{WELL_KNOWN_PATH}{query}")
    return urls


async def first_found(attempts: Sequence[Awaitable[T]], found: Callable[[T], bool]) -> list[T]:
    """Run ``attempts`` concurrently and return their results in priority (list) order, up to
    and including the first one ``found`` accepts; the attempts after it are cancelled (and
    waited for, so their connections are closed). A found result of a lower-priority attempt
    waits for the higher ones only. Cancelling the caller cancels every attempt."""
    tasks = [asyncio.ensure_future(attempt) for attempt in attempts]
    results: list[T] = []
    try:
        for task in tasks:
            result = await task
            results.append(result)
            if found(result):
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


# --- one URL ---------------------------------------------------------------------------------


async def fetch_clientconfig(
    net: Network,
    client: httpx.AsyncClient,
    url: str,
    address: EmailAddress,
    *,
    code_prefix: str,
    checked: Text,
    max_redirects: int = MAX_REDIRECTS,
) -> ConfigFetch:
    """Fetch the clientConfig file at ``url`` for ``address``, following same-scheme
    redirects, and classify the outcome. Never raises :class:`SetupError`: failures come
    back as a FAILED (or ABSENT) :class:`ConfigFetch` whose finding's code is
    ``<code_prefix>.<what>`` (``tls``, ``timeout``, ``network``, ``http-status``,
    ``content-type``, ``redirect-downgrade``, ``redirect-refused``, ``redirect-loop``,
    ``redirect-limit``, ``too-large``, ``not-xml``, ``forbidden-xml``, ``wrong-root``,
    ``no-provider``, ``unusable``, ``exchange-only``) and whose ``checked`` is ``checked``.
    """
    attempt = _Attempt(url, code_prefix, checked)
    budget = 2 * net.options.timeout  # the seam's deadline for one exchange, for the chain
    try:
        async with asyncio.timeout(budget):
            return await attempt.run(net, client, address, max_redirects)
    except TimeoutError:
        return attempt.from_error(DeadlineError(urlsplit(url).hostname or url, budget))


class _Attempt:
    """One URL and its redirects."""

    def __init__(self, url: str, code_prefix: str, checked: Text) -> None:
        self.url = url
        self.shown = shown_url(url)
        self.scheme = urlsplit(url).scheme.lower()
        self.prefix = code_prefix
        self.checked = checked

    async def run(
        self, net: Network, client: httpx.AsyncClient, address: EmailAddress, max_redirects: int
    ) -> ConfigFetch:
        current = self.url
        seen = {current}
        hops = 0
        while True:
            try:
                result = await net.fetch(
                    current,
                    headers={"Accept": ACCEPT},
                    max_bytes=MAX_DOCUMENT_BYTES,
                    client=client,
                )
            except SetupError as error:
                return self.from_error(error, current)
            if 300 <= result.status < 400 and result.location:
                target = result.location
                problem = self._redirect_problem(target, seen, hops, max_redirects)
                if problem is not None:
                    return problem
                seen.add(target)
                hops += 1
                current = target
                continue
            return self._answer(
                result.status,
                result.content_type,
                result.body,
                current,
                result.plain_http,
                address,
            )

    def _redirect_problem(
        self, target: str, seen: set[str], hops: int, max_redirects: int
    ) -> ConfigFetch | None:
        shown_target = shown_url(target)
        params = {"url": self.shown, "target": shown_target}
        scheme = urlsplit(target).scheme.lower() if "://" in target else ""
        if self.scheme == "https" and scheme == "http":
            what, cause = "redirect-downgrade", Text("discovery.fetch.redirect-downgrade", params)
        elif scheme != self.scheme:
            what, cause = "redirect-refused", Text("discovery.fetch.redirect-refused", params)
        elif target in seen:
            what, cause = "redirect-loop", Text("discovery.fetch.redirect-loop", params)
        elif hops >= max_redirects:
            what = "redirect-limit"
            cause = Text("discovery.fetch.redirect-limit", {**params, "limit": max_redirects})
        else:
            return None
        return self.failed(what, cause, f"{what} to {shown_target}", {"target": shown_target})

    def _answer(
        self,
        status: int,
        content_type: str,
        body: bytes,
        current: str,
        plain_http: bool,
        address: EmailAddress,
    ) -> ConfigFetch:
        final = shown_url(current)
        if status in (404, 410):
            return ConfigFetch(self.shown, Verdict.ABSENT, f"HTTP {status} from {final}")
        if status != 200:
            cause = Text("discovery.fetch.http-status", {"url": final, "status": status})
            note = f"HTTP {status} from {final}"
            return self.failed("http-status", cause, note, {"status": status})
        head = body[:512].lstrip().lower()
        if content_type == "text/html" or head.startswith(_HTML_STARTS):
            # A web page where the file should be: the site exists and has no settings file
            # (a "soft 404"). Said, but not an error, and no reason to refuse plain HTTP.
            cause = Text("discovery.fetch.web-page", {"url": final})
            finding = self.finding("web-page", cause, {"type": content_type or "-"}, Outcome.INFO)
            note = f"a web page, not a settings file, at {final}"
            return ConfigFetch(self.shown, Verdict.ABSENT, note, finding=finding)
        if content_type not in _DOCUMENT_TYPES and not content_type.endswith("+xml"):
            cause = Text("discovery.fetch.content-type", {"url": final, "type": content_type})
            note = f"content type {content_type} at {final}"
            return self.failed("content-type", cause, note, {"type": content_type})
        try:
            config = parse_clientconfig(body, address, source=final)
        except DiscoveryDocumentError as error:
            return self.from_error(error, current)
        if not config.mail_servers:
            kinds = ", ".join(dict.fromkeys(s.kind.value for s in config.incoming))
            return self.failed(
                "exchange-only",
                Text("discovery.config.exchange-only"),
                f"only {kinds} servers in {final}",
                {"kinds": kinds},
                fixer=Fixer.ADMIN,
            )
        return ConfigFetch(
            self.shown,
            Verdict.FOUND,
            f"settings file at {final}",
            final_url=final,
            config=config,
            plain_http=plain_http,
        )

    # ------------------------------------------------------------------ findings

    def finding(
        self,
        what: str,
        cause: Text,
        detail: Mapping[str, str | int],
        outcome: Outcome = Outcome.WARNING,
        *,
        fixer: Fixer = Fixer.PROVIDER,
    ) -> Finding:
        return Finding(
            code=f"{self.prefix}.{what}",
            checked=self.checked,
            outcome=outcome,
            cause=cause,
            fix=Text("discovery.fix"),
            fixer=fixer,
            help_topic="discovery",
            detail={"url": self.shown, **detail},
        )

    def failed(
        self,
        what: str,
        cause: Text,
        note: str,
        detail: Mapping[str, str | int],
        *,
        fixer: Fixer = Fixer.PROVIDER,
    ) -> ConfigFetch:
        finding = self.finding(what, cause, detail, fixer=fixer)
        return ConfigFetch(self.shown, Verdict.FAILED, note, finding=finding)

    def from_error(self, error: SetupError, current: str | None = None) -> ConfigFetch:
        """A seam or parser error as a result: "no server" errors are ABSENT without a
        finding, everything else FAILED with one that keeps the error's own texts."""
        where = shown_url(current or self.url)
        if isinstance(error, DNSError) and error.failure in (
            DNSFailure.NOT_FOUND,
            DNSFailure.NO_ANSWER,
        ):
            return ConfigFetch(self.shown, Verdict.ABSENT, f"no such host ({where})")
        if isinstance(error, ConnectError) and error.failure is ConnectFailure.REFUSED:
            return ConfigFetch(self.shown, Verdict.ABSENT, f"connection refused ({where})")
        if isinstance(error, DiscoveryDocumentError):
            what = error.code.rsplit(".", 1)[-1]
        elif isinstance(error, TLSError):
            what = "tls"
        elif isinstance(error, DeadlineError):
            what = "timeout"
        elif error.code == "http.too-large":
            what = "too-large"
        else:
            what = "network"
        base = error.to_finding(self.checked)
        detail: dict[str, str | int] = {**base.detail, "url": where, "reason": error.code}
        if isinstance(error, TLSError):
            detail["failure"] = error.failure.value
        cause = base.cause
        if what == "too-large":
            cause = Text("discovery.document.too-large", {"limit": MAX_DOCUMENT_BYTES // 1024})
        finding = dataclasses.replace(
            base,
            code=f"{self.prefix}.{what}",
            outcome=Outcome.WARNING,
            cause=cause,
            help_topic=base.help_topic or "discovery",
            detail=detail,
        )
        note = f"{what}: {error.code} ({where})"
        return ConfigFetch(self.shown, Verdict.FAILED, note, finding=finding)


# --- the source ------------------------------------------------------------------------------


class AutoconfigSource:
    """ISP autoconfig over HTTPS (trusted), plain HTTP as a flagged last resort."""

    name = "autoconfig"

    def __init__(self, *, max_redirects: int = MAX_REDIRECTS) -> None:
        self.max_redirects = max_redirects

    async def run(self, context: DiscoveryContext) -> SourceReport:
        watch = Stopwatch()
        net = context.net
        if net.options.offline:
            return SourceReport(
                name=self.name, outcome=SourceOutcome.SKIPPED, detail="offline", ms=watch.ms()
            )
        address = context.address
        async with net.http_client() as client:
            results = await self._stage(net, client, address, https=True)
            plain: list[ConfigFetch] = []
            if all(r.verdict is Verdict.ABSENT for r in results):
                plain = await self._stage(net, client, address, https=False)
        return self._report(address, results + plain, watch)

    async def _stage(
        self, net: Network, client: httpx.AsyncClient, address: EmailAddress, *, https: bool
    ) -> list[ConfigFetch]:
        attempts = [
            fetch_clientconfig(
                net,
                client,
                url,
                address,
                code_prefix="discovery.autoconfig",
                checked=Text("discovery.autoconfig.check", {"url": shown_url(url)}),
                max_redirects=self.max_redirects,
            )
            for url in autoconfig_urls(address, https=https)
        ]
        return await first_found(attempts, lambda r: r.verdict is Verdict.FOUND)

    def _report(
        self, address: EmailAddress, results: list[ConfigFetch], watch: Stopwatch
    ) -> SourceReport:
        findings = [r.finding for r in results if r.finding is not None]
        data: dict[str, JSONValue] = {"attempts": [r.to_dict() for r in results]}
        detail = "; ".join(r.note for r in results)
        winner = next((r for r in results if r.verdict is Verdict.FOUND), None)
        if winner is None or winner.config is None:
            failed = any(r.verdict is Verdict.FAILED for r in results)
            return missed_report(self.name, failed, findings, address, detail, data, watch)
        candidates = _candidates(winner, address)
        if winner.plain_http:
            findings.append(plain_http_finding(winner))
        data["url"] = winner.final_url
        data["plain_http"] = winner.plain_http
        return SourceReport(
            name=self.name,
            outcome=SourceOutcome.FOUND,
            candidates=tuple(candidates),
            findings=tuple(findings),
            detail=detail,
            data=data,
            ms=watch.ms(),
        )


def _candidates(winner: ConfigFetch, address: EmailAddress) -> list[AccountConfig]:
    assert winner.config is not None
    if winner.plain_http:
        provenance = Provenance(
            "autoconfig", Trust.LOW, False, url=winner.final_url, detail="plain HTTP"
        )
        hint = Text("discovery.autoconfig.plain-http.hint", {"url": winner.final_url or ""})
        return [
            dataclasses.replace(c, hints=(hint, *c.hints))
            for c in to_account_configs(winner.config, address, provenance)
        ]
    provenance = Provenance("autoconfig", Trust.HIGH, True, url=winner.final_url)
    return to_account_configs(winner.config, address, provenance)


def missed_report(
    name: str,
    failed: bool,
    findings: list[Finding],
    address: EmailAddress,
    detail: str,
    data: dict[str, JSONValue],
    watch: Stopwatch,
) -> SourceReport:
    """The report of a source (``autoconfig``, ``ispdb``) that found no settings: FAILED when a
    fetch ``failed``, else NOTHING with its ``discovery.<name>.not-found`` finding added."""
    if not failed:
        findings.append(
            Finding(
                code=f"discovery.{name}.not-found",
                checked=Text(f"discovery.{name}.check-all", {"domain": address.domain}),
                outcome=Outcome.INFO,
                cause=Text(f"discovery.{name}.not-found", {"domain": address.domain}),
                help_topic="discovery",
                detail={"domain": address.domain_ascii},
            )
        )
    return SourceReport(
        name=name,
        outcome=SourceOutcome.FAILED if failed else SourceOutcome.NOTHING,
        findings=tuple(findings),
        detail=detail,
        data=data,
        ms=watch.ms(),
    )


def plain_http_finding(winner: ConfigFetch) -> Finding:
    """The warning that settings came over plain HTTP, unprotected."""
    url = winner.final_url or winner.url
    return Finding(
        code="discovery.autoconfig.plain-http",
        checked=Text("discovery.autoconfig.check", {"url": url}),
        outcome=Outcome.WARNING,
        cause=Text("discovery.autoconfig.plain-http", {"url": url}),
        fix=Text("discovery.autoconfig.plain-http.fix"),
        fixer=Fixer.USER,
        help_topic="discovery",
        detail={"url": url},
    )
