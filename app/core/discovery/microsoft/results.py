"""From what the Microsoft look-ups found to the source's report (sans-I/O).

:class:`Facts` gathers the answers of one run (tenant, cloud, realm, MX, the Autodiscover chain,
the empty-Bearer probe) and the findings collected on the way; :func:`build_report` decides:

- personal Microsoft account domain (the consumer tenant, or the realm says so): provider
  ``outlook``, the catalog's Outlook.com servers, trust HIGH;
- a cloud this program has no verified servers for: provider ``microsoft365``, no candidate, a
  ``discovery.microsoft.cloud.not-supported`` finding;
- the mailbox is on the organisation's own Exchange (Exchange Online redirected the chain away):
  provider ``exchange``; with hybrid modern authentication (a Bearer challenge naming a
  Microsoft sign-in host) a candidate with auth ``exchange-hybrid``, otherwise one with auth
  ``password``; both trust MEDIUM, with the Exchange server's name as IMAP/SMTP host and hints
  that say what works (Outlook with an Exchange account, Outlook mobile) and what usually does
  not (IMAP);
- otherwise (Exchange Online, or the chain said nothing): provider ``microsoft365``, the cloud's
  servers. Tenant discovery proves that the *domain* belongs to a tenant, not that the mailbox
  is in Exchange Online or that IMAP is on, so trust is HIGH only when something else agrees:
  the domain's MX is Microsoft's, or (MX unknown) Autodiscover answered from Exchange Online. A
  tenant whose MX points elsewhere (a filtering service, or mail at another provider) gives
  MEDIUM and a ``discovery.microsoft.mx.elsewhere`` finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from app.core.discovery.autodiscover_parse import AutodiscoverV2Answer
from app.core.discovery.base import JSONValue, ProviderRef, SourceOutcome, SourceReport
from app.core.discovery.catalog import ProviderCatalog, default_catalog
from app.core.discovery.microsoft import findings
from app.core.discovery.microsoft.clouds import WORK_PROVIDER, Cloud, CloudTable
from app.core.discovery.microsoft.hybrid import BearerResult, Hop, RedirectRefused, redact_url
from app.core.discovery.microsoft.realm import Namespace, RealmInfo
from app.core.discovery.microsoft.tenant import TenantInfo
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Finding,
    Fixer,
    Outcome,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.texts import Text

__all__ = ["EXCHANGE_ID", "Facts", "Mailbox", "build_report"]

EXCHANGE_ID: Final = "exchange"
MICROSOFT_MX_PROVIDERS: Final = frozenset({"microsoft365", "outlook"})


class Mailbox(StrEnum):
    """Where Autodiscover says the mailbox is (``data.mailbox``)."""

    CLOUD = "exchange-online"
    ON_PREMISES = "on-premises"
    UNKNOWN = "unknown"


@dataclass
class Facts:
    """Everything one run of the source learnt. ``mx_hosts`` None: the MX look-up failed."""

    address: EmailAddress
    tenant: TenantInfo
    tenant_url: str
    cloud: Cloud | None
    realm: RealmInfo | None = None
    mx_hosts: tuple[str, ...] | None = None
    mailbox: Mailbox = Mailbox.UNKNOWN
    protocol: str | None = None
    answer: AutodiscoverV2Answer | None = None
    hops: tuple[Hop, ...] = ()
    refused: RedirectRefused | None = None
    autodiscover_unauthorized: bool = False
    bearer: BearerResult | None = None
    findings: list[Finding] = field(default_factory=list)


def _provenance(trust: Trust, url: str, detail: str) -> Provenance:
    return Provenance(source="microsoft", trust=trust, over_https=True, url=url, detail=detail)


def _mx_verdict(facts: Facts, catalog: ProviderCatalog) -> bool | None:
    """True: an MX host is Microsoft's; False: MX hosts exist and none is; None: unknown."""
    if not facts.mx_hosts:
        return None
    for host in facts.mx_hosts:
        match = catalog.match_mx(host)
        if match is not None and match[0].id in MICROSOFT_MX_PROVIDERS:
            return True
    return False


