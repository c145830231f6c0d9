"""The built-in provider catalog (app/core/discovery/catalog.py and resources/providers/*.toml):
every entry validated, matching by domain and MX, candidates for an address, the notes as
texts, the offline catalog source, and mx.lookup_keys / sort_mx (pure functions)."""

from __future__ import annotations

import asyncio
import copy
import time
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.core.discovery.base import DiscoveryContext, SourceOutcome, SourceReport
from app.core.discovery.catalog import (
    ASK,
    CatalogDataError,
    CatalogSource,
    Provider,
    ProviderCatalog,
    default_catalog,
    parse_provider,
)
from app.core.discovery.mx import lookup_keys, sort_mx
from app.core.errors import NetworkError
from app.core.model import (
    AuthKind,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.net import MXRecord, Network, NetworkOptions
from app.core.resources import resource_path
from app.core.texts import Catalog, Text, provider_note_key, render
from app.core.texts import default_catalog as text_catalog

PROVIDER_DIR = resource_path("providers")
FILES = sorted(PROVIDER_DIR.glob("*.toml"))
REQUIRED = {
    "schema",
    "id",
    "name",
    "evidence",
    "domains",
    "mx_patterns",
    "auth",
    "incoming",
    "outgoing",
    "notes",
    "sources",
}
SERVER_REQUIRED = {"protocol", "host", "port", "security", "username"}
AUTH_VALUES = {"password", "app-password", "oauth2-microsoft", "oauth2-google", "exchange-hybrid"}
URL_KEYS = ("app_password_url", "help_url", "enable_url", "caldav", "carddav")
PROVENANCE = Provenance(source="catalog", trust=Trust.HIGH, over_https=False)
SAMPLE = EmailAddress.parse("taro.yamada@example.jp")


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def catalog() -> ProviderCatalog:
    return default_catalog()


def provider(provider_id: str) -> Provider:
    found = catalog().get(provider_id)
    assert found is not None, provider_id
    return found


# --- every entry ------------------------------------------------------------------------------


def test_the_catalog_has_every_file_and_the_providers_the_issue_names() -> None:
    assert len(FILES) >= 24
    assert [p.id for p in catalog()] == [path.stem for path in FILES]
    required = {
        "microsoft365",
        "outlook",
        "icloud",
        "google",
        "yahoo",
        "aol",
        "gmx",
        "webde",
        "fastmail",
        "zoho",
        "yandex",
        "mailru",
        "posteo",
        "mailboxorg",
        "docomo",
        "softbank",
        "ocn",
        "biglobe",
        "nifty",
        "yahoo-japan",
    }
    assert required <= {p.id for p in catalog()}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_entry_is_valid(path: Path) -> None:
    data = load(path)
    # The parser's own strict validation accepts it ...
    parsed = parse_provider(data, path.stem, path)
    # ... and the facts the schema demands hold, checked here independently of the parser.
    assert set(data) >= REQUIRED, f"missing {REQUIRED - set(data)}"
    assert data["schema"] == 1
    assert data["id"] == path.stem
    assert data["evidence"] in {"provider", "ispdb", "third-party"}
    assert data["auth"] in AUTH_VALUES
    assert data.get("auth_fallback", data["auth"]) in AUTH_VALUES
    assert data["domains"] or data["mx_patterns"]
    for key in URL_KEYS:
        if key in data:
            parts = urlsplit(data[key])
            assert parts.scheme == "https" and parts.hostname, f"{key} {data[key]!r}"
    for direction, protocols in (("incoming", {"imap", "pop3"}), ("outgoing", {"smtp"})):
        assert data[direction], f"no {direction} server"
        for server in data[direction]:
            assert set(server) >= SERVER_REQUIRED
            assert server["protocol"] in protocols
            assert server["security"] in {"tls", "starttls", "plain"}
            assert server["username"] in {
                "%EMAILADDRESS%",
                "%EMAILLOCALPART%",
                "%EMAILDOMAIN%",
                ASK,
            }
            assert server.get("applies_to", "domain") in {"domain", "mx"}
            endpoint = Endpoint(
                server["protocol"], server["host"], server["port"], server["security"]
            )
            assert endpoint.host == server["host"]
    assert isinstance(data["notes"], dict)
    for key, note in data["notes"].items():
        assert set(note) == {"en", "ja"}, key
        assert note["en"].strip() and note["ja"].strip(), key
    assert data["sources"], "every entry must say where its facts came from"
    for source in data["sources"]:
        assert source["url"] and source["supports"] and source["kind"]
    assert parsed.ref.id == path.stem
    assert list(parsed.notes) == list(data["notes"])


def test_no_domain_is_claimed_twice() -> None:
    owners: dict[str, list[str]] = {}
    for path in FILES:
        for domain in load(path)["domains"]:
            owners.setdefault(domain, []).append(path.stem)
    assert {d: o for d, o in owners.items() if len(o) > 1} == {}
    # and no provider's exact domain lies under another provider's wildcard
    for path in FILES:
        for entry in load(path)["domains"]:
            if entry.startswith("*."):
                covered = [
                    (d, o)
                    for d, (o, *_) in owners.items()
                    if d.endswith(entry[1:]) and o != path.stem
                ]
                assert covered == [], entry


def _samples(pattern: str) -> list[str]:
    return [pattern.replace("*", "sample"), pattern.replace("*", "a.b-c")]


def test_mx_patterns_are_disjoint_on_samples() -> None:
    patterns = {path.stem: load(path)["mx_patterns"] for path in FILES}
    for owner, own in patterns.items():
        for pattern in own:
            for host in _samples(pattern):
                matching = [
                    other
                    for other, theirs in patterns.items()
                    if any(fnmatchcase(host, p) for p in theirs)
                ]
                assert matching == [owner], f"{host} (from {pattern}) matches {matching}"
                assert catalog().by_mx(host) is catalog().get(owner)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("contoso-com.mail.protection.outlook.com", "microsoft365"),
        ("contoso-com.l-v1.mx.microsoft", "microsoft365"),
        ("eur.olc.protection.outlook.com", "outlook"),
        ("aspmx.l.google.com", "google"),
        ("alt1.aspmx.l.google.com", "google"),
        ("smtp.google.com", "google"),
        ("aspmx2.googlemail.com", "google"),
        ("mx01.mail.icloud.com", "icloud"),
        ("MX02.mail.icloud.com.", "icloud"),
        ("in1-smtp.messagingengine.com", "fastmail"),
        ("mta5.am0.yahoodns.net", "yahoo"),
        ("mx-aol.mail.gm0.yahoodns.net", "aol"),
        ("mx.zoho.com", "zoho"),
        ("mx.zoho.eu", "zoho-eu"),
        ("mx00.gmx.net", "gmx"),
        ("mx-ha03.web.de", "webde"),
        ("mxext1.mailbox.org", "mailboxorg"),
        ("bgmgate1.biglobe.ne.jp", "biglobe"),
        ("mx.example.test", None),
        ("mail.protection.outlook.com.evil.test", None),
        ("google.com", None),
    ],
)
def test_by_mx(host: str, expected: str | None) -> None:
    found = catalog().by_mx(host)
    assert (found.id if found else None) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("gmail.com", "google"),
        ("GMAIL.com.", "google"),
        ("icloud.com", "icloud"),
        ("hotmail.co.jp", "outlook"),
        ("contoso.onmicrosoft.com", "microsoft365"),
        ("onmicrosoft.com", None),  # the bare suffix needs its own entry
        ("abc.ocn.ne.jp", "ocn"),
        ("a.b.biglobe.ne.jp", "biglobe"),
        ("biglobe.ne.jp", "biglobe"),
        ("docomo.ne.jp", "docomo"),
        ("yahoo.co.jp", "yahoo-japan"),
        ("yahoo.com", "yahoo"),
        ("notgmail.com", None),
        ("gmail.com.example.test", None),
        ("example.test", None),
        ("", None),
    ],
)
def test_by_domain(domain: str, expected: str | None) -> None:
    found = catalog().by_domain(domain)
    assert (found.id if found else None) == expected


