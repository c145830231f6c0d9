"""Self-tests of the test world's Dovecot: IMAP and POP3, implicit TLS and STARTTLS, passwords
and OAuth tokens (from the identity provider, through MSAL), failure counting."""

from __future__ import annotations

import poplib
import ssl
import uuid
from email.message import EmailMessage

import imapclient
import pytest
from imapclient.exceptions import LoginError

from tests.world.ca import TestCA
from tests.world.dovecot import DovecotServer
from tests.world.idp import IdentityProvider
from tests.world.idp_client import IMAP_SCOPE, sign_in_with_msal

pytestmark = pytest.mark.world

TIMEOUT = 10


def _address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.test"


def _message(subject: str, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "sender@example.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Hello from the test world.\n")
    return msg.as_bytes()


@pytest.fixture(scope="module")
def tls(test_ca: TestCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(test_ca.cert_path))


def _imaps(dovecot: DovecotServer, tls: ssl.SSLContext) -> imapclient.IMAPClient:
    return imapclient.IMAPClient(
        dovecot.host, port=dovecot.imap_tls_port, ssl=True, ssl_context=tls, timeout=TIMEOUT
    )


def _imap_plain(dovecot: DovecotServer) -> imapclient.IMAPClient:
    return imapclient.IMAPClient(
        dovecot.host, port=dovecot.imap_starttls_port, ssl=False, timeout=TIMEOUT
    )


def test_imap_implicit_tls_password_login(dovecot: DovecotServer, tls: ssl.SSLContext) -> None:
    user = dovecot.add_user(_address("imaps"), "correct horse")
    dovecot.deliver(user, _message("first", user))
    with _imaps(dovecot, tls) as client:
        client.login(user, "correct horse")
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 1
    assert dovecot.auth_successes(user) == 1


def test_imap_certificate_is_from_the_test_ca(dovecot: DovecotServer, corporate_ca: TestCA) -> None:
    other = ssl.create_default_context(cafile=str(corporate_ca.cert_path))
    with pytest.raises(ssl.SSLCertVerificationError):
        imapclient.IMAPClient(
            dovecot.host,
            port=dovecot.imap_tls_port,
            ssl=True,
            ssl_context=other,
            timeout=TIMEOUT,
        )


def test_imap_starttls_password_login(dovecot: DovecotServer, tls: ssl.SSLContext) -> None:
    user = dovecot.add_user(_address("starttls"), "s3cret:with colon")
    with _imap_plain(dovecot) as client:
        capabilities = client.capabilities()
        assert b"STARTTLS" in capabilities
        assert b"LOGINDISABLED" in capabilities
        client.starttls(tls)
        assert b"AUTH=XOAUTH2" in client.capabilities()
        client.login(user, "s3cret:with colon")
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_login_before_starttls_is_refused(dovecot: DovecotServer) -> None:
    user = dovecot.add_user(_address("cleartext"), "password")
    with _imap_plain(dovecot) as client, pytest.raises(LoginError, match="Plaintext auth"):
        client.login(user, "password")
    assert dovecot.auth_successes(user) == 0


def test_wrong_password_is_refused_and_counted_once(
    dovecot: DovecotServer, tls: ssl.SSLContext
) -> None:
    user = dovecot.add_user(_address("wrong"), "right password")
    assert dovecot.auth_failures(user) == 0
    with _imaps(dovecot, tls) as client, pytest.raises(LoginError):
        client.login(user, "wrong password")
    assert dovecot.auth_failures(user) == 1
    assert dovecot.auth_successes(user) == 0


def test_users_can_be_added_changed_and_removed_while_running(
    dovecot: DovecotServer, tls: ssl.SSLContext
) -> None:
    user = dovecot.add_user(_address("late"), "first")
    with _imaps(dovecot, tls) as client:
        client.login(user, "first")
    dovecot.add_user(user, "second")
    with _imaps(dovecot, tls) as client, pytest.raises(LoginError):
        client.login(user, "first")
    with _imaps(dovecot, tls) as client:
        client.login(user, "second")
    dovecot.remove_user(user)
    with _imaps(dovecot, tls) as client, pytest.raises(LoginError):
        client.login(user, "second")
    assert dovecot.auth_failures(user) == 2
    assert dovecot.auth_successes(user) == 2


def test_unicode_password_over_authenticate_plain(
    dovecot: DovecotServer, tls: ssl.SSLContext
) -> None:
    user = dovecot.add_user(_address("unicode"), "пароль-パスワード")
    with _imaps(dovecot, tls) as client:
        client.plain_login(user, "пароль-パスワード")


