"""ISPDB: Thunderbird's online database of mail providers, by domain and by MX host.

The base URL is ``NetworkOptions.ispdb_url`` (default
``https://live.thunderbird.net/autoconfig/v1.1/``; enterprises point ``--ispdb-url`` at a
mirror). A ``{{domain}}`` in it is replaced by the key, otherwise the key is appended. The
email address is never sent, only domain names.

Look-ups, all started at once, results taken in this order of preference:

1. the address's own domain;
2. keys derived from the domain's first MX host (``DiscoveryContext.mx()``, shared with the
   other sources) by :func:`app.core.discovery.mx.lookup_keys`: the full MX host, its parent
   and its base domain (``mx3.hostingco.test``, ``hostingco.test``), skipping the user's own
   domain and names under it (the exact look-up already covers those). For each key, in
   this order: the ISPDB entry, then the ISP autoconfig file of that mail-hosting domain.

The MX-derived ISP autoconfig (Thunderbird asks it too) lives here rather than in
``autoconfig.py`` because it depends on the MX answer and on the same key order as the ISPDB
look-ups: the autoconfig source stays a question to the user's own domain only. It is asked
over HTTPS only, at ``autoconfig.<key>`` only (no ``.well-known``: that would be the hosting
company's web site), never for the full MX host name, and without the address. Its answers
are ``Trust.MEDIUM``, not HIGH: unlike the curated ISPDB, an unauthenticated MX record alone
would decide whose settings file is believed. Their provenance source is ``"autoconfig"``
(with ``detail`` "via MX ..."), reported by this source.

ISPDB answers over HTTPS are ``Trust.HIGH``; a mirror configured over plain HTTP is allowed
(it can only have been configured on purpose) but its answers are ``Trust.LOW`` with the
finding ``discovery.ispdb.plain-http``. HTTP 404 means NOTHING; other failures are findings
``discovery.ispdb.<what>`` (``discovery.ispdb.mx-autoconfig.<what>`` for the MX-derived
ISP files), as :func:`~app.core.discovery.autoconfig.fetch_clientconfig` names them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import quote, urlsplit

import httpx

from app.core.discovery.autoconfig import (
    AUTOCONFIG_PATH,
    MAX_REDIRECTS,
    ConfigFetch,
    Verdict,
    fetch_clientconfig,
    first_found,
    missed_report,
    shown_url,
)
from app.core.discovery.base import (
    DiscoveryContext,
    JSONValue,
    SourceOutcome,
    SourceReport,
    Stopwatch,
)
from app.core.discovery.clientconfig import to_account_configs
from app.core.discovery.mx import lookup_keys
from app.core.errors import Fixer, SetupError
from app.core.model import AccountConfig, EmailAddress, Finding, Outcome, Provenance, Trust
from app.core.net import DEFAULT_ISPDB_URL, Network
from app.core.texts import Text

__all__ = ["DOMAIN_PLACEHOLDER", "IspdbSource", "ispdb_url", "mx_keys"]

DOMAIN_PLACEHOLDER: Final = "{{domain}}"

Kind = Literal["ispdb", "isp"]


def ispdb_url(base: str, key: str) -> str:
    """The ISPDB URL for ``key`` (an ASCII domain name): ``{{domain}}`` in ``base`` replaced,
    else the key appended (after a ``/`` unless ``base`` ends with ``/`` or ``=``)."""
    quoted = quote(key, safe="")
    if DOMAIN_PLACEHOLDER in base:
        return base.replace(DOMAIN_PLACEHOLDER, quoted)
    if not base.endswith(("/", "=")):
        base += "/"
    return base + quoted


def mx_keys(mx_host: str, domain: str) -> list[str]:
    """The look-up keys for ``mx_host``: the full host, its parent and its base domain
    (:func:`~app.core.discovery.mx.lookup_keys`), without ``domain`` (the user's ASCII
    domain) and names under it."""
    try:
        return lookup_keys(mx_host, domain)
    except ValueError:  # a name the public suffix list cannot take
        return []


@dataclass(frozen=True)
class _Result:
    """One look-up: an ISPDB entry or a hosting company's ISP autoconfig file."""

    fetch: ConfigFetch
    key: str
    kind: Kind
    mx: str | None = None

    @property
    def found(self) -> bool:
        return self.fetch.verdict is Verdict.FOUND

    def to_dict(self) -> dict[str, JSONValue]:
        return {**self.fetch.to_dict(), "key": self.key, "kind": self.kind, "mx": self.mx}


