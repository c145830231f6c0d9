"""MSAL's HTTP through the network seam.

MSAL accepts any object with ``requests``-like ``get`` and ``post`` as its ``http_client``.
``SeamHttpClient`` is that object, built on :meth:`app.core.net.Network.fetch`, so every
request MSAL makes (tenant discovery, the token endpoint, user realm) obeys ``--resolve``, the
DNS server, ``--ca-bundle``, the operating system's trust store, the proxy choice and offline
mode, and never reads ``REQUESTS_CA_BUNDLE`` or other environment variables of ``requests``.

MSAL's calls are blocking; the sign-in code runs them in a worker thread. Each request runs
its own event loop there (``asyncio.run``); called from a thread whose loop is running, the
request runs in a short-lived helper thread instead (the caller still blocks).

Redirects are never followed: a 3xx answer raises ``ServerError`` (code
``signin.redirected``) naming where it pointed, because Microsoft's sign-in endpoints do not
redirect API calls, and following one silently could send a token request elsewhere.
Failures of the seam (DNS, connection, TLS, deadline) propagate as its ``SetupError``s.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

from app.core.errors import ServerError
from app.core.net import DEFAULT_MAX_BYTES, HttpResult, Network
from app.core.texts import Text

__all__ = ["HttpStatusError", "SeamHttpClient", "SeamResponse"]

_FORM: Final = "application/x-www-form-urlencoded"
_T = TypeVar("_T")


class HttpStatusError(Exception):
    """``SeamResponse.raise_for_status()`` for a 4xx or 5xx answer."""

    def __init__(self, status_code: int, url: str) -> None:
        super().__init__(f"HTTP {status_code} from {url}")
        self.status_code = status_code
        self.url = url


class SeamResponse:
    """What MSAL reads of a response: ``status_code``, ``text``, ``headers``."""

    def __init__(self, result: HttpResult) -> None:
        self.status_code: int = result.status
        self.text: str = result.text()
        # comma-joined duplicates, lower-case names (what MSAL's throttling expects)
        self.headers: dict[str, str] = {k.lower(): v for k, v in result.headers.items()}
        self.url: str = result.url

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HttpStatusError(self.status_code, self.url)

    def __repr__(self) -> str:
        return f"<SeamResponse {self.status_code} {self.url}>"


def _with_params(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    extra = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """Headers as strings; ``None`` values dropped (``requests`` does the same)."""
    return {str(k): str(v) for k, v in (headers or {}).items() if v is not None}


def _body(data: Any, headers: dict[str, str]) -> bytes | None:
    if data is None:
        return None
    if isinstance(data, Mapping):
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = _FORM
        pairs = [(k, v) for k, v in data.items() if v is not None]
        return urlencode(pairs, doseq=True).encode("utf-8")
    if isinstance(data, bytes):
        return data
    return str(data).encode("utf-8")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` to completion from blocking code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def helper() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=helper, name="msal-http", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: _T = outcome["value"]
    return value


class SeamHttpClient:
    """An ``http_client`` for ``msal.PublicClientApplication`` over ``net``."""

    def __init__(self, net: Network, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.net = net
        self.max_bytes = max_bytes

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> SeamResponse:
        """HTTP GET; extra keywords of ``requests`` (``timeout``...) are ignored: the seam's
        own timeouts apply."""
        del kwargs
        return self._request("GET", _with_params(url, params), _headers(headers), None)

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> SeamResponse:
        """HTTP POST of ``data`` (a mapping is form-encoded, a string sent as it is)."""
        del kwargs
        sent = _headers(headers)
        body = _body(data, sent)
        return self._request("POST", _with_params(url, params), sent, body)

    def close(self) -> None:
        """Nothing to close: each request uses its own connection."""

    def _request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> SeamResponse:
        result = _run(
            self.net.fetch(
                url, method=method, headers=headers, content=body, max_bytes=self.max_bytes
            )
        )
        if 300 <= result.status < 400:
            host = urlsplit(url).hostname or url
            location = result.location or ""
            raise ServerError(
                host,
                Text("auth.http.redirected", {"host": host, "location": location or "-"}),
                code="signin.redirected",
                help_topic="microsoft-sign-in",
                detail={"host": host, "status": result.status, "location": location},
            )
        return SeamResponse(result)
