"""Guessing, the last-resort discovery source: try the usual server names and ports for real.

For ``user@example.com`` it probes (``probes.py``: greeting, CAPABILITY/CAPA/EHLO, STARTTLS
where asked, over verified TLS only):

- incoming, best first: IMAP on ``imap.``, ``mail.``, the bare domain with implicit TLS (993),
  then with STARTTLS (143); then POP3 on ``pop.``, ``pop3.``, ``mail.``, the bare domain with
  implicit TLS (995), then STARTTLS (110);
- outgoing, best first: SMTP submission on ``smtp.``, ``mail.``, the bare domain with implicit
  TLS (465), then STARTTLS (587). Port 25 is never probed: it is for relaying between servers,
  and many networks block it (OP25B).

That is 20 connections at most. All probes start together, staggered by their rank (the best
start first); each direction is decided as soon as its best possible answer is known (every
better-ranked probe failed), its other probes are cancelled at once (their sockets dropped),
and the source returns when both directions are decided. Every probe is bounded (twice the
seam's timeout, DNS included), so the source never hangs. A host whose name does not resolve
fails all its probes after one shared lookup.

Nothing is proposed in clear text, and TLS is never downgraded: a server that answers without
offering STARTTLS, or whose certificate fails verification, is reported (one aggregated finding
per kind of problem), never proposed. A candidate (trust MEDIUM, provenance detail starting
"guessed") signs in with the full address, with a hint that the local part may be the user
name instead; the authentication mechanisms each server offered (XOAUTH2 is a useful hint)
are in the provenance detail and the report's ``data``. Offline, the source is SKIPPED.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from app.core.discovery.base import (
    DiscoveryContext,
    JSONValue,
    SourceOutcome,
    SourceReport,
    Stopwatch,
)
from app.core.discovery.probes import (
    PROTOCOL_LABELS,
    ProbeAnswer,
    ProbeError,
    ProbeProblem,
    mechanisms_text,
    probe,
)
from app.core.errors import (
    ConnectError,
    DeadlineError,
    DNSError,
    Fixer,
    NetworkError,
    SetupError,
    TLSError,
)
from app.core.model import (
    AccountConfig,
    EmailAddress,
    Endpoint,
    Finding,
    Outcome,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.net import Network, Target
from app.core.texts import Text

NAME: Final = "guess"
STAGGER: Final = 0.05  # seconds between the starts of consecutive ranks
BUDGET_FACTOR: Final = 2.0  # one probe, DNS included, may take this many seam timeouts
MAX_PROBES: Final = 20

# (protocol, security, host prefixes) in order of preference, per direction
_INCOMING: Final = (
    (Protocol.IMAP, Security.TLS, ("imap.", "mail.", "")),
    (Protocol.IMAP, Security.STARTTLS, ("imap.", "mail.", "")),
    (Protocol.POP3, Security.TLS, ("pop.", "pop3.", "mail.", "")),
    (Protocol.POP3, Security.STARTTLS, ("pop.", "pop3.", "mail.", "")),
)
_OUTGOING: Final = (
    (Protocol.SMTP, Security.TLS, ("smtp.", "mail.", "")),
    (Protocol.SMTP, Security.STARTTLS, ("smtp.", "mail.", "")),
)


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


@dataclass(frozen=True)
class ProbeSpec:
    """One planned probe. ``rank`` orders the probes of one direction, 0 the most wanted."""

    direction: Direction
    rank: int
    protocol: Protocol
    host: str
    port: int
    security: Security

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "direction": self.direction.value,
            "rank": self.rank,
            "protocol": self.protocol.value,
            "host": self.host,
            "port": self.port,
            "security": self.security.value,
        }


def probe_plan(domain: str) -> tuple[ProbeSpec, ...]:
    """Every probe for ``domain`` (ASCII form), incoming first, each direction best first."""
    plan: list[ProbeSpec] = []
    for direction, table in ((Direction.INCOMING, _INCOMING), (Direction.OUTGOING, _OUTGOING)):
        seen: set[tuple[Protocol, str, int]] = set()
        rank = 0
        for protocol, security, prefixes in table:
            port = protocol.default_port(security)
            for prefix in prefixes:
                host = prefix + domain
                if (protocol, host, port) in seen:
                    continue
                seen.add((protocol, host, port))
                plan.append(ProbeSpec(direction, rank, protocol, host, port, security))
                rank += 1
    return tuple(plan[:MAX_PROBES])


class ProbeStatus(StrEnum):
    """How one probe ended."""

    OK = "ok"
    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"
    TIMEOUT = "timeout"  # no connection, or no answer, in time
    UNREACHABLE = "unreachable"
    CLOSED = "closed"  # the server closed or reset the connection
    TLS = "tls"  # certificate or handshake failure
    NOT_PROTOCOL = "not-protocol"
    REJECTED = "rejected"
    PLAIN_ONLY = "plain-only"  # answered in clear text, without (working) STARTTLS
    NETWORK = "network"  # another network failure
    ERROR = "error"  # another failure
    NOT_RUN = "not-run"  # cancelled: a better answer was already known


@dataclass(frozen=True)
class ProbeResult:
    spec: ProbeSpec
    status: ProbeStatus
    answer: ProbeAnswer | None = None
    error: SetupError | None = None
    ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status is ProbeStatus.OK

    def to_dict(self) -> dict[str, JSONValue]:
        data = self.spec.to_dict()
        data["status"] = self.status.value
        data["ms"] = self.ms
        if self.error is not None:
            data["code"] = self.error.code
            problem = self.error.detail.get("problem")
            if problem is not None:
                data["problem"] = problem
        if self.answer is not None:
            capabilities = self.answer.capabilities
            data["auth"] = list(capabilities.auth)
            data["login_disabled"] = capabilities.login_disabled
            data["capabilities"] = list(capabilities.words)
            data["tls_version"] = self.answer.tls.version
            data["peer"] = self.answer.peer
            data["greeting"] = self.answer.greeting
        return data


def classify(error: SetupError) -> ProbeStatus:
    """The status of a probe that failed with ``error``."""
    if isinstance(error, ProbeError):
        return {
            ProbeProblem.NOT_PROTOCOL: ProbeStatus.NOT_PROTOCOL,
            ProbeProblem.REJECTED: ProbeStatus.REJECTED,
            ProbeProblem.NO_STARTTLS: ProbeStatus.PLAIN_ONLY,
            ProbeProblem.STARTTLS_REFUSED: ProbeStatus.PLAIN_ONLY,
        }[error.problem]
    if isinstance(error, DNSError):
        return ProbeStatus.DNS
    if isinstance(error, TLSError):
        return ProbeStatus.TLS
    if isinstance(error, DeadlineError):
        return ProbeStatus.TIMEOUT
    if isinstance(error, ConnectError):
        return ProbeStatus(error.failure.value)
    if isinstance(error, NetworkError):
        return ProbeStatus.NETWORK
    return ProbeStatus.ERROR


@dataclass(frozen=True)
class Decision:
    """Where one direction stands: ``decided`` once its best possible answer is known;
    ``winner`` that answer (None when every probe failed)."""

    decided: bool
    winner: ProbeResult | None = None


def decide(specs: Sequence[ProbeSpec], results: Mapping[ProbeSpec, ProbeResult]) -> Decision:
    """The best answer among ``specs`` (one direction) if it is known already: the first probe
    by rank that succeeded, provided every better-ranked one has failed."""
    for spec in sorted(specs, key=lambda s: s.rank):
        result = results.get(spec)
        if result is None or result.status is ProbeStatus.NOT_RUN:
            return Decision(False)
        if result.ok:
            return Decision(True, result)
    return Decision(True)


@dataclass
class _Run:
    """One guessing run: the probes in flight and the shared DNS look-ups."""

    net: Network
    plan: tuple[ProbeSpec, ...]
    stagger: float
    client_name: str | None
    results: dict[ProbeSpec, ProbeResult] = field(default_factory=dict)
    _lookups: dict[str, asyncio.Task[Target]] = field(default_factory=dict)
    _go: dict[ProbeSpec, asyncio.Event] = field(default_factory=dict)

    def specs(self, direction: Direction) -> list[ProbeSpec]:
        return [spec for spec in self.plan if spec.direction is direction]

    async def run(self) -> dict[Direction, Decision]:
        tasks: dict[asyncio.Task[ProbeResult], ProbeSpec] = {}
        decisions = {direction: Decision(False) for direction in Direction}
        try:
            for spec in self.plan:
                tasks[asyncio.ensure_future(self._one(spec))] = spec
            while tasks:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    spec = tasks.pop(task)
                    self.results[spec] = task.result()
                self._release_next()
                for direction in Direction:
                    if decisions[direction].decided:
                        continue
                    decisions[direction] = decide(self.specs(direction), self.results)
                    if decisions[direction].decided:
                        losers = [t for t, s in tasks.items() if s.direction is direction]
                        for task in losers:
                            del tasks[task]
                        await _cancel(losers)
        finally:
            await _cancel(list(tasks))
            await _cancel(list(self._lookups.values()))
        return decisions

    def _release_next(self) -> None:
        """Start at once, without waiting for its turn, each direction's best probe whose
        better-ranked probes have all ended."""
        for direction in Direction:
            waiting = next((s for s in self.specs(direction) if s not in self.results), None)
            if waiting is not None:
                self._go.setdefault(waiting, asyncio.Event()).set()

    async def _one(self, spec: ProbeSpec) -> ProbeResult:
        """One probe after its turn (``rank * stagger``, or earlier when every better-ranked
        probe has ended), bounded; never raises but for cancellation."""
        go = self._go.setdefault(spec, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(spec.rank * self.stagger):
                await go.wait()
        watch = Stopwatch()
        budget = self.net.options.timeout * BUDGET_FACTOR
        try:
            async with asyncio.timeout(budget):
                await self._lookup(spec)
                answer = await probe(
                    self.net,
                    spec.protocol,
                    spec.host,
                    spec.port,
                    spec.security,
                    client_name=self.client_name,
                )
        except SetupError as error:
            return ProbeResult(spec, classify(error), error=error, ms=watch.ms())
        except TimeoutError:
            late = DeadlineError(
                spec.host, budget, detail={"host": spec.host, "port": spec.port, "stage": "probe"}
            )
            return ProbeResult(spec, ProbeStatus.TIMEOUT, error=late, ms=watch.ms())
        return ProbeResult(spec, ProbeStatus.OK, answer=answer, ms=watch.ms())

    async def _lookup(self, spec: ProbeSpec) -> None:
        """Whether ``spec.host`` resolves, asked once per host for all its probes (a name that
        does not exist fails them all at once). Hosts that a ``--resolve`` override or an IP
        address decides are not looked up here."""
        if _is_ip(spec.host) or self.net.options.override_for(spec.host, spec.port) is not None:
            return
        lookup = self._lookups.get(spec.host)
        if lookup is None:
            lookup = asyncio.ensure_future(self.net.resolve(spec.host, spec.port))
            self._lookups[spec.host] = lookup
        await asyncio.shield(lookup)


async def _cancel(futures: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel ``futures`` and wait until they have ended (their sockets are closed then)."""
    for future in futures:
        future.cancel()
    if futures:
        await asyncio.gather(*futures, return_exceptions=True)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class GuessSource:
    """The ``guess`` discovery source (see the module docstring).

    ``stagger``: seconds between the starts of consecutive ranks; ``client_name``: the name
    sent with SMTP EHLO (default: this side's address literal).
    """

    name = NAME

    def __init__(self, *, stagger: float = STAGGER, client_name: str | None = None) -> None:
        self.stagger = stagger
        self.client_name = client_name

    async def run(self, context: DiscoveryContext) -> SourceReport:
        watch = Stopwatch()
        if context.net.options.offline:
            return SourceReport(
                NAME,
                SourceOutcome.SKIPPED,
                detail="offline: guessing needs to reach the servers",
                ms=watch.ms(),
            )
        plan = probe_plan(context.address.domain_ascii)
        run = _Run(context.net, plan, self.stagger, self.client_name)
        decisions = await run.run()
        results = [run.results.get(spec) or ProbeResult(spec, ProbeStatus.NOT_RUN) for spec in plan]
        return build_report(context.address, results, decisions, watch.ms())


