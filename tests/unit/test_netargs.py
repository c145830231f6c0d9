"""The CLI's shared network switches (app/cli/netargs.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from app.cli.exitcodes import ExitCode
from app.cli.main import exit_code_for
from app.cli.netargs import add_network_arguments, network_options_from_args
from app.core.errors import Fault, InvalidSettingError, SetupError
from app.core.net import HostPort, NetworkOptions, parse_resolve
from tests.world.ca import TestCA


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog="mailsetup detect", exit_on_error=False)
    add_network_arguments(result)
    return result


def options(*argv: str) -> NetworkOptions:
    return network_options_from_args(parser().parse_args(list(argv)))


def test_no_switches_give_the_default_options() -> None:
    assert options() == NetworkOptions()


def test_every_switch(test_ca: TestCA, corporate_ca: TestCA) -> None:
    result = options(
        "--offline",
        "--timeout",
        "2.5",
        "--dns-server",
        "[::1]:5353",
        "--resolve",
        "autoconfig.example.test:443:127.0.0.1:8443",
        "--resolve",
        "imap.example.test:993:[::1]",
        "--ca-bundle",
        str(test_ca.cert_path),
        "--ca-bundle",
        str(corporate_ca.cert_path),
        "--ispdb-url",
        "https://ispdb.corp.test/autoconfig/v1.1",
        "--proxy",
        "proxy.corp.test:3128",
    )
    assert result == NetworkOptions(
        offline=True,
        timeout=2.5,
        dns_server=HostPort("::1", 5353),
        resolve=(
            parse_resolve("autoconfig.example.test:443:127.0.0.1:8443"),
            parse_resolve("imap.example.test:993:[::1]:993"),
        ),
        ca_bundles=(test_ca.cert_path, corporate_ca.cert_path),
        ispdb_url="https://ispdb.corp.test/autoconfig/v1.1/",
        proxy="http://proxy.corp.test:3128",
        system_proxy=False,
    )


def test_the_last_of_a_single_valued_switch_wins() -> None:
    result = options(
        "--timeout",
        "7",
        "--dns-server",
        "127.0.0.1:1",
        "--ispdb-url",
        "https://a.test/",
        "--proxy",
        "http://a.test:1",
        "--timeout",
        "3",
        "--dns-server",
        "127.0.0.1:2",
        "--ispdb-url",
        "https://b.test/",
        "--proxy",
        "direct",
    )
    assert result.timeout == 3.0
    assert result.dns_server == HostPort("127.0.0.1", 2)
    assert result.ispdb_url == "https://b.test/"
    assert result.proxy is None
    assert not result.system_proxy  # "direct": not even the system's proxy


def test_repeated_overrides_and_bundles_are_all_kept_in_order(test_ca: TestCA) -> None:
    result = options(
        "--resolve",
        "b.test:443:127.0.0.1",
        "--ca-bundle",
        str(test_ca.cert_path),
        "--resolve",
        "a.test:443:127.0.0.2",
        "--ca-bundle",
        str(test_ca.cert_path),
    )
    assert [o.host for o in result.resolve] == ["b.test", "a.test"]
    assert result.ca_bundles == (test_ca.cert_path,)  # the same file once


@pytest.mark.parametrize(
    "argv",
    [
        ("--timeout", "soon"),
        ("--timeout", "0"),
        ("--dns-server", "dns.example.test"),
        ("--dns-server", "::1"),
        ("--resolve", "mail.example.test:993"),
        ("--resolve", "mail.example.test:993:::1"),
        ("--resolve", "mail.example.test:99999:127.0.0.1"),
        ("--ca-bundle", "/nonexistent/ca.pem"),
        ("--ispdb-url", "ftp://ispdb.example.test/"),
        ("--proxy", "socks5://proxy.corp.test:1080"),
    ],
)
def test_a_bad_value_is_bad_input_not_a_usage_error(argv: tuple[str, ...]) -> None:
    # argparse accepts the text (no exit 2); the conversion raises a SetupError (exit 1)
    args = parser().parse_args(list(argv))
    with pytest.raises(InvalidSettingError) as caught:
        network_options_from_args(args)
    assert isinstance(caught.value, SetupError)
    assert caught.value.fault is Fault.LOCAL_INPUT
    assert caught.value.setting == argv[0]
    assert caught.value.code in ("config.network-option", "config.ca-bundle")
    assert exit_code_for(caught.value) == ExitCode.BAD_INPUT


def test_a_missing_value_is_argparses_usage_error() -> None:
    with pytest.raises(argparse.ArgumentError):
        parser().parse_args(["--resolve"])


def test_a_non_pem_bundle_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(InvalidSettingError) as caught:
        options("--ca-bundle", str(bundle))
    assert caught.value.code == "config.ca-bundle"


def test_the_switches_are_listed_in_their_own_help_group() -> None:
    text = parser().format_help()
    assert "network:" in text
    for switch in (
        "--offline",
        "--timeout SECONDS",
        "--dns-server HOST:PORT",
        "--resolve HOST:PORT:ADDRESS[:PORT]",
        "--ca-bundle FILE",
        "--ispdb-url URL",
        "--proxy URL",
    ):
        assert switch in text


def test_a_namespace_without_the_switches_gives_the_defaults() -> None:
    # a subcommand that did not add the switches still gets usable options
    assert network_options_from_args(argparse.Namespace()) == NetworkOptions()
