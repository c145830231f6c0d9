"""The knowledge catalog (resources/knowledge/*.toml): every entry valid, the codes stable, real
server sentences recognised by the most specific rule, findings built and rendered from it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from app.core.checks.tlsreport import tls_code
from app.core.diagnostics import knowledge
from app.core.diagnostics.knowledge import (
    Knowledge,
    KnowledgeWarning,
    UnknownCodeError,
    default_knowledge,
    entries,
    entry,
    explain,
    finding,
    match,
)
from app.core.errors import ConnectFailure, DNSFailure, Fixer, TLSFailure
from app.core.model import Outcome
from app.core.net.tls import PROBLEM_FAILURE
from app.core.texts import LANGUAGES, Text, default_catalog, knowledge_text_key, render

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_DIR = ROOT / "resources" / "knowledge"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
CHECKED = Text("check.setup")

AADSTS_NUMBERS = (
    50126, 50034, 50053, 50057, 50055, 50173, 70043, 700082, 50076, 50079, 50158, 53000,
    530003, 53003, 530035, 65001, 90094, 700016, 7000218, 500113, 50011, 90002, 50020, 7000112,
)  # fmt: skip
# Codes other code and documents rely on. A code may be added, never renamed or removed: if this
# list fails, restore the code (add a new entry for a new meaning).
STABLE_CODES = (
    "unknown",
    "dns.not-found",
    "dns.no-answer",
    "dns.failed",
    "connect.refused",
    "connect.timeout",
    "connect.unreachable",
    "connect.closed",
    "connect.port25-blocked",
    "deadline.exceeded",
    "tls.expired",
    "tls.not-yet-valid",
    "tls.wrong-host",
    "tls.untrusted",
    "tls.self-signed",
    "tls.handshake",
    "tls.old-protocol",
    "tls.not-tls",
    "tls.starttls-missing",
    "tls.intercepted",
    "tls.configured-ca",
    "tls.expiring-soon",
    "clock.skew",
    "smtp.auth.disabled-tenant",
    "smtp.auth.disabled-mailbox",
    "microsoft.basic-auth-disabled",
    "microsoft.app-password-retired",
    "microsoft.security-defaults",
    "microsoft.conditional-access",
    "microsoft.account-disabled",
    "microsoft.account-locked",
    "microsoft.credentials-incorrect",
    "microsoft.smtp-auth-unsuccessful",
    "microsoft.not-connected",
    "microsoft.authenticate-failed",
    "microsoft.client-not-authenticated",
    *(f"aadsts.{n}" for n in AADSTS_NUMBERS),
    "apple.app-password-needed",
    "apple.app-passwords-revoked",
    "apple.two-factor-off",
    "apple.sso.cancelled-authentication",
    "apple.sso.authorization-failed",
    "apple.sso.authorization-cancelled",
    "apple.sso.extension-not-started",
)


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _entry_toml(code: str, **fields: str) -> str:
    """A valid entry, with ``fields`` replacing or adding raw TOML lines."""
    lines = {
        "outcome": '"error"',
        "fixer": '"user"',
        "help_topic": '"wrong-password"',
        "title": '{ en = "Title", ja = "タイトル" }',
        "cause": '{ en = "Cause at {host}.", ja = "{host} の原因です。" }',
        "fix": '{ en = "Fix it.", ja = "修正してください。" }',
    }
    lines.update(fields)
    body = "\n".join(f"{key} = {value}" for key, value in lines.items() if value)
    return f'["{code}"]\n{body}\n'


# --- the shipped catalog: every file, every entry ---------------------------------------------


def test_every_knowledge_file_loads_without_problems() -> None:
    files = sorted(KNOWLEDGE_DIR.glob("*.toml"))
    assert any(f.name == "general.toml" for f in files)
    loaded = Knowledge.from_files(files)
    assert loaded.problems == ()
    # Nothing was dropped: every table of every file is an entry.
    tables = [code for path in files for code in tomllib.loads(path.read_text("utf-8"))]
    assert sorted(loaded.by_code) == sorted(tables)
    assert len(tables) == len(set(tables))  # no code defined twice across files


def test_every_entry_is_complete_in_both_languages() -> None:
    for item in entries():
        assert item.outcome in Outcome and item.fixer in Fixer
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", item.help_topic), item.code
        for name in knowledge.TEXT_FIELDS:
            for language in LANGUAGES:
                assert item.texts[name][language].strip(), (item.code, name, language)
            assert JAPANESE.search(item.texts[name]["ja"]), (item.code, name)


def test_every_entry_renders_strictly_in_both_languages() -> None:
    for item in entries():
        params = {name: f"<{name}>" for name in item.placeholders}
        made = finding(item.code, checked=CHECKED, params=params)
        for language in LANGUAGES:
            for text in (made.title, made.cause, made.fix):
                assert text is not None
                rendered = render(text, language, strict=True)
                assert rendered.strip() and "{" not in rendered, (item.code, language)


def test_entry_texts_are_in_the_program_text_catalog() -> None:
    catalog = default_catalog()
    assert catalog.problems == ()
    for item in entries():
        for name in knowledge.TEXT_FIELDS:
            key = knowledge_text_key(item.code, name)
            assert catalog.entries[key] == dict(item.texts[name])


def test_stable_codes_exist() -> None:
    defined = {item.code for item in entries()}
    assert [code for code in STABLE_CODES if code not in defined] == []


def test_every_network_seam_error_has_an_entry() -> None:
    defined = {item.code for item in entries()}
    seam = {f"dns.{f.value}" for f in DNSFailure}
    seam |= {f"connect.{f.value}" for f in ConnectFailure}
    seam |= {f"tls.{f.value}" for f in TLSFailure}
    seam |= {tls_code(problem) for problem in PROBLEM_FAILURE}  # finer TLS problems
    seam.add("deadline.exceeded")
    assert sorted(seam - defined) == []


def test_the_readme_states_the_rules() -> None:
    readme = (KNOWLEDGE_DIR / "README.md").read_text("utf-8")
    assert "never renamed" in readme
    for field in ("outcome", "fixer", "help_topic", "title", "cause", "fix", "match", "pattern"):
        assert f"`{field}`" in readme


def test_the_catalog_is_loaded_once() -> None:
    assert default_knowledge() is default_knowledge()
    assert entry("tls.expired") is default_knowledge().by_code["tls.expired"]
    with pytest.raises(UnknownCodeError, match="no-such"):
        entry("no-such.code")


# --- validation catches mistakes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"outcome": '"fatal"'}, "outcome 'fatal' is not one of ok, info, warning, error"),
        ({"fixer": '"god"'}, "fixer 'god' is not one of"),
        ({"help_topic": '"Wrong Password"'}, "help_topic"),
        ({"title": '{ en = "Title" }'}, "title has no ja text"),
        ({"title": '{ en = "Title", ja = "  " }'}, "title has no ja text"),
        ({"fix": None}, "has no fix table"),
        ({"cause": '{ en = "At {host}.", ja = "{port} です。" }'}, "different placeholders"),
        ({"cause": '{ en = "At {host:>3}.", ja = "{host} です。" }'}, "plain name"),
        ({"fix": '{ en = "Fix.", ja = "Fix it." }'}, "fix (ja) is not Japanese"),
        ({"severity": '"high"'}, "unknown fields ['severity']"),
        ({"match": '[{ pattern = "(?i)broken[" }]'}, "pattern does not compile"),
        ({"match": '[{ pattern = "x*" }]'}, "matches an empty text"),
        ({"match": '[{ protocol = "imap" }]'}, "needs a code or a pattern"),
        ({"match": '[{ protocol = "gopher", code = "1" }]'}, "protocol 'gopher'"),
        ({"match": '[{ code = "1", regex = "x" }]'}, "unknown fields ['regex']"),
        ({"match": '{ code = "1" }'}, "match must be an array"),
    ],
)
def test_validation_reports_each_mistake(
    tmp_path: Path, fields: dict[str, str], problem: str
) -> None:
    path = _write(tmp_path, "bad.toml", _entry_toml("imap.auth.bad", **fields))
    loaded = Knowledge.from_files([path])
    assert any(problem in p for p in loaded.problems), loaded.problems
    assert "imap.auth.bad" not in loaded.by_code  # an invalid entry is left out


@pytest.mark.parametrize("code", ["IMAP.Auth", "imap..auth", "imap auth", "imap.title", "-x"])
def test_codes_must_look_like_finding_codes(tmp_path: Path, code: str) -> None:
    loaded = Knowledge.from_files([_write(tmp_path, "bad.toml", _entry_toml(code))])
    assert loaded.problems and code not in loaded.by_code


def test_a_code_defined_twice_across_files_is_reported(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.toml", _entry_toml("imap.auth.twice"))
    second = _write(tmp_path, "b.toml", _entry_toml("imap.auth.twice"))
    loaded = Knowledge.from_files([first, second])
    assert loaded.problems == ("b.toml: 'imap.auth.twice' is already defined in a.toml",)


def test_a_valid_entry_loads(tmp_path: Path) -> None:
    text = _entry_toml("imap.auth.ok", match='[{ protocol = ["imap", "pop3"], code = "NO" }]')
    loaded = Knowledge.from_files([_write(tmp_path, "ok.toml", text)])
    assert loaded.problems == ()
    rule = loaded.entry("imap.auth.ok").rules[0]
    assert rule.protocols == {"imap", "pop3"} and rule.code == "NO" and rule.pattern is None


# --- matching: the most specific rule wins ----------------------------------------------------

PRECEDENCE = """
["t.code"]
{base}
[["t.code".match]]
code = "535"

