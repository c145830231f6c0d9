"""The data model: address parsing, endpoints, account settings, provenance and findings."""

from __future__ import annotations

import dataclasses
import json

import pytest

from app.core.errors import AddressProblem, Fixer, InvalidAddressError, InvalidSettingError
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Finding,
    Outcome,
    Protocol,
    Provenance,
    Security,
    Trust,
    normalise_host,
)
from app.core.texts import Text

# --- EmailAddress: accepted input -------------------------------------------------------------


def test_plain_address() -> None:
    address = EmailAddress.parse("taro@example.jp")
    assert (address.local, address.domain, address.domain_ascii) == (
        "taro",
        "example.jp",
        "example.jp",
    )
    assert str(address) == address.ascii == "taro@example.jp"
    assert not address.needs_smtputf8


def test_full_width_input() -> None:
    assert EmailAddress.parse("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == EmailAddress.parse(
        "taro@example.jp"
    )


def test_ideographic_full_stop_between_domain_labels() -> None:
    assert str(EmailAddress.parse("taro@example。jp")) == "taro@example.jp"


def test_surrounding_spaces_and_invisible_characters_are_dropped() -> None:
    assert str(EmailAddress.parse("  taro@example.jp\t\n")) == "taro@example.jp"
    assert str(EmailAddress.parse("\u3000taro@example.jp\u200b")) == "taro@example.jp"


def test_domain_is_lower_cased_but_local_part_keeps_its_case() -> None:
    address = EmailAddress.parse("Taro.Yamada@Example.JP")
    assert address.local == "Taro.Yamada"
    assert address.domain == "example.jp"


def test_international_domain_both_ways() -> None:
    from_unicode = EmailAddress.parse("kunde@Bücher.example")
    from_ascii = EmailAddress.parse("kunde@xn--bcher-kva.example")
    assert from_unicode == from_ascii
    assert from_unicode.domain == "bücher.example"
    assert from_unicode.domain_ascii == "xn--bcher-kva.example"
    assert from_unicode.ascii == "kunde@xn--bcher-kva.example"
    assert str(from_ascii) == "kunde@bücher.example"


def test_japanese_domain() -> None:
    address = EmailAddress.parse("info@例え.テスト")
    assert address.domain_ascii == "xn--r8jz45g.xn--zckzah"
    assert str(address) == "info@例え.テスト"


def test_international_local_part_needs_smtputf8() -> None:
    address = EmailAddress.parse("山田@example.jp")
    assert address.local == "山田"
    assert address.needs_smtputf8
    assert str(address) == "山田@example.jp"


def test_a_final_dot_on_the_domain_is_dropped() -> None:
    assert str(EmailAddress.parse("taro@example.jp.")) == "taro@example.jp"


def test_special_characters_allowed_in_the_local_part() -> None:
    local = "a.b+tag!#$%&'*/=?^_`{|}~-"
    assert EmailAddress.parse(f"{local}@example.jp").local == local


def test_limits_are_inclusive() -> None:
    assert EmailAddress.parse("a" * 64 + "@example.jp").local == "a" * 64
    label = "b" * 63
    assert EmailAddress.parse(f"x@{label}.jp").domain == f"{label}.jp"
    # 64 + 1 + 189 = 254 octets: the longest address RFC 5321 allows
    domain = ".".join(["c" * 63, "d" * 63, "e" * 60])
    assert len(domain) == 188
    assert len(EmailAddress.parse("a" * 64 + "@" + domain + "x").ascii) == 254


# --- EmailAddress: rejected input, each with its reason ---------------------------------------

