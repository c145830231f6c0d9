"""Discovery source ``"microsoft"``: Microsoft 365, Outlook.com and Exchange (hybrid) by asking
Microsoft's public, anonymous services.

One run:

1. Tenant discovery (sends only the domain) and the shared MX look-up start together. No tenant
   owns the domain (AADSTS90002): the source is done at once, SKIPPED, and the address was never
   sent anywhere. A tenant in a cloud without verified servers: a "not supported" finding.
2. Only for a domain a Microsoft tenant owns, and concurrently: the user realm (managed,
   federated, personal) and the hybrid chain (Autodiscover v2, its redirects, the empty-Bearer
   probe of the organisation's Exchange server); both send the address to Microsoft over HTTPS,
   as Microsoft's own clients do, and the chain sends it on only to the hosts Microsoft's
   redirect names (see ``hybrid.py`` for the rules). A personal-account domain (the consumer
   tenant) needs neither.
3. :func:`~app.core.discovery.microsoft.results.build_report` turns the answers into the report.

Every request goes through the network seam (bounded by its timeout; the body read within a
size cap), over one HTTP client that ``async with`` closes when the engine cancels the run. Any
sub-look-up's failure is a finding; only the tenant look-up failing makes the report FAILED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from app.core.discovery.autodiscover_parse import AutodiscoverV2Answer, AutodiscoverV2Failure
from app.core.discovery.base import DiscoveryContext, SourceOutcome, SourceReport, Stopwatch
from app.core.discovery.catalog import ProviderCatalog
from app.core.discovery.clientconfig import shown
from app.core.discovery.microsoft import findings
from app.core.discovery.microsoft.clouds import Cloud, CloudTable, default_clouds
from app.core.discovery.microsoft.hybrid import (
    MAX_REDIRECTS,
    BearerResult,
    Hop,
    RedirectProblem,
    RedirectRefused,
    RedirectTracker,
    autodiscover_url,
    bearer_probe,
    fetch_autodiscover,
)
from app.core.discovery.microsoft.realm import RealmInfo, fetch_user_realm
from app.core.discovery.microsoft.results import Facts, Mailbox, build_report
from app.core.discovery.microsoft.tenant import TenantNotFound, discover_tenant
from app.core.errors import ConnectError, DNSError, Fixer, SetupError
from app.core.model import EmailAddress, Finding, Outcome
from app.core.net import Network
from app.core.texts import Text

__all__ = ["DEFAULT_PROTOCOLS", "MicrosoftSource"]

#: Autodiscover protocols asked, in order; the next only when the service knows no URL for one.
DEFAULT_PROTOCOLS: tuple[str, ...] = ("ActiveSync", "EWS")
_WORLDWIDE_LOGIN = "login.microsoftonline.com"


@dataclass
class _Chain:
    """What the Autodiscover chain and the Bearer probe found."""

    mailbox: Mailbox = Mailbox.UNKNOWN
    protocol: str | None = None
    answer: AutodiscoverV2Answer | None = None
    hops: tuple[Hop, ...] = ()
    refused: RedirectRefused | None = None
    unauthorized: bool = False
    bearer: BearerResult | None = None
    findings: list[Finding] = field(default_factory=list)
    try_next_protocol: bool = False


def _redirect_text(refused: RedirectRefused) -> Text:
    params = {"host": refused.from_host, "location": refused.location}
    match refused.problem:
        case RedirectProblem.INSECURE:
            return Text("discovery.microsoft.redirect.insecure", params)
        case RedirectProblem.INVALID:
            return Text("discovery.microsoft.redirect.invalid", params)
        case RedirectProblem.NOT_AUTODISCOVER:
            return Text("discovery.microsoft.redirect.not-autodiscover", params)
        case RedirectProblem.ADDRESS_CHANGED:
            return Text("discovery.microsoft.redirect.address-changed", params)
        case RedirectProblem.LOOP:
            return Text("discovery.microsoft.redirect.loop", params)
        case RedirectProblem.COUNT_EXCEEDED:
            return Text("discovery.microsoft.redirect.count-exceeded", params)
        case RedirectProblem.COUNT_NOT_DECREMENTED:
            return Text("discovery.microsoft.redirect.count-not-decremented", params)
        case RedirectProblem.TOO_MANY:
            return Text("discovery.microsoft.redirect.too-many", params)
        case RedirectProblem.FOREIGN_HOST:
            return Text("discovery.microsoft.redirect.foreign-host", params)


class MicrosoftSource:
    """The ``"microsoft"`` discovery source (see the module docstring).

    ``clouds`` and ``catalog`` default to the program's data; ``protocols`` are the
    Autodiscover protocols asked in order; ``discovery_host`` is where tenant discovery asks
    (the worldwide sign-in host answers for every cloud); ``max_redirects`` caps the chain.
    """

    name = "microsoft"

    def __init__(
        self,
        *,
        clouds: CloudTable | None = None,
        catalog: ProviderCatalog | None = None,
        protocols: Sequence[str] = DEFAULT_PROTOCOLS,
        discovery_host: str = _WORLDWIDE_LOGIN,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        if not protocols:
            raise ValueError("at least one Autodiscover protocol is needed")
        self._clouds = clouds
        self.catalog = catalog
        self.protocols = tuple(protocols)
        self.discovery_host = discovery_host
        self.max_redirects = max_redirects

    @property
    def clouds(self) -> CloudTable:
        return self._clouds if self._clouds is not None else default_clouds()

    async def run(self, context: DiscoveryContext) -> SourceReport:
        watch = Stopwatch()
        if context.net.options.offline:
            return SourceReport(
                name=self.name,
                outcome=SourceOutcome.SKIPPED,
                detail="offline: Microsoft's services were not asked",
                ms=watch.ms(),
            )
        mx_task = asyncio.ensure_future(_mx_hosts(context))
        try:
            async with context.net.http_client() as client:
                return await self._run(context, client, mx_task, watch)
        finally:
            if not mx_task.done():
                mx_task.cancel()
                await asyncio.wait([mx_task])

    async def _run(
        self,
        context: DiscoveryContext,
        client: httpx.AsyncClient,
        mx_task: asyncio.Future[tuple[str, ...] | None],
        watch: Stopwatch,
    ) -> SourceReport:
        net, address = context.net, context.address
        checked = Text("discovery.microsoft.check.tenant", {"domain": address.domain})
        try:
            answer, result = await discover_tenant(
                net, client, self.discovery_host, address.domain_ascii
            )
        except SetupError as exc:
            return SourceReport(
                name=self.name,
                outcome=SourceOutcome.FAILED,
                findings=(findings.from_error("tenant", exc, checked),),
                detail=f"tenant discovery for {address.domain_ascii} failed: {exc.code}",
                ms=watch.ms(),
            )
        if isinstance(answer, TenantNotFound):
            return SourceReport(
                name=self.name,
                outcome=SourceOutcome.SKIPPED,
                findings=(
                    findings.make(
                        "tenant.not-found",
                        Outcome.INFO,
                        checked,
                        Text("discovery.microsoft.tenant.not-found", {"domain": address.domain}),
                        server_said=answer.description or None,
                        detail={"aadsts": answer.code},
                    ),
                ),
                detail=f"no Microsoft tenant owns {address.domain_ascii} ({answer.code})",
                data={"tenant_id": None},
                ms=watch.ms(),
            )
        clouds = self.clouds
        cloud = clouds.find(answer.cloud_instance_name, answer.region_sub_scope)
        facts = Facts(address=address, tenant=answer, tenant_url=result.url, cloud=cloud)
        facts.findings.append(
            findings.make(
                "tenant.found",
                Outcome.OK,
                checked,
                Text(
                    "discovery.microsoft.tenant.found",
                    {
                        "domain": address.domain,
                        "tenant": answer.tenant_id,
                        "cloud": cloud.name if cloud else answer.cloud_instance_name or "?",
                    },
                ),
                detail={"tenant_id": answer.tenant_id},
            )
        )
        consumer = answer.tenant_id == clouds.consumer_tenant_id
        if consumer or cloud is None or not cloud.supported:
            return build_report(facts, watch.ms(), clouds, self.catalog)
        async with asyncio.TaskGroup() as group:
            realm_task = group.create_task(self._realm(net, client, cloud, address))
            chain_task = group.create_task(self._chain(net, client, cloud, clouds, address))
        realm, realm_findings = realm_task.result()
        chain = chain_task.result()
        facts.realm = realm
        facts.findings.extend(realm_findings)
        facts.findings.extend(chain.findings)
        facts.mailbox, facts.protocol, facts.answer = chain.mailbox, chain.protocol, chain.answer
        facts.hops, facts.refused, facts.bearer = chain.hops, chain.refused, chain.bearer
        facts.autodiscover_unauthorized = chain.unauthorized
        facts.mx_hosts = await mx_task
        return build_report(facts, watch.ms(), clouds, self.catalog)

    # ------------------------------------------------------------------ sub-look-ups

    async def _realm(
        self, net: Network, client: httpx.AsyncClient, cloud: Cloud, address: EmailAddress
    ) -> tuple[RealmInfo | None, list[Finding]]:
        checked = Text("discovery.microsoft.check.realm")
        try:
            return await fetch_user_realm(net, client, cloud.login_host, address), []
        except SetupError as exc:
            return None, [findings.from_error("realm", exc, checked, Outcome.INFO)]

    async def _chain(
        self,
        net: Network,
        client: httpx.AsyncClient,
        cloud: Cloud,
        clouds: CloudTable,
        address: EmailAddress,
    ) -> _Chain:
        collected: list[Finding] = []
        chain = _Chain()
        for protocol in self.protocols:
            chain = await self._one_protocol(
                net, client, cloud, clouds, address, protocol, collected
            )
            if not chain.try_next_protocol:
                break
        if chain.mailbox is Mailbox.ON_PREMISES and chain.answer is not None:
            checked = Text("discovery.microsoft.check.bearer", {"host": chain.answer.host})
            try:
                chain.bearer = await bearer_probe(net, client, chain.answer.url)
            except SetupError as exc:
                collected.append(findings.from_error("bearer", exc, checked))
        chain.findings = collected
        return chain

    async def _one_protocol(
        self,
        net: Network,
        client: httpx.AsyncClient,
        cloud: Cloud,
        clouds: CloudTable,
        address: EmailAddress,
        protocol: str,
        collected: list[Finding],
    ) -> _Chain:
        """One protocol's chain from the cloud's Autodiscover. An answer on any cloud's
        Exchange Online host means the mailbox is in Exchange Online."""
        checked = Text("discovery.microsoft.check.autodiscover")
        bases = cloud.autodiscover_urls
        for index, base in enumerate(bases):
            tracker = RedirectTracker(
                address,
                autodiscover_url(base, address, protocol),
                sorted(clouds.exchange_hosts),
                max_redirects=self.max_redirects,
            )

            def away(tracker: RedirectTracker = tracker) -> Mailbox:
                return Mailbox.ON_PREMISES if tracker.left_microsoft else Mailbox.UNKNOWN

            try:
                while True:
                    hop = tracker.current
                    step = await fetch_autodiscover(net, client, hop.url)
                    status = step.result.status
                    if isinstance(step.answer, AutodiscoverV2Answer):
                        answer = step.answer
                        mailbox = (
                            Mailbox.CLOUD
                            if clouds.is_exchange_host(answer.host)
                            else Mailbox.ON_PREMISES
                        )
                        return _Chain(mailbox, protocol, answer, tuple(tracker.hops))
                    if isinstance(step.answer, AutodiscoverV2Failure):
                        collected.append(
                            findings.make(
                                "autodiscover.error-code",
                                Outcome.INFO,
                                checked,
                                Text(
                                    "discovery.microsoft.autodiscover.error-code",
                                    {"host": hop.host, "protocol": protocol},
                                ),
                                server_said=shown(
                                    f"{step.answer.code}: {step.answer.message}", 300
                                ),
                                detail={"host": hop.host, "protocol": protocol},
                            )
                        )
                        return _Chain(
                            away(), protocol, hops=tuple(tracker.hops), try_next_protocol=True
                        )
                    location = step.result.location
                    if step.result.is_redirect and location is not None:
                        followed = tracker.follow(location)
                        if isinstance(followed, RedirectRefused):
                            collected.append(self._refused_finding(followed, checked))
                            target = (urlsplit(location).hostname or "").lower()
                            left = tracker.left_microsoft or (
                                bool(target) and not clouds.is_exchange_host(target)
                            )
                            return _Chain(
                                Mailbox.ON_PREMISES if left else Mailbox.UNKNOWN,
                                protocol,
                                hops=tuple(tracker.hops),
                                refused=followed,
                            )
                        continue
                    if status == 401:
                        collected.append(
                            findings.make(
                                "autodiscover.unauthorized",
                                Outcome.INFO,
                                checked,
                                Text(
                                    "discovery.microsoft.autodiscover.unauthorized",
                                    {"host": hop.host},
                                ),
                                detail={"host": hop.host, "status": status},
                            )
                        )
                        return _Chain(away(), protocol, hops=tuple(tracker.hops), unauthorized=True)
                    collected.append(
                        findings.make(
                            "autodiscover.http-error",
                            Outcome.WARNING,
                            checked,
                            Text(
                                "discovery.microsoft.autodiscover.http-error",
                                {"host": hop.host, "status": status},
                            ),
                            detail={"host": hop.host, "status": status},
                        )
                    )
                    return _Chain(away(), protocol, hops=tuple(tracker.hops))
            except (ConnectError, DNSError) as exc:
                # Exchange Online's other Autodiscover host, if this one cannot be reached.
                retry = tracker.redirects == 0 and index + 1 < len(bases)
                collected.append(
                    findings.from_error(
                        "autodiscover", exc, checked, Outcome.INFO if retry else Outcome.WARNING
                    )
                )
                if retry:
                    continue
                return _Chain(away(), protocol, hops=tuple(tracker.hops))
            except SetupError as exc:
                collected.append(findings.from_error("autodiscover", exc, checked))
                return _Chain(away(), protocol, hops=tuple(tracker.hops))
        return _Chain(protocol=protocol)

    @staticmethod
    def _refused_finding(refused: RedirectRefused, checked: Text) -> Finding:
        return findings.make(
            f"redirect.{refused.problem.value}",
            Outcome.WARNING,
            checked,
            _redirect_text(refused),
            fix=Text("discovery.microsoft.redirect.fix"),
            fixer=Fixer.ADMIN,
            detail={"from": refused.from_host, "location": refused.location},
        )


async def _mx_hosts(context: DiscoveryContext) -> tuple[str, ...] | None:
    """The domain's MX hosts (shared look-up), most preferred first; None when it failed."""
    try:
        records = await context.mx()
    except SetupError:
        return None
    return tuple(r.exchange.lower() for r in records if not r.is_null)
