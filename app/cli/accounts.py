"""``mailsetup accounts list|show|verify|remove``: the saved accounts from the command line.

- ``list``: every saved account with its state and when it was last checked.
- ``show ADDRESS``: one account's settings, keyring entries and last check.
- ``verify ADDRESS``: check the saved settings again, for real, and record the new state. The
  password comes from ``--password-stdin`` when given, else from the keyring when one was saved
  (a Microsoft 365 or Outlook.com account uses its saved sign-in instead); without either, every
  check goes as far as it can without signing in and the account stays "not verified".
- ``remove ADDRESS``: remove the account, its keyring entries and its OAuth tokens. When the
  keyring cannot be reached, nothing is removed (the secret would be left behind).
- ``remove --all``: the same for every saved account (the uninstaller's purge, run silently). An
  account whose secrets cannot be removed is kept and the others are still removed (exit 6).

Exit codes (docs/cli.md): 0 done (for ``verify``: every check passed; for ``remove --all``:
also when no account was saved), 1 bad input (a malformed
address), 3 ``verify``: a check failed or the sign-in must be renewed, 4 no account is saved for
that address, 6 no usable keyring, or the accounts file cannot be used (locked, newer, not
writable), or an invalid configuration. ``--json`` prints one object; errors as
``{"error": {"code": ..., "message": ..., ...}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from app.cli import configuration
from app.cli.exitcodes import ExitCode
from app.cli.netargs import add_network_arguments
from app.cli.output import print_json, write_error_lines
from app.cli.passwords import read_password
from app.core.checks.base import CheckTarget, CredentialKind, Credentials, Secret
from app.core.checks.runner import VerifyOptions, VerifyResult, verify
from app.core.config import Config
from app.core.diagnostics import knowledge
from app.core.errors import SetupError
from app.core.model import AuthKind, EmailAddress, Endpoint, Finding, Protocol
from app.core.net import Network, NetworkOptions
from app.core.net.options import parse_timeout
from app.core.profiles.secrets import Forgotten, SecretPurpose, forget, load_secret, remove_accounts
from app.core.profiles.store import (
    AccountState,
    AccountStore,
    ProfilesError,
    SavedAccount,
    state_after,
)
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render

__all__ = ["add_arguments", "credentials_for", "run", "targets_for"]

CredentialsFor = Callable[[Protocol], Credentials | None]


# -- arguments ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the saved accounts and their state")
    _add_common(listing)
    show = actions.add_parser("show", help="show one saved account")
    show.add_argument("address", metavar="ADDRESS", help="the account's email address")
    _add_common(show)
    check = actions.add_parser(
        "verify", help="check a saved account's servers again and record its state"
    )
    check.add_argument("address", metavar="ADDRESS", help="the account's email address")
    check.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password or app password from standard input (one line) instead of "
        "the keyring",
    )
    check.add_argument(
        "--deadline", metavar="SECONDS", help="the most all checks may take (default 45)"
    )
    _add_common(check)
    add_network_arguments(check)
    remove = actions.add_parser(
        "remove", help="remove a saved account with its keyring entries and sign-in tokens"
    )
    which = remove.add_mutually_exclusive_group(required=True)
    which.add_argument("address", metavar="ADDRESS", nargs="?", help="the account's email address")
    which.add_argument("--all", action="store_true", help="remove every saved account")
    _add_common(remove)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--language", choices=LANGUAGES, help="language of messages (default: the system's)"
    )


# -- running -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    as_json = bool(args.json)
    if getattr(args, "address", None) is not None:
        args.address = str(EmailAddress.parse(args.address))  # bad input: exit 1 (main)
    store = AccountStore()
    actions: dict[str, Callable[[argparse.Namespace, AccountStore, Language], int]] = {
        "list": _list,
        "show": _show,
        "verify": _verify,
        "remove": _remove,
    }
    try:
        return actions[args.action](args, store, language)
    except ProfilesError as error:  # the keyring or the accounts file: this computer
        _report_error(error, as_json=as_json, language=language)
        return ExitCode.ENVIRONMENT


def _list(args: argparse.Namespace, store: AccountStore, language: Language) -> int:
    accounts = store.list()
    notices = store.notices()
    if args.json:
        print_json(
            {
                "file": str(store.path),
                "accounts": [account.to_dict() for account in accounts],
                "notices": [n.to_dict(language) for n in notices],
            }
        )
        return ExitCode.OK
    _print_notices(notices, language)
    out = sys.stdout
    if not accounts:
        out.write(render(Text("cli.accounts.none"), language) + "\n")
    width = max((len(a.address) for a in accounts), default=0)
    for account in accounts:
        provider = account.provider_name or account.provider_id or "-"
        out.write(
            f"{account.address:<{width}}  {_state(account.state, language):<14}  "
            f"{_checked(account, language):<28}  {provider}\n"
        )
    out.write(render(Text("cli.accounts.file", {"path": str(store.path)}), language) + "\n")
    return ExitCode.OK


def _show(args: argparse.Namespace, store: AccountStore, language: Language) -> int:
    account = store.get(args.address)
    notices = store.notices()
    if account is None:
        return _not_found(args.address, notices, as_json=args.json, language=language)
    if args.json:
        print_json(
            {"account": account.to_dict(), "notices": [n.to_dict(language) for n in notices]}
        )
        return ExitCode.OK
    _print_notices(notices, language)
    print_account(account, language, sys.stdout)
    return ExitCode.OK


def _verify(args: argparse.Namespace, store: AccountStore, language: Language) -> int:
    account = store.get(args.address)
    if account is None:
        return _not_found(args.address, store.notices(), as_json=args.json, language=language)
    config = configuration.load(language)
    net = Network(configuration.network_options(args, config))
    options = VerifyOptions()
    if args.deadline is not None:
        options = VerifyOptions(deadline=parse_timeout(args.deadline))
    typed = _read_password(sys.stdin) if args.password_stdin else None
    notices: list[Finding] = list(store.notices())
    try:
        # no keyring, a configuration without client ID: raised, the state stays as it was
        credentials = asyncio.run(_credentials(account, typed, config, net, notices))
    except _SignInProblem as problem:  # the saved Microsoft sign-in must be renewed, or failed
        finding = problem.error.to_finding()
        state = AccountState.NEEDS_SIGN_IN if problem.required else AccountState.FAILING
        updated = store.update_state(account.address, state, [finding])
        _print_verified(updated or account, None, [*notices, finding], args.json, language)
        return ExitCode.CHECKS_FAILED
    targets = targets_for(account, credentials)
    result = asyncio.run(verify(account.address, targets, net, options=options, language=language))
    if net.options.offline:  # nothing was contacted: that says nothing about the account
        _print_verified(account, result, notices, args.json, language)
        return ExitCode.OK if result.ok else ExitCode.CHECKS_FAILED
    state, codes = state_after(result, sign_in_expected=account.auth is not AuthKind.NONE)
    if state is AccountState.UNVERIFIED and result.ok:
        notices.append(
            knowledge.finding(
                "accounts.not-signed-in",
                checked=Text("check.settings"),
                params={"address": account.address},
            )
        )
    updated = store.update_state(account.address, state, codes)
    _print_verified(updated or account, result, notices, args.json, language)
    return ExitCode.OK if result.ok else ExitCode.CHECKS_FAILED


def _remove(args: argparse.Namespace, store: AccountStore, language: Language) -> int:
    if getattr(args, "all", False):
        return _remove_all(args, store, language)
    account = store.get(args.address)
    if account is None:
        return _not_found(args.address, store.notices(), as_json=args.json, language=language)
    sign_out = _sign_out_service(configuration.load(language))
    try:
        forgotten = asyncio.run(forget(account, sign_out=sign_out))
    except ProfilesError:
        raise  # the keyring: exit 6, nothing removed
    except SetupError as error:  # the token cache could not be changed: keep the account
        _report_error(error, as_json=args.json, language=language)
        return ExitCode.ENVIRONMENT
    removed = store.remove(account.address)
    if args.json:
        print_json({"address": account.address, "removed": removed, **forgotten.to_dict()})
        return ExitCode.OK
    _print_removed(account.address, forgotten, language)
    return ExitCode.OK


def _remove_all(args: argparse.Namespace, store: AccountStore, language: Language) -> int:
    """Every saved account as ``remove ADDRESS`` removes one. An account whose keyring entries
    or tokens cannot be removed is kept and the next one is tried; a problem with the accounts
    file itself stops at once. Exit 0 when every account was removed (or none was saved)."""
    accounts = store.list()
    notices = store.notices()
    sign_out = _sign_out_service(configuration.load(language)) if accounts else None
    removal = asyncio.run(
        remove_accounts(store, accounts, lambda account: forget(account, sign_out=sign_out))
    )
    removed, kept = removal.removed, removal.kept
    if args.json:
        shape: dict[str, object] = {
            "removed": [{"address": a, **f.to_dict()} for a, f in removed],
            "kept": [{"address": a, "error": _error_shape(e, language)} for a, e in kept],
            "notices": [n.to_dict(language) for n in notices],
        }
        if kept:
            shape["error"] = _error_shape(kept[0][1], language)
        print_json(shape)
    else:
        _print_notices(notices, language)
        if not accounts:
            sys.stdout.write(render(Text("cli.accounts.none"), language) + "\n")
        for address, forgotten in removed:
            _print_removed(address, forgotten, language)
        for _address, problem in kept:
            _report_error(problem, as_json=False, language=language)
    return ExitCode.ENVIRONMENT if kept else ExitCode.OK


def _print_removed(address: str, forgotten: Forgotten, language: Language) -> None:
    out = sys.stdout
    out.write(render(Text("cli.accounts.removed", {"address": address}), language) + "\n")
    if forgotten.secrets:
        entries = ", ".join(p.value for p in forgotten.secrets)
        out.write(render(Text("cli.accounts.secrets-deleted", {"entries": entries}), language))
    else:
        out.write(render(Text("cli.accounts.nothing-in-keyring"), language))
    out.write("\n")
    if forgotten.signed_out:
        out.write(render(Text("cli.accounts.signed-out"), language) + "\n")
    out.flush()


# -- verifying ---------------------------------------------------------------------------------


def _sign_out_service(config: Config) -> Callable[[str], Awaitable[bool]]:
    """MicrosoftSignIn.sign_out over the program's token cache (works offline)."""
    from app.core.auth.microsoft import MicrosoftSignIn
    from app.core.auth.token_cache import TokenCacheStore

    net = Network(config.network_options(NetworkOptions()))
    return MicrosoftSignIn(config.microsoft, net, TokenCacheStore.open()).sign_out


