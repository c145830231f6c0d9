"""HTTP through the network seam against the test world's web servers.

The servers answer for every test host on one port; the seam reaches them by name through
``--resolve``-style overrides (or the test DNS server), keeping the name for the URL, the Host
header, SNI and the certificate check. A small CONNECT proxy started inside the tests stands in
for a corporate proxy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import ssl
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from app.core.errors import DeadlineError, NetworkError, ServerError, TLSError, TLSFailure
from app.core.net import (
    USER_AGENT,
    HttpResult,
    Network,
    NetworkOptions,
    is_plain_http,
    parse_dns_server,
    parse_resolve,
    read_capped,
)
from tests.world.ca import CertPair, TestCA
from tests.world.dns import DNSServer
from tests.world.web import Response, WebServer, hang, huge, redirect

T = TypeVar("T")
HOST = "autoconfig.example.test"


def run(awaitable: Awaitable[T], limit: float = 15.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def seam(web: WebServer, test_ca: TestCA | None, *, port: int = 443, **options: object) -> Network:
    """A Network that sends HOST:port to ``web`` and trusts the test CA (unless None)."""
    return Network(
        NetworkOptions(
            resolve=(parse_resolve(f"{HOST}:{port}:127.0.0.1:{web.port}"),),
            ca_bundles=(test_ca.cert_path,) if test_ca else (),
            **options,  # type: ignore[arg-type]
        )
    )


def fetch(net: Network, url: str, **kwargs: object) -> HttpResult:
    return run(net.fetch(url, **kwargs))  # type: ignore[arg-type]


# --- the honest path -----------------------------------------------------------------------------


def test_https_by_name_through_an_override(web: WebServer, test_ca: TestCA) -> None:
    web.route("/mail/config-v1.1.xml", Response.xml("<clientConfig/>"), host=HOST)
    result = fetch(seam(web, test_ca), f"https://{HOST}/mail/config-v1.1.xml?emailaddress=a%40b")
    assert result.status == 200
    assert result.body == b"<clientConfig/>"
    assert result.text() == "<clientConfig/>"
    assert result.content_type == "application/xml"
    assert not result.plain_http
    assert result.peer == ("127.0.0.1", web.port)
    assert result.proxy is None
    assert result.location is None
    assert result.tls is not None and result.tls.certificate is not None
    assert "*.example.test" in result.tls.certificate.dns_names
    assert result.tls.server_hostname == HOST
    (request,) = web.requests_to("/mail/config-v1.1.xml")
    # URL, Host header and SNI keep the name; only the TCP connection went elsewhere
    assert request.host == HOST
    assert request.headers["Host"] == HOST
    assert request.sni == HOST
    assert request.query == {"emailaddress": "a@b"}
    assert request.headers["User-Agent"] == USER_AGENT


def test_a_wildcard_override_serves_every_host(web: WebServer, test_ca: TestCA) -> None:
    web.route("/x", Response.text("corp"), host="autodiscover.corp.test")
    web.route("/x", Response.text("example"), host=HOST)
    net = Network(
        NetworkOptions(
            resolve=(parse_resolve(f"*:443:127.0.0.1:{web.port}"),),
            ca_bundles=(test_ca.cert_path,),
        )
    )
    assert fetch(net, "https://autodiscover.corp.test/x").body == b"corp"
    assert fetch(net, f"https://{HOST}/x").body == b"example"


def test_post_with_a_body(web: WebServer, test_ca: TestCA) -> None:
    web.route("/echo", lambda r: Response.text(r.text().upper()), method="POST")
    result = fetch(
        seam(web, test_ca),
        f"https://{HOST}/echo",
        method="POST",
        content=b"hello",
        headers={"Content-Type": "text/plain"},
    )
    assert result.body == b"HELLO"


def test_the_dns_server_finds_the_host(web: WebServer, test_ca: TestCA, dns: DNSServer) -> None:
    dns.add(HOST, "A", "127.0.0.1")
    web.route("/ok", Response.text("found by DNS"))
    net = Network(
        NetworkOptions(dns_server=parse_dns_server(dns.address), ca_bundles=(test_ca.cert_path,))
    )
    result = fetch(net, f"https://{HOST}:{web.port}/ok")
    assert result.body == b"found by DNS"
    assert dns.queried(HOST)


def test_plain_http_is_flagged(plain_web: WebServer) -> None:
    plain_web.route("/mail/config-v1.1.xml", Response.xml("<clientConfig/>"))
    net = seam(plain_web, None, port=80)
    result = fetch(net, f"http://{HOST}/mail/config-v1.1.xml")
    assert result.status == 200
    assert result.plain_http
    assert result.tls is None

    async def raw() -> tuple[bool, bool]:
        async with net.http_client() as client:
            plain = await client.get(f"http://{HOST}/mail/config-v1.1.xml")
        return is_plain_http(plain), bool(plain.extensions.get("plain_http"))

    assert run(raw()) == (True, True)


def test_https_responses_are_not_flagged_plain(web: WebServer, test_ca: TestCA) -> None:
    web.route("/", Response.text("ok"))

    async def raw() -> bool:
        async with seam(web, test_ca).http_client() as client:
            return is_plain_http(await client.get(f"https://{HOST}/"))

    assert run(raw()) is False


# --- what the caller must judge itself: redirects, sizes ----------------------------------------


def test_redirects_are_returned_not_followed(web: WebServer, test_ca: TestCA) -> None:
    web.route("/start", redirect("/next", 302))
    web.route("/next", Response.text("followed"))
    result = fetch(seam(web, test_ca), f"https://{HOST}/start")
    assert result.status == 302
    assert result.is_redirect
    assert result.location == f"https://{HOST}/next"
    assert web.requests_to("/next") == []

    async def raw() -> int:
        async with seam(web, test_ca).http_client() as client:
            return (await client.get(f"https://{HOST}/start")).status_code

    assert run(raw()) == 302
    assert web.requests_to("/next") == []


@pytest.mark.parametrize("declare_length", [True, False])
def test_an_oversized_body_is_cut_off(
    web: WebServer, test_ca: TestCA, declare_length: bool
) -> None:
    web.route("/big", huge(50 * 1024 * 1024, declare_length=declare_length))
    started = time.monotonic()
    with pytest.raises(ServerError) as caught:
        fetch(seam(web, test_ca), f"https://{HOST}/big", max_bytes=64 * 1024)
    assert caught.value.code == "http.too-large"
    assert caught.value.detail["limit"] == 64 * 1024
    assert time.monotonic() - started < 5  # it stopped reading; 50 MB would take longer


def test_read_capped_on_a_raw_response(web: WebServer, test_ca: TestCA) -> None:
    web.route("/small", Response.text("x" * 100))
    web.route("/big", huge(1024 * 1024, declare_length=False))

    async def go() -> bytes:
        async with seam(web, test_ca).http_client() as client:
            async with client.stream("GET", f"https://{HOST}/small") as small:
                body = await read_capped(small, 100)
            async with client.stream("GET", f"https://{HOST}/big") as big:
                with pytest.raises(ServerError):
                    await read_capped(big, 1000)
            return body

    assert run(go()) == b"x" * 100


# --- refusals ------------------------------------------------------------------------------------


def test_an_unknown_ca_is_refused(web: WebServer) -> None:
    web.route("/", Response.text("secret"))
    with pytest.raises(TLSError) as caught:
        fetch(seam(web, None), f"https://{HOST}/")
    assert caught.value.failure is TLSFailure.UNTRUSTED
    assert web.requests == []


def test_a_name_the_certificate_does_not_cover_is_refused(web: WebServer, test_ca: TestCA) -> None:
    other = "mail.other.test"  # the world certificate covers example.test, corp.test ...
    net = Network(
        NetworkOptions(
            resolve=(parse_resolve(f"{other}:443:127.0.0.1:{web.port}"),),
            ca_bundles=(test_ca.cert_path,),
        )
    )
    with pytest.raises(TLSError) as caught:
        fetch(net, f"https://{other}/")
    assert caught.value.failure is TLSFailure.WRONG_HOST
    assert caught.value.detail["host"] == other
    assert web.requests == []


def test_an_expired_certificate_is_refused(make_web_server: object, test_ca: TestCA) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = test_ca.issue(
        (HOST,), not_before=now - dt.timedelta(days=60), not_after=now - dt.timedelta(days=1)
    )
    server: WebServer = make_web_server(cert=cert)  # type: ignore[operator]
    with pytest.raises(TLSError) as caught:
        fetch(seam(server, test_ca), f"https://{HOST}/")
    assert caught.value.failure is TLSFailure.EXPIRED


def test_offline_mode_sends_nothing(web: WebServer, test_ca: TestCA) -> None:
    with pytest.raises(NetworkError) as caught:
        fetch(seam(web, test_ca, offline=True), f"https://{HOST}/")
    assert caught.value.code == "network.offline"
    assert web.requests == []


def test_a_server_that_never_answers_is_bounded(web: WebServer, test_ca: TestCA) -> None:
    web.hang_limit = 3.0
    web.route("/hang", hang())
    started = time.monotonic()
    with pytest.raises(DeadlineError):
        fetch(seam(web, test_ca, timeout=0.5), f"https://{HOST}/hang")
    assert time.monotonic() - started < 2.5


def test_a_non_http_url_is_refused(web: WebServer, test_ca: TestCA) -> None:
    with pytest.raises(NetworkError):
        fetch(seam(web, test_ca), "ftp://autoconfig.example.test/config.xml")


# --- proxies ------------------------------------------------------------------------------------


@dataclass
class ConnectProxy:
    """A small HTTP proxy: CONNECT is tunnelled to ``upstream`` on 127.0.0.1 whatever the
    name; a plain ``GET http://...`` is answered by the proxy itself. ``refuse``: 403 to all."""

    upstream: int
    refuse: bool = False
    tls: ssl.SSLContext | None = None  # an https:// proxy
    seen: list[str] = field(default_factory=list)
    heads: list[bytes] = field(default_factory=list)
    port: int = 0

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode()
            self.seen.append(request_line)
            self.heads.append(head)
            method, target, _ = request_line.split(" ", 2)
            if self.refuse:
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            elif method == "CONNECT":
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
                try:
                    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    await writer.drain()
                    await asyncio.gather(
                        self._pipe(reader, up_writer), self._pipe(up_reader, writer)
                    )
                finally:
                    up_writer.close()
                return
            else:
                body = f"proxied {target}".encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ConnectProxy]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            async with asyncio.timeout(5):
                await server.wait_closed()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"


