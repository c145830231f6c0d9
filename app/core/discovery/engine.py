"""The detection engine: runs the discovery sources concurrently and decides when to stop.

How a run goes:

1. The built-in catalog answers first, with no network at all. A provider it knows by the
   address's domain ends the run at once: known providers are answered offline.
2. Otherwise every network source starts together under one deadline (default 10 s). When a
   trusted answer arrives (catalog by MX, ISP autoconfig over HTTPS, ISPDB), the engine waits a
   short grace window (150 ms) for other trusted answers, then cancels what is still running.
   A slower, lower-priority source never holds a faster trusted answer back (Thunderbird waits).
3. Guessing starts last: when every other source has finished without a trusted answer, or
   when ``guess_after`` seconds have passed without one, whichever is first.
4. The candidates are merged (duplicates folded), ranked by trust, then security, then the
   source's standing, and every source's report is kept, failures included. Where sources
   disagree about the incoming server, a finding says so rather than hiding it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from app.core.discovery.base import (
    DiscoveryContext,
    JSONValue,
    ProviderRef,
    Source,
    SourceOutcome,
    SourceReport,
)
from app.core.errors import SetupError
from app.core.model import AccountConfig, EmailAddress, Finding, Fixer, Outcome, Trust
from app.core.net import Network
from app.core.texts import DEFAULT_LANGUAGE, Language, Text

log = logging.getLogger(__name__)

# The order sources are listed in reports, and their standing when trust and security tie.
SOURCE_ORDER: tuple[str, ...] = (
    "catalog",
    "autoconfig",
    "ispdb",
    "mx",
    "microsoft",
    "srv",
    "guess",
)


@dataclass(frozen=True)
class DetectionOptions:
    """How long detection may take. ``deadline`` bounds the whole run; ``grace`` is how long
    a trusted answer waits for other trusted answers; ``guess_after`` is when guessing starts
    at the latest while no trusted answer has come."""

    deadline: float = 10.0
    grace: float = 0.15
    guess_after: float = 3.0


@dataclass(frozen=True)
class SourceEvent:
    """Progress for a user interface: a source started (``report`` is None) or finished."""

    name: str
    report: SourceReport | None


@dataclass(frozen=True)
class DetectionResult:
    """What detection found for one address, best candidate first."""

    address: EmailAddress
    provider: ProviderRef | None
    candidates: tuple[AccountConfig, ...]
    sources: tuple[SourceReport, ...]
    findings: tuple[Finding, ...]
    suggestion: str | None
    elapsed_ms: int

    @property
    def found(self) -> bool:
        return bool(self.candidates)

    @property
    def best(self) -> AccountConfig | None:
        return self.candidates[0] if self.candidates else None

    def to_dict(self, language: Language = DEFAULT_LANGUAGE) -> dict[str, JSONValue]:
        """The JSON shape ``mailsetup detect --json`` prints (docs/cli.md)."""
        return {
            "address": str(self.address),
            "provider": None if self.provider is None else dict(self.provider.to_dict()),
            "candidates": [_json(c.to_dict(language)) for c in self.candidates],
            "sources": [_report_dict(r, language) for r in self.sources],
            "findings": [_json(f.to_dict(language)) for f in self.findings],
            "suggestion": self.suggestion,
            "elapsed_ms": self.elapsed_ms,
        }


def _json(value: object) -> JSONValue:
    """Model ``to_dict`` output is JSON-ready already; this narrows the type for mypy."""
    return value  # type: ignore[return-value]


def _report_dict(report: SourceReport, language: Language) -> dict[str, JSONValue]:
    return {
        "name": report.name,
        "outcome": report.outcome.value,
        "ms": report.ms,
        "candidates": len(report.candidates),
        "provider": None if report.provider is None else dict(report.provider.to_dict()),
        "detail": report.detail,
        "findings": [_json(f.to_dict(language)) for f in report.findings],
        "data": dict(report.data),
    }


def default_sources() -> tuple[list[Source], Source, Source | None]:
    """(the catalog, the network sources, guessing), each created fresh for one run."""
    from app.core.discovery.autoconfig import AutoconfigSource
    from app.core.discovery.catalog import CatalogSource
    from app.core.discovery.guess import GuessSource
    from app.core.discovery.ispdb import IspdbSource
    from app.core.discovery.microsoft import MicrosoftSource
    from app.core.discovery.mx import MxSource
    from app.core.discovery.srv import SrvSource

    network: list[Source] = [
        AutoconfigSource(),
        IspdbSource(),
        MxSource(),
        MicrosoftSource(),
        SrvSource(),
    ]
    return network, CatalogSource(), GuessSource()


class _Run:
    """One detection run's bookkeeping (tasks, reports, timing)."""

    def __init__(
        self,
        context: DiscoveryContext,
        options: DetectionOptions,
        on_event: Callable[[SourceEvent], None] | None,
    ) -> None:
        self.context = context
        self.options = options
        self.on_event = on_event
        self.start = time.monotonic()
        self.reports: dict[str, SourceReport] = {}
        self.tasks: dict[asyncio.Task[SourceReport], str] = {}
        self.started: dict[str, float] = {}

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def emit(self, name: str, report: SourceReport | None) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(SourceEvent(name, report))
        except Exception:  # a broken progress display must not break detection
            log.exception("progress callback failed")

    def launch(self, source: Source) -> None:
        self.started[source.name] = time.monotonic()
        task = asyncio.ensure_future(_run_source(source, self.context))
        self.tasks[task] = source.name
        self.emit(source.name, None)

    def record(self, report: SourceReport) -> None:
        self.reports[report.name] = report
        self.emit(report.name, report)

    def ms_since_start_of(self, name: str) -> int:
        return round((time.monotonic() - self.started.get(name, self.start)) * 1000)

    async def stop_all(self, outcome: SourceOutcome) -> None:
        """Cancel every running source; they are reported with ``outcome``."""
        pending = list(self.tasks)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for task in pending:
            name = self.tasks.pop(task)
            if name not in self.reports:
                self.record(
                    SourceReport(name=name, outcome=outcome, ms=self.ms_since_start_of(name))
                )


