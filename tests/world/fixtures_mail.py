"""Fixtures of the test world's mail servers: Dovecot (``tests/world/dovecot.py``) and the SMTP
submission server (``tests/world/smtp.py``).

- ``mail_cert`` (session): the mail servers' certificate (test CA; the world's names plus
  ``MAIL_HOST``, 127.0.0.2, which the mail servers listen on).
- ``dovecot`` (session): IMAP and POP3, each with implicit TLS and with STARTTLS; OAuth tokens
  checked by the ``idp`` fixture's introspection endpoint (Outlook audience only).
- ``smtp_server`` (session): submission with implicit TLS and with STARTTLS, delivering into
  ``dovecot``; knows Dovecot's users and passwords.
- ``smtp`` (function): ``smtp_server``, with ``allow_auth()`` called after the test.
- ``mail_world`` (session): both, with ``mail_user(name, password)`` adding a mailbox that can
  log in to IMAP, POP3 and SMTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.world.ca import CertPair, TestCA
from tests.world.dovecot import MAIL_HOST, DovecotServer
from tests.world.fixtures_base import WORLD_NAMES, record_startup
from tests.world.idp import OUTLOOK_RESOURCE, IdentityProvider
from tests.world.smtp import SubmissionServer


@pytest.fixture(scope="session")
def mail_cert(world_cert: CertPair) -> CertPair:
    assert MAIL_HOST in WORLD_NAMES, "the world certificate must cover the mail servers' address"
    return world_cert


@pytest.fixture(scope="session")
def dovecot(
    world_dir: Path, mail_cert: CertPair, test_ca: TestCA, idp: IdentityProvider
) -> Iterator[DovecotServer]:
    server = DovecotServer(
        world_dir / "dovecot",
        mail_cert,
        test_ca.cert_path,
        idp.introspection_url_for(OUTLOOK_RESOURCE),
    )
    record_startup("dovecot", server.start())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def smtp_server(
    world_dir: Path,
    mail_cert: CertPair,
    test_ca: TestCA,
    idp: IdentityProvider,
    dovecot: DovecotServer,
) -> Iterator[SubmissionServer]:
    server = SubmissionServer(
        world_dir / "smtp",
        mail_cert,
        test_ca.cert_path,
        idp.introspection_url_for(OUTLOOK_RESOURCE),
        mailstore=dovecot,
    )
    record_startup("smtp", server.start())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(smtp_server: SubmissionServer) -> Iterator[SubmissionServer]:
    """The SMTP server for one test: a ``refuse_auth`` is lifted when the test ends."""
    smtp_server.allow_auth()
    try:
        yield smtp_server
    finally:
        smtp_server.allow_auth()


@dataclass
class MailWorld:
    """Dovecot and the SMTP server together, on ``host``."""

    dovecot: DovecotServer
    smtp: SubmissionServer

    @property
    def host(self) -> str:
        return self.dovecot.host

    def mail_user(self, name: str, password: str) -> str:
        """A mailbox for IMAP, POP3 and SMTP (SMTP reads Dovecot's users)."""
        return self.dovecot.add_user(name, password)


# A well-known provider's mail host, played by ``provider_dovecot``.
PROVIDER_HOST = "outlook.office365.com"


@pytest.fixture(scope="session")
def provider_dovecot(
    world_dir: Path, test_ca: TestCA, idp: IdentityProvider
) -> Iterator[DovecotServer]:
    """A Dovecot whose certificate also names PROVIDER_HOST: an intercepting proxy checks the
    real server's certificate for the name the client asked for, as it would at the provider,
    so the world's Dovecot (no such name) cannot stand behind it."""
    cert = test_ca.issue((PROVIDER_HOST, MAIL_HOST), label="provider")
    server = DovecotServer(
        world_dir / "dovecot-provider",
        cert,
        test_ca.cert_path,
        idp.introspection_url_for(OUTLOOK_RESOURCE),
    )
    record_startup("dovecot-provider", server.start())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mail_world(dovecot: DovecotServer, smtp_server: SubmissionServer) -> MailWorld:
    return MailWorld(dovecot, smtp_server)
