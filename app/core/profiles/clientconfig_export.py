"""Thunderbird's clientConfig v1.1 format (``config-v1.1.xml``) written for one account, for
mail programs that read it and for a domain's ``autoconfig`` server.

One ``<emailProvider>`` with the account's domain, its incoming server (IMAP or POP3) and
outgoing server, with the account's real sign-in names (not placeholders: the file describes
this account), and ``<calendar type="caldav">`` / ``<addressBook type="carddav">`` when the
account has them. Sign-in: ``password-cleartext`` (the password inside TLS), ``OAuth2`` for
Microsoft and Google accounts, ``none`` for none. No password is ever written: the file is
meant to be shared. The reader in ``app.core.discovery.clientconfig`` reads it back (tested).
"""

from __future__ import annotations

from typing import Final
from xml.etree import ElementTree as ET

from app.core.model import AuthKind, Endpoint, Finding, Security
from app.core.profiles.common import (
    Export,
    ExportAccount,
    assumed_login_findings,
    finding,
    safe_file_stem,
)
from app.core.texts import Text

__all__ = ["FORMAT", "clientconfig_export", "clientconfig_xml"]

FORMAT: Final = "clientconfig"
MEDIA_TYPE: Final = "application/xml"
_SOCKET: Final = {Security.TLS: "SSL", Security.STARTTLS: "STARTTLS", Security.PLAIN: "plain"}


def _auth(kind: AuthKind) -> str:
    if kind.is_oauth or kind is AuthKind.EXCHANGE_HYBRID:
        return "OAuth2"
    if kind is AuthKind.NONE:
        return "none"
    return "password-cleartext"


def _server(parent: ET.Element, tag: str, endpoint: Endpoint, account: ExportAccount) -> None:
    element = ET.SubElement(parent, tag, {"type": endpoint.protocol.value})
    ET.SubElement(element, "hostname").text = endpoint.host
    ET.SubElement(element, "port").text = str(endpoint.port)
    ET.SubElement(element, "socketType").text = _SOCKET[endpoint.security]
    ET.SubElement(element, "username").text = account.login_or_address(endpoint)
    ET.SubElement(element, "authentication").text = _auth(account.config.auth)


def _dav(root: ET.Element, tag: str, kind: str, url: str, account: ExportAccount) -> None:
    element = ET.SubElement(root, tag, {"type": kind})
    login = account.dav_login
    if login:
        ET.SubElement(element, "username").text = login
    ET.SubElement(element, "authentication").text = (
        "OAuth2" if account.config.auth.is_oauth else "http-basic"
    )
    ET.SubElement(element, "serverURL").text = url


def clientconfig_xml(account: ExportAccount) -> bytes:
    """The document, UTF-8, indented."""
    config = account.config
    domain = account.address.domain_ascii
    root = ET.Element("clientConfig", {"version": "1.1"})
    provider = ET.SubElement(root, "emailProvider", {"id": config.provider_id or domain})
    ET.SubElement(provider, "domain").text = domain
    ET.SubElement(provider, "displayName").text = config.provider_name or account.address.domain
    ET.SubElement(provider, "displayShortName").text = (
        config.provider_name or account.address.domain
    )
    _server(provider, "incomingServer", config.incoming, account)
    if config.outgoing is not None:
        _server(provider, "outgoingServer", config.outgoing, account)
    if config.carddav:
        _dav(root, "addressBook", "carddav", config.carddav, account)
    if config.caldav:
        _dav(root, "calendar", "caldav", config.caldav, account)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def clientconfig_export(account: ExportAccount) -> Export:
    findings: list[Finding] = list(assumed_login_findings(account, FORMAT))
    if account.password is not None:
        findings.append(
            finding(
                "export.clientconfig.password-not-written",
                FORMAT,
                Text("export.clientconfig.password-not-written"),
            )
        )
    return Export(
        format=FORMAT,
        content=clientconfig_xml(account),
        file_name=f"{safe_file_stem(account)}.config-v1.1.xml",
        media_type=MEDIA_TYPE,
        findings=tuple(findings),
        instructions=(
            Text("export.clientconfig.step.use"),
            Text("export.clientconfig.step.publish", {"domain": account.address.domain_ascii}),
        ),
    )
