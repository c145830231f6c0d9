"""The detection engine's scheduling and ranking, with scripted sources.

The sources here are small scripted stand-ins (answer X after N ms), because what is under test
is the engine's own logic: when it stops, what it cancels, how it ranks. The real sources are
tested against the test world in tests/integration/test_discovery_*.py and test_detect_cli.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from app.core.discovery.base import DiscoveryContext, Source, SourceOutcome, SourceReport
from app.core.discovery.engine import DetectionOptions, SourceEvent, detect, rank
from app.core.errors import DNSError
from app.core.model import (
    AccountConfig,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.net import Network, NetworkOptions

ADDRESS = EmailAddress.parse("taro@example.test")


def config(
    source: str,
    trust: Trust,
    host: str = "imap.example.test",
    security: Security = Security.TLS,
    outgoing: bool = True,
) -> AccountConfig:
    port = 993 if security is Security.TLS else 143
    return AccountConfig(
        incoming=Endpoint(Protocol.IMAP, host, port, security),
        outgoing=Endpoint(Protocol.SMTP, "smtp.example.test", 465, Security.TLS)
        if outgoing
        else None,
        provenance=Provenance(source=source, trust=trust, over_https=True),
    )


@dataclass
class Scripted:
    """A source that answers ``candidates`` after ``delay`` seconds (or raises ``error``)."""

    name: str
    delay: float = 0.0
    candidates: tuple[AccountConfig, ...] = ()
    error: Exception | None = None
    started_at: float | None = None
    cancelled: bool = False
    finished: bool = False
    calls: list[float] = field(default_factory=list)

    async def run(self, context: DiscoveryContext) -> SourceReport:
        self.started_at = time.monotonic()
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished = True
        if self.error is not None:
            raise self.error
        outcome = SourceOutcome.FOUND if self.candidates else SourceOutcome.NOTHING
        return SourceReport(name=self.name, outcome=outcome, candidates=self.candidates)


def run_detect(
    network: Sequence[Source],
    catalog: Source | None = None,
    guess: Source | None = None,
    *,
    options: DetectionOptions | None = None,
    offline: bool = False,
    events: list[SourceEvent] | None = None,
):  # type: ignore[no-untyped-def]
    net = Network(NetworkOptions(offline=offline, system_proxy=False))
    return asyncio.run(
        detect(
            ADDRESS,
            net,
            options=options,
            on_event=None if events is None else events.append,
            sources=(list(network), catalog or Scripted("catalog"), guess),
        )
    )


def test_catalog_answer_ends_the_run_without_starting_network_sources() -> None:
    catalog = Scripted("catalog", candidates=(config("catalog", Trust.HIGH),))
    autoconfig = Scripted("autoconfig", delay=0.01)
    result = run_detect([autoconfig], catalog, Scripted("guess"))
    assert autoconfig.started_at is None
    assert result.best is not None and result.best.provenance.source == "catalog"
    outcomes = {r.name: r.outcome for r in result.sources}
    assert outcomes["autoconfig"] is SourceOutcome.CANCELLED


def test_trusted_answer_waits_only_the_grace_window_for_slower_sources() -> None:
    fast = Scripted("ispdb", delay=0.02, candidates=(config("ispdb", Trust.HIGH),))
    slow = Scripted("autoconfig", delay=5.0, candidates=(config("autoconfig", Trust.HIGH),))
    started = time.monotonic()
    result = run_detect([slow, fast], options=DetectionOptions(grace=0.1))
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, "a slow higher-priority source held the trusted answer back"
    assert slow.cancelled
    assert result.best is not None and result.best.provenance.source == "ispdb"
    assert {r.name: r.outcome for r in result.sources}["autoconfig"] is SourceOutcome.CANCELLED


def test_trusted_answers_within_the_grace_window_are_all_kept() -> None:
    first = Scripted("ispdb", delay=0.01, candidates=(config("ispdb", Trust.HIGH),))
    second = Scripted(
        "autoconfig",
        delay=0.05,
        candidates=(config("autoconfig", Trust.HIGH, host="mail.example.test"),),
    )
    result = run_detect([first, second], options=DetectionOptions(grace=0.3))
    assert {c.provenance.source for c in result.candidates} == {"ispdb", "autoconfig"}
    # both trusted and equally secure: the source's standing decides (autoconfig before ispdb)
    assert result.candidates[0].provenance.source == "autoconfig"
    assert any(f.code == "discovery.sources-disagree" for f in result.findings)


def test_untrusted_answers_do_not_end_the_run_early() -> None:
    srv = Scripted("srv", delay=0.01, candidates=(config("srv", Trust.MEDIUM),))
    ispdb = Scripted("ispdb", delay=0.2, candidates=(config("ispdb", Trust.HIGH),))
    result = run_detect([srv, ispdb], options=DetectionOptions(grace=0.05))
    assert ispdb.finished
    assert result.best is not None and result.best.provenance.source == "ispdb"


def test_guessing_starts_only_after_the_others_found_nothing_trusted() -> None:
    other = Scripted("mx", delay=0.05)
    guess = Scripted("guess", delay=0.0, candidates=(config("guess", Trust.MEDIUM),))
    result = run_detect([other], guess=guess)
    assert guess.started_at is not None and other.finished
    assert result.best is not None and result.best.provenance.source == "guess"


def test_guessing_is_never_started_when_a_trusted_answer_came() -> None:
    ispdb = Scripted("ispdb", delay=0.01, candidates=(config("ispdb", Trust.HIGH),))
    guess = Scripted("guess")
    run_detect([ispdb], guess=guess)
    assert guess.started_at is None


def test_guessing_starts_at_guess_after_while_slow_sources_still_run() -> None:
    slow = Scripted("autoconfig", delay=2.0)
    guess = Scripted("guess", candidates=(config("guess", Trust.MEDIUM),))
    run_detect([slow], guess=guess, options=DetectionOptions(deadline=0.6, guess_after=0.1))
    assert guess.started_at is not None
    assert slow.started_at is not None
    assert 0.05 < guess.started_at - slow.started_at < 0.5


def test_deadline_stops_everything_and_reports_timed_out() -> None:
    hang = Scripted("autoconfig", delay=30)
    started = time.monotonic()
    result = run_detect([hang], options=DetectionOptions(deadline=0.3, guess_after=5))
    assert time.monotonic() - started < 1.5
    assert hang.cancelled
    assert {r.name: r.outcome for r in result.sources}["autoconfig"] is SourceOutcome.TIMED_OUT
    assert not result.found


def test_a_failing_source_becomes_a_report_with_its_finding() -> None:
    broken = Scripted("mx", error=DNSError("example.test"))
    buggy = Scripted("srv", error=RuntimeError("bug"))
    result = run_detect([broken, buggy])
    reports = {r.name: r for r in result.sources}
    assert reports["mx"].outcome is SourceOutcome.FAILED
    assert reports["mx"].findings[0].code == "dns.not-found"
    assert reports["srv"].outcome is SourceOutcome.FAILED
    assert reports["srv"].findings[0].code == "discovery.internal-error"


def test_offline_runs_the_catalog_only() -> None:
    autoconfig = Scripted("autoconfig")
    guess = Scripted("guess")
    result = run_detect([autoconfig], guess=guess, offline=True)
    assert autoconfig.started_at is None and guess.started_at is None
    outcomes = {r.name: r.outcome for r in result.sources}
    assert outcomes["autoconfig"] is SourceOutcome.SKIPPED
    assert outcomes["guess"] is SourceOutcome.SKIPPED


def test_cancelling_detection_cancels_every_source() -> None:
    hang = Scripted("autoconfig", delay=30)

    async def scenario() -> None:
        net = Network(NetworkOptions(system_proxy=False))
        task = asyncio.ensure_future(
            detect(ADDRESS, net, sources=([hang], Scripted("catalog"), None))
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert hang.cancelled


def test_events_report_start_and_finish_of_every_source() -> None:
    events: list[SourceEvent] = []
    run_detect([Scripted("mx", delay=0.01)], events=events)
    started = [e.name for e in events if e.report is None]
    finished = [e.name for e in events if e.report is not None]
    assert started == ["catalog", "mx"]
    assert set(finished) == {"catalog", "mx"}


def test_dav_urls_published_in_dns_are_added_to_candidates_without_their_own() -> None:
    @dataclass
    class DavOnly:
        name: str = "srv"

        async def run(self, context: DiscoveryContext) -> SourceReport:
            return SourceReport(
                name="srv",
                outcome=SourceOutcome.NOTHING,
                data={"caldav": "https://dav.example.test/cal/", "carddav": None},
            )

    ispdb = Scripted("ispdb", candidates=(config("ispdb", Trust.HIGH),))
    result = run_detect([DavOnly(), ispdb], options=DetectionOptions(grace=0.2))
    assert result.best is not None
    assert result.best.caldav == "https://dav.example.test/cal/"
    assert result.best.carddav is None


def test_ranking_prefers_trust_then_security_and_folds_duplicates() -> None:
    low = config("guess", Trust.LOW, host="mail.example.test")
    starttls = config("ispdb", Trust.HIGH, security=Security.STARTTLS)
    tls = config("ispdb", Trust.HIGH)
    duplicate = config("mx", Trust.HIGH)
    no_smtp = config("autoconfig", Trust.HIGH, outgoing=False)
    ranked = rank([low, starttls, no_smtp, duplicate, tls])
    assert ranked[0] == tls
    assert ranked[1] == starttls
    assert ranked[2] == no_smtp
    assert ranked[-1] == low
    assert duplicate not in ranked  # same servers as ``tls``, weaker standing


def test_json_shape() -> None:
    catalog = Scripted("catalog", candidates=(config("catalog", Trust.HIGH),))
    data = run_detect([], catalog).to_dict()
    assert set(data) >= {"address", "provider", "candidates", "sources", "elapsed_ms"}
    candidate = data["candidates"][0]  # type: ignore[index]
    assert candidate["incoming"] == {  # type: ignore[index]
        "protocol": "imap",
        "host": "imap.example.test",
        "port": 993,
        "security": "tls",
        "username": None,
    }
    assert candidate["trusted"] is True  # type: ignore[index]