# --- the report -------------------------------------------------------------------------------


def build_report(
    address: EmailAddress,
    results: Sequence[ProbeResult],
    decisions: Mapping[Direction, Decision],
    ms: int,
) -> SourceReport:
    """The source's report from every probe's result and each direction's decision."""
    domain = address.domain_ascii
    incoming = decisions[Direction.INCOMING].winner
    outgoing = decisions[Direction.OUTGOING].winner
    relevant = [r for r in results if _mattered(r, decisions)]
    findings: list[Finding] = []
    findings.extend(_problem_findings(domain, relevant))
    candidates: tuple[AccountConfig, ...] = ()
    if incoming is not None and incoming.answer is not None:
        candidates = (_candidate(address, incoming.answer, outgoing),)
        if outgoing is None:
            findings.append(_no_outgoing(domain, results))
    else:
        findings.append(_nothing(domain, results, outgoing))
    return SourceReport(
        NAME,
        SourceOutcome.FOUND if candidates else SourceOutcome.NOTHING,
        candidates=candidates,
        findings=tuple(findings),
        detail=_detail(results, incoming, outgoing),
        data=_data(domain, results, incoming, outgoing),
        ms=ms,
    )


def _mattered(result: ProbeResult, decisions: Mapping[Direction, Decision]) -> bool:
    """Whether a failed probe decided anything: it ranked above its direction's answer, or its
    direction found nothing."""
    winner = decisions[result.spec.direction].winner
    return winner is None or result.spec.rank < winner.spec.rank


