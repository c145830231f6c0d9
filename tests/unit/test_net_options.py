"""The network seam's options and the parsers of their text forms (app/core/net/options.py)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import ConfigError, Fault, SetupError
from app.core.net import (
    DEFAULT_ISPDB_URL,
    DEFAULT_TIMEOUT,
    HostPort,
    NetworkOptions,
    ResolveOverride,
    check_ca_bundle,
    normalize_host,
    parse_dns_server,
    parse_ispdb_url,
    parse_proxy,
    parse_resolve,
    parse_timeout,
)
from tests.world.ca import TestCA


def reason_key(error: ConfigError) -> str:
    """The message key of the reason a ConfigError gives (without rendering it)."""
    reason = error.message.params["reason"]
    return reason.key  # type: ignore[union-attr]


# --- --resolve ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # curl's own form: the same port on the address
        ("mail.example.test:993:127.0.0.1", ("mail.example.test", 993, "127.0.0.1", 993)),
        # the extended form: another port on the address
        ("mail.example.test:993:127.0.0.1:1993", ("mail.example.test", 993, "127.0.0.1", 1993)),
        # IPv6 addresses in brackets, in both places
        ("mail.example.test:443:[::1]", ("mail.example.test", 443, "::1", 443)),
        ("mail.example.test:443:[::1]:8443", ("mail.example.test", 443, "::1", 8443)),
        ("[2001:db8::1]:443:[::1]:8443", ("2001:db8::1", 443, "::1", 8443)),
        ("[2001:DB8:0::1]:443:127.0.0.1", ("2001:db8::1", 443, "127.0.0.1", 443)),
        # any host
        ("*:443:127.0.0.1:8443", ("*", 443, "127.0.0.1", 8443)),
        # case, a trailing dot and spaces around do not matter
        (" Mail.Example.TEST.:993:127.0.0.1 ", ("mail.example.test", 993, "127.0.0.1", 993)),
        # an international name is kept in its ASCII (IDNA) form, as connections ask for it
        (
            "メール.example.jp.test:993:127.0.0.1",
            ("xn--4dkua4c.example.jp.test", 993, "127.0.0.1", 993),
        ),
    ],
)
def test_resolve_forms(text: str, expected: tuple[str, int, str, int]) -> None:
    override = parse_resolve(text)
    assert (override.host, override.port, override.address, override.target_port) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("mail.example.test", "net.option.form"),
        ("mail.example.test:993", "net.option.form"),
        ("mail.example.test:993:", "net.option.form"),
        (":993:127.0.0.1", "net.option.form"),
        ("mail.example.test:imap:127.0.0.1", "net.option.port"),
        ("mail.example.test:0:127.0.0.1", "net.option.port"),
        ("mail.example.test:65536:127.0.0.1", "net.option.port"),
        ("mail.example.test:993:127.0.0.1:99999", "net.option.port"),
        ("mail.example.test:993:127.0.0.1:-1", "net.option.port"),
        ("mail.example.test:993:localhost", "net.option.not-ip"),
        ("mail.example.test:993:999.1.1.1", "net.option.not-ip"),
        ("mail.example.test:993:::1", "net.option.brackets"),
        ("mail.example.test:993:::1:1993", "net.option.brackets"),
        ("mail.example.test:993:[::1", "net.option.form"),
        ("mail.example.test:993:[127.0.0.1]", "net.option.not-ip"),
        ("mail.example.test:993:127.0.0.1:1993:7", "net.option.form"),
        ("mail.example.test:993:127.0.0.1x", "net.option.not-ip"),
        ("mail example.test:993:127.0.0.1", "net.option.host"),
        ("mail..example.test:993:127.0.0.1", "net.option.host"),
    ],
)
def test_resolve_rejects_bad_values(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_resolve(text)
    error = caught.value
    assert reason_key(error) == reason
    assert error.where == "--resolve"
    assert error.fault is Fault.LOCAL_INPUT
    assert error.code == "config.network-option"
    assert isinstance(error, SetupError)


_hosts = st.one_of(
    st.just("*"),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}", fullmatch=True),
    st.ip_addresses().map(str),
)
_ports = st.integers(min_value=1, max_value=65535)


@given(host=_hosts, port=_ports, address=st.ip_addresses(), target_port=_ports)
def test_resolve_round_trips(
    host: str,
    port: int,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    target_port: int,
) -> None:
    override = parse_resolve(
        ResolveOverride(
            normalize_host(host) if host != "*" else host, port, str(address), target_port
        ).__str__()
    )
    assert override.port == port
    assert override.target_port == target_port
    assert ipaddress.ip_address(override.address) == address
    assert parse_resolve(str(override)) == override


# --- --dns-server, --timeout, --ispdb-url, --proxy, --ca-bundle --------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5353", HostPort("127.0.0.1", 5353)),
        ("127.0.0.1", HostPort("127.0.0.1", 53)),
        ("[::1]:5353", HostPort("::1", 5353)),
        ("[::1]", HostPort("::1", 53)),
    ],
)
def test_dns_server_forms(text: str, expected: HostPort) -> None:
    assert parse_dns_server(text) == expected


def test_dns_server_formats_back_with_brackets() -> None:
    assert str(parse_dns_server("[::1]:5353")) == "[::1]:5353"
    assert str(parse_dns_server("127.0.0.1")) == "127.0.0.1:53"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "net.option.form"),
        ("::1", "net.option.brackets"),
        ("::1:5353", "net.option.brackets"),
        ("dns.example.test:53", "net.option.not-ip"),
        ("127.0.0.1:0", "net.option.port"),
        ("127.0.0.1:domain", "net.option.port"),
        ("127.0.0.1:53:53", "net.option.form"),
    ],
)
def test_dns_server_rejects_bad_values(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_dns_server(text)
    assert reason_key(caught.value) == reason
    assert caught.value.where == "--dns-server"


@pytest.mark.parametrize(("text", "seconds"), [("10", 10.0), ("0.25", 0.25), (" 3 ", 3.0)])
def test_timeout_forms(text: str, seconds: float) -> None:
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "ten", "", "3601"])
def test_timeout_rejects_bad_values(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_timeout(text)
    assert reason_key(caught.value) == "net.option.timeout"


def test_ispdb_url_gets_its_trailing_slash() -> None:
    assert parse_ispdb_url("https://ispdb.corp.test/v1.1") == "https://ispdb.corp.test/v1.1/"
    assert parse_ispdb_url(DEFAULT_ISPDB_URL) == DEFAULT_ISPDB_URL


def test_ispdb_url_with_a_domain_placeholder_is_kept_as_it_is() -> None:
    url = "https://mirror.corp.test/db/{{domain}}.xml"
    assert parse_ispdb_url(url) == url


@pytest.mark.parametrize(
    "text", ["ftp://ispdb.corp.test/", "ispdb.corp.test", "https://", "https://h:x/"]
)
def test_ispdb_url_rejects_bad_values(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_ispdb_url(text)
    assert reason_key(caught.value) == "net.option.url"


def test_proxy_forms() -> None:
    assert parse_proxy("direct") is None
    assert parse_proxy("proxy.corp.test:3128") == "http://proxy.corp.test:3128"
    assert parse_proxy("https://proxy.corp.test:8443") == "https://proxy.corp.test:8443"
    with pytest.raises(ConfigError) as caught:
        parse_proxy("socks5://proxy.corp.test:1080")
    assert reason_key(caught.value) == "net.option.socks"


def test_ca_bundle_must_be_a_pem_file(tmp_path: Path, test_ca: TestCA) -> None:
    assert check_ca_bundle(test_ca.cert_path) == test_ca.cert_path
    missing = tmp_path / "missing.pem"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for path in (missing, junk, tmp_path):
        with pytest.raises(ConfigError) as caught:
            check_ca_bundle(path)
        assert caught.value.code == "config.ca-bundle"
        assert caught.value.fault is Fault.LOCAL_INPUT


# --- NetworkOptions ------------------------------------------------------------------------------


def test_defaults_are_the_honest_way() -> None:
    options = NetworkOptions()
    assert not options.offline
    assert options.timeout == DEFAULT_TIMEOUT
    assert options.dns_server is None
    assert options.resolve == ()
    assert options.ca_bundles == ()
    assert options.ispdb_url == "https://live.thunderbird.net/autoconfig/v1.1/"
    assert options.proxy is None
    assert options.system_proxy


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf"), 99999.0])
def test_options_refuse_a_bad_timeout(timeout: float) -> None:
    with pytest.raises(ConfigError):
        NetworkOptions(timeout=timeout)


def test_options_refuse_a_bad_proxy() -> None:
    with pytest.raises(ConfigError):
        NetworkOptions(proxy="not a url")


def test_override_lookup_prefers_an_exact_host_to_the_wildcard() -> None:
    wildcard = parse_resolve("*:443:127.0.0.1:9443")
    exact = parse_resolve("autoconfig.example.test:443:127.0.0.2:8443")
    other_port = parse_resolve("autoconfig.example.test:80:127.0.0.3:8080")
    options = NetworkOptions(resolve=(wildcard, exact, other_port))
    assert options.override_for("AutoConfig.Example.Test.", 443) == exact
    assert options.override_for("autoconfig.example.test", 80) == other_port
    assert options.override_for("anything.test", 443) == wildcard
    assert options.override_for("anything.test", 993) is None
    assert options.is_overridden("autoconfig.example.test")
    assert NetworkOptions(resolve=(exact,)).is_overridden("AUTOCONFIG.example.test")
    assert not NetworkOptions(resolve=(exact,)).is_overridden("example.test")


def test_the_first_of_two_exact_overrides_wins() -> None:
    first = parse_resolve("a.test:443:127.0.0.1:1")
    second = parse_resolve("a.test:443:127.0.0.1:2")
    assert NetworkOptions(resolve=(first, second)).override_for("a.test", 443) == first


def test_override_matches_an_international_name_in_either_form() -> None:
    options = NetworkOptions(resolve=(parse_resolve("メール.example.jp.test:993:127.0.0.1"),))
    assert options.override_for("メール.example.jp.test", 993) is not None
    assert options.override_for("xn--4dkua4c.example.jp.test", 993) is not None


def test_options_are_frozen_and_hashable() -> None:
    options = NetworkOptions(resolve=(parse_resolve("a.test:1:127.0.0.1"),))
    with pytest.raises(AttributeError):
        options.offline = True  # type: ignore[misc]
    assert hash(options) == hash(NetworkOptions(resolve=(parse_resolve("a.test:1:127.0.0.1"),)))
