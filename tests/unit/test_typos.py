""" "Did you mean ...?" for mistyped mail domains (app/core/discovery/typos.py)."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from app.core.discovery.typos import (
    LONG_DOMAIN,
    DomainSuggester,
    damerau_levenshtein,
    default_suggester,
    load_known_domains,
    suggest_address,
)
from app.core.model import EmailAddress, normalise_host
from app.core.resources import resource_path


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("taro@gmial.com", "taro@gmail.com"),
        ("taro@gamil.com", "taro@gmail.com"),
        ("taro@gmai.com", "taro@gmail.com"),
        ("taro@hotmial.com", "taro@hotmail.com"),
        ("taro@hotmail.con", "taro@hotmail.com"),
        ("taro@yaho.co.jp", "taro@yahoo.co.jp"),
        ("taro@yahoo.co.jo", "taro@yahoo.co.jp"),
        ("taro@icloud.co", "taro@icloud.com"),
        ("taro@icluod.com", "taro@icloud.com"),
        ("taro@outlok.jp", "taro@outlook.jp"),
        ("taro@outlook.cm", "taro@outlook.com"),
        ("taro@docomo.ne.com", "taro@docomo.ne.jp"),
        ("taro@docomo.ne.jpp", "taro@docomo.ne.jp"),
        ("taro@ezwed.ne.jp", "taro@ezweb.ne.jp"),
        ("taro@softbank.ne.com", "taro@softbank.ne.jp"),
        ("taro@yahoo.co", "taro@yahoo.com"),  # yahoo.ca is as close; yahoo.com is more used
        ("taro@niffty.com", "taro@nifty.com"),
        # Long domains may be two edits away.
        ("taro@biglobbe.ne.jpp", "taro@biglobe.ne.jp"),
        # The local part is kept exactly, case included; the domain is compared in lower case.
        ("Taro.Yamada+tag@GMIAL.com", "Taro.Yamada+tag@gmail.com"),
        ("ｔａｒｏ＠ｇｍｉａｌ．ｃｏｍ", "taro@gmail.com"),
    ],
)
def test_suggestions(typed: str, meant: str) -> None:
    assert suggest_address(EmailAddress.parse(typed)) == meant


@pytest.mark.parametrize(
    "address",
    [
        "taro@gmail.com",
        "taro@docomo.ne.jp",
        "taro@outlook.jp",
        "taro@yahoo.co.jp",
        "taro@hotmail.co.jp",
        "taro@example.test",
        "taro@corp.test",
        "taro@example.jp.test",
        # subdomains of known domains are handed out by ISPs: never a typo
        "taro@abc.ocn.ne.jp",
        "taro@a.ocn.ne.jp",
        "taro@xyz.biglobe.ne.jp",
        # short domains two edits away are too uncertain
        "taro@gmial.con",
        "taro@bücher.example",
    ],
)
def test_no_suggestion(address: str) -> None:
    assert suggest_address(EmailAddress.parse(address)) is None


def test_tie_break_prefers_the_same_last_label_then_the_more_used() -> None:
    suggester = DomainSuggester(["abcd.net", "abce.com"])
    assert suggester.suggest_domain("abcf.com") == "abce.com"
    assert DomainSuggester(["aab.com", "aac.com"]).suggest_domain("aad.com") == "aab.com"
    assert DomainSuggester(["aac.com", "aab.com"]).suggest_domain("aad.com") == "aac.com"
    # The closer domain wins over the more used one.
    assert DomainSuggester(["abxx.com", "abcx.com"]).suggest_domain("abcd.com") == "abcx.com"


def test_distance_two_only_for_long_domains() -> None:
    suggester = DomainSuggester(["examplemail.com", "mail.com"])
    assert len("exampelmial.com") >= LONG_DOMAIN
    assert suggester.suggest_domain("exampelmial.com") == "examplemail.com"
    assert suggester.suggest_domain("exampelmiall.com") is None  # three edits
    assert suggester.suggest_domain("mial.cm") is None  # two edits, short
    assert suggester.suggest_domain("mial.com") == "mail.com"


def test_last_label_swap_needs_two_matching_labels() -> None:
    suggester = DomainSuggester(["docomo.ne.jp", "nifty.com"])
    assert suggester.suggest_domain("docomo.ne.org") == "docomo.ne.jp"
    assert suggester.suggest_domain("nifty.org") is None  # only one label in common


def test_suggester_basics() -> None:
    suggester = DomainSuggester(
        ["Gmail.com.", "gmail.com", "not a domain", "localhost", "*.isp.test", "*"]
    )
    assert suggester.domains == ("gmail.com", "isp.test")
    assert len(suggester) == 2
    assert suggester.suggest_domain("abc.isp.test") is None
    assert "GMAIL.COM" in suggester
    assert 5 not in suggester
    assert suggester.suggest_domain("not a domain") is None
    assert suggester.suggest(EmailAddress.parse("a@gmali.com")) == "a@gmail.com"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("gmial", "gmail", 1),
        ("kitten", "sitting", 3),
        ("ca", "abc", 2),  # unrestricted: the swapped pair is edited again (OSA says 3)
        ("abcdef", "badcfe", 3),
        ("hotmial.com", "hotmail.com", 1),
    ],
)
def test_damerau_levenshtein(a: str, b: str, distance: int) -> None:
    assert damerau_levenshtein(a, b) == distance
    assert damerau_levenshtein(b, a) == distance


def test_provider_catalog_domains_are_known(tmp_path: Path) -> None:
    known = tmp_path / "known.txt"
    known.write_text("# comment\n gmail.com  # inline\n\nyahoo.co.jp\n", encoding="utf-8")
    providers = tmp_path / "providers"
    providers.mkdir()
    (providers / "b.toml").write_text('domains = ["zzmail.test", "gmail.com"]\n', "utf-8")
    (providers / "a.toml").write_text('id = "x"\ndomains = ["aamail.test", 5]\n', "utf-8")
    (providers / "broken.toml").write_text("domains = [", "utf-8")
    (providers / "odd.toml").write_text('domains = "not a list"\n', "utf-8")
    domains = load_known_domains(known, providers)
    assert domains == ["gmail.com", "yahoo.co.jp", "aamail.test", "zzmail.test", "gmail.com"]
    suggester = DomainSuggester(domains)
    assert suggester.suggest_domain("zzmial.test") == "zzmail.test"
    assert suggester.suggest_domain("zzmail.test") is None
    assert load_known_domains(known, tmp_path / "missing") == ["gmail.com", "yahoo.co.jp"]


def test_the_shipped_list() -> None:
    path = resource_path("known_domains.txt")
    entries = load_known_domains(path)
    assert len(entries) >= 250
    assert len(set(entries)) == len(entries), "duplicates in known_domains.txt"
    assert [e for e in entries if normalise_host(e) != e or "." not in e] == []
    suggester = default_suggester()
    assert default_suggester() is suggester
    assert set(entries) <= set(suggester.domains)
    # The provider catalog's domains are known too, when that catalog is there.
    for path in sorted(resource_path("providers").glob("*.toml")):
        listed = tomllib.loads(path.read_text("utf-8")).get("domains", [])
        assert [d for d in listed if d.removeprefix("*.") not in suggester] == [], path.name


def test_lookups_are_fast() -> None:
    suggester = default_suggester()
    typed = ["gmial.com", "docomo.ne.com", "example.test", "yaho.co.jp", "abc.ocn.ne.jp"] * 200
    started = time.perf_counter()
    for domain in typed:
        suggester.suggest_domain(domain)
    assert time.perf_counter() - started < 1.0
