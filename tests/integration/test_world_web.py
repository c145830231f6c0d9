"""The test world's web servers answer like real ones (checked with httpx)."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.world.ca import TestCA
from tests.world.web import Request, Response, WebServer, delayed, hang, huge, redirect


@pytest.fixture
def client(test_ca: TestCA) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=str(test_ca.cert_path))
    with httpx.Client(verify=context, timeout=5, trust_env=False) as c:
        yield c


def test_routes_by_host_header(web: WebServer, client: httpx.Client) -> None:
    web.route("/mail/config-v1.1.xml", Response.xml("<a/>"), host="autoconfig.example.test")
    web.route("/mail/config-v1.1.xml", Response.xml("<b/>"), host="example.test")
    web.route("/mail/config-v1.1.xml", Response.xml("<any/>"))
    url = web.url("/mail/config-v1.1.xml")
    assert url.startswith("https://127.0.0.1:")
    a = client.get(url, headers={"Host": "autoconfig.example.test"})
    assert (a.status_code, a.text) == (200, "<a/>")
    assert a.headers["content-type"].startswith("application/xml")
    b = client.get(url, headers={"Host": f"EXAMPLE.test:{web.port}"})
    assert b.text == "<b/>"
    other = client.get(url, headers={"Host": "autoconfig.corp.test"})
    assert other.text == "<any/>"
    assert [r.host for r in web.requests] == [
        "autoconfig.example.test",
        "example.test",
        "autoconfig.corp.test",
    ]
    assert all(r.scheme == "https" for r in web.requests)


def test_host_from_sni_and_url_helper(web: WebServer, client: httpx.Client) -> None:
    web.route("/x", Response.text("sni"), host="autodiscover.corp.test")
    assert web.url("/x", host="autodiscover.corp.test") == (
        f"https://autodiscover.corp.test:{web.port}/x"
    )
    reply = client.get(
        web.url("/x"),
        headers={"Host": "autodiscover.corp.test"},
        extensions={"sni_hostname": "autodiscover.corp.test"},
    )
    assert reply.text == "sni"
    assert web.requests[-1].sni == "autodiscover.corp.test"


def test_unknown_path_is_404_and_wrong_method_405(web: WebServer, client: httpx.Client) -> None:
    web.route("/only-get", Response.text("ok"))
    assert client.get(web.url("/nothing-here")).status_code == 404
    assert client.post(web.url("/only-get"), content=b"x").status_code == 405
    assert client.head(web.url("/only-get")).status_code == 200


def test_callable_route_sees_method_query_headers_and_body(
    web: WebServer, client: httpx.Client
) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response.json({"user": request.query["emailaddress"], "len": len(request.body)})

    web.route("/autodiscover/autodiscover.xml", handler, method="POST")
    reply = client.post(
        web.url("/autodiscover/autodiscover.xml?emailaddress=a%40example.test"),
        content=b"<Autodiscover/>",
        headers={"Host": "autodiscover.example.test", "X-Test": "yes"},
    )
    assert reply.json() == {"user": "a@example.test", "len": 15}
    request = seen[0]
    assert request.method == "POST"
    assert request.path == "/autodiscover/autodiscover.xml"
    assert request.headers["x-test"] == "yes" and request.headers["X-TEST"] == "yes"
    assert request.body == b"<Autodiscover/>"
    assert web.requests == seen


def test_chunked_request_body_is_read(web: WebServer, client: httpx.Client) -> None:
    web.route("/upload", lambda r: Response.text(r.body.decode()), method="PUT")

    def parts() -> Iterator[bytes]:
        yield b"hello "
        yield b"world"

    reply = client.put(web.url("/upload"), content=parts())
    assert reply.text == "hello world"
    assert web.requests[-1].headers["transfer-encoding"] == "chunked"


def test_failing_handler_answers_500(web: WebServer, client: httpx.Client) -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    web.route("/broken", broken)
    assert client.get(web.url("/broken")).status_code == 500


def test_delayed_response(web: WebServer, client: httpx.Client) -> None:
    web.route("/slow", delayed(Response.text("late"), 0.4))
    web.route("/slow-callable", delayed(lambda r: Response.text(r.path), 0.4))
    started = time.monotonic()
    assert client.get(web.url("/slow")).text == "late"
    assert time.monotonic() - started >= 0.4
    with pytest.raises(httpx.ReadTimeout):
        client.get(web.url("/slow-callable"), timeout=0.1)


def test_redirects_and_a_redirect_loop(web: WebServer, client: httpx.Client) -> None:
    web.route("/old", redirect("/new", 301))
    web.route("/new", Response.text("moved"))
    reply = client.get(web.url("/old"), follow_redirects=True)
    assert reply.text == "moved"
    assert [r.status_code for r in reply.history] == [301]
    first = client.get(web.url("/old"))
    assert first.status_code == 301 and first.headers["location"] == "/new"
    web.redirect_loop("/loop")
    with pytest.raises(httpx.TooManyRedirects):
        client.get(web.url("/loop"), follow_redirects=True)


def test_huge_body_is_streamed(web: WebServer, client: httpx.Client) -> None:
    size = 50 * 1024 * 1024
    web.route("/huge", huge(size))
    web.route("/huge-chunked", huge(3 * 1024 * 1024 + 5, declare_length=False))
    total = 0
    with client.stream("GET", web.url("/huge")) as reply:
        assert reply.headers["content-length"] == str(size)
        for piece in reply.iter_raw():
            total += len(piece)
    assert total == size
    with client.stream("GET", web.url("/huge-chunked")) as reply:
        assert reply.headers["transfer-encoding"] == "chunked"
        assert sum(len(p) for p in reply.iter_bytes()) == 3 * 1024 * 1024 + 5
    # a client that stops reading early does not break the server
    with client.stream("GET", web.url("/huge")) as reply:
        next(reply.iter_raw())
    assert client.get(web.url("/nothing")).status_code == 404


def test_hang_is_cut_off_by_the_client_timeout(web: WebServer, client: httpx.Client) -> None:
    web.route("/hang", hang())
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.get(web.url("/hang"), timeout=0.3)
    assert time.monotonic() - started < 3
    assert web.requests_to("/hang")


def test_hang_gives_up_at_the_servers_limit(web: WebServer, client: httpx.Client) -> None:
    web.route("/hang", hang())
    web.hang_limit = 0.3
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(web.url("/hang"), timeout=5)


def test_plain_http_server(plain_web: WebServer, web: WebServer) -> None:
    plain_web.route("/mail/config-v1.1.xml", Response.xml("<plain/>"), host="autoconfig.x.test")
    assert plain_web.base_url.startswith("http://127.0.0.1:")
    assert plain_web.port != web.port
    with httpx.Client(timeout=5, trust_env=False) as c:
        reply = c.get(
            plain_web.url("/mail/config-v1.1.xml?emailaddress=u%40x.test"),
            headers={"Host": "autoconfig.x.test"},
        )
    assert reply.text == "<plain/>"
    (request,) = plain_web.requests
    assert request.scheme == "http"
    assert request.query == {"emailaddress": "u@x.test"}
    assert request.sni is None
    assert not web.requests  # nothing went to the HTTPS server


def test_certificate_per_host_and_extra_servers(
    web: WebServer,
    client: httpx.Client,
    test_ca: TestCA,
    make_web_server: Callable[..., WebServer],
) -> None:
    web.route("/", Response.text("hi"))
    web.set_certificate(test_ca.issue(("other.test",), label="wronghost"), host="bad.example.test")
    with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|mismatch"):
        client.get(
            web.url("/"),
            headers={"Host": "bad.example.test"},
            extensions={"sni_hostname": "bad.example.test"},
        )
    good = client.get(
        web.url("/"),
        headers={"Host": "good.example.test"},
        extensions={"sni_hostname": "good.example.test"},
    )
    assert good.text == "hi"
    now = dt.datetime.now(dt.UTC)
    expired = test_ca.issue(
        not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
    )
    extra = make_web_server(cert=expired)
    extra.route("/", Response.text("expired"))
    with pytest.raises(httpx.ConnectError, match="expired"):
        client.get(extra.url("/"))
    assert extra.port != web.port


def test_web_fixture_resets_routes(web: WebServer) -> None:
    # runs after the tests above: their routes and per-host certificates are gone
    assert web.find("autoconfig.example.test", "GET", "/mail/config-v1.1.xml") is None
    assert web.find("x", "GET", "/hang") is None
    assert web.hang_limit == 30.0
    assert not web.requests
