"""The pure parts of the IMAP and POP3 checks: reading server replies, choosing how to sign in,
the SASL answers, the iCloud name-part fallback, and that every finding code the checks use
has an entry in the knowledge catalog."""

from __future__ import annotations

import base64
import imaplib

import pytest

from app.core.checks import imap, pop3
from app.core.checks.base import CredentialKind, Credentials, Secret
from app.core.diagnostics.knowledge import default_knowledge
from app.core.model import Protocol

PASSWORD = CredentialKind.PASSWORD
OAUTH = CredentialKind.OAUTH2


def _codes(module: object, prefixes: tuple[str, ...]) -> set[str]:
    return {
        value
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and value.startswith(prefixes)
    }


@pytest.mark.parametrize(("module", "prefix"), [(imap, "imap."), (pop3, "pop3.")])
def test_every_code_has_a_catalog_entry(module: object, prefix: str) -> None:
    known = default_knowledge().by_code
    used = _codes(module, (prefix, "tls."))
    assert used and used <= set(known), used - set(known)
    defined = {code for code in known if code.startswith(prefix)}
    assert defined <= used, f"catalog entries no check uses: {defined - used}"


@pytest.mark.parametrize("prefix", ["imap.", "pop3."])
def test_entries_use_only_the_placeholders_the_checks_pass(prefix: str) -> None:
    passed = {"host", "port", "username", "mechanisms", "seconds"}
    for code, entry in default_knowledge().by_code.items():
        if code.startswith(prefix):
            assert entry.placeholders <= passed, (code, entry.placeholders - passed)


@pytest.mark.parametrize(
    ("reply", "protocol", "expected"),
    [
        ("[AUTHENTICATIONFAILED] Authentication failed.", Protocol.IMAP, "imap.auth.failed"),
        ("User is authenticated but not connected.", Protocol.IMAP, "microsoft.not-connected"),
        ("AUTHENTICATE failed.", Protocol.IMAP, "microsoft.authenticate-failed"),
        ("LOGIN failed.", Protocol.IMAP, "imap.auth.failed"),
        ("[UNAVAILABLE] Try later", Protocol.IMAP, "imap.unavailable"),
        ("[AUTH] Authentication failed.", Protocol.POP3, "pop3.auth.failed"),
        ("User is authenticated but not connected.", Protocol.POP3, "microsoft.not-connected"),
        (
            "[AUTH] Application-specific password required",
            Protocol.POP3,
            "pop3.auth.app-password-required",
        ),
    ],
)
def test_whole_sentences_find_the_protocols_entry(
    reply: str, protocol: Protocol, expected: str
) -> None:
    code = imap.response_code(reply) if protocol is Protocol.IMAP else pop3.Reply(False, reply).code
    assert default_knowledge().match(reply, protocol=protocol.value, code=code) == expected


def test_server_text_from_imaplib_and_imapclient_errors() -> None:
    # imaplib's LOGIN raises the bytes of the reply; imapclient wraps it in LoginError(str(...))
    try:
        try:
            raise imaplib.IMAP4.error(b"[AUTHENTICATIONFAILED] Authentication failed.")
        except imaplib.IMAP4.error as inner:
            raise imaplib.IMAP4.error(str(inner)) from None
    except imaplib.IMAP4.error as outer:
        assert imap.server_text(outer) == "[AUTHENTICATIONFAILED] Authentication failed."
    prefixed = imaplib.IMAP4.error("select failed: [NONEXISTENT] No such mailbox")
    assert imap.server_text(prefixed) == "[NONEXISTENT] No such mailbox"
    assert imap.server_text(imaplib.IMAP4.error("line\x00with\x1bcontrols")) == "line?with?controls"


def test_response_codes() -> None:
    assert imap.response_code("[AUTHENTICATIONFAILED] x") == "AUTHENTICATIONFAILED"
    assert imap.response_code("[ALERT Something] x") == "ALERT"
    assert imap.response_code("no code here") is None
    assert pop3.Reply(False, "[SYS/TEMP] busy").code == "SYS/TEMP"


