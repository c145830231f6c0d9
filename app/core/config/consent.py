"""The admin-consent link: the page where a tenant's administrator grants the application's
permissions for the whole organisation (``mailsetup admin consent-url --tenant T``). Pure."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from app.core.config import values
from app.core.config.values import InvalidValue
from app.core.errors import InvalidSettingError
from app.core.texts import Text

DEFAULT_AUTHORITY_HOST = "login.microsoftonline.com"


def admin_consent_url(
    tenant: str,
    client_id: str,
    redirect_uri: str,
    *,
    authority_host: str = DEFAULT_AUTHORITY_HOST,
) -> str:
    """``https://<authority_host>/<tenant>/adminconsent?client_id=...&redirect_uri=...``.

    ``tenant`` is the tenant's GUID or one of its domain names; ``authority_host`` the sign-in
    host of a national cloud when the tenant lives there. Raises ``InvalidSettingError`` (a
    ``ValueError``) naming the argument that is not valid.
    """
    checked: dict[str, str] = {}
    for name, parse, raw in (
        ("tenant", values.tenant, tenant),
        ("client_id", values.client_id, client_id),
        ("redirect_uri", values.redirect_uri, redirect_uri),
    ):
        try:
            parsed = parse(raw, None)
        except InvalidValue as problem:
            raise InvalidSettingError(name, problem.reason, code=problem.code) from problem
        if not isinstance(parsed, str):
            raise InvalidSettingError(name, Text("config.consent.empty", {"name": name}))
        checked[name] = parsed
    try:
        host = values.host_names([authority_host], None)[0]
    except InvalidValue as problem:
        raise InvalidSettingError("authority_host", problem.reason) from problem
    if host.startswith("*."):
        raise InvalidSettingError("authority_host", Text("config.host", {"value": authority_host}))
    query = urlencode({"client_id": checked["client_id"], "redirect_uri": checked["redirect_uri"]})
    return f"https://{host}/{quote(checked['tenant'], safe='')}/adminconsent?{query}"