["t.pattern"]
{base}
[["t.pattern".match]]
pattern = "(?i)authentication unsuccessful"

["t.protocol-pattern"]
{base}
[["t.protocol-pattern".match]]
protocol = "smtp"
pattern = "(?i)authentication unsuccessful"

["t.code-pattern"]
{base}
[["t.code-pattern".match]]
code = "5.7.139"
pattern = "(?i)authentication unsuccessful"

["t.full"]
{base}
[["t.full".match]]
protocol = "smtp"
code = "5.7.139"
pattern = "(?i)authentication unsuccessful, the request did not meet"

["t.imap-only"]
{base}
[["t.imap-only".match]]
protocol = "imap"
code = "5.7.139"
pattern = "(?i)authentication unsuccessful, the request did not meet the criteria"
"""
BASE = "\n".join(_entry_toml("x").splitlines()[1:])


@pytest.fixture
def precedence(tmp_path: Path) -> Knowledge:
    loaded = Knowledge.from_files([_write(tmp_path, "p.toml", PRECEDENCE.replace("{base}", BASE))])
    assert loaded.problems == ()
    return loaded


def test_protocol_code_and_sentence_beat_everything(precedence: Knowledge) -> None:
    said = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria"
    assert precedence.match(said, protocol="smtp") == "t.full"
    # The IMAP rule is longer, but it never applies to SMTP.
    assert precedence.match(said, protocol="smtp", code="535") == "t.full"


def test_rules_for_a_protocol_apply_only_to_it(precedence: Knowledge) -> None:
    said = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria"
    assert precedence.match(said, protocol="imap") == "t.imap-only"  # the longer sentence
    assert precedence.match(said) == "t.code-pattern"  # no protocol: protocol rules are out
    # explain() does not know the protocol: every rule counts, the longest sentence first.
    assert precedence.explain(said)[0] == "t.imap-only"


def test_code_and_pattern_beat_pattern_and_bare_code(precedence: Knowledge) -> None:
    said = "535 5.7.139 Authentication unsuccessful, account locked."
    assert precedence.match(said, protocol="pop3") == "t.code-pattern"


def test_protocol_and_pattern_beat_pattern(precedence: Knowledge) -> None:
    said = "535 5.7.3 Authentication unsuccessful"
    assert precedence.match(said, protocol="smtp") == "t.protocol-pattern"
    assert precedence.match(said, protocol="imap") == "t.pattern"
    assert precedence.match(said) == "t.pattern"


def test_a_sentence_beats_a_bare_code_and_a_bare_code_is_the_last_resort(
    precedence: Knowledge,
) -> None:
    assert precedence.match("535 Authentication unsuccessful") == "t.pattern"
    assert precedence.match("535 Go away") == "t.code"
    assert precedence.match("Go away", code="535") == "t.code"
    assert precedence.match("Go away") is None


def test_codes_match_as_whole_tokens(precedence: Knowledge) -> None:
    # 5.7.139 must not be found inside 5.7.1390 or 15.7.139, nor 535 inside 5350.
    assert precedence.match("5350 Go away") is None
    assert precedence.match("5.7.1390 Authentication unsuccessful") == "t.pattern"
    assert precedence.match("15.7.139 Authentication unsuccessful") == "t.pattern"


# --- matching real sentences ------------------------------------------------------------------

MICROSOFT_5_7_139 = [
    (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
        "[SN4PR0501CA0056.namprd05.prod.outlook.com]",
        "smtp.auth.disabled-tenant",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. "
        "[MW4PR03CA0153.namprd03.prod.outlook.com 2026-06-01T10:00:00.000Z 08DCA1B2C3D4E5F6]",
        "smtp.auth.disabled-mailbox",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
        "[BN9PR03CA0123.namprd03.prod.outlook.com]",
        "microsoft.basic-auth-disabled",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization's "
        "security defaults policy. Contact your administrator. [AM0PR02CA0001.eurprd02.prod]",
        "microsoft.security-defaults",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization’s "
        "security defaults policy. Contact your administrator.",
        "microsoft.security-defaults",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
        "authenticated successfully. Contact your administrator. [LO2P265CA0001.GBRP265.PROD]",
        "microsoft.conditional-access",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
        "[PH0PR07CA0001.namprd07.prod.outlook.com]",
        "microsoft.credentials-incorrect",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, user account is disabled. "
        "[DM6PR02CA0001.namprd02.prod.outlook.com]",
        "microsoft.account-disabled",
    ),
    (
        "535 5.7.139 Authentication unsuccessful, account locked. [CH2PR05CA0001.namprd05]",
        "microsoft.account-locked",
    ),
]


@pytest.mark.parametrize(("said", "code"), MICROSOFT_5_7_139)
def test_each_microsoft_5_7_139_sentence_has_its_own_meaning(said: str, code: str) -> None:
    assert match(said, protocol="smtp") == code
    assert match(said, protocol="smtp", code="535") == code
    assert match(said) == code  # the sentence alone is enough


@pytest.mark.parametrize(
    ("said", "protocol", "code"),
    [
        ("535 5.7.3 Authentication unsuccessful [SN4PR0501CA0056.namprd05.prod.outlook.com]",
         "smtp", "microsoft.smtp-auth-unsuccessful"),
        ("550 5.7.30 Basic authentication is not supported for Client Submission.",
         "smtp", "microsoft.basic-auth-disabled"),
        ("530 5.7.57 Client not authenticated to send mail. [BN0PR04CA0001.namprd04.prod]",
         "smtp", "microsoft.client-not-authenticated"),
        ("A1 NO User is authenticated but not connected.", "imap",
         "microsoft.not-connected"),
        ("-ERR User is authenticated but not connected.", "pop3", "microsoft.not-connected"),
        ("a2 NO Basic authentication is disabled.", "imap", "microsoft.basic-auth-disabled"),
        ("A01 NO AUTHENTICATE failed.", "imap", "microsoft.authenticate-failed"),
    ],
)  # fmt: skip
def test_other_microsoft_replies(said: str, protocol: str, code: str) -> None:
    found = match(said, protocol=protocol)
    # A protocol's own file may give the sentence a more specific entry for that protocol.
    assert found == code or (found or "").startswith(f"{protocol}."), found
    assert code in explain(said)


@pytest.mark.parametrize(
    ("said", "code"),
    [
        (
            "AADSTS50126: Error validating credentials due to invalid username or password. "
            "Trace ID: 0b1c2d3e-0000-4000-8000-000000000001 Correlation ID: "
            "5f6e7d8c-0000-4000-8000-000000000002 Timestamp: 2026-05-01 10:00:00Z",
            "aadsts.50126",
        ),
        (
            "invalid_grant: AADSTS50173: The provided grant has expired due to it being revoked, "
            "a fresh auth token is needed. The user might have changed or reset their password.",
            "aadsts.50173",
        ),
        (
            "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency "
            "checks by conditional access.",
            "aadsts.70043",
        ),
        (
            "AADSTS700082: The refresh token has expired due to inactivity.",
            "aadsts.700082",
        ),
        ("AADSTS50055: The password is expired.", "aadsts.50055"),
        (
            "AADSTS50076: Due to a configuration change made by your administrator, or because "
            "you moved to a new location, you must use multi-factor authentication to access "
            "'00000002-0000-0ff1-ce00-000000000000'.",
            "aadsts.50076",
        ),
        (
            "AADSTS530003: Your device is required to be managed to access this resource.",
            "aadsts.530003",
        ),
        (
            "AADSTS65001: The user or administrator has not consented to use the application.",
            "aadsts.65001",
        ),
        (
            "AADSTS7000218: The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
            "aadsts.7000218",
        ),
        (
            "AADSTS500113: No reply address is registered for the application.",
            "aadsts.500113",
        ),
        (
            "AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' "
            "was not found in the directory 'contoso.test'.",
            "aadsts.700016",
        ),
    ],
)
def test_aadsts_codes_inside_msal_error_descriptions(said: str, code: str) -> None:
    assert match(said) == code
    # As MSAL hands it over: a dict whose error_description holds the sentence.
    msal_result = {"error": "invalid_grant", "error_description": said, "error_codes": [1]}
    assert match(msal_result["error_description"]) == code


def test_aadsts_codes_match_whole_numbers() -> None:
    assert match("AADSTS501730: something else") is None
    assert match("AADSTS5017: something else") is None


@pytest.mark.parametrize(
    ("said", "protocol"),
    [
        ("a1 NO [AUTHENTICATIONFAILED] Authentication failed.", "imap"),  # Dovecot
        ("-ERR [AUTH] Authentication failed.", "pop3"),  # Dovecot
        ("a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", "imap"),  # Gmail
        ("535-5.7.8 Username and Password not accepted. For more information, go to\n"
         "535 5.7.8  https://support.google.com/mail/?p=BadCredentials", "smtp"),  # Gmail
        ("a1 NO [ALERT] Please log in via your web browser", "imap"),  # Gmail
    ],
)  # fmt: skip
def test_other_providers_replies_are_never_taken_for_microsoft_or_apple(
    said: str, protocol: str
) -> None:
    found = match(said, protocol=protocol)
    assert found is None or not found.startswith(("microsoft.", "aadsts.", "apple.", "smtp.auth.d"))


@pytest.mark.parametrize(
    ("said", "code"),
    [
        ('Error Domain=NSURLErrorDomain Code=-1012 "(null)" UserInfo={NSErrorFailingURLKey=...}',
         "apple.sso.cancelled-authentication"),
        ("The operation couldn’t be completed. (NSURLErrorDomain error -1012.)",
         "apple.sso.cancelled-authentication"),
        ('Error Domain=com.apple.AuthenticationServices.AuthorizationError Code=1000 "(null)"',
         "apple.sso.authorization-failed"),
        ('Error Domain=com.apple.AuthenticationServices.AuthorizationError Code=1001 "(null)"',
         "apple.sso.authorization-cancelled"),
        ('Request for extension {id = com.microsoft.CompanyPortalMac.ssoextension} failed with '
         'error Error Domain=PlugInKit Code=16 "other version in use: ..."',
         "apple.sso.extension-not-started"),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", "tls.not-tls"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired",
         "tls.expired"),
        ("certificate verify failed: self-signed certificate in certificate chain",
         "tls.untrusted"),
        ("certificate verify failed: self-signed certificate", "tls.self-signed"),
        ("[Errno 111] Connection refused", "connect.refused"),
        ("[Errno -2] Name or service not known", "dns.not-found"),
    ],
)  # fmt: skip
def test_platform_error_texts(said: str, code: str) -> None:
    assert match(said) == code


# --- explain ----------------------------------------------------------------------------------


def test_explain_a_bare_enhanced_status_code_lists_all_its_meanings() -> None:
    codes = explain("5.7.139")
    expected = {code for _said, code in MICROSOFT_5_7_139}
    assert expected <= set(codes)


def test_explain_aadsts_codes_with_or_without_prefix() -> None:
    assert explain("AADSTS50173")[0] == "aadsts.50173"
    assert explain("50173")[0] == "aadsts.50173"
    assert explain("  aadsts530003 ")[0] == "aadsts.530003"


def test_explain_apple_errors_and_sentences() -> None:
    assert explain("NSURLErrorDomain 1012")[0] == "apple.sso.cancelled-authentication"
    assert explain("PlugInKit Code=16")[0] == "apple.sso.extension-not-started"
    assert explain("AuthorizationError 1001")[0] == "apple.sso.authorization-cancelled"
    pasted = (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
        "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    assert explain(pasted)[0] == "smtp.auth.disabled-tenant"
    assert "smtp.auth.disabled-mailbox" not in explain(pasted)  # a sentence is not a bare code


def test_explain_a_finding_code_and_nonsense() -> None:
    assert explain("tls.expired")[0] == "tls.expired"
    assert explain("nothing we know about") == []


# --- findings ---------------------------------------------------------------------------------


def test_finding_takes_everything_from_the_entry() -> None:
    made = finding(
        "tls.intercepted",
        checked=Text("check.tls", {"host": "outlook.office365.com"}),
        params={"host": "outlook.office365.com", "issuer": "Contoso Corporate Inspection CA"},
        detail={"port": 993},
        server_said="* OK ready",
    )
    item = entry("tls.intercepted")
    assert (made.code, made.outcome, made.fixer, made.help_topic) == (
        "tls.intercepted",
        item.outcome,
        item.fixer,
        item.help_topic,
    )
    assert made.title == Text("knowledge.tls.intercepted.title", made.cause.params)
    assert made.detail == {"port": 993} and made.server_said == "* OK ready"
    english, japanese = made.to_dict("en"), made.to_dict("ja")
    assert english["title"] == "Encrypted traffic is inspected on this network"
    assert "Contoso Corporate Inspection CA" in str(english["cause"])
    assert "login.microsoftonline.com" in str(english["fix"])
    assert japanese["title"] == "このネットワークでは暗号化された通信が検査されています"
    assert "Contoso Corporate Inspection CA" in str(japanese["cause"])


def test_finding_redacts_what_the_server_said() -> None:
    made = finding(
        "microsoft.authenticate-failed",
        checked=CHECKED,
        server_said="A01 AUTHENTICATE XOAUTH2 dXNlcj1hQGIuY29tAWF1dGg9QmVhcmVyIHNlbnRpbmVsAQE=",
    )
    assert made.server_said is not None
    assert "dXNlcj" not in made.server_said and "[redacted]" in made.server_said


def test_an_unknown_code_warns_and_gives_the_generic_finding() -> None:
    with pytest.warns(KnowledgeWarning, match="imap.no-such-thing"):
        made = finding("imap.no-such-thing", checked=CHECKED)
    assert made.code == "imap.no-such-thing"  # the code asked for is kept for the helpdesk
    assert made.title == Text("knowledge.unknown.title")
    assert made.outcome is Outcome.ERROR
    with pytest.warns(KnowledgeWarning):
        assert finding("Not A Code!", checked=CHECKED).code == "unknown"


def test_strict_unknown_code_raises() -> None:
    with pytest.raises(UnknownCodeError, match="resources/knowledge"):
        default_knowledge().finding("imap.no-such-thing", checked=CHECKED, strict=True)
