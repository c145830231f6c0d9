"""Helpdesk mode without servers: symptoms, masking, proxies without credentials, DNS servers,
drift, Thunderbird inspection, the verdict, the HTML report's escaping, the log file's redaction
and rotation, and docs/helpdesk-guide.md listing every finding code of the catalog.

``python -m tests.unit.test_diagnostics`` rewrites the guide's table of codes from the catalog.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
from pathlib import Path

import pytest

from app.core.diagnostics import logfile
from app.core.diagnostics.diagnose import (
    Diagnosis,
    Verdict,
    _verdict,
    drift_findings,
    inspect_thunderbird,
)
from app.core.diagnostics.environment import (
    EnvironmentReport,
    HostFacts,
    dns_servers,
    proxy_settings,
    strip_credentials,
)
from app.core.diagnostics.knowledge import entries, finding
from app.core.diagnostics.redact import install_redaction
from app.core.diagnostics.report import Masker, mask_address, render_html, summary_text
from app.core.diagnostics.symptoms import (
    DEFAULT_SYMPTOM,
    SymptomError,
    load_symptoms,
    order_findings,
    symptom,
    symptoms,
)
from app.core.model import AccountConfig, AuthKind, Endpoint, Protocol, Provenance, Security, Trust
from app.core.profiles.thunderbird import ThunderbirdProfile
from app.core.texts import Text

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "helpdesk-guide.md"
START, END = "<!-- codes:start -->", "<!-- codes:end -->"
FACTS = HostFacts("Linux", "6", "#1", "x86_64", "3.11", "0.1.0", "tester", privileged=False)


def _config(host: str = "imap.example.test", auth: AuthKind = AuthKind.PASSWORD) -> AccountConfig:
    return AccountConfig(
        incoming=Endpoint(Protocol.IMAP, host, 993, Security.TLS),
        outgoing=Endpoint(Protocol.SMTP, "smtp.example.test", 587, Security.STARTTLS),
        provenance=Provenance("catalog", Trust.HIGH, over_https=True),
        auth=auth,
    )


# --- the guide lists every code ---------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def codes_table() -> str:
    """The guide's table: every code of the knowledge catalog with its fix (English)."""
    rows = [
        "| code | outcome | who can fix it | what it means | what to do |",
        "|---|---|---|---|---|",
    ]
    for item in sorted(entries(), key=lambda e: e.code):
        rows.append(
            f"| `{item.code}` | {item.outcome.value} | {item.fixer.value} | "
            f"{_cell(item.texts['title']['en'])} | {_cell(item.texts['fix']['en'])} |"
        )
    return "\n".join(rows)


def write_guide_table() -> None:
    text = GUIDE.read_text("utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    GUIDE.write_text(f"{head}{START}\n{codes_table()}\n{END}{tail}", "utf-8")


def test_the_helpdesk_guide_lists_every_finding_code_with_its_fix() -> None:
    text = GUIDE.read_text("utf-8")
    missing = [e.code for e in entries() if f"`{e.code}`" not in text]
    assert not missing, f"run python -m tests.unit.test_diagnostics; missing: {missing}"
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == codes_table(), "the table is stale: python -m tests.unit.test_diagnostics"


def test_the_guide_explains_the_report_and_remote_use() -> None:
    text = GUIDE.read_text("utf-8")
    for needed in (
        "mailsetup diagnose",
        "--report",
        "--mask-address",
        "mailsetup explain",
        "verdict",
    ):
        assert needed in text
    assert "MailSetup" in text and "Library/Logs" in text  # the log file's place per system


# --- symptoms ---------------------------------------------------------------------------------


def test_every_symptom_is_whole_in_both_languages() -> None:
    names = [s.name for s in symptoms()]
    assert names[-1] == DEFAULT_SYMPTOM and len(names) == 6
    for item in symptoms():
        assert item.label_in("en") and re.search(
            r"[\u3040-\u30ff\u4e00-\u9fff]", item.label_in("ja")
        )
        assert len(item.advice_in("en")) == len(item.advice_in("ja")) >= 1
        assert set(item.checks) == set(Protocol)
    with pytest.raises(SymptomError):
        symptom("printer-on-fire")


def test_a_symptom_orders_findings_within_a_severity() -> None:
    checked = Text("diagnose.check.settings")
    tls = finding("tls.intercepted", checked=checked, params={"host": "h", "issuer": "i"})
    smtp = finding("smtp.auth.disabled-tenant", checked=checked)
    imap = finding("imap.auth.failed", checked=checked, params={"host": "h", "username": "u"})
    info = finding("diagnose.credential-free", checked=checked)
    ordered = order_findings([info, tls, imap, smtp], symptom("cannot-send"))
    assert [f.code for f in ordered] == [
        "smtp.auth.disabled-tenant",
        "imap.auth.failed",
        "tls.intercepted",
        "diagnose.credential-free",
    ]
    assert symptom("cannot-send").check_rank(Protocol.SMTP) == 0
    assert _verdict(ordered) is Verdict.BROKEN
    assert _verdict([tls, info]) is Verdict.WARNINGS and _verdict([info]) is Verdict.HEALTHY


def test_a_malformed_symptoms_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '["something-else"]\nlabel = { en = "x" }\nchecks = ["imap"]\n'
        'advice = { en = ["a"], ja = ["あ"] }\n',
        "utf-8",
    )
    with pytest.raises(SymptomError, match="no ja label"):
        load_symptoms(path)


