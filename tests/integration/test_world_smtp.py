"""Self-tests of the test world's SMTP submission server: STARTTLS and implicit TLS, AUTH PLAIN,
LOGIN and XOAUTH2 (token from the identity provider through MSAL), delivery into Dovecot seen
over IMAP, the authenticated-senders rule, and ``refuse_auth``."""

from __future__ import annotations

import base64
import smtplib
import ssl
import uuid
from email.message import EmailMessage

import imapclient
import pytest

from tests.world.ca import TestCA
from tests.world.dovecot import DovecotServer
from tests.world.fixtures_mail import MailWorld
from tests.world.idp import SMTP_SCOPE, IdentityProvider
from tests.world.idp_client import sign_in_with_msal
from tests.world.smtp import SubmissionServer

pytestmark = pytest.mark.world

TIMEOUT = 10
SMTP_AUTH_DISABLED = (
    "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
    "Visit https://aka.ms/smtp_auth_disabled for more information."
)


def _address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.test"


def _message(sender: str, to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Test message from the Mail Setup Wizard's test world.\n")
    return msg


@pytest.fixture(scope="module")
def tls(test_ca: TestCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(test_ca.cert_path))


def _submission(server: SubmissionServer, tls: ssl.SSLContext) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.starttls_port, timeout=TIMEOUT)
    client.ehlo("client.example.test")
    client.starttls(context=tls)
    client.ehlo("client.example.test")
    return client


def _smtps(server: SubmissionServer, tls: ssl.SSLContext) -> smtplib.SMTP_SSL:
    client = smtplib.SMTP_SSL(server.host, server.tls_port, context=tls, timeout=TIMEOUT)
    client.ehlo("client.example.test")
    return client


def _xoauth2(client: smtplib.SMTP, user: str, token: str) -> tuple[int, bytes]:
    blob = f"user={user}\x01auth=Bearer {token}\x01\x01"
    return client.auth("XOAUTH2", lambda challenge=None: blob, initial_response_ok=True)


def _plain(client: smtplib.SMTP, user: str, password: str) -> tuple[int, bytes]:
    client.user, client.password = user, password
    return client.auth("PLAIN", client.auth_plain)


def _imap_subjects(
    dovecot: DovecotServer, tls: ssl.SSLContext, user: str, password: str
) -> list[str]:
    with imapclient.IMAPClient(
        dovecot.host, port=dovecot.imap_tls_port, ssl=True, ssl_context=tls, timeout=TIMEOUT
    ) as client:
        client.login(user, password)
        client.select_folder("INBOX", readonly=True)
        ids = client.search("ALL")
        fetched = client.fetch(ids, ["ENVELOPE"]) if ids else {}
        return [fetched[i][b"ENVELOPE"].subject.decode() for i in sorted(fetched)]


def test_starttls_auth_plain_message_arrives_over_imap(
    mail_world: MailWorld, tls: ssl.SSLContext
) -> None:
    user = mail_world.mail_user(_address("plain"), "submission password")
    with _submission(mail_world.smtp, tls) as client:
        assert "auth" in client.esmtp_features
        assert _plain(client, user, "submission password")[0] == 235
        client.send_message(_message(user, user, "Round trip over STARTTLS"))
    assert _imap_subjects(mail_world.dovecot, tls, user, "submission password") == [
        "Round trip over STARTTLS"
    ]
    sender, recipients, content = mail_world.smtp.received[-1]
    assert (sender, recipients) == (user, [user])
    assert b"Round trip over STARTTLS" in content
    assert mail_world.smtp.auth_successes(user) == 1


def test_implicit_tls_xoauth2_with_msal_token(
    mail_world: MailWorld, idp: IdentityProvider, tls: ssl.SSLContext
) -> None:
    user = mail_world.mail_user(_address("xoauth"), "imap password")
    idp.add_user(user, "Entra password")
    result = sign_in_with_msal(idp, user, "Entra password", scopes=(SMTP_SCOPE,)).result
    assert "access_token" in result, result
    with _smtps(mail_world.smtp, tls) as client:
        assert "XOAUTH2" in client.esmtp_features["auth"].split()
        code, _ = _xoauth2(client, user, result["access_token"])
        assert code == 235
        client.send_message(_message(user, user, "Sent with a token"))
    assert _imap_subjects(mail_world.dovecot, tls, user, "imap password") == ["Sent with a token"]
    assert [m["Subject"] for m in mail_world.dovecot.messages(user)] == ["Sent with a token"]


