"""The findings of the Microsoft discovery source, all with codes ``discovery.microsoft.*``.

Codes have the form ``discovery.microsoft.<stage>.<what>``; the stages are ``tenant`` (tenant
discovery), ``cloud`` (the tenant's cloud), ``realm`` (user realm), ``autodiscover`` (the
Autodiscover v2 chain), ``redirect`` (a redirect of that chain that was refused), ``bearer``
(the empty-Bearer probe of the Exchange server) and ``mx``. A failure of the network seam or of
a parser keeps its message and fix and gets a code of this form too (see :func:`from_error`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

from app.core.discovery.clientconfig import DiscoveryDocumentError
from app.core.errors import (
    ConnectError,
    DeadlineError,
    DNSError,
    Fixer,
    NetworkError,
    ServerError,
    SetupError,
    TLSError,
)
from app.core.model import Finding, Outcome
from app.core.texts import Text

PREFIX: Final = "discovery.microsoft"
HELP_TOPIC: Final = "microsoft"


def make(
    what: str,
    outcome: Outcome,
    checked: Text,
    cause: Text,
    *,
    fix: Text | None = None,
    fixer: Fixer = Fixer.NOBODY,
    server_said: str | None = None,
    detail: Mapping[str, str | int] | None = None,
) -> Finding:
    """A finding with the code ``discovery.microsoft.<what>`` (``what`` is ``stage.problem``)."""
    return Finding(
        code=f"{PREFIX}.{what}",
        checked=checked,
        outcome=outcome,
        cause=cause,
        fix=fix,
        fixer=fixer,
        help_topic=HELP_TOPIC,
        server_said=server_said,
        detail=dict(detail or {}),
    )


def problem_of(error: SetupError) -> str:
    """A short word for what went wrong: ``timeout``, ``tls``, ``dns``, ``connect``,
    ``too-large``, the parser's problem (``not-json``, ``malformed`` ...) or ``network``."""
    if isinstance(error, DiscoveryDocumentError):
        return error.code.rsplit(".", 1)[-1]
    if isinstance(error, DeadlineError):
        return "timeout"
    if isinstance(error, TLSError):
        return "tls"
    if isinstance(error, DNSError):
        return "dns"
    if isinstance(error, ConnectError):
        return "connect"
    if isinstance(error, ServerError) and error.code == "http.too-large":
        return "too-large"
    if isinstance(error, NetworkError):
        return "network" if error.code == "network.failed" else error.code.rsplit(".", 1)[-1]
    return "error"


def from_error(
    stage: str, error: SetupError, checked: Text, outcome: Outcome = Outcome.WARNING
) -> Finding:
    """``error`` as a finding ``discovery.microsoft.<stage>.<problem>`` (an error that already
    has a code of that stage keeps it); its own code is kept in ``detail["error"]``."""
    base = error.to_finding(checked)
    detail = dict(base.detail)
    detail["error"] = error.code
    own = f"{PREFIX}.{stage}."
    code = error.code if error.code.startswith(own) else own + problem_of(error)
    return dataclasses.replace(base, code=code, outcome=outcome, detail=detail)
