"""``mailsetup detect`` end to end: the real engine and sources against the test world's DNS
and web servers, through the CLI's own switches."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli.main import run
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.web import Response, WebServer

ISP_XML = """<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="hostingco.test">
    <domain>hostingco.test</domain>
    <displayName>Hosting Co</displayName>
    <incomingServer type="imap">
      <hostname>imap.hostingco.test</hostname><port>993</port><socketType>SSL</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.hostingco.test</hostname><port>465</port><socketType>SSL</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


def detect_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = run(["detect", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def world_switches(dns: DNSServer, web: WebServer, test_ca: TestCA) -> list[str]:
    """Everything aimed at the world: its DNS server, its CA, an ISPDB on its web server."""
    return [
        "--dns-server",
        dns.address,
        "--ca-bundle",
        str(test_ca.cert_path),
        "--ispdb-url",
        f"https://ispdb.example.test:{web.port}/v1.1/",
        "--resolve",
        f"ispdb.example.test:{web.port}:127.0.0.1",
        "--timeout",
        "2",
        "--deadline",
        "5",
        "--proxy",
        "direct",
    ]


def test_a_catalog_provider_is_found_offline(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = detect_json(capsys, "taro@icloud.com", "--offline")
    assert code == 0
    assert data["provider"] == {"id": "icloud", "name": data["provider"]["name"]}  # type: ignore[index]
    best = data["candidates"][0]  # type: ignore[index]
    assert best["incoming"]["host"] == "imap.mail.me.com"
    assert best["incoming"]["security"] == "tls"
    assert best["auth"] == "app-password"
    assert best["trusted"] is True
    outcomes = {s["name"]: s["outcome"] for s in data["sources"]}  # type: ignore[union-attr]
    assert outcomes["catalog"] == "found"
    assert outcomes["autoconfig"] == "skipped"


def test_full_width_input_is_understood(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = detect_json(capsys, "ｔａｒｏ＠ｇｍａｉｌ．ｃｏｍ", "--offline")
    assert code == 0
    assert data["address"] == "taro@gmail.com"
    assert data["provider"]["id"] == "google"  # type: ignore[index]


def test_a_malformed_address_is_bad_input_with_a_json_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data = detect_json(capsys, "taro.example.com", "--offline")
    assert code == 1
    assert data["error"]["code"] == "address.no-at"  # type: ignore[index]
    assert "@" in data["error"]["message"]  # type: ignore[index]


def test_a_typo_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = detect_json(capsys, "taro@gmial.com", "--offline")
    assert code == 4
    assert data["suggestion"] == "taro@gmail.com"


def test_a_custom_domain_hosted_by_microsoft_365_is_found_by_mx(
    capsys: pytest.CaptureFixture[str], dns: DNSServer, web: WebServer, test_ca: TestCA
) -> None:
    dns.add("contoso-jp.test", "MX", "0 contoso-jp-test.mail.protection.outlook.com.")
    code, data = detect_json(capsys, "hanako@contoso-jp.test", *world_switches(dns, web, test_ca))
    assert code == 0
    assert data["provider"]["id"] == "microsoft365"  # type: ignore[index]
    best = data["candidates"][0]  # type: ignore[index]
    assert best["auth"] == "oauth2-microsoft"
    assert data["elapsed_ms"] < 5000  # type: ignore[operator]


def test_ispdb_answer_is_used_and_the_address_is_never_sent_to_it(
    capsys: pytest.CaptureFixture[str], dns: DNSServer, web: WebServer, test_ca: TestCA
) -> None:
    web.route("/v1.1/hostingco.test", Response.xml(ISP_XML), host="ispdb.example.test")
    code, data = detect_json(capsys, "jiro@hostingco.test", *world_switches(dns, web, test_ca))
    assert code == 0
    best = data["candidates"][0]  # type: ignore[index]
    assert best["source"] == "ispdb"
    assert best["incoming"] == {
        "protocol": "imap",
        "host": "imap.hostingco.test",
        "port": 993,
        "security": "tls",
        "username": "jiro@hostingco.test",
    }
    assert best["outgoing"]["port"] == 465
    assert all("jiro" not in r.target for r in web.requests_to(host="ispdb.example.test"))


def test_nothing_found_exits_4_within_the_deadline(
    capsys: pytest.CaptureFixture[str], dns: DNSServer, web: WebServer, test_ca: TestCA
) -> None:
    started = time.monotonic()
    code, data = detect_json(capsys, "nobody@nowhere.test", *world_switches(dns, web, test_ca))
    assert code == 4
    assert data["candidates"] == []
    assert time.monotonic() - started < 8
    assert {s["name"] for s in data["sources"]} >= {"catalog", "mx", "ispdb"}  # type: ignore[union-attr]


def test_human_output_is_a_short_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["detect", "taro@outlook.jp", "--offline", "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert "outlook.office365.com" in out
    assert "catalog" in out
    assert run(["detect", "taro@outlook.jp", "--offline", "--language", "ja"]) == 0
    assert "情報源" in capsys.readouterr().out


def test_the_console_script_answers_offline(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "mailsetup"
    done = subprocess.run(
        [str(script), "detect", "taro@yahoo.co.jp", "--offline", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["provider"]["id"] == "yahoo-japan"


def test_an_invalid_configuration_is_an_environment_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[microsoft]\nauthority = "http://login.example.test/common"\n')
    monkeypatch.setenv("MAILSETUP_CONFIG", str(config))
    code, data = detect_json(capsys, "taro@icloud.com", "--offline")
    assert code == 6
    assert str(config) in data["error"]["message"]  # type: ignore[index]
    assert "authority" in data["error"]["message"]  # type: ignore[index]


def test_an_unknown_configuration_key_is_only_a_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[microsoft]\nclient_idd = "x"\n')
    monkeypatch.setenv("MAILSETUP_CONFIG", str(config))
    assert run(["detect", "taro@icloud.com", "--offline", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["provider"]["id"] == "icloud"
    assert "client_idd" in captured.err and "client_id" in captured.err