async def _run_source(source: Source, context: DiscoveryContext) -> SourceReport:
    """Run one source, turning its errors into a FAILED report with the error's finding."""
    started = time.monotonic()
    try:
        report = await source.run(context)
    except asyncio.CancelledError:
        raise
    except SetupError as error:
        report = SourceReport(
            name=source.name,
            outcome=SourceOutcome.FAILED,
            findings=(error.to_finding(),),
            detail=str(error),
        )
    except Exception as error:  # a bug in one source must not sink detection
        log.exception("discovery source %s failed", source.name)
        report = SourceReport(
            name=source.name,
            outcome=SourceOutcome.FAILED,
            findings=(_internal_failure(source.name, error),),
            detail=type(error).__name__,
        )
    ms = round((time.monotonic() - started) * 1000)
    return SourceReport(
        name=source.name,
        outcome=report.outcome,
        candidates=report.candidates,
        provider=report.provider,
        findings=report.findings,
        detail=report.detail,
        data=report.data,
        ms=ms,
    )


def _internal_failure(source: str, error: Exception) -> Finding:
    return Finding(
        code="discovery.internal-error",
        checked=Text("discovery.engine.checked", {"source": source}),
        outcome=Outcome.WARNING,
        cause=Text("discovery.engine.internal-error", {"source": source}),
        fix=Text("discovery.engine.internal-error.fix"),
        fixer=Fixer.NOBODY,
        help_topic="detection",
        detail={"error": type(error).__name__},
    )


def _trusted(report: SourceReport) -> bool:
    return any(c.provenance.trusted for c in report.candidates)


async def detect(
    address: EmailAddress,
    net: Network,
    *,
    options: DetectionOptions | None = None,
    language: Language = DEFAULT_LANGUAGE,
    on_event: Callable[[SourceEvent], None] | None = None,
    sources: tuple[Sequence[Source], Source, Source | None] | None = None,
) -> DetectionResult:
    """Find the settings for ``address``. Never raises for a source's failure: every failure
    is in the result's reports. Cancelling the caller cancels every source."""
    options = options or DetectionOptions()
    network_sources, catalog, guess = sources if sources is not None else default_sources()
    context = DiscoveryContext(address=address, net=net, language=language)
    run = _Run(context, options, on_event)
    try:
        # 1. The catalog, with no network: a provider known by its domain ends the run.
        run.launch(catalog)
        await _collect(run, seconds=options.deadline)
        offline = net.options.offline
        known = _trusted(run.reports.get(catalog.name, _EMPTY))
        if known or offline:
            skipped = SourceOutcome.SKIPPED if offline else SourceOutcome.CANCELLED
            for source in (*network_sources, *([guess] if guess else [])):
                run.record(SourceReport(name=source.name, outcome=skipped))
        else:
            await _network_phase(run, network_sources, guess)
    finally:
        await run.stop_all(SourceOutcome.CANCELLED)
        context.close()
    return _result(run, address)


_EMPTY = SourceReport(name="", outcome=SourceOutcome.NOTHING)


async def _collect(run: _Run, *, seconds: float) -> bool:
    """Wait up to ``seconds`` for at least one running source to finish; record those that
    did. Returns False when the time ran out first."""
    if not run.tasks:
        return True
    done, _ = await asyncio.wait(
        list(run.tasks), timeout=max(seconds, 0), return_when=asyncio.FIRST_COMPLETED
    )
    for task in done:
        name = run.tasks.pop(task)
        run.record(task.result())
        del name
    return bool(done)


