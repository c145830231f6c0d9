"""The program's exceptions: one root, :class:`SetupError`, and a small tree under it.

Every error knows:

- its user message, a translatable :class:`~app.core.texts.Text` (``str(error)`` is English;
  ``error.render("ja")`` is Japanese);
- a stable finding ``code`` (``"connect.refused"``) and a ``help_topic``;
- whose fault it is (:class:`Fault`: local input, environment or network; remote server or
  provider) and who can fix it (:class:`Fixer`);
- how to become a :class:`~app.core.model.Finding` (:meth:`SetupError.to_finding`).

The class says *what kind* of failure it was; ``fault`` says *whose* it is. They usually agree
with the tree, but not always: a TLSError is a network error, yet an expired certificate is the
server's fault.

Secrets: messages and parameters are shown to users and written to reports. Never pass a
password, token or unredacted server reply; callers redact ``server_said`` before raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, TypedDict, Unpack

from app.core.texts import DEFAULT_LANGUAGE, Language, ParamValue, Text, render

if TYPE_CHECKING:
    from app.core.model import Finding, Outcome


class Fault(StrEnum):
    """Whose fault a failure is: this computer's side (local) or the other side (remote)."""

    LOCAL_INPUT = "local-input"  # what the person typed or chose
    LOCAL_ENVIRONMENT = "local-environment"  # this computer: settings, keyring, clock
    LOCAL_NETWORK = "local-network"  # the network between here and the server
    REMOTE_SERVER = "remote-server"  # the mail or calendar server
    REMOTE_PROVIDER = "remote-provider"  # the provider's account or sign-in service

    @property
    def is_local(self) -> bool:
        return self.value.startswith("local-")

    @property
    def is_remote(self) -> bool:
        return not self.is_local


class Fixer(StrEnum):
    """Who can fix a problem."""

    USER = "user"
    ADMIN = "admin"  # the organisation's IT department or the server's administrator
    PROVIDER = "provider"  # the mail provider
    NOBODY = "nobody"  # nothing to fix (information, cancellation)


class ErrorOptions(TypedDict, total=False):
    """What any error's constructor also accepts, to refine the defaults of its class."""

    code: str
    help_topic: str
    fault: Fault
    fixer: Fixer
    cause: Text
    fix: Text
    checked: Text
    server_said: str
    detail: Mapping[str, str | int]


class SetupError(Exception):
    """The root of the program's errors. Subclasses set the class defaults below.

    ``message`` says what went wrong; ``cause`` (optional) why, when it differs from the
    message; ``fix`` what to do; ``checked`` what was being checked; ``server_said`` the
    server's reply, ALREADY REDACTED by the caller; ``detail`` technical parameters for the
    helpdesk (host, port, ...), also free of secrets.
    """

    default_code: ClassVar[str] = "setup.failed"
    default_help_topic: ClassVar[str] = "troubleshooting"
    default_fault: ClassVar[Fault | None] = None
    default_fixer: ClassVar[Fixer] = Fixer.USER

    def __init__(self, message: Text, **options: Unpack[ErrorOptions]) -> None:
        super().__init__(message)
        fault = options.get("fault", self.default_fault)
        if fault is None:
            raise TypeError(f"{type(self).__name__} needs a fault")
        self.message: Text = message
        self.code: str = options.get("code", self.default_code)
        self.help_topic: str = options.get("help_topic", self.default_help_topic)
        self.fault: Fault = fault
        self.fixer: Fixer = options.get("fixer", self.default_fixer)
        self.cause: Text | None = options.get("cause")
        self.fix: Text | None = options.get("fix")
        self.checked: Text | None = options.get("checked")
        self.server_said: str | None = options.get("server_said")
        self.detail: dict[str, str | int] = dict(options.get("detail", {}))

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses' constructors take other arguments than ``args``: copy and pickle the
        # attributes instead of calling the constructor again.
        return (_restore, (type(self), self.message, self.__dict__.copy()))

    def render(self, language: Language) -> str:
        """The user message in ``language``."""
        return render(self.message, language)

    def outcome(self) -> Outcome:
        from app.core.model import Outcome

        return Outcome.ERROR

    def to_finding(self, checked: Text | None = None) -> Finding:
        """This error as a Finding; ``checked`` overrides what the error says was checked."""
        from app.core.model import Finding

        return Finding(
            code=self.code,
            checked=next(
                (c for c in (checked, self.checked) if c is not None), Text("check.setup")
            ),
            outcome=self.outcome(),
            cause=self.cause or self.message,
            fix=self.fix,
            fixer=self.fixer,
            help_topic=self.help_topic,
            server_said=self.server_said,
            detail=self.detail,
        )

    def to_dict(self, language: Language = DEFAULT_LANGUAGE) -> dict[str, object]:
        """A JSON-ready summary: code, message (rendered), fault, fixer, help topic."""
        return {
            "code": self.code,
            "message": self.render(language),
            "fault": self.fault.value,
            "fixer": self.fixer.value,
            "help_topic": self.help_topic,
            "server_said": self.server_said,
        }


