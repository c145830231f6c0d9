"""Apple configuration profiles (``.mobileconfig``) for iPhone, iPad and Mac.

For an IMAP or POP account (iCloud as a second account, any other provider) the profile holds a
``com.apple.mail.managed`` payload, plus ``com.apple.caldav.account`` and
``com.apple.carddav.account`` when the account has calendars and contacts (their sign-in name is
:attr:`~app.core.profiles.common.ExportAccount.dav_login`: for iCloud the Apple Account, which can
differ from the mail address). Microsoft 365 and Outlook.com never get an IMAP payload with a
password (basic authentication is off there): the profile holds a ``com.apple.eas.account``
payload that signs in with OAuth, for iPhone and iPad only (``TargetDeviceType`` 1); on a Mac,
Apple Mail's Exchange path uses EWS, which Microsoft is retiring in Exchange Online, so the
findings recommend Outlook for Mac.

Identifiers: ``PayloadIdentifier`` is stable for an address (``com.mailsetup.<hash>`` and a
suffix per payload), so installing a newer profile for the same address replaces the old one;
every ``PayloadUUID`` is fresh. No password is written unless the account carries one (the
person asked), and then a warning says so. :func:`sign_profile` wraps the XML in CMS/PKCS#7
SignedData with a certificate and key the person provides.

The keys written are the ones of Apple's published schemas (``device-management``, release for
iOS 18.1 / macOS 15.1); ``tests/unit/test_mobileconfig_schema.py`` checks every profile against
them.
"""

from __future__ import annotations

import hashlib
import plistlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from app.core.errors import Fixer, InvalidSettingError
from app.core.model import (
    AuthKind,
    EmailAddress,
    Endpoint,
    Finding,
    Outcome,
    Protocol,
    Security,
    normalise_host,
)
from app.core.profiles.common import (
    Export,
    ExportAccount,
    finding,
    password_included,
    safe_file_stem,
)
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

__all__ = [
    "FORMAT",
    "MEDIA_TYPE",
    "ProfileSigner",
    "build_profile",
    "load_signer",
    "mobileconfig",
    "profile_identifier",
    "sign_profile",
]

FORMAT: Final = "mobileconfig"
MEDIA_TYPE: Final = "application/x-apple-aspen-config"
IDENTIFIER_PREFIX: Final = "com.mailsetup"
#: TargetDeviceType: 1 = iPhone, iPad, iPod touch (Apple's TopLevel schema).
TARGET_IOS: Final = 1

UuidFactory = Callable[[], uuid.UUID]


def profile_identifier(address: EmailAddress) -> str:
    """``com.mailsetup.<hash>``: the same for the same address (any case), different for
    different ones, and without the address itself (profiles are shared and listed)."""
    digest = hashlib.sha256(str(address).lower().encode("utf-8")).hexdigest()[:24]
    return f"{IDENTIFIER_PREFIX}.{digest}"


def build_profile(
    account: ExportAccount,
    *,
    language: Language = DEFAULT_LANGUAGE,
    organisation: str | None = None,
    uuid_factory: UuidFactory = uuid.uuid4,
) -> dict[str, Any]:
    """The profile as a property-list dictionary (see the module docstring)."""
    base = profile_identifier(account.address)
    email = account.email

    def say(key: str, **params: str) -> str:
        return render(Text(key, dict(params)), language)

    def header(kind: str, suffix: str, name_key: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "PayloadType": kind,
            "PayloadVersion": 1,
            "PayloadIdentifier": f"{base}.{suffix}",
            "PayloadUUID": str(uuid_factory()).upper(),
            "PayloadDisplayName": say(name_key, address=email),
        }
        if organisation:
            payload["PayloadOrganization"] = organisation
        return payload

    config = account.config
    content: list[dict[str, Any]] = []
    if account.microsoft is not None:
        eas = header("com.apple.eas.account", "eas", "export.mobileconfig.exchange-name")
        content.append(_exchange(account, eas))
    else:
        mail = header("com.apple.mail.managed", "mail", "export.mobileconfig.mail-name")
        content.append(_mail(account, mail))
        if config.caldav:
            caldav = header("com.apple.caldav.account", "caldav", "export.mobileconfig.caldav-name")
            content.append(_dav(account, Protocol.CALDAV, config.caldav, caldav))
        if config.carddav:
            carddav = header(
                "com.apple.carddav.account", "carddav", "export.mobileconfig.carddav-name"
            )
            content.append(_dav(account, Protocol.CARDDAV, config.carddav, carddav))
    profile: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": base,
        "PayloadUUID": str(uuid_factory()).upper(),
        "PayloadDisplayName": say("export.mobileconfig.profile-name", address=email),
        "PayloadDescription": say(
            "export.mobileconfig.exchange-description"
            if account.microsoft is not None
            else "export.mobileconfig.profile-description",
            address=email,
        ),
        "PayloadRemovalDisallowed": False,
        "PayloadContent": content,
    }
    if organisation:
        profile["PayloadOrganization"] = organisation
    if account.microsoft is not None:
        profile["TargetDeviceType"] = TARGET_IOS
    return profile


