"""Redaction: take passwords, tokens and other secrets out of any text before the program shows,
writes or logs it (server replies in findings, step details, protocol transcripts, log records).

:func:`redact` works in two ways at once:

1. **Known secrets** (the password, app password, access or refresh token the program holds) are
   replaced wherever they appear: as they are, URL-encoded (``%40``/``+`` forms, either hex
   case), and base64-encoded (standard and URL-safe alphabets, at any alignment inside a longer
   base64 string, as in a SASL PLAIN payload: the whole base64 string is then replaced).
2. **Patterns** that carry secrets whatever their value, each replaced by ``[redacted]`` while
   the words around them stay readable:

   - credentials in HTTP headers: ``Authorization:``/``Proxy-Authorization:`` values (the scheme
     word is kept), ``Cookie:`` and ``Set-Cookie:`` values;
   - ``Bearer <token>`` anywhere (but not a ``Bearer realm=...`` challenge), JWT-shaped strings
     (``eyJ...``.``...``.``...``), Google ``ya29.`` access and ``1//`` refresh tokens;
   - SASL: the initial response after ``AUTH <mech>`` / ``AUTHENTICATE <mech>``; client lines that
     are a bare base64 string (the answer to a ``334``/``+`` continuation); any base64 string that
     decodes to a PLAIN (``\\0``), XOAUTH2 (``user=...\\x01auth=Bearer``) or OAUTHBEARER (``n,a=``)
     payload; the decoded XOAUTH2 form ``user=...\\x01auth=Bearer <token>`` (user kept);
   - IMAP ``tag LOGIN user password`` and POP3 ``PASS password`` commands (the user is kept);
   - passwords in URLs ``scheme://user:password@host`` (proxy URLs included; the user is kept);
   - ``key=value`` and ``"key": "value"`` pairs whose key names a secret: ``password``, ``passwd``,
     ``pwd``, ``secret``, ``client_secret``, ``access_token``, ``refresh_token``, ``id_token``,
     ``token``, ``code`` (authorization codes; only as ``code=``), ``code_verifier``,
     ``assertion``, ``client_assertion``, ``apikey``/``api_key``, ``session``/``sessionid``.

**Known safe and kept** (a helpdesk needs them): email addresses and user names, host names,
ports and URLs without passwords, reply codes and enhanced status codes (``535 5.7.139``), AADSTS
codes, trace and correlation IDs, timestamps, server sentences, capability lists (``AUTH PLAIN
LOGIN XOAUTH2``: mechanism names are not payloads), and server continuations/challenges
(``334 VXNlcm5hbWU6``), which never hold the client's secret.

Limits: a secret the program does not know and that no pattern recognises (a password typed
into free text) cannot be found; that is why checks pass their secrets. Known secrets win over
readability: a password that also occurs inside an address takes that part of the address out.

:class:`RedactingFilter` applies the same to every log record (message, arguments, exception
text); :func:`install_redaction` installs it for the whole program.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol
from urllib.parse import quote, quote_plus

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "Revealable",
    "install_redaction",
    "redact",
    "secret_forms",
    "uninstall_redaction",
]

#: What a secret is replaced with.
REDACTED: Final = "[redacted]"

#: Secrets shorter than this are only replaced as they are (their encodings would match noise).
_MIN_ENCODED: Final = 3
_MAX_PASSES: Final = 8


class Revealable(Protocol):
    """Anything holding a secret that ``reveal()`` gives (app.core.checks.base.Secret)."""

    def reveal(self) -> str: ...


SecretLike = str | Revealable

# --- patterns ---------------------------------------------------------------------------------

_B64_CHARS: Final = r"A-Za-z0-9+/"
_B64URL_CHARS: Final = r"A-Za-z0-9_\-"
# A run of characters that may belong to a base64 (either alphabet) string, with padding.
_B64_RUN: Final = re.compile(r"[A-Za-z0-9+/_\-]+={0,2}")
_TOKEN68: Final = r"[A-Za-z0-9\-._~+/]+=*"

# Names of fields that hold secrets (not secrets themselves).
_SECRET_KEYS: Final = "|".join(
    (
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "code_verifier",
        "client_assertion",
        "assertion",
        "apikey",
        "api_key",
        "sessionid",
        "session",
    )
)


def _sub(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# (pattern, replacement) pairs, applied in order. Replacements keep group 1 (the harmless
# lead: a header name, a scheme, a user name) and drop the secret.
_RULES: Final[tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...]] = (
    # Headers, as text or as a Python dict repr: Authorization / Proxy-Authorization.
    (
        _sub(
            r"(?im)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:[A-Za-z-]+\s+)?)[^\s\"',]+"
        ),
        r"\1" + REDACTED,
    ),
    (
        _sub(r"(?im)\b((?:set-)?cookie[\"']?\s*[:=]\s*)(?:\"[^\"\n]*\"|'[^'\n]*'|[^\n]*)"),
        r"\1" + REDACTED,
    ),
    # Bearer tokens (not challenges such as 'Bearer realm="..."').
    (
        _sub(
            r"(?i)\b(bearer\s+)(?![a-z_]+\s*=\s*[\"'])"
            r"(?!(?:tokens?|authentication|auth|scheme|realm|error|challenge)\b)"
            r"[A-Za-z0-9\-._~+/]{8,}=*"
        ),
        r"\1" + REDACTED,
    ),
    # JWTs and well-known token shapes.
    (_sub(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*)*"), REDACTED),
    (_sub(r"\bya29\.[A-Za-z0-9_\-.]{8,}"), REDACTED),
    (_sub(r"(?<![\w/])1//[A-Za-z0-9_\-]{16,}"), REDACTED),
    # URLs with a password: scheme://user:password@host (proxy URLs too).
    (_sub(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@]*:)[^\s/@]*@"), r"\1" + REDACTED + "@"),
    # Secret-named key=value (query strings, forms, logs) and "key": "value" (JSON).
    (
        _sub(
            r"(?i)([\"'](?:" + _SECRET_KEYS + r"|code)[\"']\s*:\s*)(\"(?:[^\"\\]|\\.)*\"|'[^']*')"
        ),
        r'\1"' + REDACTED + '"',
    ),
    (
        _sub(
            r"(?i)(?<![\w-])((?:"
            + _SECRET_KEYS
            + r")\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;\"'<>]+)"
        ),
        r"\1" + REDACTED,
    ),
    (_sub(r"(?im)(?:^|(?<=[?&#]))(code=)[^\s&#,;\"'<>]+"), r"\1" + REDACTED),
    # IMAP LOGIN: tag LOGIN user password (the user is kept).
    (
        _sub(
            r"(?im)^([^\w\n]*(?:b['\"])?(?:[CS]:[ \t]*)?(?!AUTH)[A-Za-z0-9.]+[ \t]+LOGIN[ \t]+"
            r"(?:\"(?:[^\"\\\n]|\\.)*\"|[^\s\"]+)[ \t]+)"
            r"(?:\"(?:[^\"\\\n]|\\.)*\"|\{\d+\+?\}|[^\s'\"]+)"
        ),
        r"\1" + REDACTED,
    ),
    # POP3 PASS (the rest of the line is the password; it may contain spaces).
    (_sub(r"(?im)^([^\w\n]*(?:b['\"])?(?:[CS]:[ \t]*)?PASS[ \t]+)[^\n'\"]*"), r"\1" + REDACTED),
    # The decoded XOAUTH2/OAUTHBEARER form: auth=Bearer <token> after \x01 (or ^A in logs).
    (_sub(r"(?i)((?:\x01|\^A|\\x01)auth=bearer\s+)[^\x01\s\\^]+"), r"\1" + REDACTED),
)

# SASL initial responses: AUTH <mech> <payload> / tag AUTHENTICATE <mech> <payload>.
_SASL_COMMAND: Final = re.compile(
    r"(?i)\b(AUTH(?:ENTICATE)?[ \t]+([A-Z0-9_\-]+)[ \t]+)([A-Za-z0-9+/]+={0,2})"
)
# A line that is nothing but a base64 string (a client answer to a 334 / + continuation).
_BARE_B64_LINE: Final = re.compile(
    r"(?m)^([^\w\n+/]*(?:b['\"])?(?:[CS]:\s*)?)([A-Za-z0-9+/]{8,}={0,2})(['\"]?\s*)$"
)
# Any longer base64 string (decoded below to see whether it is a SASL payload).
_B64_CANDIDATE: Final = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{12,}={0,2}(?![A-Za-z0-9+/=])")


def _sasl_command(match: re.Match[str]) -> str:
    payload = match.group(3)
    # "AUTH PLAIN LOGIN XOAUTH2" in a capability list: mechanism names, not payloads.
    if payload == "=" or (re.fullmatch(r"[A-Z0-9_\-]+", payload) and len(payload) <= 20):
        return match.group(0)
    return match.group(1) + REDACTED


def _bare_line(match: re.Match[str]) -> str:
    candidate = match.group(2)
    if len(candidate) % 4 != 0 or _decode(candidate) is None:
        return match.group(0)
    # A lone word ("Password", "Capabilities") is not an encoded answer: base64 nearly always
    # has a digit, "+", "/", "=" or a capital letter after a small one.
    if not re.search(r"[0-9+/=]|[a-z][A-Z]", candidate):
        return match.group(0)
    return match.group(1) + REDACTED + match.group(3)


def _decode(candidate: str) -> bytes | None:
    try:
        return base64.b64decode(candidate, validate=True)
    except (binascii.Error, ValueError):
        return None


_ERROR_CODE = re.compile(r"AADSTS\d+")


def _sasl_payload(match: re.Match[str]) -> str:
    candidate = match.group(0)
    if _ERROR_CODE.fullmatch(candidate):
        return candidate  # "AADSTS700082" happens to be valid base64; it is an error code
    if len(candidate) % 4 != 0:
        return candidate
    decoded = _decode(candidate)
    if decoded is None:
        return candidate
    lowered = decoded.lower()
    if b"\x00" in decoded or b"\x01auth=" in lowered or lowered.startswith((b"n,a=", b"n,,")):
        return REDACTED
    return candidate


# --- known secrets ----------------------------------------------------------------------------


def _reveal(secret: SecretLike) -> str:
    return secret if isinstance(secret, str) else secret.reveal()


def _base64_cores(raw: bytes) -> set[str]:
    """The parts of base64 text that depend on ``raw`` alone, for each of the three alignments
    ``raw`` can have inside a longer encoded string, in both alphabets."""
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
        head = {0: 0, 1: 2, 2: 3}[offset]
        end = len(encoded)
        if (offset + len(raw)) % 3 != 0:
            end -= 1  # the last character also holds bits of whatever follows
        core = encoded[head:end]
        if len(core) >= 4:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def secret_forms(secret: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(literal forms, base64 cores) of ``secret``: the literal forms are the secret and its
    URL-encodings, longest first; the cores are substrings any base64 string containing the
    secret's bytes must contain. Not cached, so that no cache keeps secrets alive."""
    literals = {secret}
    if len(secret) >= _MIN_ENCODED:
        for encoded in (quote(secret, safe=""), quote_plus(secret), quote(secret)):
            literals.add(encoded)
            literals.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
    cores: set[str] = set()
    if len(secret) >= _MIN_ENCODED:
        cores = _base64_cores(secret.encode("utf-8"))
    return (
        tuple(sorted(literals, key=len, reverse=True)),
        tuple(sorted(cores, key=len, reverse=True)),
    )


