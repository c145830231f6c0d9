"""TLS reports against real TLS servers of the test world: the details of a handshake, a CA the
user configured, interception by a corporate proxy in front of a well-known provider's host, a
certificate about to expire, a server clock far in the past, and seam failures as findings."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.checks.tlsreport import (
    analyse_tls,
    clock_skew,
    error_finding,
    is_known_provider_host,
    issuing_ca,
    parse_server_date,
    tls_to_dict,
)
from app.core.errors import SetupError
from app.core.net import Network, NetworkOptions, TLSInfo, parse_resolve
from app.core.net.tls import CertificateInfo
from app.core.texts import render
from tests.world.ca import CertPair, TestCA
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.proc import free_port
from tests.world.web import Response, WebServer

T = TypeVar("T")
PROVIDER_HOST = "outlook.office365.com"


def run(awaitable: Awaitable[T], limit: float = 15.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def network(host: str, port: int, ca_bundles: tuple[Path, ...], target_port: int) -> Network:
    return Network(
        NetworkOptions(
            ca_bundles=ca_bundles,
            resolve=(parse_resolve(f"{host}:{port}:127.0.0.1:{target_port}"),),
            system_proxy=False,
            timeout=5.0,
        )
    )


async def handshake(net: Network, host: str, port: int) -> TLSInfo:
    connection = await net.connect(host, port, tls=True)
    try:
        assert connection.tls is not None
        return connection.tls
    finally:
        connection.abort()


async def failure(net: Network, host: str, port: int) -> SetupError:
    try:
        connection = await net.connect(host, port, tls=True)
    except SetupError as exc:
        return exc
    connection.abort()
    raise AssertionError("the connection should have failed")


def codes(findings: tuple[object, ...]) -> list[str]:
    return [getattr(f, "code", "") for f in findings]


# --- an honest server of the test world -------------------------------------------------------


def test_tls_details_of_a_world_server(
    web: WebServer, world_cert: CertPair, test_ca: TestCA
) -> None:
    host = "imap.example.test"
    tls = run(handshake(network(host, 993, (test_ca.cert_path,), web.port), host, 993))
    data = tls_to_dict(tls)
    assert data["version"] in ("TLSv1.2", "TLSv1.3") and data["cipher"]
    assert data["server_hostname"] == host
    cert = data["certificate"]
    assert isinstance(cert, dict)
    leaf = x509.load_pem_x509_certificate(world_cert.cert.read_bytes())
    assert (
        cert["sha256"] == hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()
    )
    assert cert["issuer_common_name"] == "Mail Setup Test Root CA"
    assert "*.example.test" in cert["dns_names"] and "127.0.0.1" in cert["ip_addresses"]
    assert dt.datetime.fromisoformat(str(cert["not_after"])) > dt.datetime.now(dt.UTC)


def test_a_configured_ca_is_reported_as_such_not_as_interception(
    web: WebServer, test_ca: TestCA
) -> None:
    host = "mail.example.test"
    tls = run(handshake(network(host, 993, (test_ca.cert_path,), web.port), host, 993))
    assert not is_known_provider_host(host)
    findings = analyse_tls(tls, host, extra_ca_bundles=(test_ca.cert_path,), known_provider=False)
    assert codes(findings) == ["tls.configured-ca"]  # no alarm, no expiry warning
    finding = findings[0]
    assert finding.outcome.value == "info"
    assert "Mail Setup Test Root CA" in render(finding.cause, "en")
    assert "Mail Setup Test Root CA" in render(finding.cause, "ja")
    # Nothing to say about a private CA the system trusts on a host of no known provider.
    assert analyse_tls(tls, host, extra_ca_bundles=(), known_provider=False) == ()


# --- a TLS-inspecting proxy in front of a well-known provider's host --------------------------


def test_interception_in_front_of_a_known_provider_names_the_ca(
    make_web_server: object,
    test_ca: TestCA,
    corporate_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    assert callable(make_web_server)
    provider: WebServer = make_web_server(cert=test_ca.issue((PROVIDER_HOST,)), name="m365")
    proxy = fault_proxy("127.0.0.1", provider.port, intercept=corporate_ca)
    # The corporate CA is deployed to this computer (here: passed as an extra bundle).
    net = network(PROVIDER_HOST, 993, (corporate_ca.cert_path,), proxy.port)
    tls = run(handshake(net, PROVIDER_HOST, 993))
    assert tls.certificate is not None  # the proxy re-signed it: it went through the proxy
    assert tls.certificate.issuer_common_name == "Contoso Corporate Inspection CA"
    assert is_known_provider_host(PROVIDER_HOST)

    findings = analyse_tls(
        tls,
        PROVIDER_HOST,
        extra_ca_bundles=(corporate_ca.cert_path,),
        known_provider=is_known_provider_host(PROVIDER_HOST),
    )
    assert codes(findings) == ["tls.intercepted"]
    finding = findings[0]
    assert finding.outcome.value == "warning" and finding.fixer.value == "admin"
    english = finding.to_dict("en")
    assert "Contoso Corporate Inspection CA" in str(english["cause"])
    assert "login.microsoftonline.com" in str(english["fix"])  # sign-in hosts must be exempt
    assert "Contoso Corporate Inspection CA" in str(finding.to_dict("ja")["cause"])
    assert finding.detail["issuer"].endswith("CN=Contoso Corporate Inspection CA") or (
        "Contoso Corporate Inspection CA" in finding.detail["issuer"]
    )
    # The same certificate with the CA installed in the system store instead of a bundle:
    # still not a public CA, still interception.
    assert codes(analyse_tls(tls, PROVIDER_HOST, known_provider=True)) == ["tls.intercepted"]


def test_the_real_provider_certificate_through_no_proxy_is_not_interception(
    make_web_server: object, test_ca: TestCA
) -> None:
    """Control: the provider's host served directly with its (test-world) certificate and a
    configured CA on a host that is not a provider's: only the configured-CA note."""
    assert callable(make_web_server)
    server: WebServer = make_web_server(cert=test_ca.issue(("mail.corp.test",)), name="corp")
    host = "mail.corp.test"
    tls = run(handshake(network(host, 993, (test_ca.cert_path,), server.port), host, 993))
    findings = analyse_tls(tls, host, extra_ca_bundles=(test_ca.cert_path,), known_provider=False)
    assert codes(findings) == ["tls.configured-ca"]