def _data(facts: Facts, mx_microsoft: bool | None) -> dict[str, JSONValue]:
    tenant, realm, bearer = facts.tenant, facts.realm, facts.bearer
    data: dict[str, JSONValue] = {
        "tenant_id": tenant.tenant_id,
        "cloud": facts.cloud.id if facts.cloud else None,
        "cloud_instance_name": tenant.cloud_instance_name,
        "tenant_region_scope": tenant.region_scope,
        "tenant_region_sub_scope": tenant.region_sub_scope,
        "namespace_type": realm.namespace.value if realm else None,
        "federation_brand_name": realm.brand_name if realm else None,
        "federation_host": realm.federation_host if realm else None,
        "mailbox": facts.mailbox.value,
        "mx_microsoft": mx_microsoft,
    }
    if facts.hops:
        data["autodiscover_url"] = redact_url(facts.hops[-1].url)
        data["autodiscover_hosts"] = [hop.host for hop in facts.hops]
    if facts.refused is not None:
        data["redirect_refused"] = facts.refused.problem.value
    if facts.autodiscover_unauthorized:
        data["autodiscover_unauthorized"] = True
    if facts.answer is not None:
        key = "activesync_url" if (facts.protocol or "").lower() == "activesync" else "ews_url"
        data[key] = facts.answer.url
    if bearer is not None:
        data["www_authenticate"] = list(bearer.schemes)
        if bearer.bearer is not None:
            data["authorization_uri"] = bearer.bearer.authorization_uri
            data["authority"] = bearer.bearer.authority
            data["trusted_issuers"] = list(bearer.bearer.trusted_issuers)
            data["bearer_tenant_id"] = bearer.bearer.tenant_id
    return data


def _cloud_hints(facts: Facts, cloud: Cloud, catalog: ProviderCatalog) -> list[Text]:
    hints = [
        Text(
            "discovery.microsoft.hint.tenant-confirmed",
            {"domain": facts.address.domain, "cloud": cloud.name},
        )
    ]
    if cloud.id != "worldwide":
        hints.append(Text("discovery.microsoft.hint.national-cloud", {"cloud": cloud.name}))
        smtp = next((s.host for s in cloud.provider(catalog).outgoing), None)
        if smtp is not None:
            hints.append(Text("discovery.microsoft.hint.smtp-auth", {"host": smtp}))
    if facts.realm is not None and facts.realm.federation_host:
        hints.append(
            Text("discovery.microsoft.hint.federated", {"host": facts.realm.federation_host})
        )
    return hints


def _with_hints(configs: tuple[AccountConfig, ...], extra: list[Text]) -> tuple[AccountConfig, ...]:
    return tuple(
        AccountConfig(
            incoming=c.incoming,
            outgoing=c.outgoing,
            caldav=c.caldav,
            carddav=c.carddav,
            auth=c.auth,
            provider_id=c.provider_id,
            provider_name=c.provider_name,
            hints=(*c.hints, *extra),
            provenance=c.provenance,
        )
        for c in configs
    )


def _exchange_candidate(
    facts: Facts, answer: AutodiscoverV2Answer, auth: AuthKind, name: str, hints: list[Text]
) -> AccountConfig:
    host, login = answer.host, str(facts.address)
    provenance = _provenance(
        Trust.MEDIUM,
        redact_url(facts.hops[-1].url) if facts.hops else answer.url,
        f"Exchange server {host} from Autodiscover; IMAP and SMTP on it not verified",
    )
    return AccountConfig(
        incoming=Endpoint(Protocol.IMAP, host, 993, Security.TLS, login),
        outgoing=Endpoint(Protocol.SMTP, host, 587, Security.STARTTLS, login),
        auth=auth,
        provider_id=EXCHANGE_ID,
        provider_name=name,
        hints=tuple(hints),
        provenance=provenance,
    )


