"""Tenant discovery: does a Microsoft Entra tenant own this domain, and in which cloud?

``GET https://login.microsoftonline.com/<domain>/v2.0/.well-known/openid-configuration`` sends
only the domain. A tenant that owns the domain answers with its OpenID configuration: the
tenant id is in the ``issuer`` (and the endpoints), the cloud in ``cloud_instance_name`` and
``tenant_region_scope`` / ``tenant_region_sub_scope``. A domain no tenant owns gets HTTP 400
with ``AADSTS90002`` (tenant not found) or ``AADSTS900023`` (not a tenant name at all).

:func:`parse_tenant_answer` is sans-I/O; :func:`discover_tenant` fetches through the seam.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlsplit

import httpx

from app.core.discovery.clientconfig import DiscoveryDocumentError, shown
from app.core.errors import ServerError
from app.core.net import HttpResult, Network
from app.core.texts import Text

__all__ = [
    "MAX_JSON_BYTES",
    "TenantInfo",
    "TenantNotFound",
    "discover_tenant",
    "openid_configuration_url",
    "parse_tenant_answer",
]

#: The largest JSON answer read from Microsoft's sign-in and Autodiscover services.
MAX_JSON_BYTES: Final = 256 * 1024
GUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
#: AADSTS codes that mean "no tenant has this name".
NOT_A_TENANT_CODES: Final = frozenset({90002, 900023})


@dataclass(frozen=True)
class TenantInfo:
    """A tenant that owns the domain. ``issuer_host`` is the host of the ``issuer`` URL."""

    tenant_id: str
    cloud_instance_name: str | None
    region_scope: str | None
    region_sub_scope: str | None
    issuer: str | None
    issuer_host: str | None


@dataclass(frozen=True)
class TenantNotFound:
    """HTTP 400 with AADSTS90002 or AADSTS900023: no tenant owns the domain. ``code`` is the
    AADSTS code as text (``"AADSTS90002"``), ``description`` the service's own words."""

    code: str
    description: str


def openid_configuration_url(login_host: str, domain_ascii: str) -> str:
    return (
        f"https://{login_host}/{quote(domain_ascii, safe='')}/v2.0/.well-known/openid-configuration"
    )


def _unreadable(problem: str, source: str | None) -> DiscoveryDocumentError:
    detail: dict[str, str | int] = {"problem": shown(problem, 200)}
    if source is not None:
        detail["source"] = shown(source)
    return DiscoveryDocumentError(
        Text("discovery.microsoft.tenant.unreadable"),
        code="discovery.microsoft.tenant.unreadable",
        checked=Text("discovery.microsoft.check.tenant-any"),
        detail=detail,
    )


def _json_object(body: bytes, source: str | None) -> dict[str, object]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _unreadable(f"not JSON: {exc}", source) from exc
    if not isinstance(value, dict):
        raise _unreadable("the JSON answer is not an object", source)
    return {str(k).lower(): v for k, v in value.items()}


def _text(fields: Mapping[str, object], key: str) -> str | None:
    value = fields.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _tenant_id_of(url: str | None) -> str | None:
    """The first path segment of ``url`` that is a GUID (``/<tenant>/v2.0``)."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for segment in path.split("/"):
        if GUID.fullmatch(segment):
            return segment.lower()
    return None


def _aadsts_codes(fields: Mapping[str, object]) -> set[int]:
    codes: set[int] = set()
    listed = fields.get("error_codes")
    if isinstance(listed, list):
        codes.update(c for c in listed if isinstance(c, int) and not isinstance(c, bool))
    description = _text(fields, "error_description") or ""
    for match in re.finditer(r"AADSTS(\d{4,7})", description):
        codes.add(int(match.group(1)))
    return codes


def parse_tenant_answer(
    status: int, body: bytes, *, source: str | None = None
) -> TenantInfo | TenantNotFound:
    """Interpret tenant discovery's answer.

    Raises DiscoveryDocumentError ``discovery.microsoft.tenant.unreadable`` for a 200 or 400
    whose body is not the expected JSON (or names no tenant id), and ServerError
    ``discovery.microsoft.tenant.http-error`` for any other status.
    """
    if status == 400:
        fields = _json_object(body, source)
        codes = _aadsts_codes(fields)
        if codes & NOT_A_TENANT_CODES or _text(fields, "error") == "invalid_tenant":
            found = min(codes & NOT_A_TENANT_CODES, default=90002)
            return TenantNotFound(
                code=f"AADSTS{found}",
                description=shown(_text(fields, "error_description") or "", 300),
            )
        raise _unreadable(f"HTTP 400 without a tenant-not-found code ({sorted(codes)})", source)
    if status != 200:
        raise ServerError(
            "login.microsoftonline.com",
            Text("discovery.microsoft.tenant.http-error", {"status": status}),
            code="discovery.microsoft.tenant.http-error",
            checked=Text("discovery.microsoft.check.tenant-any"),
            detail={"status": status, **({"source": shown(source)} if source else {})},
        )
    fields = _json_object(body, source)
    issuer = _text(fields, "issuer")
    tenant_id = (
        _tenant_id_of(issuer)
        or _tenant_id_of(_text(fields, "token_endpoint"))
        or _tenant_id_of(_text(fields, "authorization_endpoint"))
    )
    if tenant_id is None:
        raise _unreadable("no tenant id in issuer or endpoints", source)
    issuer_host = None
    if issuer is not None:
        try:
            issuer_host = (urlsplit(issuer).hostname or "").lower() or None
        except ValueError:
            issuer_host = None
    return TenantInfo(
        tenant_id=tenant_id,
        cloud_instance_name=(_text(fields, "cloud_instance_name") or "").lower() or None,
        region_scope=_text(fields, "tenant_region_scope"),
        region_sub_scope=_text(fields, "tenant_region_sub_scope"),
        issuer=issuer,
        issuer_host=issuer_host,
    )


async def discover_tenant(
    net: Network, client: httpx.AsyncClient, login_host: str, domain_ascii: str
) -> tuple[TenantInfo | TenantNotFound, HttpResult]:
    """Ask ``login_host`` which tenant owns ``domain_ascii``. Raises the seam's SetupErrors
    and those of :func:`parse_tenant_answer`."""
    url = openid_configuration_url(login_host, domain_ascii)
    result = await net.fetch(
        url, headers={"Accept": "application/json"}, max_bytes=MAX_JSON_BYTES, client=client
    )
    return parse_tenant_answer(result.status, result.body, source=url), result