def test_all_domains_lists_exact_domains_only() -> None:
    domains = catalog().all_domains()
    assert "gmail.com" in domains and "docomo.ne.jp" in domains and "ocn.ne.jp" in domains
    assert not [d for d in domains if "*" in d]
    assert len(domains) == len(set(domains))


def test_default_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


# --- the validator catches mistakes -----------------------------------------------------------


def _google() -> dict[str, Any]:
    return load(PROVIDER_DIR / "google.toml")


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target = data
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("id",), "gmail", "must equal the file name"),
        (("schema",), 2, "schema"),
        (("evidence",), "rumour", "evidence"),
        (("auth",), "oauth", "auth"),
        (("help_url",), "http://support.google.com/", "not an https URL"),
        (("caldav",), "https://x.test/%EMAILNAME%/", "unknown placeholder"),
        (("incoming", 0, "host"), "imap gmail com", "not a valid server"),
        (("incoming", 0, "port"), 70000, "not a valid server"),
        (("incoming", 0, "security"), "ssl", "security"),
        (("incoming", 0, "protocol"), "smtp", "protocol"),
        (("incoming", 0, "username"), "%EMAIL%", "username"),
        (("incoming", 0, "applies_to"), "both", "applies_to"),
        (("notes", "imap_always_on"), {"en": "IMAP is on."}, "en = ..., ja = ..."),
        (("notes", "imap_always_on"), {"en": "IMAP is on.", "ja": "IMAP is on."}, "not Japanese"),
        (("notes", "imap_always_on"), {"en": "Use {host}.", "ja": "{host} を使います。"}, "braces"),
        (("sources",), [], "say where its facts came from"),
        (("sources", 0, "kind"), "blog", "kind"),
        (("domains",), ["Gmail.com"], "lower-case ASCII domain"),
        (("mx_patterns",), ["*.com"], "too broad"),
        (("outgoing",), [], "non-empty array"),
        (("unexpected",), 1, "unknown keys"),
        (("sources",), _DELETE, "say where its facts came from"),
    ],
)
def test_the_validator_reports_each_mistake(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    data = _google()
    _set(data, path, value)
    with pytest.raises(CatalogDataError) as caught:
        parse_provider(data, "google")
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_ask_needs_a_note_saying_what_to_type() -> None:
    data = _google()
    data["incoming"][0]["username"] = ASK
    with pytest.raises(CatalogDataError, match="needs a note"):
        parse_provider(data, "google")
    data["notes"]["alias_login"] = {
        "en": "Use your main address.",
        "ja": "メインのアドレスを使用します。",
    }
    assert parse_provider(data, "google").login_note == "alias_login"


def test_a_way_of_matching_without_servers_is_rejected() -> None:
    data = _google()
    for server in data["incoming"]:
        server["applies_to"] = "domain"
    with pytest.raises(CatalogDataError, match="no server applies to addresses matched by mx"):
        parse_provider(data, "google")


def test_the_catalog_rejects_conflicts_between_providers() -> None:
    google = parse_provider(_google(), "google")
    other = copy.deepcopy(_google())
    other["id"] = "copycat"
    other["mx_patterns"] = []
    twin = parse_provider(other, "copycat")
    with pytest.raises(CatalogDataError, match=r"'gmail\.com' is claimed by google and copycat"):
        ProviderCatalog([google, twin])
    other["domains"], other["mx_patterns"] = ["copycat.test"], ["*.google.com"]
    with pytest.raises(CatalogDataError, match=r"MX pattern '\*.google.com' is in google"):
        ProviderCatalog([google, parse_provider(other, "copycat")])
    other["domains"], other["mx_patterns"] = ["*.gmail.com"], []
    third = copy.deepcopy(other)
    third["id"], third["domains"] = "third", ["a.gmail.com"]
    with pytest.raises(CatalogDataError, match=r"'a\.gmail\.com' of third is under \*\.gmail"):
        ProviderCatalog([parse_provider(other, "copycat"), parse_provider(third, "third")])
    # one provider may list a domain and its wildcard (biglobe.ne.jp and *.biglobe.ne.jp)
    other["domains"] = ["gmail.test", "*.gmail.test"]
    assert len(ProviderCatalog([parse_provider(other, "copycat")])) == 1


def test_a_broken_file_fails_loading_with_every_problem(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(
        (PROVIDER_DIR / "google.toml").read_text(encoding="utf-8").replace('"google"', '"good"'),
        encoding="utf-8",
    )
    (tmp_path / "bad.toml").write_text('schema = 1\nid = "bad"\n', encoding="utf-8")
    (tmp_path / "junk.toml").write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(CatalogDataError) as caught:
        ProviderCatalog.from_directory(tmp_path)
    text = "\n".join(caught.value.problems)
    assert "bad.toml: name: 'name' is required" in text
    assert "junk.toml: not TOML" in text
    (tmp_path / "bad.toml").unlink()
    (tmp_path / "junk.toml").unlink()
    assert [p.id for p in ProviderCatalog.from_directory(tmp_path)] == ["good"]


# --- candidates for an address -----------------------------------------------------------------


def test_placeholders_are_filled_in() -> None:
    address = EmailAddress.parse("Taro.Yamada@gmail.com")
    configs = provider("google").account_configs(address, PROVENANCE)
    first = configs[0]
    assert first.incoming == Endpoint("imap", "imap.gmail.com", 993, "tls", "Taro.Yamada@gmail.com")
    assert first.outgoing == Endpoint("smtp", "smtp.gmail.com", 465, "tls", "Taro.Yamada@gmail.com")
    assert (
        first.caldav == "https://apidata.googleusercontent.com/caldav/v2/Taro.Yamada@gmail.com/user"
    )
    assert first.auth is AuthKind.OAUTH2_GOOGLE
    assert (first.provider_id, first.provider_name) == ("google", "Gmail")
    assert first.provenance is PROVENANCE
    webde = provider("webde").account_configs(EmailAddress.parse("hans@web.de"), PROVENANCE)
    assert {c.incoming.username for c in webde} == {"hans"}


def test_every_server_appears_in_a_candidate_in_order() -> None:
    google = provider("google")
    configs = google.account_configs(EmailAddress.parse("taro@gmail.com"), PROVENANCE)
    pairs = [
        (c.incoming.host, c.incoming.port, c.outgoing.port if c.outgoing else None) for c in configs
    ]
    assert pairs == [
        ("imap.gmail.com", 993, 465),
        ("pop.gmail.com", 995, 465),
        ("imap.gmail.com", 993, 587),
    ]


def test_icloud_custom_domain_asks_for_the_user_name() -> None:
    icloud = provider("icloud")
    address = EmailAddress.parse("hanako@family.example.test")
    configs = icloud.account_configs(address, PROVENANCE, "mx")
    assert len(configs) == 1
    (config,) = configs
    assert config.incoming.host == "imap.mail.me.com"
    assert config.incoming.username is None
    assert config.outgoing is not None and config.outgoing.username is None
    ask = config.hints[0]
    assert ask.key == "discovery.catalog.ask-username"
    assert ask.params["what"] == Text(provider_note_key("icloud", "custom_domain_login"))
    english = render(ask, "en", strict=True)
    assert "@icloud.com" in english and "iCloud Mail" in english
    assert "@icloud.com" in render(ask, "ja", strict=True)
    # the note is quoted once, not repeated as a hint of its own
    assert Text(provider_note_key("icloud", "custom_domain_login")) not in config.hints


def test_icloud_address_logs_in_with_its_own_names() -> None:
    icloud = provider("icloud")
    configs = icloud.account_configs(EmailAddress.parse("taro@icloud.com"), PROVENANCE, "domain")
    assert [c.incoming.username for c in configs] == ["taro", "taro@icloud.com"]
    keys = {h.key for c in configs for h in c.hints}
    assert provider_note_key("icloud", "custom_domain_login") not in keys
    assert "discovery.catalog.ask-username" not in keys
    assert provider_note_key("icloud", "app_password") in keys


def test_applies_to_picks_the_servers_of_each_way_of_matching() -> None:
    zoho = provider("zoho")
    address = EmailAddress.parse("taro@zoho.com")
    by_domain = {c.incoming.host for c in zoho.account_configs(address, PROVENANCE, "domain")}
    by_mx = {c.incoming.host for c in zoho.account_configs(address, PROVENANCE, "mx")}
    assert by_domain == {"imap.zoho.com", "pop.zoho.com"}
    assert by_mx == {"imappro.zoho.com"}
    with pytest.raises(ValueError, match="matched_by"):
        zoho.account_configs(address, PROVENANCE, "guess")  # type: ignore[arg-type]


def test_docomo_asks_for_the_imap_id() -> None:
    (config,) = provider("docomo").account_configs(
        EmailAddress.parse("taro@docomo.ne.jp"), PROVENANCE
    )
    assert config.incoming.username is None
    assert config.hints[0].params["what"] == Text(
        provider_note_key("docomo", "imap_id_and_password")
    )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_candidate_renders_in_both_languages(path: Path) -> None:
    entry = provider(path.stem)
    ways = [w for w, listed in (("domain", entry.domains), ("mx", entry.mx_patterns)) if listed]
    for way in ways:
        configs = entry.account_configs(SAMPLE, PROVENANCE, way)  # type: ignore[arg-type]
        assert configs, way
        for config in configs:
            assert config.hints, "every provider has notes for the person"
            for language in ("en", "ja"):
                for hint in config.hints:
                    assert render(hint, language, strict=True).strip()
            asks = config.incoming.username is None or (
                config.outgoing is not None and config.outgoing.username is None
            )
            assert asks == config.hints[0].key.startswith("discovery.catalog.ask-username")


# --- the notes are texts (app/core/texts.py) ---------------------------------------------------


def test_every_provider_note_is_a_text_in_both_languages() -> None:
    texts = text_catalog()
    assert texts.problems == ()
    for path in FILES:
        for key, note in load(path)["notes"].items():
            text = Text(provider_note_key(path.stem, key))
            assert render(text, "en", strict=True) == note["en"]
            assert render(text, "ja", strict=True) == note["ja"]


def test_catalog_from_files_adds_provider_notes(tmp_path: Path) -> None:
    texts = tmp_path / "texts.toml"
    texts.write_text('[hello]\nen = "Hello."\nja = "こんにちは。"\n', encoding="utf-8")
    acme = tmp_path / "acme.toml"
    acme.write_text(
        'id = "acme"\n[notes]\ntip = { en = "Tip.", ja = "ヒントです。" }\n', encoding="utf-8"
    )
    empty = tmp_path / "empty.toml"
    empty.write_text('id = "empty"\n[notes]\n', encoding="utf-8")
    loaded = Catalog.from_files([texts], [acme, empty])
    assert loaded.problems == ()
    assert sorted(loaded) == ["hello", "provider.acme.note.tip"]
    assert loaded.render(Text("provider.acme.note.tip"), "ja") == "ヒントです。"
    clash = tmp_path / "clash.toml"
    clash.write_text('[provider.acme.note.tip]\nen = "X."\nja = "エックス。"\n', encoding="utf-8")
    assert any("already defined" in p for p in Catalog.from_files([clash], [acme]).problems)


# --- the catalog source: offline, instant -----------------------------------------------------


def run_source(source: CatalogSource, address: str, net: Network) -> SourceReport:
    async def go() -> SourceReport:
        context = DiscoveryContext(address=EmailAddress.parse(address), net=net)
        try:
            async with asyncio.timeout(5):
                return await source.run(context)
        finally:
            context.close()

    return asyncio.run(go())


def test_known_providers_answer_offline() -> None:
    net = Network(NetworkOptions(offline=True))
    started = time.monotonic()
    report = run_source(CatalogSource(), "taro@gmail.com", net)
    elapsed = time.monotonic() - started
    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None and report.provider.id == "google"
    assert report.candidates and all(c.provenance.trust is Trust.HIGH for c in report.candidates)
    assert report.candidates[0].provenance.source == "catalog"
    assert report.candidates[0].incoming.host == "imap.gmail.com"
    assert elapsed < 1.0
    # The same network object refuses every use: the answer above needed none.
    with pytest.raises(NetworkError) as caught:
        asyncio.run(net.mx("gmail.com"))
    assert caught.value.code == "network.offline"
    with pytest.raises(NetworkError):
        asyncio.run(net.fetch("https://autoconfig.gmail.com/mail/config-v1.1.xml"))


def test_catalog_source_by_wildcard_domain_and_unknown_domain() -> None:
    net = Network(NetworkOptions(offline=True))
    ocn = run_source(CatalogSource(), "taro@abc.ocn.ne.jp", net)
    assert ocn.provider is not None and ocn.provider.id == "ocn"
    assert ocn.data["entry"] == "*.ocn.ne.jp"
    assert ocn.candidates[0].incoming.username == "taro@abc.ocn.ne.jp"
    unknown = run_source(CatalogSource(), "taro@example.test", net)
    assert unknown.outcome is SourceOutcome.NOTHING
    assert unknown.candidates == () and unknown.provider is None


def test_catalog_source_ignores_mx_only_providers() -> None:
    # A domain that only an MX pattern could match is not the catalog source's business.
    report = run_source(
        CatalogSource(), "taro@contoso.example.test", Network(NetworkOptions(offline=True))
    )
    assert report.outcome is SourceOutcome.NOTHING


# --- mx.lookup_keys and sort_mx (pure) --------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "domain", "keys"),
    [
        (
            "contoso-com.mail.protection.outlook.com",
            "contoso.com",
            [
                "contoso-com.mail.protection.outlook.com",
                "mail.protection.outlook.com",
                "outlook.com",
            ],
        ),
        (
            "aspmx.l.google.com",
            "example.test",
            ["aspmx.l.google.com", "l.google.com", "google.com"],
        ),
        ("mx.example.co.jp", "other.test", ["mx.example.co.jp", "example.co.jp"]),
        ("MX1.Example.CO.JP.", None, ["mx1.example.co.jp", "example.co.jp"]),
        ("mx.co.jp", None, ["mx.co.jp"]),  # its parent co.jp is a public suffix
        (
            "mx01.mail.icloud.com",
            "family.test",
            ["mx01.mail.icloud.com", "mail.icloud.com", "icloud.com"],
        ),
        ("mail.example.com", "example.com", []),  # the user's own domain says nothing new
        # the ISP above a customer's subdomain is worth asking about
        ("mx.mail.example.com", "mail.example.com", ["example.com"]),
        ("mx01.ocn.ne.jp", "abc.ocn.ne.jp", ["mx01.ocn.ne.jp", "ocn.ne.jp"]),
        ("mx.hoster.test", "customer.test", ["mx.hoster.test", "hoster.test"]),
        (".", "example.test", []),
        ("", None, []),
    ],
)
def test_lookup_keys(host: str, domain: str | None, keys: list[str]) -> None:
    assert lookup_keys(host, domain) == keys


def test_sort_mx_is_numeric() -> None:
    records = [
        MXRecord(10, "b.test"),
        MXRecord(5, "c.test"),
        MXRecord(20, "a.test"),
        MXRecord(5, "a.test"),
    ]
    assert [(r.preference, r.exchange) for r in sort_mx(records)] == [
        (5, "a.test"),
        (5, "c.test"),
        (10, "b.test"),
        (20, "a.test"),
    ]


def test_endpoint_security_values_used_by_the_catalog_are_the_models() -> None:
    # Guards the mapping from the files' words to the model's enums.
    assert {s.value for s in Security} == {"tls", "starttls", "plain"}
    assert {p.value for p in Protocol} >= {"imap", "pop3", "smtp"}
