"""Guessing against the test world: real IMAP, POP3 and SMTP exchanges with Dovecot and the
submission server (on 127.0.0.2), the fault proxy and small TLS listeners.

Guessing uses the standard ports (993, 143, 995, 110, 465, 587). Each test aims the guessed
``name:port`` pairs it wants answered at a world server with ``--resolve``-style overrides
(``imap.example.test:993:127.0.0.2:<dovecot's port>``); every other name goes to the world's
DNS server, which knows none of them unless the test adds a record.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest

from app.core.discovery.base import DiscoveryContext, SourceOutcome, SourceReport
from app.core.discovery.guess import MAX_PROBES, GuessSource
from app.core.model import EmailAddress, Outcome, Protocol, Security, Trust
from app.core.net import Network, NetworkOptions, parse_dns_server, parse_resolve
from tests.world.ca import CertPair, TestCA
from tests.world.dns import DNSServer
from tests.world.dovecot import MAIL_HOST, DovecotServer
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.fixtures_mail import MailWorld
from tests.world.smtp import SubmissionServer

pytestmark = pytest.mark.world

T = TypeVar("T")
ADDRESS = "taro@example.test"
ALL_PORTS = (993, 143, 995, 110, 465, 587)


def make_options(
    dns: DNSServer, test_ca: TestCA, *overrides: str, timeout: float = 3.0
) -> NetworkOptions:
    return NetworkOptions(
        timeout=timeout,
        dns_server=parse_dns_server(dns.address),
        resolve=tuple(parse_resolve(text) for text in overrides),
        ca_bundles=(test_ca.cert_path,),
        system_proxy=False,
    )


def guess(options: NetworkOptions, limit: float = 15.0) -> tuple[SourceReport, float]:
    """Run the source once; the report and the seconds it took."""

    async def main() -> SourceReport:
        context = DiscoveryContext(EmailAddress.parse(ADDRESS), Network(options))
        async with asyncio.timeout(limit):
            return await GuessSource().run(context)

    started = time.monotonic()
    report = asyncio.run(main())
    return report, time.monotonic() - started


def run_async(factory: Callable[[], Awaitable[T]], limit: float = 15.0) -> T:
    async def main() -> T:
        async with asyncio.timeout(limit):
            return await factory()

    return asyncio.run(main())


def statuses(report: SourceReport) -> dict[tuple[str, int], str]:
    """``(host, port) -> status`` of every probe in the report's data."""
    probes = report.data["probes"]
    assert isinstance(probes, list)
    found: dict[tuple[str, int], str] = {}
    for item in probes:
        assert isinstance(item, dict)
        host, port, status = item["host"], item["port"], item["status"]
        assert isinstance(host, str) and isinstance(port, int) and isinstance(status, str)
        found[(host, port)] = status
    return found


def finding(report: SourceReport, code: str) -> Any:
    matching = [f for f in report.findings if f.code == code]
    assert len(matching) == 1, [f.code for f in report.findings]
    return matching[0]


def to(name: str, port: int, target_port: int, address: str = MAIL_HOST) -> str:
    return f"{name}:{port}:{address}:{target_port}"


def everywhere(port: int) -> list[str]:
    """Overrides sending every guessed name on every standard port to ``127.0.0.1:port``."""
    return [f"*:{standard}:127.0.0.1:{port}" for standard in ALL_PORTS]


