"""Helpdesk mode: look at everything that matters for one address at once, and say what is wrong.

:func:`diagnose` runs, concurrently where it can and never stopping at the first problem:

- detection, and the saved account if there is one (the settings checked are the explicit ones,
  else the saved ones, else the detected ones);
- every verification check, credential-free unless a password or a cached sign-in is given;
- what the keyring holds (usable or not; never a secret) and, for Microsoft accounts, the saved
  sign-in (present, needs sign-in again, the id_token's tenant, user name and expiry; access
  tokens are opaque and never read);
- drift: the saved settings against what detection finds today;
- the user's Thunderbird profiles, read only (:mod:`app.core.profiles.thunderbird`): a password
  where the provider needs OAuth2, no encryption, other servers than detection finds;
- the environment (:mod:`app.core.diagnostics.environment`).

Every finding is kept, duplicates (the same code about the same host from two places) once,
ordered worst first and, within a severity, those the symptom is about first. The verdict is
``healthy`` (no warning, no error), ``warnings`` or ``broken`` (any error).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from app.core.checks.base import CheckTarget, CredentialKind, Credentials, Secret
from app.core.checks.runner import VerifyOptions, VerifyResult, verify
from app.core.diagnostics import knowledge
from app.core.diagnostics.environment import (
    EnvironmentReport,
    HostFacts,
    check_environment,
)
from app.core.diagnostics.symptoms import Symptom, order_findings, symptom
from app.core.discovery.engine import DetectionResult, detect
from app.core.errors import SetupError
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Finding,
    Outcome,
    Protocol,
    Security,
)
from app.core.net import Network
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

__all__ = [
    "SIGN_IN_HOSTS_BY_AUTH",
    "DiagnoseOptions",
    "Diagnosis",
    "Verdict",
    "diagnose",
    "drift_findings",
    "inspect_thunderbird",
    "targets_for",
]

log = logging.getLogger(__name__)

#: The sign-in services an account of each kind uses (their TLS is probed for inspection).
SIGN_IN_HOSTS_BY_AUTH: Final[Mapping[AuthKind, tuple[str, ...]]] = {
    AuthKind.OAUTH2_MICROSOFT: ("login.microsoftonline.com",),
    AuthKind.OAUTH2_GOOGLE: ("accounts.google.com", "oauth2.googleapis.com"),
}
#: Thunderbird's nsMsgAuthMethod values, as its settings window names them.
THUNDERBIRD_AUTH_NAMES: Final[Mapping[int, str]] = {
    0: "none",
    1: "no authentication",
    2: "password (old)",
    3: "normal password",
    4: "encrypted password",
    5: "Kerberos/GSSAPI",
    6: "NTLM",
    7: "TLS certificate",
    8: "any secure method",
    9: "any method",
    10: "OAuth2",
}
_PASSWORD_METHODS: Final = frozenset({2, 3, 4, 9})
_KEYRING_WAIT: Final = 10.0
_ID_TOKEN_CLAIMS: Final = ("tid", "preferred_username", "iss", "exp", "iat")


class Verdict(StrEnum):
    """The one-word answer. Values appear in JSON; never change them."""

    HEALTHY = "healthy"
    WARNINGS = "warnings"
    BROKEN = "broken"


TargetsHook = Callable[[AccountConfig, list[CheckTarget]], Awaitable[list[CheckTarget]]]


@dataclass(frozen=True)
class DiagnoseOptions:
    """How to diagnose. ``settings``: explicit servers (the command line's), which win over
    the saved and the detected ones; ``secret``: a password or app password (None:
    credential-free); ``username``/``dav_username``: sign-in names; ``targets_hook``: adds
    credentials to the targets (the cached Microsoft sign-in); ``accounts``: the saved
    accounts (an ``AccountStore``; None: none looked at); ``token_store``: opens the Microsoft
    token cache (None: not looked at); ``keyring``: look at the keyring; ``thunderbird``:
    the profiles to inspect (None: this computer's); ``outlook``: the Windows registry whose
    classic Outlook profiles to inspect (a ``HiveRegistry``; None: this computer's on Windows,
    none elsewhere); ``facts``/``now``: replace this computer's (tests)."""

    symptom: str | None = None
    settings: AccountConfig | None = None
    secret: Secret | None = None
    username: str | None = None
    dav_username: str | None = None
    deadline: float = 45.0
    detect_deadline: float = 10.0
    targets_hook: TargetsHook | None = None
    accounts: Any = None
    token_store: Callable[[], Any] | None = None
    keyring: bool = True
    keyring_backend: Any = None
    thunderbird: Sequence[Any] | None = None
    outlook: Any = None
    facts: HostFacts | None = None
    now: Callable[[], dt.datetime] | None = None


@dataclass(frozen=True)
class Diagnosis:
    """Everything :func:`diagnose` found. ``findings`` is every finding, ordered;
    ``settings`` what was checked and ``settings_source`` where it came from (``switches``,
    ``saved``, ``detected`` or None when nothing was found)."""

    address: str
    symptom: Symptom
    verdict: Verdict
    findings: tuple[Finding, ...]
    verification: VerifyResult | None
    detection: DetectionResult | None
    settings: AccountConfig | None
    settings_source: str | None
    saved: Mapping[str, object] | None
    credentials: str
    keyring: Mapping[str, object] | None
    sign_in: Mapping[str, object] | None
    thunderbird: tuple[Mapping[str, object], ...]
    environment: EnvironmentReport
    started_at: str
    elapsed_ms: int
    timeline: tuple[Mapping[str, object], ...] = field(default=())
    outlook: tuple[Mapping[str, object], ...] = field(default=())
    exchange: Mapping[str, object] | None = None

    @property
    def healthy(self) -> bool:
        return self.verdict is not Verdict.BROKEN

    def by_severity(self) -> dict[str, list[Finding]]:
        """The findings grouped by outcome, worst first (empty groups left out)."""
        groups: dict[str, list[Finding]] = {}
        for outcome in (Outcome.ERROR, Outcome.WARNING, Outcome.INFO, Outcome.OK):
            chosen = [f for f in self.findings if f.outcome is outcome]
            if chosen:
                groups[outcome.value] = chosen
        return groups

    def to_dict(self, language: Language = DEFAULT_LANGUAGE) -> dict[str, object]:
        """The verify object (``mailsetup verify --json``) plus ``verdict``, ``findings`` (all
        of them), ``environment`` and the rest of what was looked at."""
        base: dict[str, object]
        if self.verification is not None:
            base = self.verification.to_dict(language)
        else:
            base = {"address": self.address, "ok": False, "checks": [], "elapsed_ms": 0}
        checks_findings = base.get("findings", [])
        base.update(
            {
                "verdict": self.verdict.value,
                "symptom": self.symptom.to_dict(language),
                "findings": [f.to_dict(language) for f in self.findings],
                "verify_findings": checks_findings,
                "environment": self.environment.to_dict(),
                "settings": None if self.settings is None else self.settings.to_dict(language),
                "settings_source": self.settings_source,
                "saved_account": None if self.saved is None else dict(self.saved),
                "detection": None if self.detection is None else self.detection.to_dict(language),
                "credentials": self.credentials,
                "keyring": None if self.keyring is None else dict(self.keyring),
                "sign_in": None if self.sign_in is None else dict(self.sign_in),
                "thunderbird": [dict(item) for item in self.thunderbird],
                "outlook": [dict(item) for item in self.outlook],
                "exchange": None if self.exchange is None else dict(self.exchange),
                "timeline": [dict(item) for item in self.timeline],
                "started_at": self.started_at,
                "diagnose_ms": self.elapsed_ms,
            }
        )
        return base


# --- targets ----------------------------------------------------------------------------------


def targets_for(
    config: AccountConfig,
    address: str,
    *,
    secret: Secret | None = None,
    username: str | None = None,
    dav_username: str | None = None,
    order: Symptom | None = None,
) -> list[CheckTarget]:
    """The checks for ``config``: incoming, outgoing, calendars and contacts, with the password
    when one is given (sign-in name: ``username``, else the server's, else the address), in the
    symptom's order."""

    def credentials(name: str | None) -> Credentials | None:
        if secret is None:
            return None
        return Credentials(name or address, secret, CredentialKind.PASSWORD)

    targets: list[CheckTarget] = [
        CheckTarget(
            config.incoming.protocol,
            endpoint=config.incoming,
            credentials=credentials(username or config.incoming.username),
            address=address,
        )
    ]
    if config.outgoing is not None:
        targets.append(
            CheckTarget(
                Protocol.SMTP,
                endpoint=config.outgoing,
                credentials=credentials(username or config.outgoing.username),
                address=address,
            )
        )
    for protocol, url in ((Protocol.CALDAV, config.caldav), (Protocol.CARDDAV, config.carddav)):
        if url:
            targets.append(
                CheckTarget(
                    protocol,
                    url=url,
                    credentials=credentials(dav_username or username),
                    address=address,
                )
            )
    if order is not None:
        targets.sort(key=lambda target: order.check_rank(target.protocol))
    return targets


# --- drift ------------------------------------------------------------------------------------


def _describe(endpoint: Any) -> str:
    if endpoint is None:
        return "none"
    return f"{endpoint.host}:{endpoint.port} ({endpoint.security.value})"


def drift_findings(
    saved: AccountConfig, today: AccountConfig | None, address: str
) -> list[Finding]:
    """What differs between the saved settings and today's detection: one ``drift.settings``
    per field (incoming server, outgoing server, kind of sign-in); ``drift.not-comparable``
    when detection found nothing."""
    checked = Text("diagnose.check.drift")
    if today is None:
        return [
            knowledge.finding("drift.not-comparable", checked=checked, params={"address": address})
        ]
    pairs: list[tuple[str, str, str]] = []
    for name, mine, theirs in (
        ("incoming server", saved.incoming, today.incoming),
        ("outgoing server", saved.outgoing, today.outgoing),
    ):
        if theirs is None:
            continue
        same = mine is not None and (
            mine.protocol == theirs.protocol
            and mine.host == theirs.host
            and mine.port == theirs.port
            and mine.security == theirs.security
        )
        if not same:
            pairs.append((name, _describe(mine), _describe(theirs)))
    if saved.auth is not today.auth:
        pairs.append(("sign-in", saved.auth.value, today.auth.value))
    return [
        knowledge.finding(
            "drift.settings",
            checked=checked,
            params={"field": name, "saved": old, "found": new},
            detail={"field": name, "saved": old, "found": new},
        )
        for name, old, new in pairs
    ]


# --- Thunderbird ------------------------------------------------------------------------------


def _pref_list(prefs: Mapping[str, object], name: str) -> list[str]:
    value = prefs.get(name)
    return [part.strip() for part in str(value).split(",") if part.strip()] if value else []


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def inspect_thunderbird(
    profiles: Iterable[Any], address: str, expected: AccountConfig | None
) -> tuple[list[dict[str, object]], list[Finding]]:
    """Read every profile's ``prefs.js`` (never written) and report the accounts of
    ``address``: their servers, authentication method and security, and findings where they
    cannot work with ``expected`` (the settings detection or the saved account give)."""
    from app.core.profiles.thunderbird import parse_prefs

    seen: list[dict[str, object]] = []
    findings: list[Finding] = []
    wanted = address.casefold()
    for profile in profiles:
        prefs_path = Path(profile.path) / "prefs.js"
        try:
            prefs = parse_prefs(prefs_path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError) as exc:
            seen.append({"profile": profile.name, "path": str(prefs_path), "error": str(exc)})
            continue
        for account in _pref_list(prefs, "mail.accountmanager.accounts"):
            identities = _pref_list(prefs, f"mail.account.{account}.identities")
            emails = [str(prefs.get(f"mail.identity.{i}.useremail", "")) for i in identities]
            if wanted not in (e.casefold() for e in emails):
                continue
            server = str(prefs.get(f"mail.account.{account}.server", ""))
            servers = [("incoming", f"mail.server.{server}", "socketType")]
            for identity in identities:
                smtp = prefs.get(f"mail.identity.{identity}.smtpServer")
                if smtp:
                    servers.append(("outgoing", f"mail.smtpserver.{smtp}", "try_ssl"))
            for role, prefix, security_key in servers:
                host = str(prefs.get(f"{prefix}.hostname", ""))
                method = _int(prefs.get(f"{prefix}.authMethod"))
                security = _int(prefs.get(f"{prefix}.{security_key}"))
                entry: dict[str, object] = {
                    "profile": profile.name,
                    "path": str(prefs_path),
                    "account": account,
                    "role": role,
                    "host": host,
                    "port": _int(prefs.get(f"{prefix}.port")),
                    "type": str(prefs.get(f"{prefix}.type", "smtp")),
                    "auth_method": None if method is None else THUNDERBIRD_AUTH_NAMES.get(method),
                    "socket_type": security,
                    "username": prefs.get(f"{prefix}.userName", prefs.get(f"{prefix}.username")),
                }
                seen.append(entry)
                findings.extend(
                    _thunderbird_findings(entry, method, security, profile.name, address, expected)
                )
    return seen, findings


def _thunderbird_findings(
    entry: Mapping[str, object],
    method: int | None,
    security: int | None,
    profile: str,
    address: str,
    expected: AccountConfig | None,
) -> list[Finding]:
    host = str(entry["host"])
    checked = Text("diagnose.check.thunderbird", {"profile": profile})
    detail: dict[str, str | int] = {"profile": profile, "host": host, "role": str(entry["role"])}
    found: list[Finding] = []
    if expected is not None and expected.auth.is_oauth and method in _PASSWORD_METHODS:
        name = THUNDERBIRD_AUTH_NAMES.get(method or 0, str(method))
        found.append(
            knowledge.finding(
                "thunderbird.password-for-oauth",
                checked=checked,
                params={"profile": profile, "host": host, "address": address, "method": name},
                detail={**detail, "auth_method": name},
            )
        )
    if security == 0 and not host.startswith(("127.", "localhost")):
        found.append(
            knowledge.finding(
                "thunderbird.no-encryption",
                checked=checked,
                params={"profile": profile, "host": host, "address": address},
                detail=detail,
            )
        )
    if expected is not None:
        endpoint = expected.incoming if entry["role"] == "incoming" else expected.outgoing
        if endpoint is not None and host and host.casefold() != endpoint.host:
            found.append(
                knowledge.finding(
                    "thunderbird.server-differs",
                    checked=checked,
                    params={
                        "profile": profile,
                        "address": address,
                        "saved": host,
                        "found": endpoint.host,
                    },
                    detail={**detail, "found": endpoint.host},
                )
            )
    return found


# --- keyring and the Microsoft sign-in --------------------------------------------------------


async def _keyring_state(backend: Any) -> dict[str, object]:
    from app.core.profiles.secrets import keyring_status

    try:
        status = await asyncio.wait_for(
            asyncio.to_thread(keyring_status, backend), timeout=_KEYRING_WAIT
        )
    except TimeoutError:
        return {"usable": False, "backend": "unknown", "reason": "no answer within 10 s"}
    return status.to_dict()


def _id_token_claims(raw: str) -> dict[str, object]:
    """The harmless claims of an id_token (who and which tenant, when it expires); the token
    itself is never kept."""
    parts = raw.split(".")
    if len(parts) < 2:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return {}
    if not isinstance(claims, dict):
        return {}
    chosen = {name: claims[name] for name in _ID_TOKEN_CLAIMS if name in claims}
    if isinstance(chosen.get("exp"), int):
        chosen["expires"] = dt.datetime.fromtimestamp(int(str(chosen["exp"])), dt.UTC).isoformat()
    return chosen


def _sign_in_state(store: Any, address: str) -> dict[str, object]:
    import msal

    store.load()
    link = store.link_for(address)
    state: dict[str, object] = {"storage": str(getattr(store.storage, "kind", "")), "link": None}
    if link is None:
        return state
    cache = store.cache
    query = {"home_account_id": link.home_account_id}
    refresh = cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN, query=query)
    access = cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query=query)
    ids = cache.search(msal.TokenCache.CredentialType.ID_TOKEN, query=query)
    expiries = sorted(
        int(item["expires_on"]) for item in access if str(item.get("expires_on", "")).isdigit()
    )
    claims = _id_token_claims(str(ids[0].get("secret", ""))) if ids else {}
    state["link"] = {
        "username": link.username,
        "tenant_id": link.tenant_id,
        "authority": link.authority,
        "needs_sign_in": bool(link.needs_sign_in or not refresh),
        "refresh_token_present": bool(refresh),
        "access_token_expires": (
            dt.datetime.fromtimestamp(expiries[-1], dt.UTC).isoformat() if expiries else None
        ),
        "id_token_claims": claims,
    }
    return state