def through_proxy(proxy: ConnectProxy, url: str, **options: object) -> HttpResult:
    async def go() -> HttpResult:
        async with proxy.running():
            options.setdefault("proxy", proxy.url)
            net = Network(NetworkOptions(**options))  # type: ignore[arg-type]
            return await net.fetch(url)

    return run(go())


def test_https_through_an_explicit_proxy_keeps_the_name(web: WebServer, test_ca: TestCA) -> None:
    web.route("/p", Response.text("tunnelled"))
    proxy = ConnectProxy(web.port)
    result = through_proxy(proxy, f"https://{HOST}:8443/p", ca_bundles=(test_ca.cert_path,))
    assert result.body == b"tunnelled"
    assert result.proxy == proxy.url
    assert proxy.seen == [f"CONNECT {HOST}:8443 HTTP/1.1"]
    (request,) = web.requests_to("/p")
    assert request.sni == HOST  # TLS end to end, checked against the name
    assert result.tls is not None and result.tls.server_hostname == HOST


def test_https_through_an_https_proxy_is_tls_inside_tls(
    web: WebServer, test_ca: TestCA, world_cert: CertPair
) -> None:
    web.route("/nested", Response.text("inner"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(world_cert.chain, world_cert.key)  # valid for 127.0.0.1
    proxy = ConnectProxy(web.port, tls=context)
    result = through_proxy(proxy, f"https://{HOST}/nested", ca_bundles=(test_ca.cert_path,))
    assert result.body == b"inner"
    assert proxy.seen == [f"CONNECT {HOST}:443 HTTP/1.1"]
    # the web server itself did a handshake for the name: TLS end to end inside the tunnel
    (request,) = web.requests_to("/nested")
    assert request.sni == HOST
    assert result.tls is not None and result.tls.server_hostname == HOST


def test_proxy_credentials_are_sent_but_never_shown(web: WebServer, test_ca: TestCA) -> None:
    web.route("/auth", Response.text("ok"))
    proxy = ConnectProxy(web.port)

    async def go() -> tuple[HttpResult, NetworkError]:
        async with proxy.running():
            url = f"http://helpdesk:s3cret@127.0.0.1:{proxy.port}"
            net = Network(NetworkOptions(proxy=url, ca_bundles=(test_ca.cert_path,)))
            result = await net.fetch(f"https://{HOST}/auth")
            proxy.refuse = True
            with pytest.raises(NetworkError) as caught:
                await net.fetch(f"https://{HOST}/auth")
            return result, caught.value

    result, error = run(go())
    expected = base64.b64encode(b"helpdesk:s3cret").decode()
    assert f"Proxy-Authorization: Basic {expected}".encode() in proxy.heads[0]
    assert result.proxy == proxy.url
    assert "s3cret" not in repr(error.detail) + repr(error.message)


def test_a_certificate_error_through_the_proxy_names_the_server(
    web: WebServer,
) -> None:
    proxy = ConnectProxy(web.port)
    with pytest.raises(TLSError) as caught:
        through_proxy(proxy, f"https://{HOST}/")  # the test CA is not trusted
    assert caught.value.failure is TLSFailure.UNTRUSTED
    assert caught.value.detail["host"] == HOST


def test_plain_http_through_a_proxy(web: WebServer) -> None:
    proxy = ConnectProxy(web.port)
    result = through_proxy(proxy, "http://plain.example.test/config.xml")
    assert result.body == b"proxied http://plain.example.test/config.xml"
    assert result.plain_http
    assert result.proxy == proxy.url


def test_a_proxy_that_refuses(web: WebServer, test_ca: TestCA) -> None:
    proxy = ConnectProxy(web.port, refuse=True)
    with pytest.raises(NetworkError) as caught:
        through_proxy(proxy, f"https://{HOST}/", ca_bundles=(test_ca.cert_path,))
    assert caught.value.code == "network.proxy"


def test_overridden_and_loopback_hosts_skip_the_proxy(web: WebServer, test_ca: TestCA) -> None:
    web.route("/direct", Response.text("direct"))
    proxy = ConnectProxy(web.port)
    result = through_proxy(
        proxy,
        f"https://{HOST}/direct",
        resolve=(parse_resolve(f"{HOST}:443:127.0.0.1:{web.port}"),),
        ca_bundles=(test_ca.cert_path,),
    )
    assert result.body == b"direct"
    assert result.proxy is None
    result = through_proxy(
        proxy, f"https://127.0.0.1:{web.port}/direct", ca_bundles=(test_ca.cert_path,)
    )
    assert result.body == b"direct"
    assert proxy.seen == []


def test_the_systems_proxy_settings_are_honoured(
    web: WebServer, test_ca: TestCA, dns: DNSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    web.route("/sys", Response.text("ok"))
    dns.add(HOST, "A", "127.0.0.1")
    proxy = ConnectProxy(web.port)
    url = f"https://{HOST}:{web.port}/sys"
    common = {"ca_bundles": (test_ca.cert_path,), "dns_server": parse_dns_server(dns.address)}

    async def go(**options: object) -> str | None:
        async with proxy.running():
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            net = Network(NetworkOptions(**common, **options))  # type: ignore[arg-type]
            return (await net.fetch(url)).proxy

    assert run(go()) == proxy.url  # the environment's proxy
    assert proxy.seen == [f"CONNECT {HOST}:{web.port} HTTP/1.1"]
    assert run(go(system_proxy=False)) is None  # --proxy direct
    monkeypatch.setenv("NO_PROXY", "example.test")
    assert run(go()) is None  # the system's exceptions
    assert len(proxy.seen) == 1