def _auth(account: ExportAccount) -> str:
    return "EmailAuthNone" if account.config.auth is AuthKind.NONE else "EmailAuthPassword"


def _mail(account: ExportAccount, payload: dict[str, Any]) -> dict[str, Any]:
    config = account.config
    incoming = config.incoming
    payload.update(
        {
            "EmailAccountType": (
                "EmailTypeIMAP" if incoming.protocol is Protocol.IMAP else "EmailTypePOP"
            ),
            "EmailAccountDescription": account.account_label,
            "EmailAddress": account.email,
            "IncomingMailServerAuthentication": _auth(account),
            "IncomingMailServerHostName": incoming.host,
            "IncomingMailServerPortNumber": incoming.port,
            "IncomingMailServerUseSSL": incoming.security.is_encrypted,
        }
    )
    if account.display_name:
        payload["EmailAccountName"] = account.display_name
    if incoming.username:
        payload["IncomingMailServerUsername"] = incoming.username
    outgoing = config.outgoing
    if outgoing is None:
        # The schema requires an outgoing server; without one known, the device asks. The
        # incoming host is the usual guess, on the submission port with STARTTLS.
        outgoing = Endpoint(Protocol.SMTP, incoming.host, 587, Security.STARTTLS, incoming.username)
    payload.update(
        {
            "OutgoingMailServerAuthentication": _auth(account),
            "OutgoingMailServerHostName": outgoing.host,
            "OutgoingMailServerPortNumber": outgoing.port,
            "OutgoingMailServerUseSSL": outgoing.security.is_encrypted,
        }
    )
    if outgoing.username:
        payload["OutgoingMailServerUsername"] = outgoing.username
    if account.password is not None:
        payload["IncomingPassword"] = account.password.reveal()
        payload["OutgoingPassword"] = account.password.reveal()
    elif config.auth is not AuthKind.NONE:
        payload["OutgoingPasswordSameAsIncomingPassword"] = True
    return payload


def _dav(
    account: ExportAccount, protocol: Protocol, url: str, payload: dict[str, Any]
) -> dict[str, Any]:
    prefix = "CalDAV" if protocol is Protocol.CALDAV else "CardDAV"
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    payload[f"{prefix}AccountDescription"] = payload["PayloadDisplayName"]
    payload[f"{prefix}HostName"] = normalise_host(parts.hostname or "")
    payload[f"{prefix}Port"] = parts.port or (443 if secure else 80)
    payload[f"{prefix}UseSSL"] = secure
    if parts.path not in ("", "/"):
        payload[f"{prefix}PrincipalURL"] = url
    login = account.dav_login
    if login:
        payload[f"{prefix}Username"] = login
    if account.password is not None:
        payload[f"{prefix}Password"] = account.password.reveal()
    return payload


def _exchange(account: ExportAccount, payload: dict[str, Any]) -> dict[str, Any]:
    payload.update(
        {
            "EmailAddress": account.email,
            "Host": account.config.incoming.host,
            "SSL": True,
            "OAuth": True,
            "UserName": account.login_or_address(account.config.incoming),
        }
    )
    return payload


# --- the export -------------------------------------------------------------------------------


