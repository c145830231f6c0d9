"""Redaction: secrets never survive in any form, what a helpdesk needs stays readable, and every
log record is redacted."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.core.checks.base import Secret
from app.core.diagnostics.redact import (
    REDACTED,
    RedactingFilter,
    install_redaction,
    redact,
    uninstall_redaction,
)

SENTINEL = "S3ntinel-Pa55word!"
TOKEN = "ya29.SENTINELaccessTOKEN0123456789abcdef"
REFRESH = "1//0SENTINELrefreshTOKEN0123456789abcdefghij"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def forms(secret: str) -> list[str]:
    """Every form of ``secret`` that must not survive."""
    return [secret, b64(secret), b64url(secret), quote(secret, safe=""), quote_plus(secret)]


def assert_gone(output: str, *secrets: str) -> None:
    for secret in secrets:
        for form in forms(secret):
            assert form not in output, (form, output)
        # Nor inside any base64 string that is left.
        for run in re.findall(r"[A-Za-z0-9+/]{8,}={0,2}", output):
            padded = run + "=" * (-len(run) % 4)
            try:
                decoded = base64.b64decode(padded).decode("utf-8", "replace")
            except ValueError:
                continue
            assert secret not in decoded, (run, output)


# --- known secrets ----------------------------------------------------------------------------


def test_a_known_secret_goes_in_every_form() -> None:
    text = (
        f"raw {SENTINEL} | b64 {b64(SENTINEL)} | b64url {b64url(SENTINEL)} | "
        f"url {quote(SENTINEL, safe='')} | plus {quote_plus(SENTINEL)} | "
        f"lower {quote(SENTINEL, safe='').lower()}"
    )
    output = redact(text, [SENTINEL])
    assert_gone(output, SENTINEL)
    assert output.startswith("raw [redacted] | b64 [redacted] |")


def test_secret_objects_are_accepted() -> None:
    assert redact(f"pw {SENTINEL}", [Secret(SENTINEL)]) == "pw [redacted]"


@pytest.mark.parametrize("user", ["a@example.test", "ab@example.test", "abc@example.test"])
def test_a_known_secret_inside_a_sasl_plain_payload_at_any_alignment(user: str) -> None:
    payload = b64(f"\0{user}\0{SENTINEL}")
    output = redact(f"C: {payload}\nS: 235 2.7.0 Authentication successful", [SENTINEL])
    assert_gone(output, SENTINEL)
    assert "235 2.7.0 Authentication successful" in output


def test_a_known_token_inside_an_xoauth2_payload() -> None:
    payload = b64(f"user=taro@example.test\x01auth=Bearer {TOKEN}\x01\x01")
    output = redact(f"AUTH XOAUTH2 {payload}", [TOKEN])
    assert_gone(output, TOKEN)
    assert output == f"AUTH XOAUTH2 {REDACTED}"


# --- patterns: secrets the program was not told about -----------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer "),
        (f"{{'Authorization': 'Bearer {TOKEN}'}}", "'Authorization': 'Bearer "),
        (f"Proxy-Authorization: Basic {b64('proxyuser:' + SENTINEL)}", "Proxy-Authorization: "),
        (f"the header was Bearer {TOKEN} and more", "the header was Bearer "),
        (f"auth=Bearer {TOKEN}\x01\x01", "auth=Bearer "),
        ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1cG4iOiJ0YXJvIn0.c2lnbmF0dXJl", ""),
        (f"token {TOKEN} expired", "token "),
        (f"refresh {REFRESH} here", "refresh "),
        (f"https://taro:{SENTINEL}@dav.example.test/cal/", "https://taro:"),
        (f"HTTPS_PROXY=http://proxyuser:{SENTINEL}@proxy.corp.test:8080", "proxyuser:"),
        (f"password={SENTINEL}&user=taro", "&user=taro"),
        (f"Password: {SENTINEL}", "Password: "),
        (f"?access_token={TOKEN}&state=xyz", "&state=xyz"),
        (f'{{"access_token": "{TOKEN}", "token_type": "Bearer"}}', '"token_type": "Bearer"'),
        (f'{{"refresh_token":"{REFRESH}","expires_in":3599}}', '"expires_in":3599'),
        (f"client_secret={SENTINEL}", "client_secret="),
        (f"https://localhost/?code={SENTINEL}&state=abc", "&state=abc"),
        (f"code={SENTINEL}&grant_type=authorization_code", "&grant_type=authorization_code"),
        (f"Cookie: ESTSAUTH={SENTINEL}; x-ms-gateway-slice=estsfd", "Cookie: "),
        (f"Set-Cookie: session={SENTINEL}; Path=/; Secure; HttpOnly", "Set-Cookie: "),
        (f'a1 LOGIN taro@example.test "{SENTINEL}"', "a1 LOGIN taro@example.test "),
        (f"a1 LOGIN taro {SENTINEL}", "a1 LOGIN taro "),
        (f"C: a1 LOGIN taro {SENTINEL}", "C: a1 LOGIN taro "),
        (f"PASS {SENTINEL} with spaces", "PASS "),
        (f"AUTH PLAIN {b64(chr(0) + 'taro' + chr(0) + SENTINEL)}", "AUTH PLAIN "),
        (f"a2 AUTHENTICATE PLAIN {b64(chr(0) + 't' + chr(0) + SENTINEL)}", "PLAIN "),
        (f"AUTH XOAUTH2 {b64('user=t@x.test' + chr(1) + 'auth=Bearer ' + TOKEN + chr(1) * 2)}",
         "AUTH XOAUTH2 "),
        (f"n,a=t@x.test,\x01auth=Bearer {TOKEN}\x01\x01", "n,a=t@x.test,"),
        (f"something {b64(chr(0) + 'taro' + chr(0) + SENTINEL)} else", "something "),
        (f"{b64('n,a=t@x.test,' + chr(1) + 'auth=Bearer ' + TOKEN + chr(1) * 2)}", ""),
    ],
)  # fmt: skip
def test_patterns_remove_secrets_nobody_announced(text: str, kept: str) -> None:
    output = redact(text)
    assert_gone(output, SENTINEL, TOKEN, REFRESH)
    assert REDACTED in output
    assert kept in output


def test_a_login_transcript_keeps_the_conversation_and_loses_the_answers() -> None:
    transcript = "\n".join(
        [
            "S: 220 smtp.example.test ESMTP ready",
            "C: EHLO client.example.test",
            "S: 250-smtp.example.test",
            "S: 250-AUTH PLAIN LOGIN XOAUTH2",
            "S: 250 STARTTLS",
            "C: AUTH LOGIN",
            "S: 334 VXNlcm5hbWU6",
            f"C: {b64('taro@example.test')}",
            "S: 334 UGFzc3dvcmQ6",
            f"C: {b64(SENTINEL)}",
            "S: 535 5.7.8 Username and Password not accepted.",
        ]
    )
    output = redact(transcript)
    assert_gone(output, SENTINEL)
    lines = output.splitlines()
    assert lines[3] == "S: 250-AUTH PLAIN LOGIN XOAUTH2"  # mechanism names are not payloads
    assert lines[6] == "S: 334 VXNlcm5hbWU6"  # the server's challenge is kept
    assert lines[9] == f"C: {REDACTED}"
    assert lines[10] == "S: 535 5.7.8 Username and Password not accepted."


@pytest.mark.parametrize(
    "text",
    [
        "taro.yamada@example.jp.test",
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [BN9PR03]",
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        "A1 NO LOGIN failed.",
        "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 LOGINDISABLED",
        "250-AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER",
        "AUTH PLAIN",
        "AUTH PLAIN =",
        "334 VXNlcm5hbWU6",
        "+ eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIn0=",
        'WWW-Authenticate: Bearer realm="", authorization_uri="https://login.test/authorize"',
        'WWW-Authenticate: Bearer client_id="00000002-0000-0ff1-ce00-000000000000"',
        "The Bearer token was rejected",
        "AADSTS50126: Error validating credentials due to invalid username or password. "
        "Trace ID: 0b1c2d3e-0000-4000-8000-000000000001",
        'Error Domain=NSURLErrorDomain code=-1012 "(null)"',
        "error code=42 from the server",
        "Password",
        "Capabilities",
        "https://caldav.example.test:8443/dav/taro/calendar/",
        "http://proxy.corp.test:8080",
        "user=taro@example.test",
        "Username and Password not accepted",
    ],
)
def test_what_a_helpdesk_needs_stays(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    once = redact(f"Authorization: Bearer {TOKEN}\npassword={SENTINEL}", [SENTINEL])
    assert redact(once, [SENTINEL]) == once


# --- Hypothesis: a secret anywhere in any text, in any form, never survives -------------------

SECRETS = st.text(min_size=6, max_size=40).filter(lambda s: s.strip() != "")
ANY_TEXT = st.text(max_size=80)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    secret=SECRETS,
    before=ANY_TEXT,
    after=ANY_TEXT,
    form=st.sampled_from(["raw", "b64", "b64url", "quote", "quote_plus", "plain"]),
)
def test_a_known_secret_never_survives(secret: str, before: str, after: str, form: str) -> None:
    assume(secret not in REDACTED)
    embedded = {
        "raw": secret,
        "b64": b64(secret),
        "b64url": b64url(secret),
        "quote": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
        "plain": b64(f"\0{before[:7]}\0{secret}"),  # a SASL PLAIN payload, any alignment
    }[form]
    output = redact(before + embedded + after, [secret])
    assert secret not in output
    assert embedded not in output
    assert_gone(output, secret)


@settings(max_examples=200, deadline=None)
@given(
    token=st.from_regex(r"[A-Za-z0-9\-._~+/]{20,60}", fullmatch=True),
    before=st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=40),
)
def test_bearer_tokens_never_survive(token: str, before: str) -> None:
    assume(token not in before)
    output = redact(f"{before} Authorization: Bearer {token}\n")
    assert token not in output


# --- logging ----------------------------------------------------------------------------------


@pytest.fixture
def installed() -> Iterator[RedactingFilter]:
    redaction = install_redaction(secrets=[SENTINEL])
    try:
        yield redaction
    finally:
        uninstall_redaction()


def test_the_filter_redacts_message_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact.filter")
    caplog.set_level(logging.INFO, logger=logger.name)
    redaction = RedactingFilter([SENTINEL])
    logger.addFilter(redaction)
    try:
        logger.info("login %s with %s", "taro@example.test", SENTINEL)
        logger.info("sent %r", {"Authorization": f"Bearer {TOKEN}"})
        logger.info("bad format %s %s", "only one")  # must not lose the record
    finally:
        logger.removeFilter(redaction)
    text = caplog.text
    assert_gone(text, SENTINEL, TOKEN)
    assert "login taro@example.test with [redacted]" in text
    assert "bad format" in text


def test_install_redaction_covers_every_logger_and_exceptions(
    installed: RedactingFilter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    installed.add_secret(Secret(TOKEN))
    child = logging.getLogger("app.core.checks.somewhere.deep")
    child.warning("token %s and %s", TOKEN, b64(SENTINEL))
    try:
        raise RuntimeError(f"server said no to {SENTINEL}")
    except RuntimeError:
        child.exception("failed with password=%s", "hunter2hunter2")
    records = "\n".join(
        [caplog.text, *(r.getMessage() for r in caplog.records)]
        + [logging.Formatter().format(r) for r in caplog.records]
    )
    assert_gone(records, SENTINEL, TOKEN, "hunter2hunter2")
    assert "RuntimeError: server said no to [redacted]" in records
    assert install_redaction() is installed  # one shared filter


def test_forgotten_secrets_are_no_longer_redacted() -> None:
    redaction = RedactingFilter([SENTINEL])
    redaction.forget_secret(SENTINEL)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "pw %s", (SENTINEL,), None)
    redaction.filter(record)
    assert record.getMessage() == f"pw {SENTINEL}"


def test_microsoft_error_codes_survive_though_they_look_like_base64() -> None:
    for code in ("AADSTS700082", "AADSTS700016", "AADSTS500113", "AADSTS530003", "AADSTS50173"):
        text = f"{code}: The refresh token has expired due to inactivity."
        assert redact(text) == text
