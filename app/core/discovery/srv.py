"""Discovery source ``"srv"``: the servers a domain publishes in DNS SRV records.

RFC 6186 names the mail services (``_imaps._tcp``, ``_imap._tcp``, ``_pop3s._tcp``,
``_pop3._tcp``, ``_submissions._tcp``, ``_submission._tcp``); RFC 6764 the calendar and contact
services (``_caldavs._tcp``, ``_carddavs._tcp``, with an optional TXT record ``path=/...`` at
the same name; without it, ``/.well-known/caldav`` or ``/.well-known/carddav`` on the target).
Thunderbird reads none of the mail records.

All queries run at once. For each service the record with the lowest priority and, among
those, the highest weight is used (deterministic, rather than RFC 2782's weighted random
choice). A record whose target is "." says the service is not offered (RFC 2782, RFC 6186
section 3.4): it is reported, never used. Implicit TLS is preferred over STARTTLS (RFC 8314);
a record for a plain port (``_imap._tcp`` on 143) is used with STARTTLS, never in plain text,
and the provenance says that this was assumed.

SRV records name no user name, so the full address is assumed, with a hint. DNS is not
authenticated here, so the candidates are MEDIUM trust.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from app.core.discovery.base import (
    DiscoveryContext,
    JSONValue,
    SourceOutcome,
    SourceReport,
    Stopwatch,
)
from app.core.errors import DNSError, DNSFailure, Fixer, InvalidSettingError, SetupError
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Finding,
    Outcome,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.net import SRVRecord
from app.core.texts import Text

__all__ = ["DAV_SERVICES", "MAIL_SERVICES", "DavService", "MailService", "SrvSource", "best_record"]

_OFFLINE_CODE: Final = "network.offline"
_HTTPS_PORT: Final = 443


@dataclass(frozen=True)
class MailService:
    """One RFC 6186 service label and how to connect to what it names."""

    label: str
    protocol: Protocol
    security: Security
    #: the record names a port without TLS; STARTTLS is assumed (RFC 8314: never plain text)
    assumed_starttls: bool = False


@dataclass(frozen=True)
class DavService:
    """One RFC 6764 service label, the URL field it fills and the well-known path."""

    label: str
    kind: str  # "caldav" or "carddav"
    well_known: str


#: In order of preference within each protocol: implicit TLS first (RFC 8314).
MAIL_SERVICES: Final = (
    MailService("_imaps._tcp", Protocol.IMAP, Security.TLS),
    MailService("_imap._tcp", Protocol.IMAP, Security.STARTTLS, assumed_starttls=True),
    MailService("_pop3s._tcp", Protocol.POP3, Security.TLS),
    MailService("_pop3._tcp", Protocol.POP3, Security.STARTTLS, assumed_starttls=True),
    MailService("_submissions._tcp", Protocol.SMTP, Security.TLS),
    # RFC 6409 submission on 587 is STARTTLS by definition; nothing is assumed.
    MailService("_submission._tcp", Protocol.SMTP, Security.STARTTLS),
)
DAV_SERVICES: Final = (
    DavService("_caldavs._tcp", "caldav", "/.well-known/caldav"),
    DavService("_carddavs._tcp", "carddav", "/.well-known/carddav"),
)


def _in_order(records: list[SRVRecord]) -> list[SRVRecord]:
    """Usable records, best first: lowest priority, then highest weight (then target and
    port, so the order is stable). Target "." and port 0 are not usable."""
    usable = [r for r in records if not r.unavailable and r.port != 0]
    return sorted(usable, key=lambda r: (r.priority, -r.weight, r.target, r.port))


def best_record(records: list[SRVRecord]) -> SRVRecord | None:
    """The record to use: lowest priority, then highest weight; None if none is usable."""
    ordered = _in_order(records)
    return ordered[0] if ordered else None


@dataclass
class _Lookup:
    """The outcome of one SRV (or TXT) query."""

    name: str
    records: list[SRVRecord]
    texts: list[str]
    error: SetupError | None = None

    @property
    def failed(self) -> bool:
        """A failure that leaves the answer unknown (not NXDOMAIN or NODATA)."""
        if isinstance(self.error, DNSError):
            return self.error.failure is DNSFailure.FAILED
        return self.error is not None

    @property
    def not_offered(self) -> bool:
        return bool(self.records) and all(r.unavailable for r in self.records)


def _record_text(record: SRVRecord) -> str:
    return f"{record.priority} {record.weight} {record.port} {record.target}"


class SrvSource:
    """Discovery source ``"srv"`` (RFC 6186 mail and RFC 6764 CalDAV/CardDAV records)."""

    name = "srv"

    async def run(self, context: DiscoveryContext) -> SourceReport:
        watch = Stopwatch()
        lookups = await self._lookup_all(context, context.address.domain_ascii)
        errors = [
            x.error for x in lookups.values() if x.error and not isinstance(x.error, DNSError)
        ]
        if any(error.code == _OFFLINE_CODE for error in errors):
            return SourceReport(
                name=self.name, outcome=SourceOutcome.SKIPPED, detail="offline", ms=watch.ms()
            )
        if errors:
            raise errors[0]
        return _Result(context.address, lookups).report(self.name, watch)

    async def _lookup_all(self, context: DiscoveryContext, domain: str) -> dict[str, _Lookup]:
        """Every SRV query and the TXT queries of the DAV services, concurrently. Failures
        are kept in the results, so that no query outlives a failed one."""

        async def srv(label: str) -> _Lookup:
            name = f"{label}.{domain}"
            try:
                return _Lookup(name, await context.net.srv(name), [])
            except SetupError as error:
                return _Lookup(name, [], [], error)

        async def txt(label: str) -> _Lookup:
            name = f"{label}.{domain}"
            try:
                return _Lookup(name, [], await context.net.txt(name))
            except SetupError as error:
                return _Lookup(name, [], [], error)

        labels = [s.label for s in MAIL_SERVICES] + [s.label for s in DAV_SERVICES]
        queries = [srv(label) for label in labels] + [txt(s.label) for s in DAV_SERVICES]
        results = await asyncio.gather(*queries)
        found = dict(zip(labels, results[: len(labels)], strict=True))
        for service, result in zip(DAV_SERVICES, results[len(labels) :], strict=True):
            found[f"{service.label} TXT"] = result
        return found


@dataclass(frozen=True)
class _Chosen:
    """The record chosen for one service and the server it names."""

    service: MailService
    endpoint: Endpoint
    record: SRVRecord


class _Result:
    """Turns the look-ups into candidates, findings and data."""

    def __init__(self, address: EmailAddress, lookups: dict[str, _Lookup]) -> None:
        self.address = address
        self.domain = address.domain_ascii
        self.lookups = lookups
        self.findings: list[Finding] = []
        self.problems: list[str] = []  # records that could not be used, for the detail

    # ------------------------------------------------------------------ choosing

    def _choose(self, service: MailService) -> tuple[Endpoint, SRVRecord] | None:
        lookup = self.lookups[service.label]
        for record in _in_order(lookup.records):
            try:
                endpoint = Endpoint(
                    service.protocol,
                    record.target,
                    record.port,
                    service.security,
                    str(self.address),
                )
            except InvalidSettingError:
                self.problems.append(f"{lookup.name}: unusable record {_record_text(record)}")
                continue
            return endpoint, record
        return None

    def _txt_path(self, service: DavService) -> str | None:
        lookup = self.lookups[f"{service.label} TXT"]
        for text in lookup.texts:
            if not text.startswith("path="):
                continue
            path = text[len("path=") :]
            if path.startswith("/") and path.isprintable() and " " not in path:
                return path
            self.problems.append(f"{lookup.name}: unusable TXT {text!r}")
        return None

    def _dav_url(self, service: DavService) -> tuple[str, str] | None:
        """(URL, how it was found) for a DAV service, or None."""
        lookup = self.lookups[service.label]
        path = self._txt_path(service)
        for record in _in_order(lookup.records):
            try:
                server = Endpoint(Protocol.CALDAV, record.target, record.port, Security.TLS)
            except InvalidSettingError:
                self.problems.append(f"{lookup.name}: unusable record {_record_text(record)}")
                continue
            host = server.host if record.port == _HTTPS_PORT else server.netloc
            how = "TXT path" if path else "well-known path"
            note = f"{lookup.name}: {_record_text(record)} ({how})"
            return f"https://{host}{path or service.well_known}", note
        return None

    # ------------------------------------------------------------------ the report

    def _incoming_order(self) -> list[MailService]:
        """Incoming services: IMAP before POP3 unless POP3's best record has a lower priority
        (RFC 6186 section 3.4); within each, implicit TLS first."""

        def best_priority(protocol: Protocol) -> int:
            priorities = [
                r.priority
                for s in MAIL_SERVICES
                if s.protocol is protocol
                for r in _in_order(self.lookups[s.label].records)
            ]
            return min(priorities, default=1 << 16)

        protocols = sorted(
            (Protocol.IMAP, Protocol.POP3), key=lambda p: (best_priority(p), p is Protocol.POP3)
        )
        return [s for p in protocols for s in MAIL_SERVICES if s.protocol is p]

    def report(self, name: str, watch: Stopwatch) -> SourceReport:
        incoming = [
            _Chosen(service, *chosen)
            for service in self._incoming_order()
            if (chosen := self._choose(service)) is not None
        ]
        outgoing = [
            _Chosen(service, *chosen)
            for service in MAIL_SERVICES
            if service.protocol is Protocol.SMTP and (chosen := self._choose(service)) is not None
        ]
        dav = {s.kind: found for s in DAV_SERVICES if (found := self._dav_url(s)) is not None}
        self._report_not_offered()
        failed = self._report_failures()
        candidates = self._candidates(name, incoming, outgoing, dav)
        if incoming:
            self._report_assumptions(incoming, outgoing)
        elif outgoing or dav:
            self._add(
                "discovery.srv.no-incoming",
                Outcome.INFO,
                Text("discovery.srv.no-incoming", {"domain": self.address.domain}),
                None,
                Fixer.NOBODY,
            )
        if candidates:
            outcome = SourceOutcome.FOUND
        elif failed:
            outcome = SourceOutcome.FAILED
        else:
            outcome = SourceOutcome.NOTHING
        return SourceReport(
            name=name,
            outcome=outcome,
            candidates=candidates,
            findings=tuple(self.findings),
            detail=self._detail(),
            data=self._data(dav),
            ms=watch.ms(),
        )

    def _candidates(
        self,
        name: str,
        incoming: list[_Chosen],
        outgoing: list[_Chosen],
        dav: dict[str, tuple[str, str]],
    ) -> tuple[AccountConfig, ...]:
        """Each incoming server with the preferred outgoing one, then the preferred incoming
        server with each further outgoing one: every published server appears once."""
        if not incoming:
            return ()
        pairs = [(inc, outgoing[0] if outgoing else None) for inc in incoming]
        pairs.extend((incoming[0], out) for out in outgoing[1:])
        candidates: list[AccountConfig] = []
        for inc, out in pairs:
            used = [inc] if out is None else [inc, out]
            notes = [f"{c.service.label}.{self.domain}: {_record_text(c.record)}" for c in used]
            notes.extend(
                f"STARTTLS assumed for {c.service.label} on port {c.record.port}"
                " (RFC 8314: never plain text)"
                for c in used
                if c.service.assumed_starttls
            )
            notes.extend(note for _, note in dav.values())
            candidates.append(
                AccountConfig(
                    incoming=inc.endpoint,
                    outgoing=None if out is None else out.endpoint,
                    caldav=dav["caldav"][0] if "caldav" in dav else None,
                    carddav=dav["carddav"][0] if "carddav" in dav else None,
                    auth=AuthKind.PASSWORD,
                    hints=(Text("discovery.srv.username-assumed"),),
                    provenance=Provenance(
                        source=name, trust=Trust.MEDIUM, over_https=False, detail="; ".join(notes)
                    ),
                )
            )
        return tuple(candidates)

    def _report_assumptions(self, incoming: list[_Chosen], outgoing: list[_Chosen]) -> None:
        """Findings for plain ports used with STARTTLS and for a missing submission server."""
        for chosen in (*incoming, *outgoing):
            if chosen.service.assumed_starttls:
                label, endpoint = chosen.service.label, chosen.endpoint
                self._add(
                    "discovery.srv.starttls-assumed",
                    Outcome.INFO,
                    Text(
                        "discovery.srv.starttls-assumed",
                        {"service": label, "host": endpoint.host, "port": endpoint.port},
                    ),
                    None,
                    Fixer.NOBODY,
                    service=label,
                )
        if not outgoing:
            self._add(
                "discovery.srv.no-submission",
                Outcome.WARNING,
                Text("discovery.srv.no-submission", {"domain": self.address.domain}),
                Text("discovery.srv.no-submission.fix"),
                Fixer.USER,
            )

    def _report_not_offered(self) -> None:
        labels = [
            label
            for label in (s.label for s in (*MAIL_SERVICES, *DAV_SERVICES))
            if self.lookups[label].not_offered
        ]
        if labels:
            self._add(
                "discovery.srv.not-offered",
                Outcome.INFO,
                Text(
                    "discovery.srv.not-offered",
                    {"domain": self.address.domain, "services": ", ".join(labels)},
                ),
                None,
                Fixer.NOBODY,
                services=", ".join(labels),
            )

    def _report_failures(self) -> bool:
        """One finding for every query that got no answer (SERVFAIL, timeout ...); whether
        any of the SRV queries failed."""
        failed = {
            lookup.name: str(lookup.error.detail.get("problem", "failed"))
            for lookup in self.lookups.values()
            if lookup.failed and lookup.error is not None
        }
        if not failed:
            return False
        names = ", ".join(failed)
        problems = ", ".join(sorted(set(failed.values())))
        self._add(
            "discovery.srv.dns-failed",
            Outcome.WARNING,
            Text("discovery.srv.dns-failed", {"domain": self.address.domain, "names": names}),
            Text("discovery.srv.dns-failed.fix"),
            Fixer.USER,
            names=names,
            problems=problems,
        )
        return any(self.lookups[s.label].failed for s in (*MAIL_SERVICES, *DAV_SERVICES))

    def _add(
        self,
        code: str,
        outcome: Outcome,
        cause: Text,
        fix: Text | None,
        fixer: Fixer,
        **detail: str | int,
    ) -> None:
        self.findings.append(
            Finding(
                code=code,
                checked=Text("discovery.srv.checked", {"domain": self.address.domain}),
                outcome=outcome,
                cause=cause,
                fix=fix,
                fixer=fixer,
                help_topic="detection",
                detail={"domain": self.domain, **detail},
            )
        )

    def _detail(self) -> str:
        parts = [
            f"{lookup.name}: " + ", ".join(_record_text(r) for r in lookup.records)
            for label, lookup in self.lookups.items()
            if lookup.records and not label.endswith(" TXT")
        ]
        parts.extend(self.problems)
        return "; ".join(parts) if parts else f"no SRV records for {self.domain}"

    def _data(self, dav: dict[str, tuple[str, str]]) -> dict[str, JSONValue]:
        records: dict[str, JSONValue] = {
            label: [
                {"priority": r.priority, "weight": r.weight, "port": r.port, "target": r.target}
                for r in lookup.records
            ]
            for label, lookup in self.lookups.items()
            if lookup.records
        }
        failed: dict[str, JSONValue] = {
            lookup.name: str(lookup.error.detail.get("problem", "failed"))
            for lookup in self.lookups.values()
            if lookup.failed and lookup.error is not None
        }
        not_offered: list[JSONValue] = [
            label for label, lookup in self.lookups.items() if lookup.not_offered
        ]
        texts: dict[str, JSONValue] = {
            lookup.name: list(lookup.texts) for lookup in self.lookups.values() if lookup.texts
        }
        return {
            "records": records,
            "txt": texts,
            "not_offered": not_offered,
            "failed": failed,
            "caldav": dav["caldav"][0] if "caldav" in dav else None,
            "carddav": dav["carddav"][0] if "carddav" in dav else None,
        }
