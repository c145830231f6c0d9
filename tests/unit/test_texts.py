"""The text catalogs (resources/texts/*.toml) and rendering them in English and Japanese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.errors import AddressProblem
from app.core.texts import (
    LANGUAGES,
    Catalog,
    CatalogError,
    Text,
    TextWarning,
    UnknownTextError,
    default_catalog,
    language_from_environment,
    normalise_language,
    placeholders,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# A key written as a literal inside Text(...), the convention texts.py asks for.
TEXT_CALL = re.compile(r"""\bText\(\s*(?:key\s*=\s*)?(["'])([^"'{}]+)\1""")


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


# --- the shipped catalog ----------------------------------------------------------------------


def test_catalog_loads_without_problems() -> None:
    catalog = default_catalog()
    assert catalog.problems == ()
    assert len(catalog) >= 60
    assert default_catalog() is catalog  # loaded once


def test_every_entry_has_english_and_japanese() -> None:
    catalog = default_catalog()
    missing = [
        f"{key} ({language})"
        for key in catalog
        for language in LANGUAGES
        if not catalog.entries[key].get(language, "").strip()
    ]
    assert missing == []


def test_japanese_entries_are_japanese() -> None:
    catalog = default_catalog()
    untranslated = [key for key in catalog if not JAPANESE.search(catalog.entries[key]["ja"])]
    assert untranslated == []


def test_both_languages_use_the_same_placeholders() -> None:
    catalog = default_catalog()
    mismatched = {
        key: (placeholders(entry["en"]), placeholders(entry["ja"]))
        for key, entry in catalog.entries.items()
        if placeholders(entry["en"]) != placeholders(entry["ja"])
    }
    assert mismatched == {}


def _keys_in_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in ("app/core", "app/cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for match in TEXT_CALL.finditer(path.read_text(encoding="utf-8")):
                found.setdefault(match.group(2), []).append(str(path.relative_to(ROOT)))
    return found


def test_every_key_used_in_the_code_exists() -> None:
    used = _keys_in_code()
    # The scan must see the texts of model.py and errors.py, or it proves nothing.
    assert {"address.fix", "error.connect.refused", "setting.port-range"} <= set(used)
    assert len(used) >= 40
    catalog = default_catalog()
    missing = {key: files for key, files in used.items() if key not in catalog}
    assert missing == {}


def test_every_address_problem_has_a_text() -> None:
    catalog = default_catalog()
    assert [p for p in AddressProblem if f"address.{p.value}" not in catalog] == []


# --- rendering --------------------------------------------------------------------------------


def test_render_in_both_languages() -> None:
    text = Text("check.connect", {"host": "imap.example.test", "port": 993})
    assert render(text, "en") == "Connection to imap.example.test, port 993"
    assert render(text, "ja") == "imap.example.test（ポート 993）への接続"
    assert text.render("ja") == render(text, "ja")
    assert render(text) == render(text, "en")


def test_a_text_parameter_renders_in_the_same_language() -> None:
    text = Text("error.config.reason", {"where": "org.toml", "reason": Text("setting.host-empty")})
    assert render(text, "en") == (
        "The configuration “org.toml” is not valid: Enter the server name."
    )
    assert (
        render(text, "ja") == "構成「org.toml」が正しくありません：サーバー名を入力してください。"
    )


def test_floats_render_without_noise() -> None:
    assert "10.5 seconds" in render(Text("error.deadline", {"host": "h", "seconds": 10.5}))
    assert "30 seconds" in render(Text("error.deadline", {"host": "h", "seconds": 30.0}))


def test_unknown_key_is_an_error_when_strict() -> None:
    with pytest.raises(UnknownTextError) as info:
        render(Text("no.such.key"), "ja", strict=True)
    assert isinstance(info.value, KeyError)
    assert "no.such.key" in str(info.value)


def test_unknown_key_renders_the_key_with_a_warning() -> None:
    with pytest.warns(TextWarning, match="no.such.key"):
        assert render(Text("no.such.key"), "ja") == "no.such.key"


def test_missing_parameter_warns_and_keeps_the_placeholder() -> None:
    with pytest.warns(TextWarning, match="host"):
        assert render(Text("error.network"), "en") == "The connection to {host} failed."
    with pytest.raises(KeyError, match="host"):
        render(Text("error.network"), "en", strict=True)


def test_text_is_an_immutable_hashable_value() -> None:
    params: dict[str, str | int] = {"host": "a.test", "port": 1}
    text = Text("check.connect", params)
    params["host"] = "changed.test"
    assert text.params["host"] == "a.test"
    assert text == Text("check.connect", {"port": 1, "host": "a.test"})
    assert len({text, Text("check.connect", {"host": "a.test", "port": 1})}) == 1
    with pytest.raises(ValueError, match="not a name"):
        Text("check.connect", {"not a name": 1})
    with pytest.raises(ValueError, match="key"):
        Text("")


# --- the checks catch broken catalogs (so the tests above can fail) ---------------------------


def test_a_missing_japanese_text_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.toml", '[greeting.hello]\nen = "Hello."\n')
    catalog = Catalog.from_files([path])
    assert any("'greeting.hello' has no ja text" in p for p in catalog.problems)
    # At runtime the English text stands in for the missing one.
    assert catalog.render(Text("greeting.hello"), "ja") == "Hello."


def test_an_empty_text_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.toml", '[greeting]\nen = "Hello."\nja = "  "\n')
    assert any("no ja text" in p for p in Catalog.from_files([path]).problems)


def test_different_placeholders_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.toml", '[x]\nen = "Hello {name}."\nja = "こんにちは {nom}。"\n')
    assert any("different placeholders" in p for p in Catalog.from_files([path]).problems)


def test_malformed_placeholders_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.toml", '[x]\nen = "Port {port:d}"\nja = "ポート {port"\n')
    problems = Catalog.from_files([path]).problems
    assert any("(en)" in p for p in problems)
    assert any("(ja)" in p for p in problems)


def test_a_key_defined_twice_is_reported(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.toml", '[x]\nen = "A"\nja = "あ"\n')
    b = _write(tmp_path, "b.toml", '[x]\nen = "B"\nja = "び"\n')
    catalog = Catalog.from_files([a, b])
    assert any("already defined" in p for p in catalog.problems)
    assert catalog.render(Text("x"), "ja") == "あ"


def test_unknown_fields_and_non_strings_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.toml", '[x]\nen = "A"\nja = "あ"\nfr = "A"\n[y]\nen = 1\n')
    problems = Catalog.from_files([path]).problems
    assert any("unknown fields ['fr']" in p for p in problems)
    assert any("'en' is not a string" in p for p in problems)


def test_nested_keys_are_flattened(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "a.toml",
        '[a.b]\nen = "AB"\nja = "エービー"\nnote = "for translators"\n'
        '[a.b.c]\nen = "ABC {n}"\nja = "エービーシー {n}"\n',
    )
    catalog = Catalog.from_files([path])
    assert catalog.problems == ()
    assert set(catalog) == {"a.b", "a.b.c"}
    assert catalog.render(Text("a.b.c", {"n": 3}), "ja") == "エービーシー 3"


def test_a_file_that_is_not_toml_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.toml", "[x\n")
    with pytest.raises(CatalogError, match=r"a\.toml"):
        Catalog.from_files([path])


# --- languages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("ja_JP.UTF-8", "ja"),
        ("ja_JP.eucJP@euro", "ja"),
        ("ja-JP", "ja"),
        ("JA", "ja"),
        ("Japanese_Japan.932", "ja"),
        ("en_US.UTF-8", "en"),
        ("en", "en"),
        ("fr_FR.UTF-8", "en"),
        ("zh_CN", "en"),
        ("C", "en"),
        ("POSIX", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_normalise_language(locale: str | None, language: str) -> None:
    assert normalise_language(locale) == language


def test_language_from_environment() -> None:
    assert language_from_environment({"LANG": "ja_JP.UTF-8"}) == "ja"
    assert language_from_environment({"LANGUAGE": "ja:en", "LANG": "en_US.UTF-8"}) == "ja"
    assert language_from_environment({"LC_ALL": "en_GB.UTF-8", "LANG": "ja_JP.UTF-8"}) == "en"
    assert language_from_environment({"LANGUAGE": "", "LC_MESSAGES": "ja_JP"}) == "ja"
    assert language_from_environment({}) == "en"
