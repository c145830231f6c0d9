"""The sans-I/O parts of the SMTP client (app/core/checks/smtpclient.py): replies (multi-line,
enhanced status codes, garbage), EHLO extensions, dot-stuffing, SASL initial responses; and the
round-trip message helpers of app/core/checks/smtp.py."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.checks import smtp
from app.core.checks.smtpclient import (
    ReplyParser,
    SmtpProtocolError,
    SmtpReply,
    address_literal,
    decode_challenge,
    dot_stuff,
    enhanced_code,
    oauthbearer_response,
    parse_extensions,
    parse_reply,
    plain_response,
    shown,
    xoauth2_response,
)

GMAIL_BAD_CREDENTIALS = [
    b"535-5.7.8 Username and Password not accepted. For more information, go to\r\n",
    b"535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123.45 - gsmtp\r\n",
]
AIOSMTPD_EHLO = [
    b"250-mail.example.test\r\n",
    b"250-SIZE 33554432\r\n",
    b"250-8BITMIME\r\n",
    b"250-SMTPUTF8\r\n",
    b"250-AUTH PLAIN LOGIN XOAUTH2\r\n",
    b"250 HELP\r\n",
]


# --- replies ----------------------------------------------------------------------------------


def test_single_line_reply_with_enhanced_code() -> None:
    reply = parse_reply(
        [
            b"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
            b"for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.\r\n"
        ]
    )
    assert reply.code == 535
    assert reply.enhanced == "5.7.139"
    assert reply.sentence == (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    assert reply.permanent and not reply.transient and not reply.positive


def test_multi_line_reply_joins_lines_and_drops_repeated_enhanced_codes() -> None:
    parser = ReplyParser()
    assert parser.feed(GMAIL_BAD_CREDENTIALS[0]) is None
    reply = parser.feed(GMAIL_BAD_CREDENTIALS[1])
    assert reply is not None
    assert (reply.code, reply.enhanced) == (535, "5.7.8")
    assert len(reply.lines) == 2
    assert reply.sentence == (
        "535 5.7.8 Username and Password not accepted. For more information, go to "
        "https://support.google.com/mail/?p=BadCredentials a1sm123.45 - gsmtp"
    )


def test_reply_without_text_and_without_enhanced_code() -> None:
    assert parse_reply([b"250\r\n"]) == SmtpReply(250, ("",), None)
    assert parse_reply([b"250\r\n"]).sentence == "250"
    reply = parse_reply([b"220 mail.example.test ESMTP ready\n"])
    assert (reply.enhanced, reply.message) == (None, "mail.example.test ESMTP ready")
    assert parse_reply([b"334 VXNlcm5hbWU6\r\n"]).intermediate


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        (535, "5.7.3 Authentication unsuccessful", "5.7.3"),
        (250, "2.0.0 OK queued", "2.0.0"),
        (454, "4.7.0 Temporary authentication failure", "4.7.0"),
        (535, "4.7.0 class disagrees with the code", None),
        (250, "2.1.0", "2.1.0"),
        (250, "mail.example.test", None),
        (550, "5.7.1234 too many digits", None),
        (550, "5.7.60SendAsDenied", None),
    ],
)
def test_enhanced_status_codes(code: int, text: str, expected: str | None) -> None:
    assert enhanced_code(code, text) == expected


@pytest.mark.parametrize(
    "lines",
    [
        [b"HTTP/1.1 400 Bad Request\r\n"],
        [b"* OK IMAP4rev1 ready\r\n"],
        [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n"],
        [b"2500 too many digits\r\n"],
        [b"250-first\r\n", b"251 the code changed\r\n"],
        [b"150 not an SMTP class\r\n"],
        [b"250_wrong separator\r\n"],
    ],
)
def test_garbage_is_not_smtp(lines: list[bytes]) -> None:
    with pytest.raises(SmtpProtocolError) as raised:
        parse_reply(lines)
    assert raised.value.line == lines[-1]


def test_endless_multi_line_reply_is_refused() -> None:
    parser = ReplyParser(max_lines=3)
    for _ in range(3):
        assert parser.feed(b"250-more\r\n") is None
    with pytest.raises(SmtpProtocolError, match="more than 3 lines"):
        parser.feed(b"250-more\r\n")


def test_incomplete_reply() -> None:
    with pytest.raises(SmtpProtocolError, match="ended in the middle"):
        parse_reply([b"250-only a continuation\r\n"])


def test_shown_makes_server_text_safe() -> None:
    assert shown(b"554 go\x00away\x1b[31m\r\n") == "554 go?away?[31m"
    assert len(shown("x" * 1000, limit=50)) == 50


@given(
    code=st.integers(200, 599),
    texts=st.lists(
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        min_size=1,
        max_size=6,
    ),
)
def test_any_well_formed_reply_round_trips(code: int, texts: list[str]) -> None:
    lines = [f"{code}-{t}\r\n".encode() for t in texts[:-1]] + [f"{code} {texts[-1]}\r\n".encode()]
    reply = parse_reply(lines)
    assert reply.code == code
    assert reply.lines == tuple(texts)


# --- EHLO -------------------------------------------------------------------------------------


def test_ehlo_extensions() -> None:
    extensions = parse_extensions(parse_reply(AIOSMTPD_EHLO))
    assert extensions.domain == "mail.example.test"
    assert extensions.auth == ("PLAIN", "LOGIN", "XOAUTH2")
    assert extensions.size == 33554432
    assert extensions.eightbitmime and extensions.smtputf8
    assert not extensions.starttls and not extensions.pipelining
    assert extensions.summary() == "auth: PLAIN LOGIN XOAUTH2; SIZE 33554432; 8BITMIME; SMTPUTF8"
    assert extensions.to_dict()["auth"] == ["PLAIN", "LOGIN", "XOAUTH2"]


def test_ehlo_of_microsoft_with_old_auth_form_and_bare_size() -> None:
    reply = parse_reply(
        [
            b"250-SN4PR0501CA0040.outlook.office365.com Hello [192.0.2.1]\r\n",
            b"250-SIZE\r\n",
            b"250-PIPELINING\r\n",
            b"250-STARTTLS\r\n",
            b"250-AUTH=LOGIN\r\n",
            b"250-auth login xoauth2\r\n",
            b"250 SMTPUTF8\r\n",
        ]
    )
    extensions = parse_extensions(reply)
    assert extensions.domain == "SN4PR0501CA0040.outlook.office365.com"
    assert extensions.starttls and extensions.pipelining and extensions.smtputf8
    assert extensions.auth == ("LOGIN", "XOAUTH2")
    assert extensions.size == 0
    assert parse_extensions(parse_reply([b"250 only.name\r\n"])).summary() == "auth: none"


def test_a_refused_ehlo_announces_nothing() -> None:
    extensions = parse_extensions(parse_reply([b"502 5.5.1 EHLO not implemented\r\n"]))
    assert extensions.keywords == {}
    assert extensions.auth == () and extensions.size is None


# --- DATA -------------------------------------------------------------------------------------


def test_dot_stuffing() -> None:
    message = b"Subject: x\r\n\r\n.\r\n..two\n.\rlast"
    assert dot_stuff(message) == b"Subject: x\r\n\r\n..\r\n...two\r\n..\r\nlast\r\n.\r\n"
    assert dot_stuff(b"one line\r\n") == b"one line\r\n.\r\n"
    assert dot_stuff(b"") == b".\r\n"


def _unstuff(payload: bytes) -> bytes:
    assert payload.endswith(b"\r\n.\r\n") or payload == b".\r\n"
    lines = payload[:-3].split(b"\r\n")[:-1] if payload != b".\r\n" else []
    return b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)


@given(st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))))
def test_dot_stuffing_never_ends_data_early_and_is_reversible(lines: list[bytes]) -> None:
    message = b"".join(line + b"\r\n" for line in lines)
    payload = dot_stuff(message)
    body = payload[:-3]
    # The only line that is a lone dot is the terminator.
    assert b"\r\n.\r\n" not in b"\r\n" + body
    assert _unstuff(payload) == message


# --- SASL -------------------------------------------------------------------------------------


def test_sasl_initial_responses() -> None:
    assert base64.b64decode(plain_response("ann@example.test", "pw")) == b"\0ann@example.test\0pw"
    assert base64.b64decode(xoauth2_response("ann@example.test", "tok")) == (
        b"user=ann@example.test\x01auth=Bearer tok\x01\x01"
    )
    assert base64.b64decode(oauthbearer_response("a,b=c@x.test", "tok", "smtp.x.test", 587)) == (
        b"n,a=a=2Cb=3Dc@x.test,\x01host=smtp.x.test\x01port=587\x01auth=Bearer tok\x01\x01"
    )


def test_xoauth2_error_challenge_is_decoded() -> None:
    error = b'{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}'
    reply = parse_reply([b"334 " + base64.b64encode(error) + b"\r\n"])
    assert decode_challenge(reply) == error.decode()
    assert decode_challenge(parse_reply([b"334 not base64!\r\n"])) is None


def test_address_literals() -> None:
    assert address_literal(("192.0.2.7", 50000)) == "[192.0.2.7]"
    assert address_literal(("2001:db8::1%eth0", 50000, 0, 0)) == "[IPv6:2001:db8::1]"
    assert address_literal(None) == "localhost"


# --- the round trip's message -----------------------------------------------------------------


def test_test_message_carries_the_token_and_finds_its_way_back() -> None:
    token = smtp.new_token()
    assert token != smtp.new_token()
    when = dt.datetime(2025, 4, 1, 9, 30, tzinfo=dt.UTC)
    raw = smtp.build_test_message("ann@example.test", token, when=when)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"] == "ann@example.test" and message["To"] == "ann@example.test"
    assert token in message["Subject"]
    assert message["Message-ID"] == f"<{smtp.message_id_for(token, 'ann@example.test')}>"
    assert message["Date"] == "Tue, 01 Apr 2025 09:30:00 +0000"
    assert message.get_content_type() == "text/plain"
    assert token in message.get_content()
    other = email.message_from_bytes(
        smtp.build_test_message("ann@example.test", smtp.new_token()), policy=email.policy.default
    )
    assert smtp.find_test_message([other, message], token) is message
    assert smtp.find_test_message([raw], token) == raw
    assert smtp.find_test_message([other], token) is None


def test_test_message_for_an_internationalised_address() -> None:
    token = smtp.new_token()
    raw = smtp.build_test_message("山田@例え.test", token)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "山田@例え.test"
    assert smtp.find_test_message([message], token) is message
