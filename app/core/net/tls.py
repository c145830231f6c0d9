"""TLS for the network seam: the one client context, what a handshake produced, and why one failed.

Certificates are verified against the operating system's trust store, plus any extra CA bundle
the user named, with host names always checked and TLS 1.2 as the minimum. There is no switch to
turn verification off and no fallback to plain text.

The trust store: on Windows and macOS ``truststore`` asks the system itself at every handshake.
Elsewhere the system's trust store *is* OpenSSL's default CA file and folder, which truststore
would re-read at every handshake (about 30 ms of parsing, in the event loop's thread, where the
window's must not be kept waiting); the context reads them once when it is made instead, which
trusts exactly the same certificates.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import truststore
from cryptography import x509
from cryptography.x509.oid import NameOID

from app.core.errors import TLSError, TLSFailure
from app.core.net import _errors
from app.core.net._errors import Address

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
#: Whether certificates are verified by the operating system (truststore) rather than OpenSSL.
ASKS_THE_SYSTEM = sys.platform.startswith(("win", "darwin"))


def make_context(ca_bundles: Sequence[Path] = (), *, for_http: bool = False) -> ssl.SSLContext:
    """A client context: the system's trust store plus ``ca_bundles``, host names checked,
    TLS 1.2 or newer. Raises ``ConfigError`` when a bundle cannot be loaded.

    Mail connections share one context per set of bundles where OpenSSL verifies (it has no
    per-context lock, and the trust store is read once); with truststore each caller gets a
    context of its own (truststore holds a context's lock for a whole handshake). HTTP always
    gets its own (``for_http``): the HTTP client sets ALPN on it."""
    if ASKS_THE_SYSTEM or for_http:
        return _new_context(tuple(ca_bundles))
    return _shared_context(tuple(ca_bundles))


@functools.lru_cache(maxsize=8)
def _shared_context(ca_bundles: tuple[Path, ...]) -> ssl.SSLContext:
    return _new_context(ca_bundles)


def _new_context(ca_bundles: tuple[Path, ...]) -> ssl.SSLContext:
    if ASKS_THE_SYSTEM:
        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.set_default_verify_paths()  # what truststore itself does here, once per context
    context.minimum_version = MINIMUM_VERSION
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    for path in ca_bundles:
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise _errors.ca_bundle_error("CA bundle", str(path), str(exc)) from exc
    return context


@dataclass(frozen=True)
class CertificateInfo:
    """A parsed summary of a certificate, with its DER bytes for anything else."""

    der: bytes
    subject: str  # RFC 4514, e.g. "CN=mail.example.test"
    issuer: str
    common_name: str | None
    issuer_common_name: str | None
    not_before: dt.datetime  # aware, UTC
    not_after: dt.datetime  # aware, UTC
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    serial_number: str  # hexadecimal
    sha256: str  # hexadecimal fingerprint of the DER bytes

    @property
    def self_issued(self) -> bool:
        return self.subject == self.issuer

    def valid_at(self, when: dt.datetime | None = None) -> bool:
        moment = when or dt.datetime.now(dt.UTC)
        return self.not_before <= moment <= self.not_after

    @classmethod
    def from_der(cls, der: bytes) -> CertificateInfo:
        cert = x509.load_der_x509_certificate(der)
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns_names = tuple(san.get_values_for_type(x509.DNSName))
            ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
        except x509.ExtensionNotFound:
            dns_names, ips = (), ()
        return cls(
            der=der,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            common_name=_common_name(cert.subject),
            issuer_common_name=_common_name(cert.issuer),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            dns_names=dns_names,
            ip_addresses=ips,
            serial_number=f"{cert.serial_number:x}",
            sha256=hashlib.sha256(der).hexdigest(),
        )


def _common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


@dataclass(frozen=True)
class TLSInfo:
    """What a completed handshake agreed on and whom it proved."""

    version: str  # "TLSv1.3", "TLSv1.2"
    cipher: str  # e.g. "TLS_AES_256_GCM_SHA384"
    server_hostname: str  # the name the certificate was checked against (and SNI, unless an IP)
    certificate: CertificateInfo | None

    @classmethod
    def from_ssl_object(cls, ssl_object: ssl.SSLObject | ssl.SSLSocket, hostname: str) -> TLSInfo:
        der = ssl_object.getpeercert(binary_form=True)
        cipher = ssl_object.cipher()
        return cls(
            version=ssl_object.version() or "",
            cipher=cipher[0] if cipher else "",
            server_hostname=hostname,
            certificate=CertificateInfo.from_der(der) if der else None,
        )


# OpenSSL's X509_V_ERR_* codes (Linux, and anywhere OpenSSL verifies)
_OPENSSL_CODES: dict[int, str] = {
    2: "unknown-ca",  # unable to get issuer certificate
    9: "not-yet-valid",
    10: "expired",
    18: "self-signed",  # depth zero self-signed
    19: "unknown-ca",  # self-signed certificate in chain: a root this computer does not trust
    20: "unknown-ca",  # unable to get local issuer certificate
    21: "unknown-ca",  # unable to verify the first certificate
    27: "unknown-ca",  # certificate not trusted
    62: "wrong-host",  # host name mismatch
    64: "wrong-host",  # IP address mismatch
}
# Windows (CERT_E_*) and macOS (errSec*) codes, as truststore reports them there
_PLATFORM_CODES: dict[int, str] = {
    0x800B0101: "expired",  # CERT_E_EXPIRED (Windows also says so for "not yet valid")
    0x800B0109: "unknown-ca",  # CERT_E_UNTRUSTEDROOT
    0x800B010A: "unknown-ca",  # CERT_E_CHAINING
    0x800B010F: "wrong-host",  # CERT_E_CN_NO_MATCH
    -67818: "expired",  # errSecCertificateExpired
    -67819: "not-yet-valid",  # errSecCertificateNotValidYet
    -67602: "wrong-host",  # errSecHostNameMismatch
    -67843: "unknown-ca",  # errSecNotTrusted
}
_MESSAGE_HINTS: tuple[tuple[str, str], ...] = (
    ("not yet valid", "not-yet-valid"),
    ("expired", "expired"),
    ("hostname mismatch", "wrong-host"),
    ("ip address mismatch", "wrong-host"),
    ("doesn't match", "wrong-host"),
    ("self-signed certificate in", "unknown-ca"),
    ("self signed certificate in", "unknown-ca"),
    ("self-signed", "self-signed"),
    ("self signed", "self-signed"),
    ("unable to get local issuer", "unknown-ca"),
    ("not trusted", "unknown-ca"),
    ("untrusted", "unknown-ca"),
)
_OLD_PROTOCOL_HINTS = (
    "unsupported_protocol",
    "unsupported protocol",
    "tlsv1_alert_protocol_version",
    "no_protocols_available",
    "wrong_ssl_version",
    "version too low",
)
_NOT_TLS_HINTS = ("wrong_version_number", "wrong version number", "http_request", "packet_length")

# ``detail["problem"]`` (finer) -> the error's ``failure`` (what the user message says)
PROBLEM_FAILURE: dict[str, TLSFailure] = {
    "expired": TLSFailure.EXPIRED,
    "not-yet-valid": TLSFailure.NOT_YET_VALID,
    "wrong-host": TLSFailure.WRONG_HOST,
    "self-signed": TLSFailure.SELF_SIGNED,
    "unknown-ca": TLSFailure.UNTRUSTED,
    "old-protocol": TLSFailure.HANDSHAKE,
    "not-tls": TLSFailure.HANDSHAKE,
    "handshake": TLSFailure.HANDSHAKE,
}


def classify(exc: BaseException) -> str:
    """Why a handshake failed, as a ``problem`` word (a key of ``PROBLEM_FAILURE``): from the
    verify code where there is one, else from the error's text."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        if isinstance(code, int):
            problem = _OPENSSL_CODES.get(code) or _PLATFORM_CODES.get(code)
            if problem is None and code < 0:
                problem = _PLATFORM_CODES.get(code & 0xFFFFFFFF)
            if problem is not None:
                return problem
        text = f"{getattr(exc, 'verify_message', '')} {exc}".lower()
        for hint, hinted in _MESSAGE_HINTS:
            if hint in text:
                return hinted
        return "unknown-ca"
    text = str(exc).lower()
    if isinstance(exc, ssl.SSLError):
        if any(hint in text for hint in _OLD_PROTOCOL_HINTS):
            return "old-protocol"
        if any(hint in text for hint in _NOT_TLS_HINTS):
            return "not-tls"
    return "handshake"


def tls_failure(exc: BaseException, host: str, port: int | None, peer: Address | None) -> TLSError:
    """The seam's ``TLSError`` for a failed handshake with ``host:port`` (at ``peer``)."""
    problem = classify(exc)
    detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
    return _errors.tls_error(
        PROBLEM_FAILURE[problem],
        host=host,
        port=port,
        peer=peer,
        problem=problem,
        detail=str(detail),
    )