def test_xoauth2_with_a_token_from_msal(
    dovecot: DovecotServer, idp: IdentityProvider, tls: ssl.SSLContext
) -> None:
    mailbox = dovecot.add_user(_address("oauth"), "unused password")
    upn = mailbox.replace("@example.test", "@contoso.test")
    idp.add_user(upn, "Entra password", mailbox=mailbox)
    dovecot.deliver(mailbox, _message("Delivered before sign-in", mailbox))
    result = sign_in_with_msal(idp, upn, "Entra password", scopes=(IMAP_SCOPE,)).result
    assert "access_token" in result, result
    with _imaps(dovecot, tls) as client:
        client.oauth2_login(mailbox, result["access_token"])
        assert client.select_folder("INBOX")[b"EXISTS"] == 1
        fetched = client.fetch("1", ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        header = next(iter(fetched.values()))[b"BODY[HEADER.FIELDS (SUBJECT)]"]
        assert b"Delivered before sign-in" in header
    assert dovecot.auth_successes(mailbox) == 1


def test_oauthbearer_login(
    dovecot: DovecotServer, idp: IdentityProvider, tls: ssl.SSLContext
) -> None:
    mailbox = dovecot.add_user(_address("bearer"), "unused")
    idp.add_user(mailbox, "pw")
    token = idp.issue_access_token(mailbox, [IMAP_SCOPE])
    with _imaps(dovecot, tls) as client:
        client.oauthbearer_login(mailbox, token)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_expired_token_is_refused(
    dovecot: DovecotServer, idp_state: IdentityProvider, tls: ssl.SSLContext
) -> None:
    mailbox = dovecot.add_user(_address("expired"), "unused")
    idp_state.add_user(mailbox, "pw")
    result = sign_in_with_msal(idp_state, mailbox, "pw", scopes=(IMAP_SCOPE,)).result
    token = result["access_token"]
    idp_state.clock.offset = 2 * 3600  # two hours later: the one-hour token has expired
    with _imaps(dovecot, tls) as client, pytest.raises(LoginError):
        client.oauth2_login(mailbox, token)
    assert dovecot.auth_failures(mailbox) == 1
    idp_state.clock.offset = 0
    with _imaps(dovecot, tls) as client:
        client.oauth2_login(mailbox, token)


def test_forged_and_misdirected_tokens_are_refused(
    dovecot: DovecotServer, idp: IdentityProvider, tls: ssl.SSLContext
) -> None:
    alice = dovecot.add_user(_address("alice"), "unused")
    bob = dovecot.add_user(_address("bob"), "unused")
    idp.add_user(bob, "pw")
    bobs_token = idp.issue_access_token(bob, [IMAP_SCOPE])
    graph_token = idp.issue_access_token(bob, ["https://graph.microsoft.com/Mail.Read"])
    for user, token in (
        (alice, "EwB" + uuid.uuid4().hex * 3),  # never issued
        (alice, bobs_token),  # someone else's
        (bob, graph_token),  # for another resource than Outlook
    ):
        with _imaps(dovecot, tls) as client, pytest.raises(LoginError):
            client.oauth2_login(user, token)
    assert dovecot.auth_failures(alice) == 2
    assert dovecot.auth_failures(bob) == 1
    with _imaps(dovecot, tls) as client:
        client.oauth2_login(bob, bobs_token)


def test_pop3_implicit_tls_and_stls(dovecot: DovecotServer, tls: ssl.SSLContext) -> None:
    user = dovecot.add_user(_address("pop"), "pop password")
    for subject in ("one", "two"):
        dovecot.deliver(user, _message(subject, user))
    pops = poplib.POP3_SSL(dovecot.host, dovecot.pop3_tls_port, context=tls, timeout=TIMEOUT)
    try:
        pops.user(user)
        pops.pass_("pop password")
        assert pops.stat()[0] == 2
    finally:
        pops.quit()
    pop = poplib.POP3(dovecot.host, dovecot.pop3_starttls_port, timeout=TIMEOUT)
    try:
        assert "STLS" in pop.capa()
        with pytest.raises(poplib.error_proto, match="Plaintext auth"):
            pop.user(user)
        pop.stls(tls)
        pop.user(user)
        pop.pass_("pop password")
        assert pop.stat()[0] == 2
    finally:
        pop.quit()
    assert dovecot.auth_successes(user) == 2


def test_deliver_and_messages(dovecot: DovecotServer, tls: ssl.SSLContext) -> None:
    user = dovecot.add_user(_address("store"), "pw")
    dovecot.deliver(user, _message("older", user))
    dovecot.deliver(user, _message("newer", user))
    with _imaps(dovecot, tls) as client:
        client.login(user, "pw")
        client.select_folder("INBOX")
        client.add_flags(client.search("ALL"), [imapclient.SEEN])  # moves them to cur/
    assert [m["Subject"] for m in dovecot.messages(user)] == ["older", "newer"]
    assert dovecot.maildir(user).is_dir()