@asynccontextmanager
async def tls_listener(cert: CertPair) -> AsyncIterator[int]:
    """A TLS server on 127.0.0.1 (in the running loop) that greets like IMAP; its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert.chain, cert.key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
            await writer.drain()
            await reader.read(1024)
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


@asynccontextmanager
async def dripping_listener(interval: float) -> AsyncIterator[int]:
    """A plain IMAP-like server that greets, then answers CAPABILITY with one more untagged
    line every ``interval`` seconds, never ending the reply; its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"* OK ready\r\n")
            await writer.drain()
            await reader.readline()
            while True:
                writer.write(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n")
                await writer.drain()
                await asyncio.sleep(interval)
        except OSError:
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


# --- servers found ----------------------------------------------------------------------------


def test_imap_with_implicit_tls_and_submission(
    mail_world: MailWorld, dns: DNSServer, test_ca: TestCA
) -> None:
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    options = make_options(
        dns,
        test_ca,
        to("imap.example.test", 993, dovecot.imap_tls_port),
        to("imap.example.test", 143, dovecot.imap_starttls_port),
        to("smtp.example.test", 465, smtp.tls_port),
        to("smtp.example.test", 587, smtp.starttls_port),
    )
    report, seconds = guess(options)
    assert report.name == "guess"
    assert report.outcome is SourceOutcome.FOUND, report.detail
    assert len(report.candidates) == 1
    candidate = report.candidates[0]
    incoming, outgoing = candidate.incoming, candidate.outgoing
    assert (incoming.protocol, incoming.host, incoming.port, incoming.security) == (
        Protocol.IMAP,
        "imap.example.test",
        993,
        Security.TLS,
    )
    assert outgoing is not None
    assert (outgoing.protocol, outgoing.host, outgoing.port, outgoing.security) == (
        Protocol.SMTP,
        "smtp.example.test",
        465,
        Security.TLS,
    )
    assert incoming.username == outgoing.username == ADDRESS
    provenance = candidate.provenance
    assert provenance.source == "guess" and provenance.trust is Trust.MEDIUM
    assert not provenance.trusted
    assert provenance.detail is not None and provenance.detail.startswith("guessed")
    # the mechanisms each server offered are recorded
    assert "AUTH PLAIN" in provenance.detail
    incoming_data, outgoing_data = report.data["incoming"], report.data["outgoing"]
    assert isinstance(incoming_data, dict) and isinstance(outgoing_data, dict)
    assert "PLAIN" in incoming_data["auth"]  # type: ignore[operator]
    assert "XOAUTH2" in outgoing_data["auth"]  # type: ignore[operator]
    assert incoming_data["login_disabled"] is False
    assert "XOAUTH2" in report.data["oauth_offered"]  # type: ignore[operator]
    hint_keys = [hint.key for hint in candidate.hints]
    assert "discovery.guess.hint.username" in hint_keys
    assert "discovery.guess.hint.oauth" in hint_keys
    assert "discovery.guess.hint.no-outgoing" not in hint_keys
    assert not [f for f in report.findings if f.outcome.is_problem]
    assert seconds < 3.0
    # JSON-ready
    assert candidate.to_dict()["source"] == "guess"


def test_only_starttls_ports(mail_world: MailWorld, dns: DNSServer, test_ca: TestCA) -> None:
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    options = make_options(
        dns,
        test_ca,
        to("imap.example.test", 143, dovecot.imap_starttls_port),
        to("smtp.example.test", 587, smtp.starttls_port),
    )
    report, _ = guess(options)
    assert report.outcome is SourceOutcome.FOUND, report.detail
    candidate = report.candidates[0]
    assert (candidate.incoming.host, candidate.incoming.port) == ("imap.example.test", 143)
    assert candidate.incoming.security is Security.STARTTLS
    assert candidate.outgoing is not None
    assert (candidate.outgoing.host, candidate.outgoing.port) == ("smtp.example.test", 587)
    assert candidate.outgoing.security is Security.STARTTLS
    incoming_data, outgoing_data = report.data["incoming"], report.data["outgoing"]
    assert isinstance(incoming_data, dict) and isinstance(outgoing_data, dict)
    # capabilities asked again over TLS: Dovecot lifts LOGINDISABLED, SMTP shows AUTH
    assert incoming_data["login_disabled"] is False
    assert "PLAIN" in outgoing_data["auth"]  # type: ignore[operator]
    assert str(incoming_data["tls_version"]).startswith("TLSv1.")


def test_implicit_tls_is_preferred_then_host_order(
    mail_world: MailWorld, dns: DNSServer, test_ca: TestCA
) -> None:
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    options = make_options(
        dns,
        test_ca,
        to("imap.example.test", 143, dovecot.imap_starttls_port),  # better name, STARTTLS
        to("example.test", 993, dovecot.imap_tls_port),  # worst name, implicit TLS
        to("smtp.example.test", 587, smtp.starttls_port),
        to("mail.example.test", 465, smtp.tls_port),
        to("example.test", 465, smtp.tls_port),
    )
    report, _ = guess(options)
    candidate = report.candidates[0]
    assert (candidate.incoming.host, candidate.incoming.port) == ("example.test", 993)
    assert candidate.outgoing is not None
    assert (candidate.outgoing.host, candidate.outgoing.port) == ("mail.example.test", 465)


def test_only_pop3(mail_world: MailWorld, dns: DNSServer, test_ca: TestCA) -> None:
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    options = make_options(
        dns,
        test_ca,
        to("pop.example.test", 110, dovecot.pop3_starttls_port),
        to("pop3.example.test", 995, dovecot.pop3_tls_port),
        to("smtp.example.test", 587, smtp.starttls_port),
    )
    report, _ = guess(options)
    assert report.outcome is SourceOutcome.FOUND, report.detail
    incoming = report.candidates[0].incoming
    assert (incoming.protocol, incoming.host, incoming.port, incoming.security) == (
        Protocol.POP3,
        "pop3.example.test",
        995,
        Security.TLS,
    )
    incoming_data = report.data["incoming"]
    assert isinstance(incoming_data, dict)
    assert "PLAIN" in incoming_data["auth"]  # type: ignore[operator]  # SASL from CAPA
    # every IMAP probe was tried, and failed, before POP3 was chosen
    seen = statuses(report)
    assert all(seen[(h, p)] == "dns" for (h, p) in seen if p in (993, 143))


def test_only_pop3_with_stls(mail_world: MailWorld, dns: DNSServer, test_ca: TestCA) -> None:
    options = make_options(
        dns, test_ca, to("mail.example.test", 110, mail_world.dovecot.pop3_starttls_port)
    )
    report, _ = guess(options)
    candidate = report.candidates[0]
    assert (candidate.incoming.protocol, candidate.incoming.security) == (
        Protocol.POP3,
        Security.STARTTLS,
    )
    assert candidate.outgoing is None
    assert "discovery.guess.hint.no-outgoing" in [h.key for h in candidate.hints]
    finding(report, "discovery.guess.no-outgoing")


# --- servers refused --------------------------------------------------------------------------


def test_stripped_starttls_is_reported_never_proposed(
    mail_world: MailWorld, dns: DNSServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    imap = fault_proxy(MAIL_HOST, mail_world.dovecot.imap_starttls_port, strip_starttls=True)
    smtp = fault_proxy(MAIL_HOST, mail_world.smtp.starttls_port, strip_starttls=True)
    options = make_options(
        dns,
        test_ca,
        to("imap.example.test", 143, imap.port, "127.0.0.1"),
        to("smtp.example.test", 587, smtp.port, "127.0.0.1"),
    )
    report, _ = guess(options)
    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == ()
    plain = finding(report, "discovery.guess.plain-only")
    assert plain.outcome is Outcome.WARNING
    assert "imap.example.test:143 (IMAP)" in plain.cause.params["servers"]
    assert "smtp.example.test:587 (SMTP)" in plain.cause.params["servers"]
    assert "probe.no-starttls" in plain.detail["servers"]
    seen = statuses(report)
    assert seen[("imap.example.test", 143)] == "plain-only"
    assert seen[("smtp.example.test", 587)] == "plain-only"
    finding(report, "discovery.guess.nothing")


def test_bad_certificates_fail_and_the_next_best_is_proposed(
    mail_world: MailWorld,
    dns: DNSServer,
    test_ca: TestCA,
    corporate_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    other = test_ca.issue(("other.test",), label="guess-other")
    intercepting = fault_proxy(MAIL_HOST, mail_world.dovecot.imap_tls_port, intercept=corporate_ca)

    async def scenario() -> SourceReport:
        async with tls_listener(other) as wrong_host:
            options = make_options(
                dns,
                test_ca,
                to("imap.example.test", 993, wrong_host, "127.0.0.1"),
                to("mail.example.test", 993, intercepting.port, "127.0.0.1"),
                to("imap.example.test", 143, mail_world.dovecot.imap_starttls_port),
                to("smtp.example.test", 465, wrong_host, "127.0.0.1"),
            )
            context = DiscoveryContext(EmailAddress.parse(ADDRESS), Network(options))
            return await GuessSource().run(context)

    report = run_async(scenario)
    assert report.outcome is SourceOutcome.FOUND, report.detail
    candidate = report.candidates[0]
    assert (candidate.incoming.host, candidate.incoming.port) == ("imap.example.test", 143)
    assert candidate.outgoing is None  # the only SMTP server had a wrong certificate
    tls = finding(report, "discovery.guess.tls")
    assert tls.outcome is Outcome.WARNING
    servers = tls.detail["servers"]
    assert "imap.example.test:993 (IMAP): tls.wrong-host" in servers
    assert "mail.example.test:993 (IMAP): tls.untrusted" in servers
    assert "smtp.example.test:465 (SMTP): tls.wrong-host" in servers
    seen = statuses(report)
    assert seen[("imap.example.test", 993)] == seen[("mail.example.test", 993)] == "tls"
    assert intercepting.total_connections >= 1


def test_server_that_never_answers_is_bounded_by_the_timeout(
    dns: DNSServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    hang = fault_proxy(MAIL_HOST, 9, accept_and_hang=True)
    options = make_options(dns, test_ca, *everywhere(hang.port), timeout=1.0)
    report, seconds = guess(options)
    assert report.outcome is SourceOutcome.NOTHING
    assert seconds < 2.5, f"took {seconds:.2f} s with a 1 s timeout"
    assert hang.total_connections == MAX_PROBES
    assert set(statuses(report).values()) == {"timeout"}
    summary = finding(report, "discovery.guess.nothing")
    assert summary.detail["attempts"] == MAX_PROBES
    assert "imap.example.test:993 (IMAP)" in summary.detail["timeout"]
    assert hang.wait_idle(1.0), "probes left connections open"


def test_a_reply_that_never_ends_is_bounded(dns: DNSServer, test_ca: TestCA) -> None:
    """Each line arrives within the timeout, the reply never ends: the probe's own budget
    (twice the timeout) stops it."""

    async def scenario() -> tuple[SourceReport, float]:
        async with dripping_listener(0.1) as port:
            options = make_options(
                dns, test_ca, to("imap.example.test", 143, port, "127.0.0.1"), timeout=0.5
            )
            context = DiscoveryContext(EmailAddress.parse(ADDRESS), Network(options))
            started = time.monotonic()
            report = await GuessSource().run(context)
            return report, time.monotonic() - started

    report, seconds = run_async(scenario)
    assert report.outcome is SourceOutcome.NOTHING
    assert 0.9 < seconds < 2.0
    assert statuses(report)[("imap.example.test", 143)] == "timeout"
    summary = finding(report, "discovery.guess.nothing")
    assert "imap.example.test:143 (IMAP)" in summary.detail["timeout"]


def test_garbage_is_not_a_mail_server(
    dns: DNSServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    garbage = fault_proxy(
        MAIL_HOST, 9, garbage=b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    )
    options = make_options(dns, test_ca, *everywhere(garbage.port))
    report, seconds = guess(options)
    assert report.outcome is SourceOutcome.NOTHING
    assert seconds < 3.0
    seen = statuses(report)
    assert {s for (_, port), s in seen.items() if port in (143, 110, 587)} == {"not-protocol"}
    assert {s for (_, port), s in seen.items() if port in (993, 995, 465)} == {"tls"}
    summary = finding(report, "discovery.guess.nothing")
    assert "mail.example.test:143 (IMAP)" in summary.detail["not-protocol"]


def test_nothing_at_all(dns: DNSServer, test_ca: TestCA) -> None:
    report, seconds = guess(make_options(dns, test_ca))
    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == ()
    assert seconds < 1.0, "names that do not exist fail at once, without waiting their turn"
    summary = finding(report, "discovery.guess.nothing")
    assert summary.cause.key == "discovery.guess.no-names"
    hosts = ["imap", "mail", "pop", "pop3", "smtp"]
    for host in [f"{h}.example.test" for h in hosts] + ["example.test"]:
        assert f"{host} (not-found)" in summary.detail["dns"]
        # one look-up per name, shared by all its probes
        assert dns.queries.count((host, "A")) == 1, dns.queries
    assert summary.detail["attempts"] == MAX_PROBES
    assert len(report.findings) == 1, "one summary, not one finding per probe"
    assert report.detail is not None and "20 dns" in report.detail


def test_names_from_dns_that_refuse(dns: DNSServer, test_ca: TestCA) -> None:
    """mail.example.test resolves (to the mail servers' address, where nothing listens on the
    standard ports): its probes connect and are refused; the other names do not exist."""
    dns.add("mail.example.test", "A", MAIL_HOST)
    report, seconds = guess(make_options(dns, test_ca))
    assert report.outcome is SourceOutcome.NOTHING
    assert seconds < 2.0
    seen = statuses(report)
    assert {p for (h, p), s in seen.items() if h == "mail.example.test" and s == "refused"} == set(
        ALL_PORTS
    )
    summary = finding(report, "discovery.guess.nothing")
    assert summary.cause.key == "discovery.guess.nothing"
    assert "mail.example.test:993 (IMAP)" in summary.detail["refused"]
    assert "imap.example.test (not-found)" in summary.detail["dns"]
    assert "mail.example.test" not in summary.detail["dns"]


# --- returning early, and cancellation ----------------------------------------------------------


def test_returns_once_the_best_answers_are_known(
    mail_world: MailWorld, dns: DNSServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    """The best IMAP and SMTP servers answer after 0.5 s; everything else hangs. The source
    returns right after the best answers, far before the timeout, and drops the rest."""
    imap = fault_proxy(MAIL_HOST, mail_world.dovecot.imap_tls_port, latency=0.5)
    smtp = fault_proxy(MAIL_HOST, mail_world.smtp.tls_port, latency=0.5)
    hang = fault_proxy(MAIL_HOST, 9, accept_and_hang=True)
    options = make_options(
        dns,
        test_ca,
        to("imap.example.test", 993, imap.port, "127.0.0.1"),
        to("smtp.example.test", 465, smtp.port, "127.0.0.1"),
        *everywhere(hang.port),
        timeout=8.0,
    )
    report, seconds = guess(options)
    assert report.outcome is SourceOutcome.FOUND, report.detail
    assert report.candidates[0].incoming.host == "imap.example.test"
    assert seconds < 2.0, f"took {seconds:.2f} s"
    assert hang.total_connections >= 3, "the lower-ranked probes should have been running"
    assert hang.wait_idle(1.0), "cancelled probes left connections open"
    assert "not-run" in statuses(report).values()


def test_cancelling_mid_probe_closes_every_connection(
    dns: DNSServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    hang = fault_proxy(MAIL_HOST, 9, accept_and_hang=True)
    options = make_options(dns, test_ca, *everywhere(hang.port), timeout=8.0)

    async def scenario() -> float:
        context = DiscoveryContext(EmailAddress.parse(ADDRESS), Network(options))
        task = asyncio.ensure_future(GuessSource().run(context))
        for _ in range(250):  # the proxy counts in its own thread: poll, at most 5 s
            if hang.open_connections >= MAX_PROBES:
                break
            await asyncio.sleep(0.02)
        assert hang.open_connections == MAX_PROBES
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    took = run_async(scenario)
    assert took < 0.5, f"cancelling took {took:.2f} s"
    assert hang.wait_idle(1.0), f"{hang.open_connections} connections still open"


def test_offline_is_skipped(test_ca: TestCA) -> None:
    report, seconds = guess(NetworkOptions(offline=True, system_proxy=False))
    assert report.outcome is SourceOutcome.SKIPPED
    assert report.candidates == () and report.findings == ()
    assert seconds < 0.5


def test_the_dovecot_and_smtp_fixtures_are_the_world_ones(
    dovecot: DovecotServer, smtp_server: SubmissionServer
) -> None:
    """The ports the overrides above point at belong to 127.0.0.2, as the mail world says."""
    assert dovecot.host == smtp_server.host == MAIL_HOST