def _sign_in_findings(
    state: Mapping[str, object] | None, address: str, used: bool
) -> list[Finding]:
    checked = Text("diagnose.check.sign-in")
    if state is None:
        return []
    link = state.get("link")
    if not isinstance(link, Mapping):
        if used:
            return []
        return [
            knowledge.finding("diagnose.no-sign-in", checked=checked, params={"address": address})
        ]
    if link.get("needs_sign_in"):
        return [knowledge.finding("signin.required", checked=checked, params={"address": address})]
    return [
        knowledge.finding("diagnose.sign-in-cached", checked=checked, params={"address": address})
    ]


# --- the whole run ----------------------------------------------------------------------------


def _finding_key(finding: Finding) -> tuple[str, str]:
    host = finding.detail.get("host") or finding.detail.get("name")
    where = str(host) if host is not None else render(finding.checked, "en")
    return finding.code, where.lower()


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        key = _finding_key(finding)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def _verdict(findings: Iterable[Finding]) -> Verdict:
    worst = max((f.outcome.severity for f in findings), default=0)
    if worst >= Outcome.ERROR.severity:
        return Verdict.BROKEN
    if worst >= Outcome.WARNING.severity:
        return Verdict.WARNINGS
    return Verdict.HEALTHY


def _hosts(config: AccountConfig) -> list[tuple[str, int, bool]]:
    hosts: list[tuple[str, int, bool]] = []
    for endpoint in (config.incoming, config.outgoing):
        if endpoint is not None:
            hosts.append((endpoint.host, endpoint.port, endpoint.security is Security.TLS))
    for url in (config.caldav, config.carddav):
        if url:
            parts = urlsplit(url)
            if parts.hostname:
                default = 443 if parts.scheme == "https" else 80
                hosts.append((parts.hostname, parts.port or default, parts.scheme == "https"))
    return hosts