async def _credentials(
    account: SavedAccount,
    typed: Secret | None,
    config: Config,
    net: Network,
    notices: list[Finding],
) -> CredentialsFor:
    """How each protocol signs in: the typed password, the saved Microsoft sign-in, the
    keyring's password, or not at all."""
    address = account.address
    if typed is not None:
        return credentials_for(account, lambda _protocol: typed)
    if account.auth is AuthKind.OAUTH2_MICROSOFT:
        return await _microsoft_credentials(account, config, net)
    if not account.secrets:
        return lambda _protocol: None
    found: dict[Protocol, Secret | None] = {}
    missing = False
    for protocol in Protocol:
        purpose = _purpose(account, protocol)
        secret = None if purpose is None else load_secret(address, purpose)
        missing = missing or (purpose is not None and secret is None)
        found[protocol] = secret
    if missing:
        notices.append(
            knowledge.finding(
                "keyring.secret-missing",
                checked=Text("profiles.check.keyring"),
                params={"address": address},
            )
        )
    return credentials_for(account, found.get)


def _purpose(account: SavedAccount, protocol: Protocol) -> SecretPurpose | None:
    """The keyring entry a protocol signs in with: its own, else the account's, if saved."""
    if protocol.value in account.secrets:
        return SecretPurpose(protocol.value)
    if SecretPurpose.ACCOUNT.value in account.secrets:
        return SecretPurpose.ACCOUNT
    return None