@dataclass
class _Group:
    """The results of the exact look-up, or of the MX-derived ones with what the MX said."""

    results: list[_Result] = field(default_factory=list)
    mx: str | None = None
    keys: list[str] = field(default_factory=list)
    mx_problem: str | None = None

    @property
    def found(self) -> bool:
        return any(r.found for r in self.results)


class IspdbSource:
    """The ISPDB by domain, then by MX host (with the MX host's ISP autoconfig)."""

    name = "ispdb"

    def __init__(self, *, isp_by_mx: bool = True, max_redirects: int = MAX_REDIRECTS) -> None:
        self.isp_by_mx = isp_by_mx
        self.max_redirects = max_redirects

    async def run(self, context: DiscoveryContext) -> SourceReport:
        watch = Stopwatch()
        net = context.net
        if net.options.offline:
            return SourceReport(
                name=self.name, outcome=SourceOutcome.SKIPPED, detail="offline", ms=watch.ms()
            )
        if net.options.ispdb_url is None:
            return SourceReport(
                name=self.name,
                outcome=SourceOutcome.SKIPPED,
                detail="the ISPDB is switched off by the configuration (network.ispdb_url)",
                ms=watch.ms(),
            )
        address = context.address
        async with net.http_client() as client:
            groups = await first_found(
                [self._exact(net, client, address), self._by_mx(context, client)],
                lambda group: group.found,
            )
        return self._report(net, address, groups, watch)

    # ------------------------------------------------------------------ look-ups

    async def _exact(
        self, net: Network, client: httpx.AsyncClient, address: EmailAddress
    ) -> _Group:
        result = await self._ispdb(net, client, address, address.domain_ascii, None)
        return _Group([result])

    async def _by_mx(self, context: DiscoveryContext, client: httpx.AsyncClient) -> _Group:
        group = _Group()
        try:
            records = await context.mx()
        except SetupError as error:
            group.mx_problem = error.code
            return group
        usable = [r for r in records if not r.is_null]
        if not usable:
            group.mx_problem = "no-mx"
            return group
        group.mx = usable[0].exchange
        group.keys = mx_keys(group.mx, context.address.domain_ascii)
        net, address, mx = context.net, context.address, group.mx
        attempts = []
        for key in group.keys:
            attempts.append(self._ispdb(net, client, address, key, mx))
            if self.isp_by_mx and key != mx.lower().rstrip("."):
                attempts.append(self._isp(net, client, address, key, mx))
        group.results = await first_found(attempts, lambda r: r.found)
        return group

    async def _ispdb(
        self,
        net: Network,
        client: httpx.AsyncClient,
        address: EmailAddress,
        key: str,
        mx: str | None,
    ) -> _Result:
        fetch = await fetch_clientconfig(
            net,
            client,
            ispdb_url(net.options.ispdb_url or DEFAULT_ISPDB_URL, key),
            address,
            code_prefix="discovery.ispdb",
            checked=Text("discovery.ispdb.check", {"key": key}),
            max_redirects=self.max_redirects,
        )
        return _Result(fetch, key, "ispdb", mx)

    async def _isp(
        self,
        net: Network,
        client: httpx.AsyncClient,
        address: EmailAddress,
        key: str,
        mx: str,
    ) -> _Result:
        fetch = await fetch_clientconfig(
            net,
            client,
            f"https://autoconfig.{key}{AUTOCONFIG_PATH}",
            address,
            code_prefix="discovery.ispdb.mx-autoconfig",
            checked=Text("discovery.ispdb.mx-autoconfig.check", {"key": key, "mx": mx}),
            max_redirects=self.max_redirects,
        )
        return _Result(fetch, key, "isp", mx)

    # ------------------------------------------------------------------ the report

    def _report(
        self, net: Network, address: EmailAddress, groups: list[_Group], watch: Stopwatch
    ) -> SourceReport:
        results = [r for group in groups for r in group.results]
        # the same failure (an unreachable ISPDB) for several keys is said once
        unique = {(f.code, f.cause): f for r in results if (f := r.fetch.finding) is not None}
        findings = list(unique.values())
        data: dict[str, JSONValue] = {
            "ispdb_url": shown_url(net.options.ispdb_url or ""),
            "attempts": [r.to_dict() for r in results],
        }
        notes = [f"{r.kind} {r.key}: {r.fetch.note}" for r in results]
        for group in groups[1:]:
            data["mx"] = group.mx
            data["keys"] = list(group.keys)
            if group.mx_problem is not None:
                data["mx_problem"] = group.mx_problem
                notes.append(f"no MX-derived keys ({group.mx_problem})")
        winner = next((r for r in results if r.found), None)
        if winner is None or winner.fetch.config is None:
            failed = any(r.fetch.verdict is Verdict.FAILED for r in results)
            return missed_report(
                self.name, failed, findings, address, "; ".join(notes), data, watch
            )
        candidates = _candidates(winner, address)
        if winner.kind == "ispdb" and winner.fetch.plain_http:
            findings.append(_plain_http(winner))
        data["matched"] = winner.key
        data["kind"] = winner.kind
        data["url"] = winner.fetch.final_url
        return SourceReport(
            name=self.name,
            outcome=SourceOutcome.FOUND,
            candidates=tuple(candidates),
            findings=tuple(findings),
            detail="; ".join(notes),
            data=data,
            ms=watch.ms(),
        )


