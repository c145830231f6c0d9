"""The sans-I/O parts of guessing: the protocol readers of ``probes.py`` (IMAP CAPABILITY,
POP3 CAPA, SMTP EHLO) and the plan and decision logic of ``guess.py``."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.discovery.guess import (
    MAX_PROBES,
    Decision,
    Direction,
    ProbeResult,
    ProbeStatus,
    classify,
    decide,
    probe_plan,
)
from app.core.discovery.probes import (
    ImapResponseReader,
    PopMultilineReader,
    ProbeError,
    ProbeProblem,
    ReplySyntaxError,
    SmtpReply,
    SmtpReplyReader,
    imap_capabilities,
    parse_imap_greeting,
    parse_pop_status,
    pop_capabilities,
    shown,
    smtp_capabilities,
)
from app.core.errors import ConnectError, ConnectFailure, DeadlineError, DNSError, TLSError
from app.core.errors import TLSFailure as TF
from app.core.model import Protocol, Security
from app.core.texts import render

# --- IMAP -------------------------------------------------------------------------------------


def test_imap_greeting_with_capability_code() -> None:
    greeting = parse_imap_greeting(
        b"* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED] Dovecot ready.\r\n"
    )
    assert greeting.status == "OK"
    assert greeting.capabilities == ("IMAP4rev1", "SASL-IR", "STARTTLS", "LOGINDISABLED")


@pytest.mark.parametrize(
    ("line", "status"),
    [(b"* ok hello\r\n", "OK"), (b"* PREAUTH welcome\r\n", "PREAUTH"), (b"* BYE busy\n", "BYE")],
)
def test_imap_greeting_statuses(line: bytes, status: str) -> None:
    assert parse_imap_greeting(line).status == status


@pytest.mark.parametrize(
    "line",
    [
        b"HTTP/1.1 400 Bad Request\r\n",
        b"+OK POP3 ready\r\n",
        b"220 smtp.example.test ESMTP\r\n",
        b"* NO go away\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n",  # a TLS record read as a line
        b"* OK \x00 nul\r\n",
    ],
)
def test_not_an_imap_greeting(line: bytes) -> None:
    with pytest.raises(ReplySyntaxError):
        parse_imap_greeting(line)


def test_imap_capability_response() -> None:
    reader = ImapResponseReader("a1")
    assert reader.feed(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN auth=xoauth2 ID IDLE\r\n") is None
    assert reader.feed(b"* OK [ALERT] something untagged\r\n") is None
    response = reader.feed(b"a1 OK Pre-login capabilities listed, post-login may differ.\r\n")
    assert response is not None and response.status == "OK"
    caps = imap_capabilities(response.capability_words())
    assert caps.words == ("IMAP4REV1", "AUTH=PLAIN", "AUTH=XOAUTH2", "ID", "IDLE")
    assert caps.auth == ("PLAIN", "XOAUTH2")
    assert caps.oauth == ("XOAUTH2",)
    assert not caps.starttls and not caps.login_disabled
    assert caps.password_login is True


def test_imap_capability_in_the_tagged_response_code() -> None:
    reader = ImapResponseReader("a3")
    response = reader.feed(b"a3 OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] done\r\n")
    assert response is not None
    caps = imap_capabilities(response.capability_words())
    assert caps.starttls and caps.login_disabled
    assert caps.auth == ()
    assert caps.password_login is False  # LOGIN disabled and no SASL PLAIN/LOGIN


def test_imap_tagged_no_and_foreign_lines() -> None:
    reader = ImapResponseReader("a1")
    response = reader.feed(b"a1 NO not now\r\n")
    assert response is not None and response.status == "NO"
    with pytest.raises(ReplySyntaxError):
        ImapResponseReader("a1").feed(b"a2 OK wrong tag\r\n")
    with pytest.raises(ReplySyntaxError):
        ImapResponseReader("a1").feed(b"a1 MAYBE\r\n")
    with pytest.raises(ReplySyntaxError):
        ImapResponseReader("a1").feed(b"<html>\r\n")


def test_imap_reader_bounds_the_number_of_lines() -> None:
    reader = ImapResponseReader("a1", max_lines=3)
    for _ in range(3):
        assert reader.feed(b"* CAPABILITY X\r\n") is None
    with pytest.raises(ReplySyntaxError, match="too many"):
        reader.feed(b"* CAPABILITY X\r\n")


# --- POP3 -------------------------------------------------------------------------------------


def test_pop_status_lines() -> None:
    assert parse_pop_status(b"+OK Dovecot ready.\r\n") == (True, "Dovecot ready.")
    assert parse_pop_status(b"+OK\r\n") == (True, "")
    assert parse_pop_status(b"-ERR [SYS/TEMP] busy\r\n") == (False, "[SYS/TEMP] busy")
    for garbage in (b"* OK IMAP\r\n", b"+OKAY\r\n", b"220 smtp\r\n"):
        with pytest.raises(ReplySyntaxError):
            parse_pop_status(garbage)


def test_pop_capa() -> None:
    reader = PopMultilineReader()
    lines = [b"TOP\r\n", b"UIDL\r\n", b"RESP-CODES\r\n", b"SASL PLAIN xoauth2\r\n"]
    lines += [b"STLS\r\n", b"..dotted\r\n", b"USER\r\n"]
    for line in lines:
        assert reader.feed(line) is None
    result = reader.feed(b".\r\n")
    assert result is not None
    assert result[5] == ".dotted"  # dot-stuffing undone
    caps = pop_capabilities(result)
    assert caps.starttls
    assert caps.auth == ("PLAIN", "XOAUTH2")
    assert "USER" in caps.words and caps.password_login is True
    assert not caps.login_disabled


def test_pop_capa_without_stls_or_user() -> None:
    caps = pop_capabilities(["TOP", "UIDL", "SASL XOAUTH2"])
    assert not caps.starttls
    assert caps.password_login is False
    assert pop_capabilities([]).password_login is None


# --- SMTP -------------------------------------------------------------------------------------


def feed_smtp(*lines: bytes) -> SmtpReply:
    reader = SmtpReplyReader()
    reply = None
    for line in lines:
        assert reply is None, "the reply ended early"
        reply = reader.feed(line)
    assert reply is not None, "the reply did not end"
    return reply


def test_smtp_ehlo_reply() -> None:
    reply = feed_smtp(
        b"250-smtp.example.test Hello [127.0.0.1]\r\n",
        b"250-SIZE 35882577\r\n",
        b"250-8BITMIME\r\n",
        b"250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n",
        b"250-AUTH=LOGIN PLAIN\r\n",
        b"250-STARTTLS\r\n",
        b"250 SMTPUTF8\r\n",
    )
    assert reply.code == 250
    caps = smtp_capabilities(reply)
    assert caps.words == ("SIZE", "8BITMIME", "AUTH", "STARTTLS", "SMTPUTF8")
    assert caps.auth == ("LOGIN", "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN", "OAUTHBEARER", "XOAUTH")
    assert caps.oauth == ("XOAUTH2", "OAUTHBEARER")
    assert caps.starttls and caps.password_login is True


def test_smtp_reply_forms() -> None:
    assert feed_smtp(b"220\r\n") == SmtpReply(220, ("",))
    assert feed_smtp(b"220-first\r\n", b"220 second\n").lines == ("first", "second")
    caps = smtp_capabilities(feed_smtp(b"250 mail.example.test\r\n"))
    assert caps.words == () and not caps.starttls and caps.password_login is None


@pytest.mark.parametrize(
    "lines",
    [
        [b"220-ready\r\n", b"250 other code\r\n"],
        [b"HTTP/1.1 200 OK\r\n"],
        [b"+OK pop\r\n"],
        [b"2200 too long\r\n"],
        [b"220\xff\xfe\r\n"],
    ],
)
def test_not_smtp(lines: list[bytes]) -> None:
    reader = SmtpReplyReader()
    with pytest.raises(ReplySyntaxError):
        for line in lines:
            reader.feed(line)


def test_smtp_reader_bounds_the_number_of_lines() -> None:
    reader = SmtpReplyReader(max_lines=2)
    reader.feed(b"250-a\r\n")
    reader.feed(b"250-b\r\n")
    with pytest.raises(ReplySyntaxError, match="too many"):
        reader.feed(b"250-c\r\n")


@given(st.binary(max_size=300))
def test_readers_never_fail_otherwise(data: bytes) -> None:
    """Whatever a server sends, a reader returns or raises ReplySyntaxError, nothing else."""
    line = data + b"\r\n"
    for parse in (
        parse_imap_greeting,
        parse_pop_status,
        ImapResponseReader("a1").feed,
        PopMultilineReader().feed,
        SmtpReplyReader().feed,
    ):
        with contextlib.suppress(ReplySyntaxError):
            parse(line)


def test_shown_keeps_reports_printable_and_short() -> None:
    assert shown(b"220 hi\x00\x1b[31m\r\n") == "220 hi??[31m"
    assert len(shown(b"x" * 1000)) == 200
    assert shown("* OK \u00e9") == "* OK ?"


def test_every_probe_problem_has_a_message_in_both_languages() -> None:
    for problem in ProbeProblem:
        error = ProbeError(Protocol.IMAP, "imap.example.test", 143, problem, "* OK")
        assert error.code == f"probe.{problem.value}"
        for language in ("en", "ja"):
            text = render(error.message, language, strict=True)
            assert "imap.example.test" in text and "IMAP" in text


# --- the plan ---------------------------------------------------------------------------------


def test_probe_plan_order_and_bound() -> None:
    plan = probe_plan("example.test")
    assert len(plan) <= MAX_PROBES
    incoming = [(s.protocol, s.host, s.port) for s in plan if s.direction is Direction.INCOMING]
    outgoing = [(s.protocol, s.host, s.port) for s in plan if s.direction is Direction.OUTGOING]
    imap, pop, smtp = Protocol.IMAP, Protocol.POP3, Protocol.SMTP
    assert incoming == [
        (imap, "imap.example.test", 993),
        (imap, "mail.example.test", 993),
        (imap, "example.test", 993),
        (imap, "imap.example.test", 143),
        (imap, "mail.example.test", 143),
        (imap, "example.test", 143),
        (pop, "pop.example.test", 995),
        (pop, "pop3.example.test", 995),
        (pop, "mail.example.test", 995),
        (pop, "example.test", 995),
        (pop, "pop.example.test", 110),
        (pop, "pop3.example.test", 110),
        (pop, "mail.example.test", 110),
        (pop, "example.test", 110),
    ]
    assert outgoing == [
        (smtp, "smtp.example.test", 465),
        (smtp, "mail.example.test", 465),
        (smtp, "example.test", 465),
        (smtp, "smtp.example.test", 587),
        (smtp, "mail.example.test", 587),
        (smtp, "example.test", 587),
    ]
    assert all(s.port != 25 for s in plan), "port 25 is for relaying, never for submission"
    assert all(s.security is not Security.PLAIN for s in plan)
    for direction in Direction:
        ranks = [s.rank for s in plan if s.direction is direction]
        assert ranks == list(range(len(ranks)))


def _result(spec_index: int, status: ProbeStatus) -> ProbeResult:
    return ProbeResult(probe_plan("example.test")[spec_index], status)


def test_decide_waits_for_every_better_probe() -> None:
    plan = probe_plan("example.test")
    incoming = [s for s in plan if s.direction is Direction.INCOMING]
    # the third-best succeeded, the second has not answered yet: not decided
    results = {
        incoming[0]: ProbeResult(incoming[0], ProbeStatus.DNS),
        incoming[2]: ProbeResult(incoming[2], ProbeStatus.OK),
    }
    assert decide(incoming, results) == Decision(False)
    results[incoming[1]] = ProbeResult(incoming[1], ProbeStatus.TLS)
    assert decide(incoming, results) == Decision(True, results[incoming[2]])
    # a better one succeeding decides at once, whatever the others do
    assert decide(incoming, {incoming[0]: results[incoming[2]]}).decided


def test_decide_with_everything_failed_and_pop_only() -> None:
    plan = probe_plan("example.test")
    incoming = [s for s in plan if s.direction is Direction.INCOMING]
    failed = {s: ProbeResult(s, ProbeStatus.REFUSED) for s in incoming}
    assert decide(incoming, failed) == Decision(True, None)
    pop = incoming[6]
    assert pop.protocol is Protocol.POP3
    failed[pop] = ProbeResult(pop, ProbeStatus.OK)
    assert decide(incoming, failed).winner == failed[pop]


def test_classify_errors() -> None:
    assert classify(DNSError("x.test")) is ProbeStatus.DNS
    assert classify(ConnectError("x.test", 993, ConnectFailure.REFUSED)) is ProbeStatus.REFUSED
    assert classify(ConnectError("x.test", 993, ConnectFailure.TIMEOUT)) is ProbeStatus.TIMEOUT
    assert classify(TLSError("x.test", TF.WRONG_HOST)) is ProbeStatus.TLS
    assert classify(DeadlineError("x.test", 1.0)) is ProbeStatus.TIMEOUT
    plain = ProbeError(Protocol.SMTP, "x.test", 587, ProbeProblem.NO_STARTTLS)
    assert classify(plain) is ProbeStatus.PLAIN_ONLY
    garbage = ProbeError(Protocol.SMTP, "x.test", 587, ProbeProblem.NOT_PROTOCOL)
    assert classify(garbage) is ProbeStatus.NOT_PROTOCOL
