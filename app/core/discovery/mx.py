"""Discovery source ``"mx"``: recognise the provider that receives a domain's mail.

The domain's MX records (shared with other sources through ``DiscoveryContext.mx``) are sorted
by preference numerically (Thunderbird's comparator returned a boolean, so its order was not
reliable) and compared, most preferred first, with the MX patterns of the built-in catalog: a
custom domain whose MX is ``<tenant>.mail.protection.outlook.com`` is Microsoft 365 (not
Outlook.com), one on ``aspmx.l.google.com`` is Google Workspace, one on
``mx01.mail.icloud.com`` is iCloud+ (whose users sign in with their @icloud.com address, so the
user name is left for the person to enter).

:func:`lookup_keys` gives, for one MX host, the names to try against other databases (ISPDB):
the host itself, its parent and its base domain by the public suffix list.

DNS failures become findings with stable codes: ``discovery.mx.nxdomain`` (the domain does not
exist: probably a typo), ``discovery.mx.no-mx`` (NODATA: mail goes to the domain's own
address), ``discovery.mx.null-mx`` (RFC 7505: the domain accepts no mail),
``discovery.mx.servfail``, ``discovery.mx.timeout`` and ``discovery.mx.failed``.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from publicsuffixlist import PublicSuffixList

from app.core.discovery.base import (
    DiscoveryContext,
    JSONValue,
    SourceOutcome,
    SourceReport,
    Stopwatch,
)
from app.core.discovery.catalog import MatchedBy, ProviderCatalog, default_catalog
from app.core.discovery.typos import suggest_address
from app.core.errors import DNSError, DNSFailure, Fixer, NetworkError
from app.core.model import EmailAddress, Finding, Outcome, Provenance, Trust
from app.core.net import DNS_SERVFAIL, DNS_TIMEOUT, MXRecord
from app.core.texts import Text

__all__ = ["MxSource", "lookup_keys", "sort_mx"]

_OFFLINE_CODE: Final = "network.offline"


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list ships with the package (no download); ICANN section only, so that the base
    # domain of a host is the registered domain of its operator.
    return PublicSuffixList(only_icann=True)


def _clean(name: str) -> str:
    return name.strip().rstrip(".").lower()


def lookup_keys(mx_host: str, domain: str | None = None) -> list[str]:
    """Names to look an MX host up by, most specific first and without duplicates: the full
    host, its parent (first label removed) and its base domain (the registered domain by the
    public suffix list: ``mx.example.co.jp`` gives ``example.co.jp``, never ``co.jp``).

    A parent that is itself a public suffix is left out. With ``domain`` (the user's mail
    domain) the domain and any name under it are left out: they say nothing that the domain's
    own look-ups do not. A null MX (".") or an empty name gives no keys.
    """
    host = _clean(mx_host)
    if not host or "." not in host:
        return []
    psl = _public_suffixes()
    keys = [host]
    parent = host.split(".", 1)[1]
    if "." in parent and not psl.is_public(parent):
        keys.append(parent)
    base = psl.privatesuffix(host)
    if base is not None:
        keys.append(base)
    own = _clean(domain) if domain else None
    unique = dict.fromkeys(keys)
    return [k for k in unique if own is None or not (k == own or k.endswith("." + own))]


def sort_mx(records: list[MXRecord]) -> list[MXRecord]:
    """MX records by preference as numbers (lowest first), then by host name."""
    return sorted(records, key=lambda r: (int(r.preference), r.exchange))


class MxSource:
    """Discovery source ``"mx"``: the catalog provider whose MX patterns match the domain's
    most preferred matching MX host. Candidates are trusted (HIGH): they are the catalog's
    own settings, chosen by the MX record."""

    name = "mx"

    def __init__(self, catalog: ProviderCatalog | None = None) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> ProviderCatalog:
        return self._catalog if self._catalog is not None else default_catalog()

    async def run(self, context: DiscoveryContext) -> SourceReport:
        watch = Stopwatch()
        domain = context.address.domain_ascii
        try:
            records = sort_mx(await context.mx())
        except DNSError as error:
            return _dns_failure(self.name, context.address, error, context, watch)
        except NetworkError as error:
            if error.code != _OFFLINE_CODE:
                raise
            return SourceReport(
                name=self.name, outcome=SourceOutcome.SKIPPED, detail="offline", ms=watch.ms()
            )
        listing: list[JSONValue] = [
            {"preference": r.preference, "host": r.exchange} for r in records
        ]
        data: dict[str, JSONValue] = {"mx": listing}
        shown = ", ".join(f"{r.preference} {r.exchange}" for r in records)
        if records and all(r.is_null for r in records):
            finding = _finding(
                "discovery.mx.null-mx",
                context.address,
                Outcome.ERROR,
                Text("discovery.mx.null-mx", {"domain": context.address.domain}),
                Text("discovery.mx.null-mx.fix"),
                Fixer.USER,
            )
            return SourceReport(
                name=self.name,
                outcome=SourceOutcome.NOTHING,
                findings=(finding,),
                detail=f"null MX (RFC 7505): {domain} accepts no mail",
                data=data,
                ms=watch.ms(),
            )
        # RFC 7505: a null MX must stand alone; beside real records it is ignored.
        records = [r for r in records if not r.is_null]
        hosts = list(dict.fromkeys(r.exchange for r in records))
        if hosts:
            data["lookup_keys"] = list(lookup_keys(hosts[0], domain))
        for record in records:
            match = self.catalog.match_mx(record.exchange)
            if match is None:
                continue
            provider, pattern = match
            # A domain the provider lists itself (icloud.com) gets the domain's settings.
            matched_by: MatchedBy = "domain" if self.catalog.by_domain(domain) is provider else "mx"
            detail = (
                f"MX {record.exchange} (preference {record.preference}) matches {pattern}"
                f" of {provider.id}"
            )
            provenance = Provenance(
                source=self.name, trust=Trust.HIGH, over_https=False, detail=detail
            )
            candidates = provider.account_configs(context.address, provenance, matched_by)
            data.update(
                {"provider": provider.id, "matched_host": record.exchange, "pattern": pattern}
            )
            recognised = _finding(
                "discovery.mx.provider",
                context.address,
                Outcome.OK,
                Text(
                    "discovery.mx.provider",
                    {
                        "domain": context.address.domain,
                        "provider": provider.name,
                        "host": record.exchange,
                    },
                ),
                None,
                Fixer.NOBODY,
                host=record.exchange,
            )
            return SourceReport(
                name=self.name,
                outcome=SourceOutcome.FOUND if candidates else SourceOutcome.NOTHING,
                candidates=candidates,
                provider=provider.ref,
                findings=(recognised,),
                detail=detail,
                data=data,
                ms=watch.ms(),
            )
        return SourceReport(
            name=self.name,
            outcome=SourceOutcome.NOTHING,
            detail=f"no provider of the built-in catalog matches the MX records: {shown}",
            data=data,
            ms=watch.ms(),
        )


def _finding(
    code: str,
    address: EmailAddress,
    outcome: Outcome,
    cause: Text,
    fix: Text | None,
    fixer: Fixer,
    **detail: str | int,
) -> Finding:
    return Finding(
        code=code,
        checked=Text("discovery.mx.checked", {"domain": address.domain}),
        outcome=outcome,
        cause=cause,
        fix=fix,
        fixer=fixer,
        help_topic="dns",
        detail={"domain": address.domain_ascii, **detail},
    )


def _dns_failure(
    name: str,
    address: EmailAddress,
    error: DNSError,
    context: DiscoveryContext,
    watch: Stopwatch,
) -> SourceReport:
    """The report for a failed MX query: a specific finding for each kind of failure."""
    domain = address.domain_ascii
    shown = address.domain
    problem = str(error.detail.get("problem", ""))
    server = str(error.detail.get("dns_server", context.net.dns.server))
    extra: dict[str, str | int] = {"dns_server": server}
    data: dict[str, JSONValue] = {"mx": [], "dns_server": server}
    if error.failure is DNSFailure.NOT_FOUND:
        suggestion = suggest_address(address)
        fix = (
            Text("discovery.mx.nxdomain.fix-suggestion", {"suggestion": suggestion})
            if suggestion
            else Text("discovery.mx.nxdomain.fix")
        )
        if suggestion:
            data["suggestion"] = suggestion
            extra["suggestion"] = suggestion
        finding = _finding(
            "discovery.mx.nxdomain",
            address,
            Outcome.ERROR,
            Text("discovery.mx.nxdomain", {"domain": shown}),
            fix,
            Fixer.USER,
            **extra,
        )
        outcome, detail = SourceOutcome.NOTHING, f"NXDOMAIN: {domain} does not exist"
    elif error.failure is DNSFailure.NO_ANSWER:
        finding = _finding(
            "discovery.mx.no-mx",
            address,
            Outcome.INFO,
            Text("discovery.mx.no-mx", {"domain": shown}),
            None,
            Fixer.NOBODY,
            **extra,
        )
        outcome, detail = SourceOutcome.NOTHING, f"no MX records for {domain} (NODATA)"
    elif problem == DNS_SERVFAIL:
        finding = _finding(
            "discovery.mx.servfail",
            address,
            Outcome.WARNING,
            Text("discovery.mx.servfail", {"domain": shown}),
            Text("discovery.mx.servfail.fix"),
            Fixer.ADMIN,
            **extra,
        )
        outcome, detail = SourceOutcome.FAILED, f"SERVFAIL for MX {domain} from {server}"
    elif problem == DNS_TIMEOUT:
        seconds = context.net.options.timeout
        finding = _finding(
            "discovery.mx.timeout",
            address,
            Outcome.WARNING,
            Text("discovery.mx.timeout", {"domain": shown, "seconds": seconds}),
            Text("discovery.mx.retry"),
            Fixer.USER,
            **extra,
        )
        outcome, detail = SourceOutcome.FAILED, f"no answer for MX {domain} within {seconds} s"
    else:
        finding = _finding(
            "discovery.mx.failed",
            address,
            Outcome.WARNING,
            Text("discovery.mx.failed", {"domain": shown, "problem": problem or "unknown"}),
            Text("discovery.mx.retry"),
            Fixer.USER,
            problem=problem or "unknown",
            **extra,
        )
        outcome, detail = SourceOutcome.FAILED, f"MX query for {domain} failed: {problem}"
    return SourceReport(
        name=name,
        outcome=outcome,
        findings=(finding,),
        detail=detail,
        data=data,
        ms=watch.ms(),
    )