async def _network_phase(
    run: _Run, network_sources: Iterable[Source], guess: Source | None
) -> None:
    options = run.options
    for source in network_sources:
        run.launch(source)
    grace_until: float | None = None
    guess_started = guess is None
    while True:
        now = run.elapsed()
        if any(_trusted(r) for r in run.reports.values()) and grace_until is None:
            grace_until = now + options.grace
        others_running = any(name != "guess" for name in run.tasks.values())
        if (
            not guess_started
            and grace_until is None
            and (not others_running or now >= options.guess_after)
        ):
            assert guess is not None
            run.launch(guess)
            guess_started = True
            continue
        if not run.tasks:
            return
        if grace_until is not None and now >= grace_until:
            await run.stop_all(SourceOutcome.CANCELLED)
            return
        if now >= options.deadline:
            await run.stop_all(SourceOutcome.TIMED_OUT)
            return
        limits = [options.deadline]
        if grace_until is not None:
            limits.append(grace_until)
        if not guess_started:
            limits.append(options.guess_after)
        await _collect(run, seconds=min(limits) - now)


def _rank_key(candidate: AccountConfig) -> tuple[int, int, int]:
    security = candidate.incoming.security.rank
    if candidate.outgoing is not None:
        security += candidate.outgoing.security.rank
    else:
        security -= 10  # a candidate that cannot send ranks below one that can
    source = candidate.provenance.source
    standing = SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)
    return (-candidate.provenance.trust.rank, -security, standing)


def _same_servers(a: AccountConfig, b: AccountConfig) -> bool:
    return (a.incoming, a.outgoing, a.caldav, a.carddav, a.auth) == (
        b.incoming,
        b.outgoing,
        b.caldav,
        b.carddav,
        b.auth,
    )


def rank(candidates: Iterable[AccountConfig]) -> tuple[AccountConfig, ...]:
    """Best first: trust, then security, then the source's standing; duplicates folded."""
    ranked: list[AccountConfig] = []
    for candidate in sorted(candidates, key=_rank_key):
        if not any(_same_servers(candidate, kept) for kept in ranked):
            ranked.append(candidate)
    return tuple(ranked)


def _disagreement(reports: Iterable[SourceReport]) -> Finding | None:
    """A finding when sources with trusted or medium answers name different incoming servers."""
    firsts: dict[str, str] = {}
    for report in reports:
        believable = [c for c in report.candidates if c.provenance.trust.rank >= Trust.MEDIUM.rank]
        if believable:
            best = rank(believable)[0].incoming
            firsts[report.name] = f"{best.protocol.value}://{best.host}:{best.port}"
    if len(set(firsts.values())) <= 1:
        return None
    listing = ", ".join(f"{name}: {server}" for name, server in firsts.items())
    return Finding(
        code="discovery.sources-disagree",
        checked=Text("discovery.engine.checked-all"),
        outcome=Outcome.INFO,
        cause=Text("discovery.engine.disagree", {"servers": listing}),
        fix=Text("discovery.engine.disagree.fix"),
        fixer=Fixer.USER,
        help_topic="detection",
        detail={"servers": listing},
    )


def _result(run: _Run, address: EmailAddress) -> DetectionResult:
    def order(report: SourceReport) -> int:
        return SOURCE_ORDER.index(report.name) if report.name in SOURCE_ORDER else 99

    reports = tuple(sorted(run.reports.values(), key=order))
    candidates = _with_dav(rank(c for r in reports for c in r.candidates), reports)
    provider = next((r.provider for r in reports if r.provider is not None), None)
    findings: list[Finding] = []
    disagreement = _disagreement(reports)
    if disagreement is not None:
        findings.append(disagreement)
    return DetectionResult(
        address=address,
        provider=provider,
        candidates=candidates,
        sources=reports,
        findings=tuple(findings),
        suggestion=_suggestion(address, provider),
        elapsed_ms=round(run.elapsed() * 1000),
    )


def _with_dav(
    candidates: tuple[AccountConfig, ...], reports: Iterable[SourceReport]
) -> tuple[AccountConfig, ...]:
    """Calendar and contacts URLs that DNS publishes (RFC 6764 SRV records) for the domain,
    added to the candidates that found none of their own: they belong to the domain, not to
    the source that found the mail servers."""
    dav: dict[str, str] = {}
    for report in reports:
        if report.name == "srv":
            for kind in ("caldav", "carddav"):
                value = report.data.get(kind)
                if isinstance(value, str):
                    dav[kind] = value
    if not dav:
        return candidates
    return tuple(
        replace(
            candidate,
            caldav=candidate.caldav or dav.get("caldav"),
            carddav=candidate.carddav or dav.get("carddav"),
        )
        for candidate in candidates
    )


def _suggestion(address: EmailAddress, provider: ProviderRef | None) -> str | None:
    """ "Did you mean …?" for a likely typo in a domain no provider claims."""
    if provider is not None:
        return None
    from app.core.discovery.typos import suggest_address

    return suggest_address(address)