def test_auth_login_and_wrong_password(smtp: SubmissionServer, tls: ssl.SSLContext) -> None:
    user = smtp.add_user(_address("login"), "login password")
    with _smtps(smtp, tls) as client:
        client.user, client.password = user, "not it"
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        assert refused.value.smtp_code == 535
        client.user, client.password = user, "login password"
        code, _ = client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        assert code == 235
    assert smtp.auth_failures(user) == 1
    assert smtp.auth_successes(user) == 1


def test_xoauth2_refuses_other_users_and_forged_tokens(
    smtp: SubmissionServer, idp: IdentityProvider, tls: ssl.SSLContext
) -> None:
    alice, bob = _address("alice"), _address("bob")
    idp.add_user(bob, "pw")
    bobs_token = idp.issue_access_token(bob, [SMTP_SCOPE])
    for token in (bobs_token, "EwB" + uuid.uuid4().hex * 3):
        with _smtps(smtp, tls) as client, pytest.raises(smtplib.SMTPAuthenticationError) as err:
            _xoauth2(client, alice, token)
        assert err.value.smtp_code == 535
    assert smtp.auth_failures(alice) == 2
    with _smtps(smtp, tls) as client:
        assert _xoauth2(client, bob, bobs_token)[0] == 235


def test_no_auth_before_starttls(smtp: SubmissionServer) -> None:
    user = smtp.add_user(_address("early"), "pw")
    with smtplib.SMTP(smtp.host, smtp.starttls_port, timeout=TIMEOUT) as client:
        client.ehlo("client.example.test")
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        blob = base64.b64encode(f"\0{user}\0pw".encode()).decode()
        code, reply = client.docmd("AUTH", f"PLAIN {blob}")
        assert code == 530
        assert b"STARTTLS" in reply
    assert smtp.auth_successes(user) == 0


def test_mail_from_requires_auth(smtp: SubmissionServer, tls: ssl.SSLContext) -> None:
    with _smtps(smtp, tls) as client:
        code, reply = client.mail("nobody@example.test")
        assert (code, reply) == (530, b"5.7.0 Authentication required")
    with _submission(smtp, tls) as client:
        assert client.mail("nobody@example.test")[0] == 530


def test_refuse_auth_answers_exactly_the_given_reply(
    smtp: SubmissionServer, idp: IdentityProvider, tls: ssl.SSLContext
) -> None:
    user = smtp.add_user(_address("refused"), "good password")
    idp.add_user(user, "pw")
    token = idp.issue_access_token(user, [SMTP_SCOPE])
    with smtp.refusing_auth(535, SMTP_AUTH_DISABLED):
        with _submission(smtp, tls) as client, pytest.raises(smtplib.SMTPAuthenticationError) as e:
            _plain(client, user, "good password")
        assert (e.value.smtp_code, e.value.smtp_error) == (535, SMTP_AUTH_DISABLED.encode())
        with _smtps(smtp, tls) as client, pytest.raises(smtplib.SMTPAuthenticationError) as e:
            _xoauth2(client, user, token)
        assert (e.value.smtp_code, e.value.smtp_error) == (535, SMTP_AUTH_DISABLED.encode())
    assert smtp.auth_failures(user) == 2
    with _submission(smtp, tls) as client:
        assert _plain(client, user, "good password")[0] == 235
    assert smtp.auth_successes(user) == 1


def test_refuse_auth_until_allowed(smtp: SubmissionServer, tls: ssl.SSLContext) -> None:
    user = smtp.add_user(_address("blocked"), "pw")
    smtp.refuse_auth(454, "4.7.0 Temporary authentication failure")
    for _ in range(2):
        with _smtps(smtp, tls) as client, pytest.raises(smtplib.SMTPAuthenticationError) as e:
            client.login(user, "pw")
        assert e.value.smtp_code == 454
    smtp.allow_auth()
    with _smtps(smtp, tls) as client:
        client.login(user, "pw")


def test_recipient_outside_the_mail_store(smtp: SubmissionServer, tls: ssl.SSLContext) -> None:
    user = smtp.add_user(_address("sender"), "pw")
    outsider = _address("outsider").replace("example.test", "elsewhere.test")
    with _smtps(smtp, tls) as client:
        client.login(user, "pw")
        client.send_message(_message(user, outsider, "To someone else"))
    (kept,) = smtp.messages_for(outsider)
    assert b"To someone else" in kept
    assert kept.startswith(b"Received: from client.example.test")