def _crafted_leaf(issuer_organisation: str, issuer_name: str) -> TLSInfo:
    """A leaf 'issued' by a CA named like a public one but signed by a stranger's key: what
    a certificate looks like from the leaf alone (the heuristic's documented limit)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer_organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, issuer_name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PROVIDER_HOST)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=200))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return TLSInfo(
        "TLSv1.3", "TLS_AES_128_GCM_SHA256", PROVIDER_HOST, CertificateInfo.from_der(der)
    )


def test_a_leaf_from_a_public_organisation_is_not_taken_for_interception() -> None:
    public = _crafted_leaf("DigiCert Inc", "DigiCert Cloud Services CA-1")
    assert analyse_tls(public, PROVIDER_HOST, known_provider=True) == ()
    vendor = _crafted_leaf("Zscaler Inc.", "Zscaler Intermediate Root CA")
    findings = analyse_tls(vendor, PROVIDER_HOST, known_provider=True)
    assert codes(findings) == ["tls.intercepted"]
    assert "Zscaler Intermediate Root CA" in render(findings[0].cause, "en")


def test_a_look_alike_name_is_not_the_configured_ca(test_ca: TestCA) -> None:
    # Issuer name equal to the test CA's subject, but signed by another key: not issued by it.
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.example.test")]))
        .issuer_name(test_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=100))
        .sign(key, hashes.SHA256())
    )
    assert issuing_ca(forged, [test_ca.certificate]) is None
    honest = x509.load_pem_x509_certificate(test_ca.issue(("mail.example.test",)).cert.read_bytes())
    assert issuing_ca(honest, [test_ca.certificate]) == test_ca.certificate


# --- a certificate about to expire ------------------------------------------------------------


def test_a_certificate_expiring_in_three_days_gets_a_warning(
    make_web_server: object, test_ca: TestCA
) -> None:
    assert callable(make_web_server)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    pair = test_ca.issue(("mail.example.test",), label="expiring", not_after=soon)
    server: WebServer = make_web_server(cert=pair, name="expiring")
    host = "mail.example.test"
    tls = run(handshake(network(host, 993, (test_ca.cert_path,), server.port), host, 993))
    findings = analyse_tls(tls, host, extra_ca_bundles=(test_ca.cert_path,), known_provider=False)
    assert codes(findings) == ["tls.configured-ca", "tls.expiring-soon"]
    expiring = findings[1]
    assert expiring.outcome.value == "warning" and expiring.detail["days"] == 3
    assert "expires in 3 days" in render(expiring.cause, "en")
    assert "あと 3 日" in render(expiring.cause, "ja")
    # Three weeks later it would have been fine; a day after it is a failure of its own.
    assert analyse_tls(tls, host, known_provider=False, now=soon - dt.timedelta(days=21)) == ()
    assert analyse_tls(tls, host, known_provider=False, now=soon + dt.timedelta(days=1)) == ()


# --- the clock --------------------------------------------------------------------------------


def test_a_server_date_far_in_the_past_is_clock_skew(web: WebServer, test_ca: TestCA) -> None:
    skewed = "Mon, 01 Jan 2001 00:00:00 GMT"
    web.route("/clock", Response.text("tick", headers={"Date": skewed}), host="www.example.test")
    host = "www.example.test"
    net = network(host, 443, (test_ca.cert_path,), web.port)
    result = run(net.fetch(f"https://{host}/clock"))
    assert result.status == 200
    dates = result.headers.get_list("date")
    assert skewed in dates
    finding = clock_skew(skewed, host=host)
    assert finding is not None and finding.code == "clock.skew"
    minutes = finding.detail["minutes"]
    assert isinstance(minutes, int) and minutes > 60 * 24 * 365 * 20
    assert finding.detail["local_is"] == "ahead"
    assert f"about {minutes} minutes" in render(finding.cause, "en")
    assert f"約 {minutes} 分" in render(finding.cause, "ja")
    # The server's own, honest Date header: no finding.
    honest = [d for d in dates if d != skewed]
    assert honest and clock_skew(honest[0], host=host) is None


def test_clock_skew_thresholds_and_greetings() -> None:
    local = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC)
    greeting = "220 mail.example.test ESMTP Postfix; Mon, 1 Jun 2026 10:04:00 +0900"
    assert parse_server_date(greeting) == dt.datetime(2026, 6, 1, 1, 4, tzinfo=dt.UTC)
    assert clock_skew(greeting, local) is None  # 4 minutes: tolerable
    behind = clock_skew("Mon, 01 Jun 2026 01:30:00 GMT", local)
    assert behind is not None and behind.detail["local_is"] == "behind"
    assert behind.detail["minutes"] == 30
    assert clock_skew("* OK Dovecot ready.", local) is None  # no date, no finding
    assert clock_skew(dt.datetime(2026, 6, 1, 1, 6, tzinfo=dt.UTC), local) is not None


# --- seam failures become knowledge findings --------------------------------------------------


def test_seam_failures_become_knowledge_findings(make_web_server: object, test_ca: TestCA) -> None:
    assert callable(make_web_server)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    expired = test_ca.issue(
        ("mail.example.test",),
        label="expired",
        not_before=past - dt.timedelta(days=30),
        not_after=past,
    )
    server: WebServer = make_web_server(cert=expired, name="expired")
    host = "mail.example.test"
    net = network(host, 993, (test_ca.cert_path,), server.port)
    made = error_finding(run(failure(net, host, 993)))
    assert made.code == "tls.expired"
    assert made.title is not None and "expired" in render(made.title, "en")
    assert host in render(made.cause, "en") and host in render(made.cause, "ja")

    plain: WebServer = make_web_server(cert=None, name="plain")
    net = network(host, 993, (test_ca.cert_path,), plain.port)
    made = error_finding(run(failure(net, host, 993)))
    assert made.code == "tls.not-tls"  # implicit TLS to a port that speaks plain text
    assert "STARTTLS" in render(made.fix or made.cause, "en")

    closed_port = free_port()
    net = network(host, 993, (test_ca.cert_path,), closed_port)
    made = error_finding(run(failure(net, host, 993)))
    assert made.code == "connect.refused"
    assert "port 993" in render(made.cause, "en") and host in render(made.cause, "en")
