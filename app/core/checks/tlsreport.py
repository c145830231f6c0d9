"""What a secure connection showed, and what it means: the TLS details of a connection as JSON,
TLS interception by a proxy or antivirus, certificates from a CA the user configured, certificates
about to expire, a wrong clock, and the findings for TLS and other network failures.

Interception heuristic (Python 3.11's ``ssl`` does not hand over the verified chain, only the
leaf certificate). From the leaf alone:

1. **Configured CA.** If the leaf was issued (directly, or through intermediates found in the same
   bundles) by a certificate in one of the CA bundles the user or the organisation configured
   (``--ca-bundle``, ``NetworkOptions.ca_bundles``), that CA is named. The leaf's issuer name and
   AuthorityKeyIdentifier select candidates (against their subject and SubjectKeyIdentifier) and
   ``verify_directly_issued_by`` proves each step, so a look-alike name does not count.
2. **Public CA.** Otherwise the leaf is taken as publicly issued if it was issued directly by one
   of the Mozilla root certificates that ``certifi`` ships (proved the same way), or if its
   issuer's organisation (``O=``) is the organisation of one of those roots. Public leaves are
   issued by intermediates that ``certifi`` does not hold; their organisation is the one thing
   the leaf tells about them.
3. For a **well-known provider's host** (``known_provider``), a leaf that is neither is a sign of
   TLS inspection: a proxy or antivirus re-signed the connection with its own CA (which this
   computer trusts, or the handshake would have failed). That is a warning naming the CA, since
   sign-in services break under inspection. A leaf from a configured CA on a well-known host is
   interception too (the warning also names it). On other hosts a configured CA is reported as
   information ("issued by the CA you configured"), never as a failure, and a private CA the
   system trusts is not remarked on: many organisations run their own mail servers that way.

Limits: an inspecting product whose CA copies the organisation name of a public root is not
detected; a public intermediate whose organisation differs from every root's (after a CA was sold
or renamed) would be taken for inspection on a well-known host (a warning, never an error). The
heuristic only runs after a handshake that the trust store accepted; certificate failures are
:class:`~app.core.errors.TLSError` and become findings through :func:`error_finding`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Final

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from app.core.diagnostics import knowledge
from app.core.errors import NetworkError, SetupError, TLSError
from app.core.model import Finding
from app.core.net import TLSInfo
from app.core.net.tls import PROBLEM_FAILURE
from app.core.resources import resource_path
from app.core.texts import ParamValue, Text

__all__ = [
    "CLOCK_SKEW_THRESHOLD",
    "EXPIRY_WARNING_DAYS",
    "SIGN_IN_HOSTS",
    "analyse_tls",
    "clock_skew",
    "error_finding",
    "is_known_provider_host",
    "issuing_ca",
    "parse_server_date",
    "tls_code",
    "tls_to_dict",
]

#: A certificate expiring within this many days gets a warning.
EXPIRY_WARNING_DAYS: Final = 14
#: A clock further off than this breaks certificates' and tokens' time checks.
CLOCK_SKEW_THRESHOLD: Final = dt.timedelta(minutes=5)
#: Sign-in services of well-known providers (their mail and DAV hosts come from the catalog).
SIGN_IN_HOSTS: Final = frozenset(
    {
        "login.microsoftonline.com",
        "login.live.com",
        "login.windows.net",
        "autodiscover-s.outlook.com",
        "accounts.google.com",
        "oauth2.googleapis.com",
        "account.apple.com",
        "appleid.apple.com",
        "idmsa.apple.com",
    }
)
# Provider domains whose every host is the provider's own (iCloud's pNN-caldav hosts and so on).
_PROVIDER_SUFFIXES: Final = (
    ".icloud.com",
    ".me.com",
    ".apple.com",
    ".office365.com",
    ".outlook.com",
    ".office.com",
    ".microsoftonline.com",
    ".live.com",
    ".google.com",
    ".googleapis.com",
    ".gmail.com",
    ".yahoo.com",
    ".yahoo.co.jp",
)
# Finer TLS problems (``TLSError.detail["problem"]``) that have entries of their own.
_OWN_PROBLEM_CODES: Final = frozenset({"old-protocol", "not-tls"})


# --- TLS details as JSON ----------------------------------------------------------------------


def tls_to_dict(tls: TLSInfo) -> dict[str, object]:
    """The JSON shape of a connection's TLS: version, cipher, the name checked, and the
    certificate's subject, issuer, validity, names and SHA-256 fingerprint."""
    cert = tls.certificate
    certificate: dict[str, object] | None = None
    if cert is not None:
        certificate = {
            "subject": cert.subject,
            "issuer": cert.issuer,
            "common_name": cert.common_name,
            "issuer_common_name": cert.issuer_common_name,
            "not_before": cert.not_before.isoformat(),
            "not_after": cert.not_after.isoformat(),
            "dns_names": list(cert.dns_names),
            "ip_addresses": list(cert.ip_addresses),
            "serial_number": cert.serial_number,
            "sha256": cert.sha256,
        }
    return {
        "version": tls.version,
        "cipher": tls.cipher,
        "server_hostname": tls.server_hostname,
        "certificate": certificate,
    }


