"""HTTP for the network seam: an httpx client whose every connection is made by the seam.

httpx has no ``--resolve``. Instead of patching names, the client gets its own transport over
httpcore connection pools whose *network backend* is the seam: httpcore asks to connect to
``autoconfig.example.test:443``, the seam finds the address (override, ``--dns-server`` or the
system) and connects there, and the TLS handshake httpcore then asks for is checked against
the name in the URL. So the URL, the Host header, SNI and the certificate check all keep the
original name while the TCP connection goes wherever the options say.

Redirects are never followed by default: callers such as Autodiscover judge each one. Bodies
of untrusted answers are read with a size cap (``read_capped``). Every response says whether
it came over plain HTTP (``is_plain_http``). Failures are ``SetupError`` subclasses, as
everywhere in the seam; a few httpx errors of the client's own making (an invalid URL given
to ``client.get``) stay httpx errors, which ``fetch`` maps too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from app import __version__
from app.core.errors import ConnectFailure, SetupError
from app.core.net import _errors
from app.core.net._errors import Address
from app.core.net.proxy import ProxyChooser, without_credentials
from app.core.net.tcp import AddressResolver, Connection, connect
from app.core.net.tls import TLSInfo

DEFAULT_MAX_BYTES = 1024 * 1024  # autoconfig XML, Autodiscover JSON: a few kilobytes in practice
USER_AGENT = f"mailsetup/{__version__}"
PLAIN_HTTP = "plain_http"  # the response extension that says "this came over plain HTTP"
PROXY = "proxy"  # the response extension naming the proxy used, without credentials
_KEEPALIVE_SECONDS = 5.0


class _SeamStream(httpcore.AsyncNetworkStream):
    """An httpcore network stream over a seam ``Connection``."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._connection.read(max_bytes, seconds=timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if buffer:
            await self._connection.write(buffer, seconds=timeout)

    async def aclose(self) -> None:
        await self._connection.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        hostname = server_hostname or self._connection.host
        await self._connection.upgrade(ssl_context, hostname, seconds=timeout)
        return self

    def get_extra_info(self, info: str) -> Any:
        connection = self._connection
        if info == "ssl_object":
            return connection.writer.get_extra_info("ssl_object")
        if info == "server_addr":
            return connection.peer
        if info == "client_addr":
            return connection.writer.get_extra_info("sockname")
        if info == "socket":
            return connection.writer.get_extra_info("socket")
        if info == "is_readable":
            # asyncio reads eagerly: a closed or chatty idle connection shows in its buffer
            return connection.closed or connection.reader.at_eof() or connection.buffered() > 0
        if info == "seam_connection":
            return connection
        return None


class _SeamBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend: every TCP connection through the seam's resolver."""

    def __init__(self, resolver: AddressResolver, default_timeout: float) -> None:
        self._resolver = resolver
        self._default_timeout = default_timeout

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        del local_address, socket_options
        target = await self._resolver.resolve(host, port)
        seconds = self._default_timeout if timeout is None else timeout
        # httpcore asks for TLS itself, with its context and the URL's host name (see upgrade)
        connection = await connect(target, tls=False, seconds=seconds, context=None)
        return _SeamStream(connection)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _errors.network_error(path, "Unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@contextlib.contextmanager
def _mapped(host: str, port: int, seconds: float, proxy: str | None) -> Iterator[None]:
    """httpcore's exceptions as the seam's."""
    try:
        yield
    except httpcore.ProxyError as exc:
        raise _errors.proxy_error(proxy or "proxy", host, str(exc)) from exc
    except httpcore.TimeoutException as exc:
        raise _errors.deadline_error(host, seconds, "http") from exc
    except httpcore.UnsupportedProtocol as exc:
        raise _errors.network_error(host, f"unsupported URL: {exc}") from exc
    except httpcore.ProtocolError as exc:
        raise _errors.network_error(host, f"HTTP protocol error: {exc}") from exc
    except httpcore.NetworkError as exc:
        raise _errors.connect_error(host, port, ConnectFailure.CLOSED, None, str(exc)) from exc


class _Body(httpx.AsyncByteStream):
    def __init__(
        self, stream: AsyncIterable[bytes], host: str, port: int, seconds: float, proxy: str | None
    ) -> None:
        self._stream = stream
        self._host = host
        self._port = port
        self._seconds = seconds
        self._proxy = proxy

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._host, self._port, self._seconds, self._proxy):
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class SeamTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections, TLS and proxies all go through the seam."""

    def __init__(
        self,
        resolver: AddressResolver,
        context: ssl.SSLContext,
        chooser: ProxyChooser,
        *,
        timeout: float,
        offline: bool,
    ) -> None:
        self._backend = _SeamBackend(resolver, timeout)
        self._context = context
        self._chooser = chooser
        self._timeout = timeout
        self._offline = offline
        self._direct = httpcore.AsyncConnectionPool(
            ssl_context=context,
            keepalive_expiry=_KEEPALIVE_SECONDS,
            network_backend=self._backend,
        )
        self._proxied: dict[str, httpcore.AsyncHTTPProxy] = {}

    def _proxy_pool(self, proxy_url: str) -> httpcore.AsyncHTTPProxy:
        pool = self._proxied.get(proxy_url)
        if pool is None:
            url = httpx.URL(proxy_url)
            auth = (url.username, url.password) if url.username else None
            pool = httpcore.AsyncHTTPProxy(
                proxy_url=httpcore.URL(
                    scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=b"/"
                ),
                proxy_auth=auth,
                ssl_context=self._context,
                proxy_ssl_context=self._context if url.scheme == "https" else None,
                keepalive_expiry=_KEEPALIVE_SECONDS,
                network_backend=self._backend,
            )
            self._proxied[proxy_url] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.host
        if self._offline:
            raise _errors.offline_error(host, url.port)
        if url.scheme not in ("http", "https"):
            raise _errors.network_error(host, f"unsupported URL scheme {url.scheme!r}")
        port = url.port or (443 if url.scheme == "https" else 80)
        proxy = await self._chooser.choose(url.scheme, host, port)
        pool: httpcore.AsyncConnectionPool = (
            self._direct if proxy is None else self._proxy_pool(proxy)
        )
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        shown = None if proxy is None else without_credentials(proxy)
        with _mapped(host, port, self._timeout, shown):
            response = await pool.handle_async_request(core_request)
        extensions = dict(response.extensions)
        extensions[PLAIN_HTTP] = url.scheme == "http"
        if shown is not None:
            extensions[PROXY] = shown
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, host, port, self._timeout, shown),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        await self._direct.aclose()
        for pool in self._proxied.values():
            await pool.aclose()


def make_client(
    transport: SeamTransport, timeout: float, headers: Mapping[str, str] | None = None
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` over ``transport``: no automatic redirects, no environment
    settings of httpx's own (the seam already applied the system's), ``timeout`` per phase."""
    merged = {"User-Agent": USER_AGENT}
    merged.update(headers or {})
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers=merged,
    )


