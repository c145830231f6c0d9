"""The SetupError tree: messages in both languages, faults, codes, and findings."""

from __future__ import annotations

import copy
import inspect
import pickle
import re

import pytest

from app.core import errors
from app.core.errors import (
    AddressProblem,
    CancelledByUser,
    ConfigError,
    ConnectError,
    ConnectFailure,
    DeadlineError,
    DNSError,
    DNSFailure,
    Fault,
    Fixer,
    InvalidAddressError,
    InvalidSettingError,
    NetworkError,
    ProviderError,
    ServerError,
    SetupError,
    TLSError,
    TLSFailure,
)
from app.core.model import Finding, Outcome
from app.core.texts import Text, default_catalog, render

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
CODE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")

# One instance of every error class, with the fault its class gives by default.
SAMPLES: list[tuple[SetupError, type[SetupError], Fault]] = [
    (InvalidAddressError(AddressProblem.NO_AT), InvalidAddressError, Fault.LOCAL_INPUT),
    (
        InvalidSettingError("host", Text("setting.host-empty")),
        InvalidSettingError,
        Fault.LOCAL_INPUT,
    ),
    (CancelledByUser(), CancelledByUser, Fault.LOCAL_INPUT),
    (ConfigError("org.toml"), ConfigError, Fault.LOCAL_ENVIRONMENT),
    (NetworkError("mail.example.test"), NetworkError, Fault.LOCAL_NETWORK),
    (DNSError("example.test"), DNSError, Fault.LOCAL_NETWORK),
    (
        ConnectError("mail.example.test", 993, ConnectFailure.REFUSED),
        ConnectError,
        Fault.LOCAL_NETWORK,
    ),
    (TLSError("mail.example.test", TLSFailure.EXPIRED), TLSError, Fault.REMOTE_SERVER),
    (DeadlineError("mail.example.test", 20), DeadlineError, Fault.LOCAL_NETWORK),
    (ServerError("mail.example.test"), ServerError, Fault.REMOTE_SERVER),
    (ProviderError("Microsoft 365"), ProviderError, Fault.REMOTE_PROVIDER),
]


def test_the_samples_cover_every_error_class() -> None:
    defined = {
        cls
        for _name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, SetupError) and cls is not SetupError
    }
    assert {cls for _error, cls, _fault in SAMPLES} == defined


@pytest.mark.parametrize(("error", "cls", "fault"), SAMPLES, ids=lambda v: type(v).__name__)
def test_every_error_renders_and_becomes_a_finding(
    error: SetupError, cls: type[SetupError], fault: Fault
) -> None:
    assert type(error) is cls
    assert error.fault is fault
    english, japanese = str(error), error.render("ja")
    assert english == render(error.message, "en")
    assert english and english != error.message.key
    assert JAPANESE.search(japanese), japanese
    assert error.message.key in default_catalog()
    assert CODE.match(error.code)
    assert error.help_topic
    finding = error.to_finding()
    assert isinstance(finding, Finding)
    assert finding.code == error.code
    assert finding.help_topic == error.help_topic
    assert finding.fixer is error.fixer
    assert finding.cause == error.message
    expected = Outcome.INFO if cls is CancelledByUser else Outcome.ERROR
    assert finding.outcome is expected
    for language in ("en", "ja"):
        rendered = finding.to_dict(language)
        assert all(isinstance(rendered[k], str) and rendered[k] for k in ("checked", "cause"))
    if cls is not CancelledByUser:
        assert finding.fix is not None


def test_the_tree() -> None:
    for cls in (DNSError, ConnectError, TLSError, DeadlineError):
        assert issubclass(cls, NetworkError)
    for cls in (InvalidAddressError, InvalidSettingError):
        assert issubclass(cls, ValueError)
    assert not issubclass(DeadlineError, TimeoutError)  # no confusion with the builtin
    with pytest.raises(SetupError):
        raise DNSError("example.test")


def test_fault_sides() -> None:
    local = {f for f in Fault if f.is_local}
    remote = {f for f in Fault if f.is_remote}
    assert local == {Fault.LOCAL_INPUT, Fault.LOCAL_ENVIRONMENT, Fault.LOCAL_NETWORK}
    assert remote == {Fault.REMOTE_SERVER, Fault.REMOTE_PROVIDER}


def test_refused_and_timeout_are_told_apart() -> None:
    refused = ConnectError("mail.example.test", 587, ConnectFailure.REFUSED)
    timeout = ConnectError("mail.example.test", 587, ConnectFailure.TIMEOUT)
    assert (refused.code, timeout.code) == ("connect.refused", "connect.timeout")
    assert str(refused) == "mail.example.test refused the connection on port 587."
    assert str(timeout) == "mail.example.test did not answer on port 587."
    assert refused.fix != timeout.fix
    assert refused.to_finding().detail == {"host": "mail.example.test", "port": 587}


@pytest.mark.parametrize("failure", list(ConnectFailure))
def test_every_connect_failure_has_its_own_message(failure: ConnectFailure) -> None:
    error = ConnectError("mail.example.test", 25, failure)
    assert error.code == f"connect.{failure.value}"
    assert "mail.example.test" in str(error)
    assert "mail.example.test" in error.render("ja")