# --- failures as findings ---------------------------------------------------------------------


def tls_code(problem: str) -> str:
    """The finding code of a failed handshake's ``problem`` word (``TLSError.detail["problem"]``):
    ``tls.old-protocol`` and ``tls.not-tls`` have their own entries; the rest use the error's
    failure (``unknown-ca`` is ``tls.untrusted``)."""
    if problem in _OWN_PROBLEM_CODES:
        return f"tls.{problem}"
    failure = PROBLEM_FAILURE.get(problem)
    return "tls.handshake" if failure is None else f"tls.{failure.value}"


def error_finding(error: SetupError, checked: Text | None = None) -> Finding:
    """The finding for a failure the network seam raised (DNS, connection, TLS, deadline),
    with the knowledge catalog's title, cause and fix. A TLS failure gets the finer code of its
    ``problem`` (an old protocol, a port that does not speak TLS). Errors the catalog has no
    entry for keep their own texts (``error.to_finding()``)."""
    code = error.code
    if isinstance(error, TLSError):
        problem = error.detail.get("problem")
        if isinstance(problem, str):
            code = tls_code(problem)
    catalog = knowledge.default_knowledge()
    if code not in catalog.by_code:
        return error.to_finding(checked)
    params: dict[str, ParamValue] = {
        key: value for key, value in error.detail.items() if key in ("host", "port", "name")
    }
    if isinstance(error, NetworkError):
        params.setdefault("host", error.host)
        params.setdefault("name", error.host)
    port = getattr(error, "port", None)
    if isinstance(port, int):
        params.setdefault("port", port)
    wanted = catalog.entry(code).placeholders
    return catalog.finding(
        code,
        checked=checked or error.checked or Text("check.setup"),
        server_said=error.server_said,
        params={name: value for name, value in params.items() if name in wanted},
        detail=error.detail,
    )


# --- interception, configured CAs, expiry -----------------------------------------------------


def analyse_tls(
    tls: TLSInfo,
    host: str,
    *,
    extra_ca_bundles: Sequence[Path] = (),
    known_provider: bool,
    now: dt.datetime | None = None,
) -> tuple[Finding, ...]:
    """What a successful handshake with ``host`` tells beyond "it worked" (see the module
    docstring): ``tls.intercepted`` (warning), ``tls.configured-ca`` (info),
    ``tls.expiring-soon`` (warning). Empty when there is nothing to say."""
    cert = tls.certificate
    if cert is None:
        return ()
    leaf = x509.load_der_x509_certificate(cert.der)
    checked = Text("check.tls", {"host": host})
    issuer = _display_name(leaf.issuer)
    findings: list[Finding] = []
    configured = issuing_ca(leaf, _load_bundles(tuple(extra_ca_bundles)))
    if known_provider and (configured is not None or not _publicly_issued(leaf)):
        findings.append(
            knowledge.finding(
                "tls.intercepted",
                checked=checked,
                params={"host": host, "issuer": issuer},
                detail={"host": host, "issuer": leaf.issuer.rfc4514_string()},
            )
        )
    elif configured is not None:
        findings.append(
            knowledge.finding(
                "tls.configured-ca",
                checked=checked,
                params={"host": host, "issuer": issuer},
                detail={"host": host, "issuer": leaf.issuer.rfc4514_string()},
            )
        )
    moment = now or dt.datetime.now(dt.UTC)
    left = cert.not_after - moment
    if dt.timedelta(0) <= left <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
        days = math.ceil(left.total_seconds() / 86400)  # days begun: "1" for the last day
        findings.append(
            knowledge.finding(
                "tls.expiring-soon",
                checked=checked,
                params={"host": host, "days": days},
                detail={"host": host, "not_after": cert.not_after.isoformat(), "days": days},
            )
        )
    return tuple(findings)


def issuing_ca(
    leaf: x509.Certificate, authorities: Iterable[x509.Certificate]
) -> x509.Certificate | None:
    """The certificate among ``authorities`` that issued ``leaf``, directly or through other
    certificates among them (then the top-most one found), proved by signatures; None if none
    did."""
    pool = list(authorities)
    current, found = leaf, None
    for _ in range(len(pool)):
        parent = _direct_issuer(current, pool)
        if parent is None or parent is found:
            break
        found = parent
        if parent.subject == parent.issuer:
            break  # a root
        current = parent
    return found