def _servers(results: Sequence[ProbeResult]) -> str:
    return ", ".join(f"{r.spec.label} ({PROTOCOL_LABELS[r.spec.protocol]})" for r in results)


def _problem_findings(domain: str, results: Sequence[ProbeResult]) -> list[Finding]:
    """One finding for all TLS failures, one for all clear-text-only servers."""
    findings: list[Finding] = []
    checked = Text("discovery.check.guess", {"domain": domain})
    tls = [r for r in results if r.status is ProbeStatus.TLS]
    if tls:
        findings.append(
            Finding(
                code="discovery.guess.tls",
                checked=checked,
                outcome=Outcome.WARNING,
                cause=Text("discovery.guess.tls", {"servers": _servers(tls)}),
                fix=Text("discovery.guess.tls.fix"),
                fixer=Fixer.ADMIN,
                help_topic="certificates",
                detail=_failure_detail(domain, tls),
            )
        )
    plain = [r for r in results if r.status is ProbeStatus.PLAIN_ONLY]
    if plain:
        findings.append(
            Finding(
                code="discovery.guess.plain-only",
                checked=checked,
                outcome=Outcome.WARNING,
                cause=Text("discovery.guess.plain-only", {"servers": _servers(plain)}),
                fix=Text("discovery.guess.plain-only.fix"),
                fixer=Fixer.ADMIN,
                help_topic="security",
                server_said=next(
                    (r.error.server_said for r in plain if r.error and r.error.server_said), None
                ),
                detail=_failure_detail(domain, plain),
            )
        )
    return findings


