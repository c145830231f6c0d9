"""``mailsetup explain``: a pasted error or code -> the catalog's entries (title, cause, fix,
who), as text or JSON; exit 0 when something matches, 4 when nothing does."""

from __future__ import annotations

import json

import pytest

from app.cli.main import run


def explain(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, dict[str, object]]:
    code = run(["explain", "--json", "--language", "en", *words])
    return code, json.loads(capsys.readouterr().out)


def first_code(data: dict[str, object]) -> str:
    entries = data["entries"]
    assert isinstance(entries, list) and entries
    return str(entries[0]["code"])


def test_an_aadsts_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = explain(capsys, "AADSTS50173")
    assert code == 0
    assert first_code(data) == "aadsts.50173"
    entry = data["entries"][0]  # type: ignore[index]
    assert entry["title"] and entry["cause"] and entry["fix"] and entry["fixer"] == "user"


def test_a_pasted_smtp_reply_beats_the_bare_code(capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
        "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    code, data = explain(capsys, text)
    assert code == 0
    assert first_code(data) == "smtp.auth.disabled-tenant"
    assert data["entries"][0]["fixer"] == "admin"  # type: ignore[index]


def test_an_apple_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = explain(capsys, "NSURLErrorDomain 1012")
    assert code == 0
    assert first_code(data) == "apple.sso.cancelled-authentication"


def test_a_finding_code_of_helpdesk_mode(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = explain(capsys, "thunderbird.password-for-oauth")
    assert code == 0 and first_code(data) == "thunderbird.password-for-oauth"


def test_unknown_text_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = explain(capsys, "the printer is on fire")
    assert code == 4 and data["entries"] == []
    assert run(["explain", "the printer is on fire"]) == 4
    assert "Nothing in the catalog" in capsys.readouterr().err


def test_text_output_in_japanese(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explain", "--language", "ja", "AADSTS50173"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("aadsts.50173") and "サインイン" in out