@pytest.mark.parametrize(
    ("kind", "capabilities", "expected"),
    [
        (OAUTH, ["IMAP4REV1", "AUTH=XOAUTH2", "LOGINDISABLED"], "XOAUTH2"),
        (OAUTH, ["IMAP4REV1", "AUTH=OAUTHBEARER"], "OAUTHBEARER"),
        (OAUTH, ["IMAP4REV1", "AUTH=PLAIN"], None),
        (PASSWORD, ["IMAP4REV1", "AUTH=PLAIN", "AUTH=LOGIN"], "PLAIN"),
        (PASSWORD, ["IMAP4REV1"], "LOGIN-COMMAND"),
        (PASSWORD, ["IMAP4REV1", "LOGINDISABLED", "AUTH=LOGIN"], "LOGIN"),
        (PASSWORD, ["IMAP4REV1", "AUTH=XOAUTH2", "LOGINDISABLED"], None),  # Exchange Online
    ],
)
def test_imap_sign_in_choice_honours_logindisabled(
    kind: CredentialKind, capabilities: list[str], expected: str | None
) -> None:
    assert imap.choose_mechanism(kind, capabilities) == expected


def test_imap_token_mechanism_order_can_be_chosen() -> None:
    both = ["AUTH=XOAUTH2", "AUTH=OAUTHBEARER"]
    assert imap.choose_mechanism(OAUTH, both) == "XOAUTH2"
    assert imap.choose_mechanism(OAUTH, both, ("OAUTHBEARER", "XOAUTH2")) == "OAUTHBEARER"


@pytest.mark.parametrize(
    ("kind", "capabilities", "capa", "expected"),
    [
        (PASSWORD, ["USER", "SASL PLAIN LOGIN"], True, "PLAIN"),
        (PASSWORD, ["USER", "UIDL"], True, "USER"),
        (PASSWORD, [], False, "USER"),  # no CAPA at all: RFC 1939 USER/PASS
        (PASSWORD, ["SASL LOGIN XOAUTH2"], True, "LOGIN"),
        (PASSWORD, ["SASL XOAUTH2"], True, None),
        (OAUTH, ["USER", "SASL PLAIN XOAUTH2"], True, "XOAUTH2"),
        (OAUTH, ["USER", "SASL PLAIN"], True, None),
    ],
)
def test_pop3_sign_in_choice(
    kind: CredentialKind, capabilities: list[str], capa: bool, expected: str | None
) -> None:
    assert pop3.choose_method(kind, capabilities, capa) == expected


def test_pop3_status_lines() -> None:
    assert pop3.parse_status("+OK ready") == pop3.Reply(True, "ready")
    assert pop3.parse_status("+OK") == pop3.Reply(True, "")
    assert pop3.parse_status("-ERR [AUTH] no") == pop3.Reply(False, "[AUTH] no")
    for garbage in ("HTTP/1.1 400 Bad Request", "+OKAY", "* OK IMAP"):
        with pytest.raises(pop3._Garbage):
            pop3.parse_status(garbage)


def test_sasl_answers() -> None:
    creds = Credentials("user@example.test", Secret("t0ken"), OAUTH)
    answers, final = pop3.sasl_answers("XOAUTH2", creds)
    assert answers == [b"user=user@example.test\x01auth=Bearer t0ken\x01\x01"] and final == b""
    answers, final = pop3.sasl_answers("OAUTHBEARER", creds)
    assert answers == [b"n,a=user@example.test,\x01auth=Bearer t0ken\x01\x01"]
    assert final == b"\x01"
    # the Microsoft documentation's test vector for XOAUTH2
    ms = Credentials(
        "test@contoso.onmicrosoft.com", Secret("EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA")
    )
    sasl = imap.sasl_for("XOAUTH2", ms)
    assert base64.b64encode(sasl(b"")).decode() == (
        "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZw"
        "VUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ=="
    )
    # an error challenge after the answer ends the exchange instead of resending the token
    assert sasl(b'{"status":"401"}') == b""
    assert sasl.challenges == [b'{"status":"401"}']


@pytest.mark.parametrize(
    ("host", "username", "expected"),
    [
        ("imap.mail.me.com", "emily.parker@icloud.com", "emily.parker"),
        ("p42-imap.mail.me.com", "emily@me.com", "emily"),
        ("imap.mail.me.com", "emily", None),  # already the name part
        ("imap.mail.me.com", "emily@gmail.com", None),  # not an iCloud address
        ("imap.example.test", "emily@icloud.com", None),  # not iCloud's server
    ],
)
def test_icloud_name_part_fallback(host: str, username: str, expected: str | None) -> None:
    assert imap.icloud_fallback(host, username) == expected