# --- masking, proxies, DNS --------------------------------------------------------------------


def test_masking() -> None:
    assert mask_address("taro@example.com") == "t*****@example.com"
    assert mask_address("taro") == "t*****"
    masker = Masker(("taro@example.com", "taro"))
    assert masker("Taro@Example.com signed in as taro; taroko stays") == (
        "t*****@example.com signed in as t*****; taroko stays"
    )


def test_proxies_never_show_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s3cret-proxy-pw@proxy.corp.test:8080")
    monkeypatch.setenv("NO_PROXY", "localhost,.corp.test")
    found = proxy_settings()
    assert found["https"] == "http://proxy.corp.test:8080"
    assert "s3cret-proxy-pw" not in str(found) and "alice" not in str(found)
    assert found["no"] == "localhost,.corp.test"
    assert proxy_settings("http://u:p@p.test:3128") == {"all": "http://p.test:3128"}
    assert proxy_settings("direct") == {"all": "direct"}
    assert strip_credentials("http://proxy.test:1") == "http://proxy.test:1"


@pytest.mark.skipif(sys.platform == "win32", reason="resolv.conf is not read on Windows")
def test_dns_servers_from_resolv_conf(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("# comment\nnameserver 10.0.0.53\nsearch corp.test\nnameserver ::1 # v6\n")
    assert dns_servers(path) == (("10.0.0.53", "::1"), str(path))
    assert dns_servers(tmp_path / "none") == ((), None)


# --- drift and Thunderbird --------------------------------------------------------------------


def test_drift_names_each_changed_field() -> None:
    saved = _config("old-imap.example.test")
    found = drift_findings(saved, _config(), "taro@example.test")
    assert [(f.code, f.detail["field"]) for f in found] == [("drift.settings", "incoming server")]
    assert found[0].detail["saved"] == "old-imap.example.test:993 (tls)"
    assert drift_findings(_config(), _config(), "taro@example.test") == []
    auth = drift_findings(_config(), _config(auth=AuthKind.OAUTH2_MICROSOFT), "t@example.test")
    assert [f.detail["field"] for f in auth] == ["sign-in"]
    assert [f.code for f in drift_findings(saved, None, "t@example.test")] == [
        "drift.not-comparable"
    ]


def test_thunderbird_inspection_reads_only_the_address_accounts(tmp_path: Path) -> None:
    prefs = tmp_path / "prefs.js"
    prefs.write_text(
        'user_pref("mail.accountmanager.accounts", "account1,account2");\n'
        'user_pref("mail.account.account1.identities", "id1");\n'
        'user_pref("mail.account.account1.server", "server1");\n'
        'user_pref("mail.identity.id1.useremail", "taro@example.test");\n'
        'user_pref("mail.server.server1.hostname", "imap.example.test");\n'
        'user_pref("mail.server.server1.authMethod", 3);\n'
        'user_pref("mail.server.server1.socketType", 0);\n'
        'user_pref("mail.account.account2.identities", "id2");\n'
        'user_pref("mail.account.account2.server", "server2");\n'
        'user_pref("mail.identity.id2.useremail", "other@example.test");\n'
        'user_pref("mail.server.server2.hostname", "other.example.test");\n'
    )
    before = prefs.read_bytes()
    profile = ThunderbirdProfile("default", tmp_path, True)
    seen, found = inspect_thunderbird(
        [profile], "Taro@example.test", _config(auth=AuthKind.OAUTH2_MICROSOFT)
    )
    assert [s["host"] for s in seen] == ["imap.example.test"]
    assert sorted(f.code for f in found) == [
        "thunderbird.no-encryption",
        "thunderbird.password-for-oauth",
    ]
    _seen, found = inspect_thunderbird([profile], "taro@example.test", _config("new.example.test"))
    assert [f.code for f in found] == ["thunderbird.no-encryption", "thunderbird.server-differs"]
    assert prefs.read_bytes() == before


# --- the report -------------------------------------------------------------------------------


def _diagnosis(findings: list[object]) -> Diagnosis:
    env = EnvironmentReport(FACTS, {}, "system", (), None, None, (), ())
    ordered = tuple(findings)
    return Diagnosis(
        address="taro@example.test",
        symptom=symptom(None),
        verdict=_verdict(ordered),  # type: ignore[arg-type]
        findings=ordered,  # type: ignore[arg-type]
        verification=None,
        detection=None,
        settings=_config(),
        settings_source="switches",
        saved=None,
        credentials="none",
        keyring=None,
        sign_in=None,
        thunderbird=(),
        environment=env,
        started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat(),
        elapsed_ms=1,
    )


def test_the_html_report_escapes_what_servers_said_and_is_self_contained() -> None:
    hostile = finding(
        "imap.auth.failed",
        checked=Text("diagnose.check.settings"),
        params={"host": "imap.example.test", "username": "taro"},
        server_said='NO <script>alert("x")</script> <img src=http://evil.test/x>',
    )
    result = _diagnosis([hostile])
    page = render_html(result, "en")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img" not in page and "<link" not in page and "&lt;img src=" in page
    assert not re.search(r"<[^>]*\s(?:src|href)=", page)  # no external resource at all
    assert page.index("Not working") < page.index("What failed and why") < page.index("Details")
    assert "imap.auth.failed" in summary_text(result) and "Not working" in summary_text(result)
    masked = render_html(result, "en", mask=True)
    assert "taro@example.test" not in masked and "t*****@example.test" in masked


# --- the log file -----------------------------------------------------------------------------


def test_the_log_file_is_redacted_and_rotates(tmp_path: Path) -> None:
    path = logfile.setup_logging(tmp_path, level=logging.DEBUG)
    try:
        assert path == tmp_path / logfile.LOG_NAME and logfile.current_log_file() is not None
        install_redaction(secrets=["sentinel-logfile-secret-91"])
        log = logging.getLogger("app.test.logfile")
        log.info("password=%s and again %s", "hunter2-x", "sentinel-logfile-secret-91")
        filler = "x" * 1000
        for _ in range(logfile.MAX_BYTES // 1000 + 50):
            log.debug("%s", filler)
    finally:
        logfile.stop_logging()
    files = logfile.log_files(tmp_path)
    assert files[0].name == logfile.LOG_NAME and len(files) >= 2
    everything = "".join(f.read_text("utf-8") for f in files)
    assert "sentinel-logfile-secret-91" not in everything and "hunter2-x" not in everything
    assert "[redacted]" in everything


def test_the_log_folder_follows_the_documented_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MAILSETUP_LOG_DIR", str(tmp_path))
    assert logfile.log_directory() == tmp_path
    monkeypatch.delenv("MAILSETUP_LOG_DIR")
    assert "MailSetup" in str(logfile.log_directory())


if __name__ == "__main__":
    write_guide_table()