def _on_premises(
    facts: Facts, data: dict[str, JSONValue], ms: int, clouds: CloudTable
) -> SourceReport:
    found = list(facts.findings)
    answer, bearer = facts.answer, facts.bearer
    hybrid_name = "Microsoft Exchange (hybrid)"
    onprem_name = "Microsoft Exchange (on-premises)"
    if answer is None or bearer is None:
        return SourceReport(
            name="microsoft",
            outcome=SourceOutcome.FAILED,
            provider=ProviderRef(EXCHANGE_ID, onprem_name),
            findings=tuple(found),
            detail="the mailbox is on the organisation's own Exchange; its settings were not found",
            data=data,
            ms=ms,
        )
    checked = Text("discovery.microsoft.check.bearer", {"host": answer.host})
    imap_hint = Text("discovery.microsoft.hint.exchange-imap", {"host": answer.host})
    challenge = bearer.bearer
    if bearer.modern_auth and challenge is not None:
        authority = challenge.authority or ""
        authority_host = urlsplit(authority).hostname or ""
        if clouds.is_login_host(authority_host):
            found.append(
                findings.make(
                    "bearer.hybrid-modern-auth",
                    Outcome.OK,
                    checked,
                    Text(
                        "discovery.microsoft.bearer.hybrid-modern-auth",
                        {"host": answer.host, "authority": authority},
                    ),
                    detail={"authority": authority, "host": answer.host},
                )
            )
            hints = [Text("discovery.microsoft.hint.hybrid"), imap_hint]
            candidate = _exchange_candidate(
                facts, answer, AuthKind.EXCHANGE_HYBRID, hybrid_name, hints
            )
            return SourceReport(
                name="microsoft",
                outcome=SourceOutcome.FOUND,
                candidates=(candidate,),
                provider=ProviderRef(EXCHANGE_ID, hybrid_name),
                findings=tuple(found),
                detail=f"Exchange, hybrid modern authentication; authority {authority}",
                data=data,
                ms=ms,
            )
        found.append(
            findings.make(
                "bearer.other-authority",
                Outcome.INFO,
                checked,
                Text(
                    "discovery.microsoft.bearer.other-authority",
                    {"host": answer.host, "authority": authority},
                ),
                detail={"authority": authority, "host": answer.host},
            )
        )
    elif bearer.status == 401:
        found.append(
            findings.make(
                "bearer.no-modern-auth",
                Outcome.INFO,
                checked,
                Text(
                    "discovery.microsoft.bearer.no-modern-auth",
                    {"host": answer.host, "schemes": ", ".join(bearer.schemes) or "-"},
                ),
                detail={"host": answer.host, "schemes": " ".join(bearer.schemes)},
            )
        )
    else:
        found.append(
            findings.make(
                "bearer.unexpected-status",
                Outcome.WARNING,
                checked,
                Text(
                    "discovery.microsoft.bearer.unexpected-status",
                    {"host": answer.host, "status": bearer.status},
                ),
                detail={"host": answer.host, "status": bearer.status},
            )
        )
        return SourceReport(
            name="microsoft",
            outcome=SourceOutcome.FAILED,
            provider=ProviderRef(EXCHANGE_ID, onprem_name),
            findings=tuple(found),
            detail=f"the Exchange server {answer.host} did not answer the sign-in probe",
            data=data,
            ms=ms,
        )
    hints = [Text("discovery.microsoft.hint.on-premises"), imap_hint]
    candidate = _exchange_candidate(facts, answer, AuthKind.PASSWORD, onprem_name, hints)
    return SourceReport(
        name="microsoft",
        outcome=SourceOutcome.FOUND,
        candidates=(candidate,),
        provider=ProviderRef(EXCHANGE_ID, onprem_name),
        findings=tuple(found),
        detail=f"Exchange on-premises without Microsoft 365 sign-in at {answer.host}",
        data=data,
        ms=ms,
    )