def _restore(cls: type[SetupError], message: Text, state: dict[str, object]) -> SetupError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


def _with_defaults(options: ErrorOptions, defaults: ErrorOptions) -> ErrorOptions:
    """``options`` with ``defaults`` filled in where the caller gave nothing."""
    merged = defaults.copy()
    merged.update(options)
    return merged


# --- local: input -----------------------------------------------------------------------------


class AddressProblem(StrEnum):
    """What is wrong with a typed email address. ``address.<value>`` is its message key."""

    EMPTY = "empty"
    SPACES = "spaces"
    NO_AT = "no-at"
    MULTIPLE_AT = "multiple-at"
    EMPTY_LOCAL = "empty-local"
    EMPTY_DOMAIN = "empty-domain"
    LOCAL_CHARACTERS = "local-characters"
    LOCAL_DOTS = "local-dots"
    LOCAL_TOO_LONG = "local-too-long"
    DOMAIN_EMPTY_LABEL = "domain-empty-label"
    DOMAIN_NO_DOT = "domain-no-dot"
    DOMAIN_CHARACTERS = "domain-characters"
    DOMAIN_HYPHEN = "domain-hyphen"
    DOMAIN_NUMERIC = "domain-numeric"
    DOMAIN_INVALID = "domain-invalid"
    LABEL_TOO_LONG = "label-too-long"
    DOMAIN_TOO_LONG = "domain-too-long"
    TOO_LONG = "too-long"


class InvalidAddressError(SetupError, ValueError):
    """The typed email address is malformed; ``problem`` says how."""

    default_help_topic = "address"
    default_fault = Fault.LOCAL_INPUT
    default_fixer = Fixer.USER

    def __init__(
        self,
        problem: AddressProblem,
        params: Mapping[str, ParamValue] | None = None,
        **options: Unpack[ErrorOptions],
    ) -> None:
        # The message key is derived from the problem (a test checks every problem has one).
        message = Text(f"address.{problem.value}", params or {})
        super().__init__(
            message,
            **_with_defaults(
                options,
                {
                    "code": f"address.{problem.value}",
                    "fix": Text("address.fix"),
                    "checked": Text("check.address"),
                },
            ),
        )
        self.problem = problem


class InvalidSettingError(SetupError, ValueError):
    """A server setting is unusable (a port out of range, an empty host name, a bad URL).

    ``setting`` names the field ("host", "port", "caldav", ...). Raised by the model's
    constructors; detection catches it for settings that came from the network.
    """

    default_code = "setting.invalid"
    default_help_topic = "settings"
    default_fault = Fault.LOCAL_INPUT
    default_fixer = Fixer.USER

    def __init__(self, setting: str, message: Text, **options: Unpack[ErrorOptions]) -> None:
        super().__init__(
            message,
            **_with_defaults(
                options, {"fix": Text("setting.fix"), "checked": Text("check.settings")}
            ),
        )
        self.setting = setting


class CancelledByUser(SetupError):
    """The person cancelled (Cancel in the window, Ctrl+C). Not a failure: an info finding."""

    default_code = "cancelled"
    default_help_topic = "cancelled"
    default_fault = Fault.LOCAL_INPUT
    default_fixer = Fixer.NOBODY

    def __init__(self, **options: Unpack[ErrorOptions]) -> None:
        super().__init__(Text("error.cancelled"), **options)

    def outcome(self) -> Outcome:
        from app.core.model import Outcome

        return Outcome.INFO


# --- local: environment -----------------------------------------------------------------------