def _direct_issuer(
    cert: x509.Certificate, pool: Iterable[x509.Certificate]
) -> x509.Certificate | None:
    wanted_key = _authority_key_id(cert)
    for candidate in pool:
        if candidate is cert:
            continue
        if candidate.subject != cert.issuer:
            continue
        subject_key = _subject_key_id(candidate)
        if wanted_key is not None and subject_key is not None and wanted_key != subject_key:
            continue
        try:
            cert.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def _authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier
        ).value.key_identifier
    except x509.ExtensionNotFound:
        return None


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _publicly_issued(leaf: x509.Certificate) -> bool:
    roots, organisations = _public_roots()
    if _direct_issuer(leaf, roots) is not None:
        return True
    organisation = _organisation(leaf.issuer)
    return organisation is not None and organisation.casefold() in organisations


@cache
def _public_roots() -> tuple[tuple[x509.Certificate, ...], frozenset[str]]:
    """The Mozilla roots shipped by certifi, and their organisation names (case-folded)."""
    with warnings.catch_warnings():
        # One Mozilla root has a serial number RFC 5280 disallows; cryptography warns about it.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        roots = tuple(x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes()))
    organisations = frozenset(
        name.casefold() for root in roots if (name := _organisation(root.subject)) is not None
    )
    return roots, organisations


@cache
def _load_bundles(paths: tuple[Path, ...]) -> tuple[x509.Certificate, ...]:
    certificates: list[x509.Certificate] = []
    for path in paths:
        try:
            certificates.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except (OSError, ValueError):
            continue  # the seam already refused an unreadable bundle; nothing to analyse here
    return tuple(certificates)


def _organisation(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _display_name(name: x509.Name) -> str:
    """A CA's name for people: its common name, else its organisation, else the whole name."""
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        values = name.get_attributes_for_oid(oid)
        if values:
            value = values[0].value
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return name.rfc4514_string()


@cache
def _catalog_hosts() -> frozenset[str]:
    from app.core.discovery.catalog import ProviderCatalog

    hosts: set[str] = set()
    try:
        catalog = ProviderCatalog.from_directory(resource_path("providers"))
    except (OSError, ValueError):
        return frozenset()
    for provider in catalog:
        for server in (*provider.incoming, *provider.outgoing):
            if "%" not in server.host:
                hosts.add(server.host.lower())
        for url in (provider.caldav, provider.carddav):
            if url:
                match = re.match(r"^https?://([^/:%]+)", url)
                if match:
                    hosts.add(match.group(1).lower())
    return frozenset(hosts)


def is_known_provider_host(host: str) -> bool:
    """Whether ``host`` belongs to a well-known provider: a server of the built-in catalog, a
    sign-in host (:data:`SIGN_IN_HOSTS`) or a host under a big provider's own domain."""
    name = host.strip().rstrip(".").lower()
    return (
        name in SIGN_IN_HOSTS
        or name in _catalog_hosts()
        or any(name.endswith(suffix) for suffix in _PROVIDER_SUFFIXES)
    )


# --- the clock --------------------------------------------------------------------------------

_DATE_IN_TEXT: Final = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+"
    r"\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{4}|GMT|UT|UTC|[A-Z]{1,3})?"
)


def parse_server_date(text: str) -> dt.datetime | None:
    """The date in an HTTP ``Date`` header or an RFC 5322 date inside a server's greeting
    (``220 mail.example.test ESMTP; Mon, 1 Jun 2026 10:00:00 +0900``), timezone-aware; None if
    there is none."""
    found = _DATE_IN_TEXT.search(text)
    if found is None:
        return None
    try:
        parsed = parsedate_to_datetime(found.group(0))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000": UTC by RFC 5322, but with an unknown local zone
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def clock_skew(
    server_date: str | dt.datetime,
    local: dt.datetime | None = None,
    *,
    host: str | None = None,
    threshold: dt.timedelta = CLOCK_SKEW_THRESHOLD,
) -> Finding | None:
    """A ``clock.skew`` finding when the server's date (an HTTP ``Date`` header, a greeting
    with a date, or a datetime) differs from ``local`` (this computer's time, now by default)
    by more than ``threshold``; None when it does not or no date can be read."""
    when = parse_server_date(server_date) if isinstance(server_date, str) else server_date
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    moment = local or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.astimezone()
    difference = moment - when
    if abs(difference) <= threshold:
        return None
    minutes = round(abs(difference).total_seconds() / 60)
    detail: dict[str, str | int] = {
        "server_date": when.isoformat(),
        "local_date": moment.isoformat(),
        "minutes": minutes,
        "local_is": "ahead" if difference > dt.timedelta(0) else "behind",
    }
    if host is not None:
        detail["host"] = host
    checked = Text("check.server", {"host": host}) if host else Text("check.setup")
    return knowledge.finding(
        "clock.skew", checked=checked, params={"minutes": minutes}, detail=detail
    )