def _candidates(winner: _Result, address: EmailAddress) -> list[AccountConfig]:
    fetch = winner.fetch
    assert fetch.config is not None
    via = f"via MX {winner.mx}" if winner.mx else f"domain {winner.key}"
    if winner.kind == "isp":
        provenance = Provenance(
            "autoconfig",
            Trust.MEDIUM,
            True,
            url=fetch.final_url,
            detail=f"{via} (autoconfig.{winner.key})",
        )
        return to_account_configs(fetch.config, address, provenance)
    detail = f"{via} (ISPDB key {winner.key})" if winner.mx else via
    if not fetch.plain_http and _is_https(fetch.final_url):
        provenance = Provenance("ispdb", Trust.HIGH, True, url=fetch.final_url, detail=detail)
        return to_account_configs(fetch.config, address, provenance)
    provenance = Provenance("ispdb", Trust.LOW, False, url=fetch.final_url, detail=detail)
    hint = Text("discovery.ispdb.plain-http.hint", {"url": fetch.final_url or fetch.url})
    return [
        dataclasses.replace(c, hints=(hint, *c.hints))
        for c in to_account_configs(fetch.config, address, provenance)
    ]


def _is_https(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme.lower() == "https"


def _plain_http(winner: _Result) -> Finding:
    url = winner.fetch.final_url or winner.fetch.url
    return Finding(
        code="discovery.ispdb.plain-http",
        checked=Text("discovery.ispdb.check", {"key": winner.key}),
        outcome=Outcome.WARNING,
        cause=Text("discovery.ispdb.plain-http", {"url": url}),
        fix=Text("discovery.ispdb.plain-http.fix"),
        fixer=Fixer.ADMIN,
        help_topic="discovery",
        detail={"url": url},
    )