class _SignInProblem(Exception):
    """The saved Microsoft sign-in could not give a token; ``required``: only signing in
    again helps."""

    def __init__(self, error: SetupError, required: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.required = required


async def _microsoft_credentials(
    account: SavedAccount, config: Config, net: Network
) -> CredentialsFor:
    """XOAUTH2 for IMAP/POP3 and SMTP from the saved sign-in (silently refreshed);
    _SignInProblem when the sign-in refuses."""
    from app.core.auth.microsoft import (
        IMAP_SCOPE,
        POP_SCOPE,
        SMTP_SCOPE,
        MicrosoftSignIn,
        SignInError,
        SignInRequired,
    )
    from app.core.auth.token_cache import TokenCacheStore

    signin = MicrosoftSignIn(config.microsoft, net, TokenCacheStore.open())
    config_ = account.config
    scopes = {Protocol.IMAP: IMAP_SCOPE, Protocol.POP3: POP_SCOPE, Protocol.SMTP: SMTP_SCOPE}
    wanted = [config_.incoming.protocol]
    if config_.outgoing is not None:
        wanted.append(Protocol.SMTP)
    tokens: dict[Protocol, Credentials] = {}
    try:
        for protocol in wanted:
            tokens[protocol] = await signin.oauth_credentials(account.address, [scopes[protocol]])
    except SignInError as error:
        raise _SignInProblem(error, isinstance(error, SignInRequired)) from error
    return tokens.get


def credentials_for(
    account: SavedAccount, secret_for: Callable[[Protocol], Secret | None]
) -> CredentialsFor:
    """Password credentials per protocol, with the sign-in name each server expects: the
    server's saved user name, the calendar and contacts user name for DAV (iCloud), else the
    address."""

    def make(protocol: Protocol) -> Credentials | None:
        secret = secret_for(protocol)
        if secret is None:
            return None
        return Credentials(_username(account, protocol), secret, CredentialKind.PASSWORD)

    return make


def _username(account: SavedAccount, protocol: Protocol) -> str:
    config = account.config
    if protocol in (Protocol.CALDAV, Protocol.CARDDAV):
        return account.dav_username or config.incoming.username or account.address
    if protocol is Protocol.SMTP and config.outgoing is not None:
        return config.outgoing.username or account.address
    return config.incoming.username or account.address


def targets_for(account: SavedAccount, credentials: CredentialsFor) -> list[CheckTarget]:
    """The checks of a saved account: incoming, outgoing, calendars, contacts."""
    config = account.config
    targets = [
        CheckTarget(
            config.incoming.protocol,
            endpoint=config.incoming,
            credentials=credentials(config.incoming.protocol),
            address=account.address,
        )
    ]
    if config.outgoing is not None:
        targets.append(
            CheckTarget(
                Protocol.SMTP,
                endpoint=config.outgoing,
                credentials=credentials(Protocol.SMTP),
                address=account.address,
            )
        )
    for protocol, url in ((Protocol.CALDAV, config.caldav), (Protocol.CARDDAV, config.carddav)):
        if url:
            targets.append(
                CheckTarget(
                    protocol, url=url, credentials=credentials(protocol), address=account.address
                )
            )
    return targets


def _read_password(stream: TextIO) -> Secret:
    return read_password(stream, Text("cli.accounts.no-password"))


# -- output ------------------------------------------------------------------------------------


def _state(state: AccountState, language: Language) -> str:
    return render(Text(f"profiles.state.{state.value}"), language)


def _checked(account: SavedAccount, language: Language) -> str:
    if account.checked_at is None:
        return render(Text("cli.accounts.never-checked"), language)
    moment = account.checked_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return render(Text("cli.accounts.checked", {"time": moment}), language)


def _server(endpoint: Endpoint, address: str, language: Language) -> str:
    return render(
        Text(
            "cli.accounts.server",
            {
                "protocol": endpoint.protocol.value.upper(),
                "host": endpoint.host_unicode,
                "port": endpoint.port,
                "security": endpoint.security.value,
                "username": endpoint.username or address,
            },
        ),
        language,
    )


def print_account(account: SavedAccount, language: Language, out: TextIO) -> None:
    """One account as a person reads it."""
    config = account.config
    none = render(Text("cli.accounts.none-value"), language)
    rows: list[tuple[str, str]] = [
        ("name", account.display_name or none),
        ("provider", account.provider_name or account.provider_id or none),
        ("incoming", _server(config.incoming, account.address, language)),
        (
            "outgoing",
            none
            if config.outgoing is None
            else _server(config.outgoing, account.address, language),
        ),
        ("caldav", config.caldav or none),
        ("carddav", config.carddav or none),
        ("dav-username", account.dav_username or none),
        ("auth", config.auth.value),
        ("client", account.client or none),
        ("secrets", ", ".join(account.secrets) or none),
        ("state", f"{_state(account.state, language)} ({_checked(account, language)})"),
        ("findings", ", ".join(account.findings) or none),
        (
            "saved",
            render(
                Text(
                    "cli.accounts.saved-times",
                    {
                        "created": account.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                        "updated": account.updated_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    },
                ),
                language,
            ),
        ),
    ]
    labels = [(render(Text(f"cli.accounts.label.{key}"), language), value) for key, value in rows]
    width = max(len(label) for label, _ in labels)
    out.write(f"{account.address}\n")
    for label, value in labels:
        out.write(f"  {label:<{width}}  {value}\n")


def _print_verified(
    account: SavedAccount,
    result: VerifyResult | None,
    notices: Sequence[Finding],
    as_json: bool,
    language: Language,
) -> None:
    if as_json:
        print_json(
            {
                "account": account.to_dict(),
                "verification": None if result is None else result.to_dict(language),
                "notices": [n.to_dict(language) for n in notices],
            }
        )
        return
    if result is not None:
        from app.cli.verify import print_summary

        print_summary(result, language, sys.stdout)
    _print_notices(notices, language, sys.stdout)
    state = _state(account.state, language)
    sys.stdout.write(
        render(
            Text("cli.accounts.state-now", {"address": account.address, "state": state}), language
        )
        + "\n"
    )


def _print_notices(
    notices: Sequence[Finding], language: Language, out: TextIO | None = None
) -> None:
    stream = sys.stderr if out is None else out
    for notice in notices:
        title = notice.title if notice.title is not None else notice.cause
        stream.write(f"mailsetup: {render(title, language)}\n")
        stream.write(f"  {render(notice.cause, language)}\n")
        if notice.fix is not None:
            stream.write(f"  {render(notice.fix, language)}\n")
    stream.flush()


def _error_shape(error: SetupError, language: Language) -> dict[str, object]:
    """The object under ``"error"`` in ``--json`` output."""
    shape: dict[str, object] = dict(error.to_dict(language))
    shape["fix"] = render(error.fix, language) if error.fix is not None else None
    shape["detail"] = dict(error.detail)
    return shape


def _report_error(error: SetupError, *, as_json: bool, language: Language) -> None:
    """An error as ``{"error": {...}}`` (``--json``) or as lines on stderr."""
    if as_json:
        print_json({"error": _error_shape(error, language)})
        return
    write_error_lines(error, language)


def _not_found(
    address: str, notices: Sequence[Finding], *, as_json: bool, language: Language
) -> int:
    finding = knowledge.finding(
        "accounts.not-found",
        checked=Text("profiles.check.accounts-file"),
        params={"address": address},
        detail={"address": address},
    )
    error = ProfilesError(finding)
    if not as_json:
        _print_notices(notices, language)
    _report_error(error, as_json=as_json, language=language)
    return ExitCode.NOT_FOUND
