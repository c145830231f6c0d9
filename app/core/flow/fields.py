"""The expert's view of an account's servers: every field as text, checked field by field, and
turned into an :class:`~app.core.model.AccountConfig` (source ``manual``)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from app.core.errors import InvalidSettingError
from app.core.flow.problems import Problem
from app.core.model import (
    AccountConfig,
    AuthKind,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
    normalise_host,
)
from app.core.texts import Text

__all__ = ["ServerFields", "build_config", "fields_from_config"]

_INCOMING = ("imap", "pop3")


@dataclass(frozen=True, kw_only=True)
class ServerFields:
    """Every server setting as the person typed it. Empty ``outgoing_host`` means no sending
    server; empty ``caldav``/``carddav`` means none."""

    incoming_protocol: str = "imap"
    incoming_host: str = ""
    incoming_port: str = "993"
    incoming_security: str = "tls"
    incoming_username: str = ""
    outgoing_host: str = ""
    outgoing_port: str = "465"
    outgoing_security: str = "tls"
    outgoing_username: str = ""
    caldav: str = ""
    carddav: str = ""
    auth: str = AuthKind.PASSWORD.value


def fields_from_config(config: AccountConfig | None) -> ServerFields:
    """The fields showing ``config`` (empty defaults when there is none)."""
    if config is None:
        return ServerFields()
    out = config.outgoing
    return ServerFields(
        incoming_protocol=config.incoming.protocol.value,
        incoming_host=config.incoming.host_unicode,
        incoming_port=str(config.incoming.port),
        incoming_security=config.incoming.security.value,
        incoming_username=config.incoming.username or "",
        outgoing_host="" if out is None else out.host_unicode,
        outgoing_port="465" if out is None else str(out.port),
        outgoing_security="tls" if out is None else out.security.value,
        outgoing_username="" if out is None or out.username is None else out.username,
        caldav=config.caldav or "",
        carddav=config.carddav or "",
        auth=config.auth.value,
    )


def build_config(
    fields: ServerFields, base: AccountConfig | None = None
) -> tuple[AccountConfig | None, tuple[Problem, ...]]:
    """The settings ``fields`` describe, and every problem found (blocking ones mean no
    config). The provider of ``base`` (the settings being edited) is kept."""
    problems: list[Problem] = []
    protocol = fields.incoming_protocol.strip().lower()
    if protocol not in _INCOMING:
        problems.append(Problem("incoming.protocol", Text("flow.problem.incoming-protocol")))
        protocol = "imap"
    incoming = _endpoint(
        "incoming",
        Protocol(protocol),
        (fields.incoming_host, fields.incoming_port, fields.incoming_security),
        fields.incoming_username,
        problems,
    )
    outgoing: Endpoint | None = None
    if fields.outgoing_host.strip():
        outgoing = _endpoint(
            "outgoing",
            Protocol.SMTP,
            (fields.outgoing_host, fields.outgoing_port, fields.outgoing_security),
            fields.outgoing_username,
            problems,
        )
    else:
        problems.append(Problem("outgoing.host", Text("flow.problem.no-outgoing"), False))
    try:
        auth = AuthKind(fields.auth.strip().lower())
    except ValueError:
        problems.append(Problem("auth", Text("flow.problem.auth")))
        auth = AuthKind.PASSWORD
    if any(p.blocking for p in problems) or incoming is None:
        return None, tuple(problems)
    try:
        config = AccountConfig(
            incoming=incoming,
            outgoing=outgoing,
            caldav=_clean(fields.caldav) or None,
            carddav=_clean(fields.carddav) or None,
            auth=auth,
            provider_id=None if base is None else base.provider_id,
            provider_name=None if base is None else base.provider_name,
            hints=() if base is None else base.hints,
            provenance=Provenance("manual", Trust.HIGH, over_https=False),
        )
    except InvalidSettingError as error:
        problems.append(Problem(error.setting, error.message))
        return None, tuple(problems)
    return config, tuple(problems)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _endpoint(
    side: str,
    protocol: Protocol,
    host_port_security: tuple[str, str, str],
    username: str,
    problems: list[Problem],
) -> Endpoint | None:
    host_text, port_text, security_text = host_port_security
    ok = True
    try:
        host = normalise_host(host_text)
    except InvalidSettingError as error:
        problems.append(Problem(f"{side}.host", error.message))
        ok = False
    port_clean = _clean(port_text)
    if not port_clean.isascii() or not port_clean.isdigit():
        problems.append(
            Problem(f"{side}.port", Text("flow.problem.port-number", {"port": port_text}))
        )
        ok = False
    elif not 1 <= int(port_clean) <= 65535:
        problems.append(Problem(f"{side}.port", Text("setting.port-range", {"port": port_clean})))
        ok = False
    try:
        security = Security(security_text.strip().lower())
    except ValueError:
        problems.append(Problem(f"{side}.security", Text("flow.problem.security")))
        ok = False
    if not ok:
        return None
    if security is Security.PLAIN:
        problems.append(Problem(f"{side}.security", Text("flow.problem.unencrypted"), False))
    return Endpoint(protocol, host, int(port_clean), security, username.strip() or None)