def _failure_detail(domain: str, results: Sequence[ProbeResult]) -> dict[str, str | int]:
    """Per failed server its error code, e.g. ``imap.example.test:993 (IMAP): tls.wrong-host``."""
    detail: dict[str, str | int] = {"domain": domain, "count": len(results)}
    detail["servers"] = "; ".join(
        f"{r.spec.label} ({PROTOCOL_LABELS[r.spec.protocol]}): "
        f"{r.error.code if r.error else r.status.value}"
        for r in results
    )
    return detail


def _summary(domain: str, results: Sequence[ProbeResult]) -> dict[str, str | int]:
    """What was tried and how each attempt ended, grouped: names that do not resolve once per
    host; the other failures as ``host:port`` lists per status."""
    tried = [r for r in results if r.status is not ProbeStatus.NOT_RUN]
    detail: dict[str, str | int] = {
        "domain": domain,
        "attempts": len(tried),
        "hosts": ", ".join(dict.fromkeys(r.spec.host for r in results)),
    }
    unresolved: dict[str, str] = {}
    for r in tried:
        if r.status is ProbeStatus.DNS and r.error is not None:
            unresolved.setdefault(r.spec.host, r.error.code.removeprefix("dns."))
    if unresolved:
        detail["dns"] = ", ".join(f"{host} ({code})" for host, code in unresolved.items())
    for status in ProbeStatus:
        if status in (ProbeStatus.DNS, ProbeStatus.NOT_RUN):
            continue
        labels = [
            f"{r.spec.label} ({PROTOCOL_LABELS[r.spec.protocol]})"
            for r in tried
            if r.status is status
        ]
        if labels:
            detail[status.value] = ", ".join(labels)
    return detail


def _nothing(domain: str, results: Sequence[ProbeResult], outgoing: ProbeResult | None) -> Finding:
    tried = [r for r in results if r.status is not ProbeStatus.NOT_RUN]
    hosts = list(dict.fromkeys(r.spec.host for r in results))
    detail = _summary(domain, results)
    if outgoing is not None:
        detail["outgoing_found"] = f"{outgoing.spec.label} ({outgoing.spec.security.value})"
    if tried and all(r.status is ProbeStatus.DNS for r in tried):
        cause = Text("discovery.guess.no-names", {"domain": domain, "hosts": ", ".join(hosts)})
    else:
        cause = Text(
            "discovery.guess.nothing",
            {"domain": domain, "count": len(tried), "hosts": len(hosts)},
        )
    return Finding(
        code="discovery.guess.nothing",
        checked=Text("discovery.check.guess", {"domain": domain}),
        outcome=Outcome.INFO,
        cause=cause,
        fix=Text("discovery.guess.nothing.fix"),
        fixer=Fixer.USER,
        help_topic="settings",
        detail=detail,
    )