def _clock_urls(config: AccountConfig | None) -> list[str]:
    urls: list[str] = []
    if config is not None:
        urls.extend(url for url in (config.caldav, config.carddav) if url)
        if config.provenance.url and config.provenance.url.startswith("https://"):
            urls.append(config.provenance.url)
        for host in SIGN_IN_HOSTS_BY_AUTH.get(config.auth, ()):
            urls.append(f"https://{host}/")
    return list(dict.fromkeys(urls))


class _Timeline:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.items: list[dict[str, object]] = []

    def mark(self, name: str, since: float, detail: str | None = None) -> None:
        self.items.append(
            {
                "name": name,
                "started_ms": round((since - self.started) * 1000),
                "ms": round((time.monotonic() - since) * 1000),
                "detail": detail,
            }
        )


async def _exchange_job(
    address: EmailAddress, net: Network, config: AccountConfig | None
) -> tuple[Mapping[str, object] | None, list[Finding]]:
    """For a mailbox on Exchange Server signing in through Microsoft (hybrid): whether its
    Autodiscover and ActiveSync answer without pre-authentication and with the Bearer
    challenge Outlook mobile needs. Exchange Online's own hosts are not asked (nothing there
    for an organisation to get wrong); nothing else is Exchange's business."""
    if config is None or config.auth is not AuthKind.EXCHANGE_HYBRID:
        return None, []
    from app.core.diagnostics.exchange_check import check_exchange

    facts, found = await check_exchange(address, net)
    return facts, found


