"""User realm: how Microsoft signs this address in (managed, federated, personal account).

``GET https://login.microsoftonline.com/common/userrealm/<address>?api-version=2.1``. This sends
the address to Microsoft, over HTTPS, as Microsoft's own clients (and MSAL's
``user_realm_discovery``) do before they show a sign-in page. The source asks only after tenant
discovery has shown that a Microsoft tenant owns the domain: the address of someone whose mail
is elsewhere is never sent.

The answer (version 2.1, and the older 1.0 form MSAL reads) says:

- ``NameSpaceType`` (1.0: ``account_type``): ``Managed`` (Microsoft checks the password),
  ``Federated`` (the organisation's own sign-in service, e.g. AD FS, at ``AuthURL``), ``Unknown``;
  1.0 says ``MSA`` for a personal Microsoft account;
- ``FederationBrandName``: the organisation's name as it shows on the sign-in page;
- ``IsConsumerDomain`` (where present): the domain is one of personal Microsoft accounts.

:func:`parse_user_realm` is sans-I/O; :func:`fetch_user_realm` fetches through the seam.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

import httpx

from app.core.discovery.clientconfig import DiscoveryDocumentError, is_valid_url, shown
from app.core.discovery.microsoft.tenant import MAX_JSON_BYTES
from app.core.errors import ServerError
from app.core.model import EmailAddress
from app.core.net import Network
from app.core.texts import Text

__all__ = ["Namespace", "RealmInfo", "fetch_user_realm", "parse_user_realm", "user_realm_url"]


class Namespace(StrEnum):
    """What kind of account the realm says the address is (values appear in JSON)."""

    MANAGED = "managed"
    FEDERATED = "federated"
    CONSUMER = "consumer"  # a personal Microsoft account (1.0: account_type MSA)
    UNKNOWN = "unknown"


_NAMESPACES = {
    "managed": Namespace.MANAGED,
    "federated": Namespace.FEDERATED,
    "msa": Namespace.CONSUMER,
    "unknown": Namespace.UNKNOWN,
}


@dataclass(frozen=True)
class RealmInfo:
    """The user realm. ``federation_host`` is the host of ``auth_url`` (only for a valid https
    URL); ``is_consumer`` is true for personal Microsoft accounts."""

    namespace: Namespace
    is_consumer: bool
    domain_name: str | None = None
    brand_name: str | None = None
    auth_url: str | None = None
    federation_host: str | None = None
    federation_protocol: str | None = None
    cloud_instance_name: str | None = None


def user_realm_url(login_host: str, address: EmailAddress) -> str:
    login = address.ascii if not address.needs_smtputf8 else str(address)
    return f"https://{login_host}/common/userrealm/{quote(login, safe='@')}?api-version=2.1"


def _unreadable(problem: str, source: str | None) -> DiscoveryDocumentError:
    detail: dict[str, str | int] = {"problem": shown(problem, 200)}
    if source is not None:
        detail["source"] = shown(source.split("?", 1)[0])
    return DiscoveryDocumentError(
        Text("discovery.microsoft.realm.unreadable"),
        code="discovery.microsoft.realm.unreadable",
        checked=Text("discovery.microsoft.check.realm"),
        detail=detail,
    )


def _text(fields: dict[str, object], *keys: str) -> str | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse_user_realm(body: bytes, *, source: str | None = None) -> RealmInfo:
    """Interpret a user realm answer (2.1 or 1.0 form; keys matched case-insensitively).

    Raises DiscoveryDocumentError ``discovery.microsoft.realm.unreadable`` for anything that is
    not a JSON object naming the kind of account."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _unreadable(f"not JSON: {exc}", source) from exc
    if not isinstance(value, dict):
        raise _unreadable("the JSON answer is not an object", source)
    fields = {str(k).lower(): v for k, v in value.items()}
    kind = _text(fields, "namespacetype", "account_type")
    if kind is None:
        raise _unreadable("no NameSpaceType or account_type", source)
    namespace = _NAMESPACES.get(kind.lower(), Namespace.UNKNOWN)
    consumer_flag = fields.get("isconsumerdomain")
    is_consumer = namespace is Namespace.CONSUMER or consumer_flag is True
    if is_consumer:
        namespace = Namespace.CONSUMER
    auth_url = _text(fields, "authurl", "federation_active_auth_url")
    federation_host = None
    if auth_url is not None and is_valid_url(auth_url, https_only=True):
        federation_host = (urlsplit(auth_url).hostname or "").lower() or None
    return RealmInfo(
        namespace=namespace,
        is_consumer=is_consumer,
        domain_name=_text(fields, "domainname", "domain_name"),
        brand_name=shown(b, 100) if (b := _text(fields, "federationbrandname")) else None,
        auth_url=shown(auth_url, 300) if auth_url else None,
        federation_host=federation_host,
        federation_protocol=_text(fields, "federation_protocol"),
        cloud_instance_name=_text(fields, "cloud_instance_name", "cloudinstancename"),
    )


async def fetch_user_realm(
    net: Network, client: httpx.AsyncClient, login_host: str, address: EmailAddress
) -> RealmInfo:
    """Ask ``login_host`` for the realm of ``address``. Raises the seam's SetupErrors,
    ServerError ``discovery.microsoft.realm.http-error`` for a status other than 200, and the
    parser's error."""
    url = user_realm_url(login_host, address)
    result = await net.fetch(
        url, headers={"Accept": "application/json"}, max_bytes=MAX_JSON_BYTES, client=client
    )
    if result.status != 200:
        raise ServerError(
            login_host,
            Text("discovery.microsoft.realm.http-error", {"status": result.status}),
            code="discovery.microsoft.realm.http-error",
            checked=Text("discovery.microsoft.check.realm"),
            detail={"status": result.status, "host": login_host},
        )
    return parse_user_realm(result.body, source=url)