def _no_outgoing(domain: str, results: Sequence[ProbeResult]) -> Finding:
    outgoing = [r for r in results if r.spec.direction is Direction.OUTGOING]
    return Finding(
        code="discovery.guess.no-outgoing",
        checked=Text("discovery.check.guess", {"domain": domain}),
        outcome=Outcome.INFO,
        cause=Text("discovery.guess.no-outgoing", {"domain": domain}),
        fix=Text("discovery.guess.nothing.fix"),
        fixer=Fixer.USER,
        help_topic="settings",
        detail=_summary(domain, outgoing),
    )


def _endpoint(answer: ProbeAnswer, username: str) -> Endpoint:
    return Endpoint(answer.protocol, answer.host, answer.port, answer.security, username)


def _describe(answer: ProbeAnswer) -> str:
    """``IMAP imap.example.test:993 tls (TLSv1.3 verified; AUTH PLAIN XOAUTH2)``."""
    capabilities = answer.capabilities
    extra = "; LOGINDISABLED" if capabilities.login_disabled else ""
    return (
        f"{PROTOCOL_LABELS[answer.protocol]} {answer.host}:{answer.port} "
        f"{answer.security.value} ({answer.tls.version} verified; "
        f"AUTH {mechanisms_text(capabilities.auth)}{extra})"
    )


def _candidate(
    address: EmailAddress, incoming: ProbeAnswer, outgoing: ProbeResult | None
) -> AccountConfig:
    username = f"{address.local}@{address.domain}"
    answers = [incoming] + ([outgoing.answer] if outgoing and outgoing.answer else [])
    hints: list[Text] = [
        Text("discovery.guess.hint.guessed"),
        Text("discovery.guess.hint.username", {"address": username, "local": address.local}),
    ]
    oauth = list(dict.fromkeys(m for a in answers for m in a.capabilities.oauth))
    if oauth:
        hints.append(Text("discovery.guess.hint.oauth", {"mechanisms": " ".join(oauth)}))
    if any(a.capabilities.password_login is False for a in answers):
        hints.append(Text("discovery.guess.hint.no-password"))
    if outgoing is None or outgoing.answer is None:
        hints.append(Text("discovery.guess.hint.no-outgoing"))
    detail = "guessed by probing: " + "; ".join(_describe(a) for a in answers)
    return AccountConfig(
        incoming=_endpoint(incoming, username),
        outgoing=None if len(answers) < 2 else _endpoint(answers[1], username),
        provenance=Provenance(NAME, Trust.MEDIUM, over_https=False, detail=detail),
        hints=tuple(hints),
    )


def _detail(
    results: Sequence[ProbeResult], incoming: ProbeResult | None, outgoing: ProbeResult | None
) -> str:
    """``found IMAP ...; SMTP ...; 20 probes: 2 ok, 9 dns, 9 not-run``."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in counts.items())
    found = [
        f"{PROTOCOL_LABELS[r.spec.protocol]} {r.spec.label} {r.spec.security.value}"
        for r in (incoming, outgoing)
        if r is not None
    ]
    head = ("guessed " + ", ".join(found)) if found else "nothing found"
    return f"{head}; {len(results)} probes: {tally}"


def _answer_data(result: ProbeResult | None) -> JSONValue:
    if result is None:
        return None
    return result.to_dict()


def _data(
    domain: str,
    results: Sequence[ProbeResult],
    incoming: ProbeResult | None,
    outgoing: ProbeResult | None,
) -> dict[str, JSONValue]:
    answers = [r.answer for r in (incoming, outgoing) if r is not None and r.answer is not None]
    oauth: list[JSONValue] = list(dict.fromkeys(m for a in answers for m in a.capabilities.oauth))
    probes: list[JSONValue] = [r.to_dict() for r in results]
    return {
        "domain": domain,
        "incoming": _answer_data(incoming),
        "outgoing": _answer_data(outgoing),
        "oauth_offered": oauth,
        "probes": probes,
    }


__all__ = [
    "BUDGET_FACTOR",
    "MAX_PROBES",
    "NAME",
    "STAGGER",
    "Decision",
    "Direction",
    "GuessSource",
    "ProbeResult",
    "ProbeSpec",
    "ProbeStatus",
    "build_report",
    "classify",
    "decide",
    "probe_plan",
]