def test_connect_failure_messages_differ() -> None:
    messages = {str(ConnectError("h.test", 1, f)) for f in ConnectFailure}
    assert len(messages) == len(ConnectFailure)


@pytest.mark.parametrize(
    ("failure", "fault", "fixer"),
    [
        (TLSFailure.EXPIRED, Fault.REMOTE_SERVER, Fixer.ADMIN),
        (TLSFailure.NOT_YET_VALID, Fault.LOCAL_ENVIRONMENT, Fixer.USER),
        (TLSFailure.WRONG_HOST, Fault.REMOTE_SERVER, Fixer.ADMIN),
        (TLSFailure.UNTRUSTED, Fault.LOCAL_NETWORK, Fixer.ADMIN),
        (TLSFailure.SELF_SIGNED, Fault.REMOTE_SERVER, Fixer.ADMIN),
        (TLSFailure.HANDSHAKE, Fault.REMOTE_SERVER, Fixer.ADMIN),
    ],
)
def test_tls_failures_blame_the_right_side(failure: TLSFailure, fault: Fault, fixer: Fixer) -> None:
    error = TLSError("mail.example.test", failure)
    assert (error.fault, error.fixer) == (fault, fixer)
    assert error.code == f"tls.{failure.value}"
    assert isinstance(error, NetworkError)
    assert "mail.example.test" in error.render("ja")


@pytest.mark.parametrize("failure", list(DNSFailure))
def test_dns_failures(failure: DNSFailure) -> None:
    error = DNSError("nowhere.example.test", failure)
    assert error.code == f"dns.{failure.value}"
    assert "nowhere.example.test" in str(error)
    assert error.to_finding().checked == Text("check.dns", {"name": "nowhere.example.test"})


def test_options_refine_the_defaults() -> None:
    error = ServerError(
        "imap.example.test",
        Text("error.server", {"host": "imap.example.test"}),
        code="imap.auth.failed",
        help_topic="sign-in",
        fixer=Fixer.USER,
        server_said="a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        detail={"port": 993},
    )
    finding = error.to_finding(checked=Text("check.server", {"host": "imap.example.test"}))
    assert finding.code == "imap.auth.failed"
    assert finding.help_topic == "sign-in"
    assert finding.fixer is Fixer.USER
    assert finding.server_said == "a1 NO [AUTHENTICATIONFAILED] Authentication failed."
    assert finding.detail == {"port": 993}
    assert error.fault is Fault.REMOTE_SERVER


def test_a_cause_and_checked_given_to_the_error_reach_the_finding() -> None:
    error = ProviderError("iCloud", cause=Text("address.fix"), checked=Text("check.address"))
    finding = error.to_finding()
    assert finding.cause == Text("address.fix")
    assert finding.checked == Text("check.address")
    assert error.to_finding(checked=Text("check.setup")).checked == Text("check.setup")


def test_config_error_with_a_technical_reason() -> None:
    error = ConfigError("--resolve", "port 70000 is out of range (1-65535)")
    assert str(error) == (
        "The configuration “--resolve” is not valid: port 70000 is out of range (1-65535)"
    )
    assert error.render("ja").startswith("構成「--resolve」が正しくありません")
    assert error.fixer is Fixer.ADMIN


def test_deadline_error_names_the_seconds() -> None:
    assert str(DeadlineError("slow.example.test", 7.5)) == (
        "slow.example.test took too long to answer (more than 7.5 seconds)."
    )


def test_invalid_address_error_keeps_its_problem() -> None:
    error = InvalidAddressError(AddressProblem.MULTIPLE_AT, {"count": 3})
    assert error.problem is AddressProblem.MULTIPLE_AT
    assert error.code == "address.multiple-at"
    assert "3" in str(error)
    assert "3" in error.render("ja")
    assert error.to_finding().fix == Text("address.fix")


def test_to_dict_is_json_ready() -> None:
    error = ConnectError("mail.example.test", 993, ConnectFailure.TIMEOUT)
    assert error.to_dict("ja") == {
        "code": "connect.timeout",
        "message": "mail.example.test のポート 993 から応答がありませんでした。",
        "fault": "local-network",
        "fixer": "user",
        "help_topic": "connection",
        "server_said": None,
    }


def test_an_error_without_a_fault_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="fault"):
        SetupError(Text("error.server", {"host": "x"}))
    assert SetupError(Text("check.setup"), fault=Fault.REMOTE_SERVER).fault.is_remote


@pytest.mark.parametrize(("error", "cls", "fault"), SAMPLES, ids=lambda v: type(v).__name__)
def test_errors_survive_copy_and_pickle(
    error: SetupError, cls: type[SetupError], fault: Fault
) -> None:
    for clone in (copy.deepcopy(error), pickle.loads(pickle.dumps(error))):
        assert type(clone) is cls
        assert clone.__dict__ == error.__dict__
        assert str(clone) == str(error)
        assert clone.args == error.args