REJECTED: list[tuple[str, AddressProblem]] = [
    ("", AddressProblem.EMPTY),
    ("   ", AddressProblem.EMPTY),
    ("taro yamada@example.jp", AddressProblem.SPACES),
    ("taro@exa mple.jp", AddressProblem.SPACES),
    ("taro.example.jp", AddressProblem.NO_AT),
    ("taro@@example.jp", AddressProblem.MULTIPLE_AT),
    ("a@b@example.jp", AddressProblem.MULTIPLE_AT),
    ("@example.jp", AddressProblem.EMPTY_LOCAL),
    ("taro@", AddressProblem.EMPTY_DOMAIN),
    ("taro@.", AddressProblem.EMPTY_DOMAIN),
    ("ta,ro@example.jp", AddressProblem.LOCAL_CHARACTERS),
    ('"taro"@example.jp', AddressProblem.LOCAL_CHARACTERS),
    ("<taro@example.jp>", AddressProblem.LOCAL_CHARACTERS),
    ("ta\x00ro@example.jp", AddressProblem.LOCAL_CHARACTERS),
    (".taro@example.jp", AddressProblem.LOCAL_DOTS),
    ("taro.@example.jp", AddressProblem.LOCAL_DOTS),
    ("ta..ro@example.jp", AddressProblem.LOCAL_DOTS),
    ("a" * 65 + "@example.jp", AddressProblem.LOCAL_TOO_LONG),
    ("山" * 22 + "@example.jp", AddressProblem.LOCAL_TOO_LONG),  # 66 octets in UTF-8
    ("taro@example..jp", AddressProblem.DOMAIN_EMPTY_LABEL),
    ("taro@.example.jp", AddressProblem.DOMAIN_EMPTY_LABEL),
    ("taro@example.jp..", AddressProblem.DOMAIN_EMPTY_LABEL),
    ("taro@localhost", AddressProblem.DOMAIN_NO_DOT),
    ("taro@exa_mple.jp", AddressProblem.DOMAIN_CHARACTERS),
    ("taro@[192.0.2.1]", AddressProblem.DOMAIN_CHARACTERS),
    ("taro@😀.example", AddressProblem.DOMAIN_CHARACTERS),
    ("taro@-example.jp", AddressProblem.DOMAIN_HYPHEN),
    ("taro@example-.jp", AddressProblem.DOMAIN_HYPHEN),
    ("taro@192.0.2.1", AddressProblem.DOMAIN_NUMERIC),
    ("taro@example.123", AddressProblem.DOMAIN_NUMERIC),
    ("taro@xn--abc.example", AddressProblem.DOMAIN_INVALID),
    ("taro@ab--cd.example", AddressProblem.DOMAIN_INVALID),
    ("taro@" + "b" * 64 + ".jp", AddressProblem.LABEL_TOO_LONG),
    ("taro@" + "ü" * 60 + ".jp", AddressProblem.LABEL_TOO_LONG),
    ("taro@" + ".".join(["c" * 60] * 5), AddressProblem.DOMAIN_TOO_LONG),
    ("a" * 64 + "@" + ".".join(["c" * 63, "d" * 63, "e" * 62]), AddressProblem.TOO_LONG),
]


def test_the_rejected_examples_cover_every_problem() -> None:
    assert {problem for _text, problem in REJECTED} == set(AddressProblem)


@pytest.mark.parametrize(("text", "problem"), REJECTED, ids=[p.value for _t, p in REJECTED])
def test_rejected(text: str, problem: AddressProblem) -> None:
    with pytest.raises(InvalidAddressError) as info:
        EmailAddress.parse(text)
    assert info.value.problem is problem
    assert info.value.code == f"address.{problem.value}"
    # The message renders fully in both languages: no placeholder left unfilled.
    for language in ("en", "ja"):
        rendered = info.value.render(language)
        assert "{" not in rendered.replace("{|}", ""), rendered


def test_messages_point_at_the_offending_characters() -> None:
    with pytest.raises(InvalidAddressError) as info:
        EmailAddress.parse("ta(r)o@example.jp")
    assert str(info.value).endswith(": ( )")
    with pytest.raises(InvalidAddressError) as info:
        EmailAddress.parse("taro@exa_mple!.jp")
    assert str(info.value).endswith(": _ !")
    with pytest.raises(InvalidAddressError) as info:
        EmailAddress.parse("ta\x07ro@example.jp")
    assert "U+0007" in str(info.value)


def test_messages_name_the_limits() -> None:
    with pytest.raises(InvalidAddressError) as info:
        EmailAddress.parse("a" * 65 + "@example.jp")
    assert "64" in str(info.value)
    assert "64" in info.value.render("ja")


# --- endpoints --------------------------------------------------------------------------------


def test_endpoint_normalises_its_host() -> None:
    endpoint = Endpoint(Protocol.IMAP, " IMAP.Bücher.Example. ", 993, Security.TLS)
    assert endpoint.host == "imap.xn--bcher-kva.example"
    assert endpoint.host_unicode == "imap.bücher.example"
    assert endpoint.username is None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("[2001:DB8:0::1]", "2001:db8::1"),
        ("mail_1.corp.test", "mail_1.corp.test"),
        ("localhost", "localhost"),
        ("ｍａｉｌ．ｅｘａｍｐｌｅ．ｔｅｓｔ", "mail.example.test"),
    ],
)
def test_hosts(given: str, stored: str) -> None:
    assert normalise_host(given) == stored


@pytest.mark.parametrize("host", ["", "  ", "[]", "a..b", "-a.test", "a b.test", "a/b", "x" * 64])
def test_bad_hosts(host: str) -> None:
    with pytest.raises(InvalidSettingError) as info:
        Endpoint(Protocol.SMTP, host, 587, Security.STARTTLS)
    assert info.value.setting == "host"


