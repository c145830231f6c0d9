"""Certificate authorities for the test world.

``TestCA`` makes a root and issues leaf certificates (for ``localhost``, ``127.0.0.1``, ``::1``
and the test domains), including broken ones for failure tests: expired, not yet valid, for
another host, self-signed. The world has two: the test CA that every honest server uses, and a
"corporate" CA for TLS-interception tests, which the program does not trust unless told to.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertPair:
    """A leaf certificate and its key on disk; ``chain`` holds leaf then issuer (PEM)."""

    cert: Path
    key: Path
    chain: Path


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


class TestCA:
    """A root CA written to ``directory``; ``issue`` makes leaf certificates under it."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, common_name: str = "Mail Setup Test Root CA") -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.common_name = common_name
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mail Setup Test World"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = directory / "ca.pem"
        self.cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self._serial = 0

    @property
    def pem(self) -> bytes:
        return self.cert_path.read_bytes()

    def issue(
        self,
        names: tuple[str, ...] = DEFAULT_NAMES,
        *,
        label: str | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        self_signed: bool = False,
    ) -> CertPair:
        """A server certificate for ``names`` (DNS names or IP addresses), signed by this CA
        (or by its own key when ``self_signed``). Validity defaults to yesterday .. +1 year."""
        self._serial += 1
        label = label or f"leaf{self._serial}"
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        issuer = subject if self_signed else self.certificate.subject
        signing_key = key if self_signed else self._key
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(days=1))
            .not_valid_after(not_after or now + dt.timedelta(days=365))
            .add_extension(_san(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        cert = builder.sign(signing_key, hashes.SHA256())
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        pair = CertPair(
            cert=self.directory / f"{label}.pem",
            key=self.directory / f"{label}.key",
            chain=self.directory / f"{label}-chain.pem",
        )
        pair.cert.write_bytes(cert_pem)
        _write_key(key, pair.key)
        pair.chain.write_bytes(cert_pem + (b"" if self_signed else self.pem))
        return pair