def is_plain_http(response: httpx.Response) -> bool:
    """True when the response came over plain HTTP (no TLS between here and the server)."""
    flag = response.extensions.get(PLAIN_HTTP)
    return bool(flag) if flag is not None else response.url.scheme == "http"


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The (decoded) body, or a ``ServerError`` (``http.too-large``) as soon as it would be
    larger than ``max_bytes``: an untrusted server cannot make the program read forever."""
    host = response.url.host
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _errors.too_large_error(host, max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _errors.too_large_error(host, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class HttpResult:
    """One HTTP exchange, read whole (within the size cap)."""

    url: str  # the URL asked for
    status: int
    headers: httpx.Headers
    body: bytes
    plain_http: bool  # no TLS: anyone on the path could have read or changed it
    peer: Address | None  # the address connected to (the proxy's, through a proxy)
    tls: TLSInfo | None  # the handshake with the server (through a proxy too: it tunnels)
    proxy: str | None  # the proxy used, None when direct
    location: str | None  # a redirect's target, made absolute; None when not a redirect

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and self.location is not None

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body decoded with the declared charset, else UTF-8 (bad bytes replaced)."""
        charset = "utf-8"
        declared: str = self.headers.get("content-type", "")
        for part in declared.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"').strip()
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


def _tls_of(response: httpx.Response) -> tuple[Address | None, TLSInfo | None]:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None, None
    peer = stream.get_extra_info("server_addr")
    ssl_object = stream.get_extra_info("ssl_object")
    tls = TLSInfo.from_ssl_object(ssl_object, response.url.host) if ssl_object else None
    address: Address | None = (str(peer[0]), int(peer[1])) if peer else None
    return address, tls


def _location(response: httpx.Response) -> str | None:
    if not 300 <= response.status_code < 400:
        return None
    raw: str | None = response.headers.get("location")
    if not raw:
        return None
    try:
        return str(response.url.join(raw))
    except (httpx.InvalidURL, ValueError):
        return raw


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float,
) -> HttpResult:
    """One request through ``client``, the body read within ``max_bytes``, the whole exchange
    within ``deadline`` seconds. Redirects are returned, not followed."""
    try:
        request = client.build_request(method, url, headers=headers, content=content)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
        raise _errors.network_error(url, f"invalid URL: {exc}") from exc
    host = request.url.host
    try:
        async with asyncio.timeout(deadline):
            response = await client.send(request, stream=True)
            try:
                peer, tls = _tls_of(response)
                body = await read_capped(response, max_bytes)
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise _errors.deadline_error(host, deadline, "http") from exc
    except SetupError:
        raise
    except httpx.HTTPError as exc:  # a body that does not decode (gzip), and the like
        raise _errors.network_error(host, f"{type(exc).__name__}: {exc}") from exc
    return HttpResult(
        url=str(request.url),
        status=response.status_code,
        headers=response.headers,
        body=body,
        plain_http=is_plain_http(response),
        peer=peer,
        tls=tls,
        proxy=response.extensions.get(PROXY),
        location=_location(response),
    )
