"""The build's publisher settings: ``resources/config/publisher.toml``.

The packaging writes this file from build settings (see docs/admin-guide.md, "The publisher's
client ID"), so that a release can carry the publisher's own application registration. An
organisation's configuration overrides it like any lower layer. :func:`publisher_toml` makes the
file's text; the program reads it with the other layers.
"""

from __future__ import annotations

import json

from app.core.config import values
from app.core.config.values import InvalidValue
from app.core.errors import InvalidSettingError

_HEADER = """\
# The publisher's settings of this build: written by the packaging, not edited by hand.
# A release may carry the publisher's own Microsoft application registration here; an
# organisation's configuration overrides it. Empty client_id: no built-in registration.
schema_version = 1
"""


def publisher_toml(
    client_id: str | None = None, *, account_types: str | None = None, tenant: str | None = None
) -> str:
    """The text of ``publisher.toml`` for a build: the client ID (None or "" for none) and,
    optionally, the account types the registration accepts and its tenant. Raises
    ``InvalidSettingError`` (a ``ValueError``) for a value the program would refuse."""
    lines = [_HEADER, "[microsoft]"]
    fields = (
        ("client_id", values.client_id, client_id or ""),
        ("account_types", values.account_types, account_types),
        ("tenant", values.tenant, tenant),
    )
    for name, parse, raw in fields:
        if raw is None:
            continue
        try:
            parse(raw, None)
        except InvalidValue as problem:
            raise InvalidSettingError(name, problem.reason, code=problem.code) from problem
        # a JSON string is a valid TOML basic string
        lines.append(f"{name} = {json.dumps(raw.strip(), ensure_ascii=False)}")
    return "\n".join(lines) + "\n"