class ConfigError(SetupError):
    """The program's configuration is invalid: organisation settings, a settings file, a
    command-line switch.

    ``where`` names the file, switch or setting (``"--resolve"``, ``"org.toml"``); ``reason``
    (optional) says what is wrong with it: a Text, or a plain string for technical detail that
    needs no translation (``"port 70000 is out of range (1-65535)"``).
    """

    default_code = "config.invalid"
    default_help_topic = "configuration"
    default_fault = Fault.LOCAL_ENVIRONMENT
    default_fixer = Fixer.ADMIN

    def __init__(
        self, where: str, reason: Text | str | None = None, **options: Unpack[ErrorOptions]
    ) -> None:
        if reason is None:
            message = Text("error.config", {"where": where})
        else:
            message = Text("error.config.reason", {"where": where, "reason": reason})
        super().__init__(
            message,
            **_with_defaults(
                options,
                {
                    "fix": Text("error.config.fix"),
                    "checked": Text("check.config"),
                    "detail": {"where": where},
                },
            ),
        )
        self.where = where
        self.reason = reason


# --- local: network ---------------------------------------------------------------------------


class NetworkError(SetupError):
    """Something between this computer and the server failed. Subclasses say what."""

    default_code = "network.failed"
    default_help_topic = "network"
    default_fault = Fault.LOCAL_NETWORK
    default_fixer = Fixer.USER

    def __init__(
        self, host: str, message: Text | None = None, **options: Unpack[ErrorOptions]
    ) -> None:
        super().__init__(
            message or Text("error.network", {"host": host}),
            **_with_defaults(
                options,
                {
                    "fix": Text("error.network.fix"),
                    "checked": Text("check.connection", {"host": host}),
                    "detail": {"host": host},
                },
            ),
        )
        self.host = host


class DNSFailure(StrEnum):
    NOT_FOUND = "not-found"  # the name does not exist (NXDOMAIN)
    NO_ANSWER = "no-answer"  # the name exists but has no record of the asked type
    FAILED = "failed"  # no usable answer: resolver unreachable, SERVFAIL, timeout


class DNSError(NetworkError):
    """A name lookup failed. ``name`` is the name looked up, ``failure`` how it failed."""

    default_help_topic = "dns"

    def __init__(
        self,
        name: str,
        failure: DNSFailure = DNSFailure.NOT_FOUND,
        **options: Unpack[ErrorOptions],
    ) -> None:
        params: dict[str, ParamValue] = {"name": name}
        if failure is DNSFailure.NOT_FOUND:
            message, fix = Text("error.dns.not-found", params), Text("error.dns.not-found.fix")
        elif failure is DNSFailure.NO_ANSWER:
            message, fix = Text("error.dns.no-answer", params), Text("error.dns.no-answer.fix")
        else:
            message, fix = Text("error.dns.failed", params), Text("error.network.fix")
        super().__init__(
            name,
            message,
            **_with_defaults(
                options,
                {
                    "code": f"dns.{failure.value}",
                    "fix": fix,
                    "checked": Text("check.dns", params),
                    "detail": {"name": name},
                },
            ),
        )
        self.failure = failure


class ConnectFailure(StrEnum):
    REFUSED = "refused"  # the host answered: nothing listens on that port
    TIMEOUT = "timeout"  # no answer at all (a firewall dropping packets, a host that is down)
    UNREACHABLE = "unreachable"  # no route to the host or network
    CLOSED = "closed"  # the connection was reset or closed before the server greeted


class ConnectError(NetworkError):
    """A TCP connection to ``host``:``port`` failed; ``failure`` tells refused from timeout."""

    default_help_topic = "connection"

    def __init__(
        self,
        host: str,
        port: int,
        failure: ConnectFailure,
        **options: Unpack[ErrorOptions],
    ) -> None:
        params: dict[str, ParamValue] = {"host": host, "port": port}
        if failure is ConnectFailure.REFUSED:
            message, fix = Text("error.connect.refused", params), Text("error.connect.refused.fix")
        elif failure is ConnectFailure.TIMEOUT:
            message, fix = Text("error.connect.timeout", params), Text("error.connect.timeout.fix")
        elif failure is ConnectFailure.UNREACHABLE:
            message, fix = Text("error.connect.unreachable", params), Text("error.network.fix")
        else:
            message, fix = Text("error.connect.closed", params), Text("error.connect.closed.fix")
        super().__init__(
            host,
            message,
            **_with_defaults(
                options,
                {
                    "code": f"connect.{failure.value}",
                    "fix": fix,
                    "checked": Text("check.connect", params),
                    "detail": {"host": host, "port": port},
                },
            ),
        )
        self.port = port
        self.failure = failure