def _run_replacer(cores: tuple[str, ...]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        return REDACTED if any(core in run for core in cores) else run

    return replace


def _redact_known(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        literals, cores = secret_forms(secret)
        for literal in literals:
            if literal in text:
                text = text.replace(literal, REDACTED)
        if cores and any(core in text for core in cores):
            text = _B64_RUN.sub(_run_replacer(cores), text)
    return text


def redact(text: str, secrets: Iterable[SecretLike] = ()) -> str:
    """``text`` without ``secrets`` (strings or objects with ``reveal()``) in any of their
    forms, and without anything the patterns above recognise as a secret."""
    values = sorted({_reveal(s) for s in secrets if _reveal(s)}, key=len, reverse=True)
    for _ in range(_MAX_PASSES):
        before = text
        text = _redact_known(text, values)
        for pattern, replacement in _RULES:
            text = pattern.sub(replacement, text)
        text = _SASL_COMMAND.sub(_sasl_command, text)
        text = _BARE_B64_LINE.sub(_bare_line, text)
        text = _B64_CANDIDATE.sub(_sasl_payload, text)
        if text == before:
            break
    return text


# --- logging ----------------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record it sees: the formatted message (arguments
    merged in, then cleared), the exception text and the stack text. It never drops a record.

    Known secrets are added with :meth:`add_secret` (and removed with :meth:`forget_secret`)."""

    def __init__(self, secrets: Iterable[SecretLike] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: SecretLike) -> None:
        value = _reveal(secret)
        if value:
            with self._lock:
                self._secrets.add(value)

    def forget_secret(self, secret: SecretLike) -> None:
        with self._lock:
            self._secrets.discard(_reveal(secret))

    @property
    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record, self.secrets)
        return True


def redact_record(record: logging.LogRecord, secrets: Iterable[str] = ()) -> None:
    """Redact ``record`` in place: message with its arguments, exception and stack text."""
    known = tuple(secrets)
    if getattr(record, "_mailsetup_redacted", None) == known:
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the record
        message = f"{record.msg!s} {record.args!r}"
    record.msg = redact(message, known)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, known)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, known)
    record._mailsetup_redacted = known


_installed: RedactingFilter | None = None
_previous_factory: Callable[..., logging.LogRecord] | None = None
_install_lock = threading.Lock()


def install_redaction(
    logger: logging.Logger | None = None, secrets: Iterable[SecretLike] = ()
) -> RedactingFilter:
    """Redact every log record of the program, from any logger, and return the one shared
    filter (call ``add_secret`` on it as secrets become known).

    The filter is added to ``logger`` (the root logger by default) and its handlers, and a log
    record factory applies it to each record as it is created: filters on a logger do not see
    records of its child loggers, the factory does. Calling it again adds ``secrets`` and
    returns the same filter."""
    global _installed, _previous_factory
    with _install_lock:
        if _installed is None:
            _installed = RedactingFilter()
            _previous_factory = logging.getLogRecordFactory()
            previous = _previous_factory
            active = _installed

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                redact_record(record, active.secrets)
                return record

            logging.setLogRecordFactory(factory)
        target = logger or logging.getLogger()
        for owner in (target, *target.handlers):
            if _installed not in owner.filters:
                owner.addFilter(_installed)
        for secret in secrets:
            _installed.add_secret(secret)
        return _installed


def uninstall_redaction(logger: logging.Logger | None = None) -> None:
    """Undo :func:`install_redaction` (for tests)."""
    global _installed, _previous_factory
    with _install_lock:
        if _installed is None:
            return
        target = logger or logging.getLogger()
        for owner in (target, *target.handlers):
            owner.removeFilter(_installed)
        if _previous_factory is not None:
            logging.setLogRecordFactory(_previous_factory)
        _installed, _previous_factory = None, None