@pytest.mark.parametrize("port", [0, -1, 65536, True, "993"])
def test_bad_ports(port: object) -> None:
    with pytest.raises(InvalidSettingError) as info:
        Endpoint(Protocol.IMAP, "imap.example.test", port, Security.TLS)  # type: ignore[arg-type]
    assert info.value.setting == "port"
    assert "65535" in str(info.value)


def test_ports_at_the_edges() -> None:
    assert Endpoint(Protocol.IMAP, "h.test", 1, Security.TLS).port == 1
    assert Endpoint(Protocol.IMAP, "h.test", 65535, Security.TLS).port == 65535


def test_endpoint_accepts_enum_values_as_strings() -> None:
    endpoint = Endpoint("pop3", "pop.example.test", 995, "tls", "taro")  # type: ignore[arg-type]
    assert endpoint.protocol is Protocol.POP3
    assert endpoint.security is Security.TLS
    with pytest.raises(ValueError):
        Endpoint("nntp", "h.test", 119, "tls")  # type: ignore[arg-type]


def test_endpoint_to_dict_and_netloc() -> None:
    endpoint = Endpoint(Protocol.SMTP, "[::1]", 2525, Security.STARTTLS, "taro@example.test")
    assert endpoint.to_dict() == {
        "protocol": "smtp",
        "host": "::1",
        "port": 2525,
        "security": "starttls",
        "username": "taro@example.test",
    }
    assert endpoint.netloc == "[::1]:2525"
    assert endpoint.is_ip_address
    assert Endpoint(Protocol.IMAP, "h.test", 993, Security.TLS).netloc == "h.test:993"