def mobileconfig(
    account: ExportAccount,
    *,
    language: Language = DEFAULT_LANGUAGE,
    organisation: str | None = None,
    signer: ProfileSigner | None = None,
    uuid_factory: UuidFactory = uuid.uuid4,
) -> Export:
    """The ``.mobileconfig`` for ``account``, signed when ``signer`` is given."""
    profile = build_profile(
        account, language=language, organisation=organisation, uuid_factory=uuid_factory
    )
    data = plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)
    findings: list[Finding] = []
    if account.microsoft is not None:
        findings.append(
            finding("export.mobileconfig.exchange", FORMAT, Text("export.mobileconfig.exchange"))
        )
        findings.append(
            finding(
                "export.mac-use-outlook",
                FORMAT,
                Text("export.mac-use-outlook.cause"),
                fix=Text("export.mac-use-outlook.fix"),
                fixer=Fixer.USER,
            )
        )
        if account.password is not None:
            findings.append(
                finding("export.password-not-written", FORMAT, Text("export.password-not-written"))
            )
    else:
        if account.password is not None:
            findings.append(password_included(FORMAT))
        if account.config.outgoing is None:
            findings.append(
                finding(
                    "export.mobileconfig.outgoing-guessed",
                    FORMAT,
                    Text(
                        "export.mobileconfig.outgoing-guessed",
                        {"host": account.config.incoming.host},
                    ),
                    outcome=Outcome.WARNING,
                    fixer=Fixer.USER,
                )
            )
    if account.is_icloud:
        findings.append(
            finding("export.icloud-second-account", FORMAT, Text("export.icloud-second-account"))
        )
    if signer is None:
        findings.append(
            finding("export.mobileconfig.unsigned", FORMAT, Text("export.mobileconfig.unsigned"))
        )
    else:
        data = sign_profile(data, signer)
    instructions: tuple[Text, ...]
    if account.microsoft is not None:
        instructions = (
            Text("export.mobileconfig.step.ios-exchange"),
            Text("export.mobileconfig.step.mac-exchange", {"address": account.email}),
        )
    else:
        instructions = (
            Text("export.mobileconfig.step.ios"),
            Text("export.mobileconfig.step.mac"),
            Text(
                "export.mobileconfig.step.password-saved"
                if account.password is not None
                else "export.mobileconfig.step.password"
            ),
        )
    return Export(
        format=FORMAT,
        content=data,
        file_name=f"{safe_file_stem(account)}.mobileconfig",
        media_type=MEDIA_TYPE,
        findings=tuple(findings),
        instructions=instructions,
    )


# --- signing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileSigner:
    """A certificate with its private key (RSA or EC) and the intermediate certificates to
    include, so devices can build the chain."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...] = ()


def load_signer(
    certificate_pem: bytes,
    key_pem: bytes,
    chain_pem: bytes | None = None,
    *,
    key_password: bytes | None = None,
) -> ProfileSigner:
    """A signer from PEM data. InvalidSettingError (``export.signing``) saying what is wrong:
    not a certificate, not a key, an encrypted key without its password, a key that does not
    belong to the certificate."""
    try:
        certificates = x509.load_pem_x509_certificates(certificate_pem)
    except ValueError as exc:
        raise _signing_error("--sign-cert", "export.signing.no-certificate") from exc
    try:
        key = serialization.load_pem_private_key(key_pem, password=key_password)
    except TypeError as exc:  # encrypted without a password, or a password for a plain key
        raise _signing_error("--sign-key", "export.signing.key-password") from exc
    except ValueError as exc:
        raise _signing_error("--sign-key", "export.signing.no-key") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise _signing_error("--sign-key", "export.signing.no-key")
    certificate = certificates[0]
    public = certificate.public_key()
    if public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise _signing_error("--sign-key", "export.signing.mismatch")
    chain = list(certificates[1:])
    if chain_pem:
        try:
            chain.extend(x509.load_pem_x509_certificates(chain_pem))
        except ValueError as exc:
            raise _signing_error("--sign-chain", "export.signing.no-certificate") from exc
    return ProfileSigner(certificate, key, tuple(chain))


def _signing_error(switch: str, key: str) -> InvalidSettingError:
    return InvalidSettingError(
        switch,
        Text(key, {"switch": switch}),
        code="export.signing",
        fix=Text("export.signing.fix"),
        checked=Text("export.check", {"format": FORMAT}),
        fixer=Fixer.USER,
    )


def sign_profile(data: bytes, signer: ProfileSigner) -> bytes:
    """``data`` wrapped in CMS/PKCS#7 SignedData (DER, content attached, SHA-256), with the
    signer's certificate and chain: what ``openssl smime -sign -nodetach -binary -outform der``
    makes and what Apple devices read as a signed profile."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
    builder = builder.add_signer(signer.certificate, signer.key, hashes.SHA256())
    for certificate in signer.chain:
        builder = builder.add_certificate(certificate)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