def build_report(
    facts: Facts,
    ms: int,
    clouds: CloudTable,
    catalog: ProviderCatalog | None = None,
) -> SourceReport:
    """The source's report for a domain that has a tenant (see the module docstring)."""
    catalog = catalog or default_catalog()
    mx_microsoft = _mx_verdict(facts, catalog)
    data = _data(facts, mx_microsoft)
    address, tenant, cloud = facts.address, facts.tenant, facts.cloud
    consumer = tenant.tenant_id == clouds.consumer_tenant_id or (
        facts.realm is not None and facts.realm.namespace is Namespace.CONSUMER
    )
    data["consumer"] = consumer
    if consumer:
        outlook = catalog.get(clouds.consumer_provider)
        if outlook is None:  # pragma: no cover - the catalog test guarantees the entry
            raise ValueError(f"the catalog has no {clouds.consumer_provider!r} entry")
        provenance = _provenance(
            Trust.HIGH,
            facts.tenant_url,
            f"personal Microsoft account domain (tenant {tenant.tenant_id})",
        )
        configs = outlook.account_configs(address, provenance, "domain")
        return SourceReport(
            name="microsoft",
            outcome=SourceOutcome.FOUND if configs else SourceOutcome.NOTHING,
            candidates=configs,
            provider=outlook.ref,
            findings=tuple(facts.findings),
            detail=f"{address.domain} is a domain of personal Microsoft accounts",
            data=data,
            ms=ms,
        )
    if cloud is None or not cloud.supported:
        name = cloud.name if cloud else (tenant.cloud_instance_name or "?")
        facts.findings.append(
            findings.make(
                "cloud.not-supported",
                Outcome.WARNING,
                Text("discovery.microsoft.check.tenant", {"domain": address.domain}),
                Text("discovery.microsoft.cloud.not-supported", {"cloud": name}),
                fix=Text("discovery.microsoft.cloud.not-supported.fix"),
                fixer=Fixer.ADMIN,
                detail={
                    "cloud_instance_name": tenant.cloud_instance_name or "",
                    "tenant_region_sub_scope": tenant.region_sub_scope or "",
                },
            )
        )
        return SourceReport(
            name="microsoft",
            outcome=SourceOutcome.NOTHING,
            provider=ProviderRef(WORK_PROVIDER, name),
            findings=tuple(facts.findings),
            detail=f"tenant {tenant.tenant_id} is in a cloud this program has no servers for",
            data=data,
            ms=ms,
        )
    if facts.mailbox is Mailbox.ON_PREMISES:
        return _on_premises(facts, data, ms, clouds)
    if mx_microsoft is False and facts.mx_hosts:
        facts.findings.append(
            findings.make(
                "mx.elsewhere",
                Outcome.INFO,
                Text("discovery.microsoft.check.tenant", {"domain": address.domain}),
                Text(
                    "discovery.microsoft.mx.elsewhere",
                    {"domain": address.domain, "host": facts.mx_hosts[0]},
                ),
                detail={"mx": facts.mx_hosts[0]},
            )
        )
    if mx_microsoft is True or (mx_microsoft is None and facts.mailbox is Mailbox.CLOUD):
        trust = Trust.HIGH
    else:
        trust = Trust.MEDIUM
    evidence = {True: "MX is Microsoft's", False: "MX is elsewhere", None: "MX unknown"}
    provenance = _provenance(
        trust,
        facts.tenant_url,
        f"tenant {tenant.tenant_id} ({cloud.id}); mailbox {facts.mailbox.value}; "
        f"{evidence[mx_microsoft]}",
    )
    provider = cloud.provider(catalog)
    configs = _with_hints(
        provider.account_configs(address, provenance, "domain"), _cloud_hints(facts, cloud, catalog)
    )
    return SourceReport(
        name="microsoft",
        outcome=SourceOutcome.FOUND if configs else SourceOutcome.NOTHING,
        candidates=configs,
        provider=ProviderRef(provider.id, provider.name),
        findings=tuple(facts.findings),
        detail=f"{address.domain} belongs to Microsoft tenant {tenant.tenant_id} ({cloud.name})",
        data=data,
        ms=ms,
    )