def _inspect_outlook(
    registry: Any, mailbox: str, expected: AccountConfig | None
) -> tuple[list[dict[str, object]], list[Finding]]:
    """Classic Outlook's accounts for ``mailbox`` and what is wrong with them (Windows, or a
    given registry); nothing where there is no Windows registry."""
    from app.core.clients.outlook_accounts import outlook_accounts
    from app.core.diagnostics.outlook_check import inspect_outlook

    if registry is None:
        if sys.platform != "win32":
            return [], []
        from app.core.clients import WinregHiveRegistry

        registry = WinregHiveRegistry()
    return inspect_outlook(outlook_accounts(registry), mailbox, expected)


#: The findings of iCloud refusing a password (mail, calendars and contacts).
_ICLOUD_REFUSED = frozenset({"imap.icloud.app-password-needed", "dav.auth.icloud"})


def _icloud_refused(findings: Sequence[Finding]) -> bool:
    return any(finding.code in _ICLOUD_REFUSED for finding in findings)


async def diagnose(
    address: str | EmailAddress,
    net: Network,
    options: DiagnoseOptions | None = None,
    *,
    language: Language = DEFAULT_LANGUAGE,
) -> Diagnosis:
    """Diagnose ``address`` (see the module docstring). Never raises for what it finds: every
    failure is a finding."""
    options = options or DiagnoseOptions()
    parsed = address if isinstance(address, EmailAddress) else EmailAddress.parse(address)
    mailbox = str(parsed)
    chosen = symptom(options.symptom)
    timeline = _Timeline()
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    findings: list[Finding] = []
    log.info("diagnose %s (symptom %s)", mailbox, chosen.name)

    # Detection, the saved account and the keyring at the same time.
    since = time.monotonic()
    saved_account: Any = None
    if options.accounts is not None:
        try:
            saved_account = await asyncio.to_thread(options.accounts.get, mailbox)
            findings.extend(options.accounts.notices())
        except SetupError as error:
            findings.append(error.to_finding(Text("diagnose.check.saved")))
    detection_task = asyncio.ensure_future(_detect(parsed, net, options, language))
    keyring_task = (
        asyncio.ensure_future(_keyring_state(options.keyring_backend)) if options.keyring else None
    )
    detection = await detection_task
    timeline.mark("detect", since, None if detection is None else f"{len(detection.candidates)}")
    if detection is not None:
        findings.extend(detection.findings)

    best = None if detection is None else detection.best
    config: AccountConfig | None
    if options.settings is not None:
        config, source = options.settings, "switches"
    elif saved_account is not None:
        config, source = saved_account.config, "saved"
    elif best is not None:
        config, source = best, "detected"
    else:
        config, source = None, None
    if saved_account is not None:
        findings.extend(drift_findings(saved_account.config, best, mailbox))

    # Verification and the environment, together.
    verification: VerifyResult | None = None
    used_token = False
    credentials_given = options.secret is not None
    env_config = config
    since = time.monotonic()
    verify_job: Awaitable[VerifyResult | None]
    if config is None:
        findings.append(
            knowledge.finding(
                "diagnose.no-settings",
                checked=Text("diagnose.check.settings"),
                params={"address": mailbox},
            )
        )

        async def nothing() -> None:
            return None

        verify_job = nothing()
    else:
        targets = targets_for(
            config,
            mailbox,
            secret=options.secret,
            username=options.username,
            dav_username=options.dav_username,
            order=chosen,
        )
        if options.targets_hook is not None and options.secret is None:
            try:
                hooked = await options.targets_hook(config, targets)
            except SetupError as error:
                findings.append(error.to_finding(Text("diagnose.check.sign-in")))
                hooked = targets
            used_token = any(
                t.credentials is not None and t.credentials.kind is CredentialKind.OAUTH2
                for t in hooked
            )
            targets = hooked
        verify_job = verify(
            mailbox,
            targets,
            net,
            options=VerifyOptions(deadline=options.deadline),
            language=language,
        )
    environment_job = check_environment(
        net,
        hosts=[] if env_config is None else _hosts(env_config),
        sign_in_hosts=() if env_config is None else SIGN_IN_HOSTS_BY_AUTH.get(env_config.auth, ()),
        clock_urls=_clock_urls(env_config),
        facts=options.facts,
        now=options.now,
    )
    verification, environment, (exchange, exchange_findings) = await asyncio.gather(
        verify_job, environment_job, _exchange_job(parsed, net, env_config)
    )
    findings.extend(exchange_findings)
    timeline.mark(
        "verify", since, None if verification is None else f"{verification.elapsed_ms} ms"
    )
    if verification is not None:
        findings.extend(verification.findings)
        for check in verification.checks:
            findings.extend(check.findings)
            if check.finding is not None:
                findings.append(check.finding)
    if credentials_given and _icloud_refused(findings):
        # An app-specific password that iCloud refuses was almost always revoked: Apple revokes
        # every one of them when the Apple Account password is changed or reset.
        findings.append(
            knowledge.finding("apple.app-passwords-revoked", checked=Text("diagnose.check.sign-in"))
        )
    if config is not None and not credentials_given and not used_token:
        findings.append(
            knowledge.finding("diagnose.credential-free", checked=Text("diagnose.check.settings"))
        )

    # The keyring, the saved sign-in, Thunderbird.
    keyring_state = await keyring_task if keyring_task is not None else None
    if keyring_state is not None and not keyring_state.get("usable"):
        has_secrets = saved_account is not None and bool(saved_account.secrets)
        if has_secrets:
            from app.core.profiles.secrets import KeyringStatus

            status = KeyringStatus(
                False, str(keyring_state.get("backend")), str(keyring_state.get("reason"))
            )
            finding = status.finding()
            if finding is not None:
                findings.append(finding)
    sign_in: dict[str, object] | None = None
    if (
        config is not None
        and config.auth is AuthKind.OAUTH2_MICROSOFT
        and options.token_store is not None
    ):
        since = time.monotonic()
        try:
            store = await asyncio.wait_for(asyncio.to_thread(options.token_store), _KEYRING_WAIT)
            sign_in = await asyncio.wait_for(
                asyncio.to_thread(_sign_in_state, store, mailbox), _KEYRING_WAIT
            )
            findings.extend(store.notices())
        except (SetupError, TimeoutError, OSError) as exc:
            sign_in = {"error": type(exc).__name__}
            if isinstance(exc, SetupError):
                findings.append(exc.to_finding(Text("diagnose.check.sign-in")))
        timeline.mark("sign-in", since)
        findings.extend(_sign_in_findings(sign_in, mailbox, used_token))

    since = time.monotonic()
    profiles: Sequence[Any] | None = options.thunderbird
    if profiles is None:
        from app.core.profiles.thunderbird import ThunderbirdError, find_profiles

        try:
            profiles = await asyncio.to_thread(find_profiles)
        except ThunderbirdError as error:
            profiles = ()
            findings.append(error.to_finding(Text("diagnose.check.thunderbird-all")))
    profiles = profiles or ()
    expected = best or config
    if expected is not None and source == "switches" and best is None:
        expected = config
    thunderbird, tb_findings = await asyncio.to_thread(
        inspect_thunderbird, profiles, mailbox, expected
    )
    findings.extend(tb_findings)
    timeline.mark("thunderbird", since, f"{len(profiles)} profiles")

    since = time.monotonic()
    outlook, outlook_findings = await asyncio.to_thread(
        _inspect_outlook, options.outlook, mailbox, expected
    )
    findings.extend(outlook_findings)
    if outlook_findings or outlook:
        timeline.mark("outlook", since, f"{len(outlook)} accounts")

    findings.extend(environment.findings)
    ordered = order_findings(_unique(findings), chosen)
    if verification is not None:
        ordered_checks = sorted(verification.checks, key=lambda c: chosen.check_rank(c.protocol))
        verification = replace(verification, checks=tuple(ordered_checks))
    saved_dict = None if saved_account is None else saved_account.to_dict()
    result = Diagnosis(
        address=mailbox,
        symptom=chosen,
        verdict=_verdict(ordered),
        findings=tuple(ordered),
        verification=verification,
        detection=detection,
        settings=config,
        settings_source=source,
        saved=saved_dict,
        credentials="password" if credentials_given else ("token" if used_token else "none"),
        keyring=keyring_state,
        sign_in=sign_in,
        thunderbird=tuple(thunderbird),
        outlook=tuple(outlook),
        exchange=exchange,
        environment=environment,
        started_at=started_at,
        elapsed_ms=round((time.monotonic() - timeline.started) * 1000),
        timeline=tuple(timeline.items),
    )
    log.info(
        "diagnose %s: %s, %s",
        mailbox,
        result.verdict.value,
        ", ".join(f.code for f in result.findings) or "no findings",
    )
    return result


async def _detect(
    address: EmailAddress, net: Network, options: DiagnoseOptions, language: Language
) -> DetectionResult | None:
    from app.core.discovery.engine import DetectionOptions

    try:
        return await detect(
            address,
            net,
            options=DetectionOptions(deadline=options.detect_deadline),
            language=language,
        )
    except SetupError as error:
        log.warning("detection failed: %s", error.code)
        return None