class TLSFailure(StrEnum):
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    WRONG_HOST = "wrong-host"
    UNTRUSTED = "untrusted"  # issued by an authority this computer does not trust
    SELF_SIGNED = "self-signed"
    HANDSHAKE = "handshake"  # no common protocol or cipher, or the handshake broke off


class TLSError(NetworkError):
    """A secure (TLS) connection to ``host`` could not be set up safely.

    The program never offers to accept a bad certificate; the fix tells who can repair it.
    """

    default_help_topic = "certificates"

    def __init__(self, host: str, failure: TLSFailure, **options: Unpack[ErrorOptions]) -> None:
        params: dict[str, ParamValue] = {"host": host}
        fault, fixer = Fault.REMOTE_SERVER, Fixer.ADMIN
        if failure is TLSFailure.EXPIRED:
            message, fix = Text("error.tls.expired", params), Text("error.tls.server.fix")
        elif failure is TLSFailure.NOT_YET_VALID:
            message, fix = Text("error.tls.not-yet-valid", params), Text("error.tls.clock.fix")
            fault, fixer = Fault.LOCAL_ENVIRONMENT, Fixer.USER
        elif failure is TLSFailure.WRONG_HOST:
            message, fix = Text("error.tls.wrong-host", params), Text("error.tls.wrong-host.fix")
        elif failure is TLSFailure.UNTRUSTED:
            message, fix = Text("error.tls.untrusted", params), Text("error.tls.untrusted.fix")
            fault = Fault.LOCAL_NETWORK
        elif failure is TLSFailure.SELF_SIGNED:
            message, fix = Text("error.tls.self-signed", params), Text("error.tls.server.fix")
        else:
            message, fix = Text("error.tls.handshake", params), Text("error.tls.server.fix")
        super().__init__(
            host,
            message,
            **_with_defaults(
                options,
                {
                    "code": f"tls.{failure.value}",
                    "fault": fault,
                    "fixer": fixer,
                    "fix": fix,
                    "checked": Text("check.tls", params),
                },
            ),
        )
        self.failure = failure


class DeadlineError(NetworkError):
    """An operation with ``host`` took longer than its deadline of ``seconds``.

    Named so as not to shadow the builtin TimeoutError; the network seam turns the builtin
    into this one.
    """

    default_code = "deadline.exceeded"
    default_help_topic = "connection"

    def __init__(self, host: str, seconds: float, **options: Unpack[ErrorOptions]) -> None:
        params: dict[str, ParamValue] = {"host": host, "seconds": seconds}
        super().__init__(
            host,
            Text("error.deadline", params),
            **_with_defaults(options, {"fix": Text("error.deadline.fix")}),
        )
        self.seconds = seconds


# --- remote -----------------------------------------------------------------------------------


class ServerError(SetupError):
    """The server answered, and its answer was a refusal or an error.

    Pass the server's reply as ``server_said=``, REDACTED by the caller (no passwords, tokens,
    or base64 that could hold them). Checks pass a specific ``code`` and ``message``::

        ServerError(host, message, code="imap.auth.failed", server_said=redacted_reply)
    """

    default_code = "server.error"
    default_help_topic = "server"
    default_fault = Fault.REMOTE_SERVER
    default_fixer = Fixer.ADMIN

    def __init__(
        self, host: str, message: Text | None = None, **options: Unpack[ErrorOptions]
    ) -> None:
        super().__init__(
            message or Text("error.server", {"host": host}),
            **_with_defaults(
                options,
                {
                    "fix": Text("error.server.fix"),
                    "checked": Text("check.server", {"host": host}),
                    "detail": {"host": host},
                },
            ),
        )
        self.host = host


class ProviderError(SetupError):
    """The mail provider's services refused (the account, its sign-in service, its policy).

    ``provider`` is the provider's display name ("Microsoft 365", "iCloud").
    """

    default_code = "provider.error"
    default_help_topic = "provider"
    default_fault = Fault.REMOTE_PROVIDER
    default_fixer = Fixer.PROVIDER

    def __init__(
        self, provider: str, message: Text | None = None, **options: Unpack[ErrorOptions]
    ) -> None:
        super().__init__(
            message or Text("error.provider", {"provider": provider}),
            **_with_defaults(
                options,
                {
                    "fix": Text("error.provider.fix", {"provider": provider}),
                    "checked": Text("check.provider", {"provider": provider}),
                    "detail": {"provider": provider},
                },
            ),
        )
        self.provider = provider