def test_endpoint_is_frozen_and_hashable() -> None:
    endpoint = Endpoint(Protocol.IMAP, "h.test", 993, Security.TLS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        endpoint.port = 143  # type: ignore[misc]
    assert endpoint in {Endpoint(Protocol.IMAP, "H.TEST", 993, Security.TLS)}


def test_default_ports() -> None:
    assert Protocol.IMAP.default_port(Security.TLS) == 993
    assert Protocol.IMAP.default_port(Security.STARTTLS) == 143
    assert Protocol.POP3.default_port(Security.TLS) == 995
    assert Protocol.SMTP.default_port(Security.TLS) == 465
    assert Protocol.SMTP.default_port(Security.STARTTLS) == 587
    assert Protocol.CALDAV.default_port(Security.TLS) == 443


def test_stable_enum_values() -> None:
    # These strings appear in JSON output and saved profiles: changing one breaks users.
    assert [p.value for p in Protocol] == ["imap", "pop3", "smtp", "caldav", "carddav"]
    assert [s.value for s in Security] == ["tls", "starttls", "plain"]
    assert [a.value for a in AuthKind] == [
        "password",
        "app-password",
        "oauth2-microsoft",
        "oauth2-google",
        "exchange-hybrid",
        "none",
    ]
    assert [t.value for t in Trust] == ["high", "medium", "low"]
    assert [o.value for o in Outcome] == ["ok", "info", "warning", "error"]
    assert [f.value for f in Fixer] == ["user", "admin", "provider", "nobody"]


def test_orderings() -> None:
    assert sorted(Security, key=lambda s: s.rank, reverse=True) == [
        Security.TLS,
        Security.STARTTLS,
        Security.PLAIN,
    ]
    assert max(Trust, key=lambda t: t.rank) is Trust.HIGH
    assert max(Outcome, key=lambda o: o.severity) is Outcome.ERROR
    assert [o for o in Outcome if o.is_problem] == [Outcome.WARNING, Outcome.ERROR]
    assert Protocol.IMAP.is_incoming and not Protocol.SMTP.is_incoming
    assert AuthKind.OAUTH2_GOOGLE.is_oauth and not AuthKind.APP_PASSWORD.is_oauth


# --- account settings -------------------------------------------------------------------------

IMAP = Endpoint(Protocol.IMAP, "imap.example.test", 993, Security.TLS)
SMTP = Endpoint(Protocol.SMTP, "smtp.example.test", 587, Security.STARTTLS)
CATALOG = Provenance("catalog", Trust.HIGH, over_https=False)


def test_provenance_trust() -> None:
    assert CATALOG.trusted
    assert not Provenance("srv", Trust.MEDIUM, over_https=False).trusted
    guess = Provenance("guess", Trust.LOW, over_https=False, detail="probed 3 hosts")
    assert not guess.trusted
    assert guess.to_dict() == {
        "source": "guess",
        "trust": "low",
        "over_https": False,
        "url": None,
        "detail": "probed 3 hosts",
    }
    with pytest.raises(ValueError):
        Provenance("", Trust.HIGH, over_https=True)


def test_account_config_to_dict() -> None:
    config = AccountConfig(
        incoming=IMAP,
        outgoing=SMTP,
        caldav="https://dav.example.test/caldav/",
        carddav=None,
        auth=AuthKind.APP_PASSWORD,
        provider_id="example",
        provider_name="Example Mail",
        provenance=Provenance(
            "autoconfig",
            Trust.HIGH,
            over_https=True,
            url="https://autoconfig.example.test/mail/config-v1.1.xml",
        ),
        hints=(Text("address.fix"),),
    )
    data = config.to_dict()
    assert data == {
        "incoming": IMAP.to_dict(),
        "outgoing": SMTP.to_dict(),
        "caldav": "https://dav.example.test/caldav/",
        "carddav": None,
        "auth": "app-password",
        "provider": {"id": "example", "name": "Example Mail"},
        "source": "autoconfig",
        "trusted": True,
        "provenance": {
            "source": "autoconfig",
            "trust": "high",
            "over_https": True,
            "url": "https://autoconfig.example.test/mail/config-v1.1.xml",
            "detail": None,
        },
        "hints": ["Check the address for typing mistakes. It should look like name@example.com."],
    }
    assert config.to_dict("ja")["hints"] == [
        "入力ミスがないか確認してください。メールアドレスは「name@example.com」のような形式です。"
    ]
    json.dumps(data)  # plain JSON types only


def test_account_config_minimal() -> None:
    config = AccountConfig(incoming=IMAP, provenance=CATALOG)
    data = config.to_dict()
    assert data["outgoing"] is None
    assert data["provider"] is None
    assert data["auth"] == "password"
    assert data["hints"] == []


def test_account_config_checks_its_parts() -> None:
    with pytest.raises(InvalidSettingError) as info:
        AccountConfig(incoming=SMTP, provenance=CATALOG)
    assert info.value.setting == "incoming"
    assert "smtp" in str(info.value)
    with pytest.raises(InvalidSettingError) as info:
        AccountConfig(incoming=IMAP, outgoing=IMAP, provenance=CATALOG)
    assert info.value.setting == "outgoing"
    for url in ("dav.example.test", "ftp://dav.example.test/", "https://", "https://h:99999/"):
        with pytest.raises(InvalidSettingError) as info:
            AccountConfig(incoming=IMAP, carddav=url, provenance=CATALOG)
        assert info.value.setting == "carddav"


def test_account_config_keeps_hints_as_a_tuple() -> None:
    hints = [Text("address.fix")]
    config = AccountConfig(incoming=IMAP, provenance=CATALOG, hints=hints)  # type: ignore[arg-type]
    hints.append(Text("check.setup"))
    assert config.hints == (Text("address.fix"),)


# --- findings ---------------------------------------------------------------------------------


def _finding(**changes: object) -> Finding:
    values: dict[str, object] = {
        "code": "imap.auth.wrong-password",
        "checked": Text("check.server", {"host": "imap.example.test"}),
        "outcome": Outcome.ERROR,
        "cause": Text("error.server", {"host": "imap.example.test"}),
        "fix": Text("error.server.fix"),
        "fixer": Fixer.USER,
        "help_topic": "sign-in",
        "server_said": "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        "detail": {"port": 993},
    }
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


def test_finding_renders_late_in_either_language() -> None:
    finding = _finding()
    english, japanese = finding.to_dict("en"), finding.to_dict("ja")
    assert english == {
        "code": "imap.auth.wrong-password",
        "outcome": "error",
        "title": None,
        "checked": "Reply from imap.example.test",
        "cause": "imap.example.test reported an error.",
        "fix": (
            "Try again later. If the problem continues, give the server's reply from the "
            "details to your mail provider or IT department."
        ),
        "fixer": "user",
        "help_topic": "sign-in",
        "server_said": "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        "detail": {"port": 993},
    }
    assert japanese["checked"] == "imap.example.test からの応答"
    assert japanese["cause"] == "imap.example.test からエラーが返されました。"
    json.dumps(japanese, ensure_ascii=False)


def test_finding_without_fix() -> None:
    finding = _finding(outcome=Outcome.OK, fix=None, server_said=None)
    assert finding.to_dict()["fix"] is None
    assert not finding.outcome.is_problem


@pytest.mark.parametrize("code", ["", "IMAP.auth", "imap..auth", "imap auth", ".imap", "imap-"])
def test_finding_codes_are_checked(code: str) -> None:
    with pytest.raises(ValueError, match="code"):
        _finding(code=code)


def test_finding_is_a_frozen_hashable_value() -> None:
    detail = {"port": 993}
    finding = _finding(detail=detail)
    detail["port"] = 1
    assert finding.detail == {"port": 993}
    assert finding == _finding()
    assert len({finding, _finding()}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "x"  # type: ignore[misc]
