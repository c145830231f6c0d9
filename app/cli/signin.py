"""``mailsetup signin ADDRESS`` and ``mailsetup signout ADDRESS``: Microsoft sign-in.

``signout --all`` forgets every saved sign-in (the uninstaller's purge, run silently). Signing
out needs no network and no client ID.

``signin`` opens the program's sign-in window (Qt WebEngine; needs a display) on Microsoft's
sign-in page, or with ``--system-browser`` the system browser, whose redirect MSAL catches on
a loopback listener (``http://localhost:PORT``). It ends once the tokens are stored, printing
the account, the tenant and the expiry: never a token.

Exit codes (docs/cli.md): 0 signed in, 3 the sign-in failed (also: the window closed on
Microsoft's error page, which is reported as that error), 5 cancelled (Cancel, Esc, the
window closed, permissions declined, Ctrl+C), 6 no client ID configured, no display, or an
invalid configuration, 1 a malformed address. ``signout``: 0 signed out, 4 no saved sign-in
for that address; ``signout --all``: 0 (also when there was none); both 6 when the saved
sign-ins cannot be read or changed. ``--json`` prints one object, errors as
``{"error": {"code": ..., ...}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.cli import configuration
from app.cli.exitcodes import ExitCode
from app.cli.gui import display_problem
from app.cli.netargs import add_network_arguments
from app.cli.output import print_json, write_error_lines
from app.core.errors import Fault, Fixer, SetupError
from app.core.model import EmailAddress
from app.core.net import Network, NetworkOptions
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render

if TYPE_CHECKING:
    from app.core.auth.microsoft import MicrosoftSignIn, SignInFlow, SignInResult
    from app.core.config import MicrosoftSettings


def _print_link(url: str) -> None:
    """No browser could be opened: the person opens the link themselves."""
    sys.stderr.write(render(Text("signin.cli.open-link", {"url": url}), "en") + "\n")
    sys.stderr.flush()


#: What ``--system-browser`` does with the sign-in link when MSAL could open no browser (print
#: it). Tests put a scripted browser here.
show_link: Callable[[str], None] = _print_link

#: The most ``--system-browser`` waits for the person to finish, in seconds.
SYSTEM_BROWSER_WAIT = 600.0

ADMIN_GUIDE = "docs/admin-guide.md"


# -- arguments ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", metavar="ADDRESS", help="the mailbox's email address")
    parser.add_argument(
        "--system-browser",
        action="store_true",
        help="sign in in the system's web browser instead of the program's window "
        "(needs http://localhost as a redirect URI of the app registration)",
    )
    parser.add_argument(
        "--tenant",
        metavar="TENANT",
        help="the organisation's tenant (GUID or domain), when the configuration names none",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    _add_language(parser)
    add_network_arguments(parser)


def add_signout_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("address", metavar="ADDRESS", nargs="?", help="the mailbox's email address")
    which.add_argument("--all", action="store_true", help="forget every saved sign-in")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    _add_language(parser)


def _add_language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--language", choices=LANGUAGES, help="language of messages (default: the system's)"
    )


# -- output ------------------------------------------------------------------------------------


def report_error(error: SetupError, *, as_json: bool, language: Language) -> None:
    """An error as ``{"error": {...}}`` (``--json``) or as lines on stderr: what went wrong,
    then what to do."""
    if as_json:
        shape = error.to_dict(language)
        shape["fix"] = render(error.fix, language) if error.fix is not None else None
        shape["detail"] = dict(error.detail)
        print_json({"error": shape})
        return
    write_error_lines(error, language)


def _say(text: Text, language: Language) -> None:
    sys.stdout.write(render(text, language) + "\n")
    sys.stdout.flush()


def no_client_id_error() -> SetupError:
    """No application registration is configured: what an administrator does about it."""
    return SetupError(
        Text("auth.no-client-id"),
        code="signin.no-client-id",
        fault=Fault.LOCAL_ENVIRONMENT,
        fixer=Fixer.ADMIN,
        fix=Text("signin.cli.register", {"guide": ADMIN_GUIDE}),
        help_topic="admin-guide",
        detail={"setting": "[microsoft] client_id"},
    )


def _no_display_error(problem: str) -> SetupError:
    return SetupError(
        Text("signin.cli.no-display", {"problem": problem}),
        code="no-display",
        fault=Fault.LOCAL_ENVIRONMENT,
        fixer=Fixer.USER,
        fix=Text("signin.cli.no-display.fix"),
    )


def _expiry(result: SignInResult) -> str:
    moment = dt.datetime.fromtimestamp(result.expires_on, dt.UTC).astimezone()
    return moment.isoformat(timespec="seconds")


def _print_result(result: SignInResult, method: str, *, as_json: bool, language: Language) -> None:
    if as_json:
        print_json({**result.to_dict(), "expires": _expiry(result), "method": method})
        return
    _say(
        Text(
            "signin.cli.signed-in",
            {
                "address": result.address,
                "username": result.username,
                "tenant": result.tenant_id or "-",
            },
        ),
        language,
    )
    _say(Text("signin.cli.expires", {"time": _expiry(result)}), language)
    if not result.persistent:
        _say(Text("signin.cli.memory-only"), language)


# -- signin ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    as_json = bool(args.json)
    address = str(EmailAddress.parse(args.address))
    config = configuration.load(language)
    settings = config.microsoft
    if not (settings.client_id or "").strip():
        report_error(no_client_id_error(), as_json=as_json, language=language)
        return ExitCode.ENVIRONMENT
    options = configuration.network_options(args, config)
    method = "system-browser" if args.system_browser else "embedded"
    if method == "embedded":
        problem = display_problem(os.environ, sys.platform)
        if problem is not None:
            report_error(_no_display_error(problem), as_json=as_json, language=language)
            return ExitCode.ENVIRONMENT
    from app.core.auth.microsoft import SignInCancelled, SignInError

    signin = _sign_in_service(settings, options)
    try:
        if method == "embedded":
            result = _embedded(signin, settings, options, address, args.tenant, language)
        else:
            result = _system_browser(signin, settings, address, args.tenant)
    except SignInCancelled as error:
        report_error(error, as_json=as_json, language=language)
        return ExitCode.CANCELLED
    except SignInError as error:
        report_error(error, as_json=as_json, language=language)
        return ExitCode.CHECKS_FAILED
    except _WindowFailed as failure:
        report_error(failure.error, as_json=as_json, language=language)
        return failure.exit_code
    _print_result(result, method, as_json=as_json, language=language)
    return ExitCode.OK


def _sign_in_service(settings: MicrosoftSettings, options: NetworkOptions) -> MicrosoftSignIn:
    from app.core.auth.microsoft import MicrosoftSignIn
    from app.core.auth.token_cache import TokenCacheStore

    return MicrosoftSignIn(settings, Network(options), TokenCacheStore.open())


class _WindowFailed(Exception):
    """The window ended without a redirect (cancelled, failed) or could not open."""

    def __init__(self, error: SetupError, exit_code: ExitCode) -> None:
        super().__init__(str(error))
        self.error = error
        self.exit_code = exit_code


def _system_browser(
    signin: MicrosoftSignIn, settings: MicrosoftSettings, address: str, tenant: str | None
) -> SignInResult:
    from app.core.auth.brokers import BrokerSupport, choose_methods

    support = BrokerSupport.detect()
    choice = choose_methods(
        client_id=settings.client_id or "",
        embedded_redirect_uri=settings.redirect_uri,
        support=support,
        prefer_system_browser=True,
    )[0]
    return asyncio.run(
        signin.sign_in_interactive(
            address,
            choice,
            tenant_hint=tenant,
            support=support,
            show_link=show_link,
            wait_seconds=SYSTEM_BROWSER_WAIT,
        )
    )


def _embedded(
    signin: MicrosoftSignIn,
    settings: MicrosoftSettings,
    options: NetworkOptions,
    address: str,
    tenant: str | None,
    language: Language,
) -> SignInResult:
    from app.ui.qt_env import prepare_webengine

    prepare_webengine(resolve=options.resolve)
    flow = asyncio.run(signin.start(address, tenant_hint=tenant))
    redirect_url = _show_window(flow, settings.allowed_hosts, language)
    return asyncio.run(signin.finish(flow, redirect_url))


def _show_window(flow: SignInFlow, allowed_hosts: tuple[str, ...], language: Language) -> str:
    """Run the sign-in window until it ends; the caught redirect URL, or _WindowFailed."""
    try:
        from app.ui.browser import run_window
    except ImportError as exc:  # PySide6 or Qt WebEngine, or a system library they load
        error = SetupError(
            Text("signin.cli.no-webengine", {"error": str(exc)}),
            code="no-qt",
            fault=Fault.LOCAL_ENVIRONMENT,
            fixer=Fixer.USER,
            fix=Text("signin.cli.no-display.fix"),
        )
        raise _WindowFailed(error, ExitCode.ENVIRONMENT) from exc
    outcome, detail = run_window(flow.auth_uri, flow.redirect_uri, allowed_hosts, language)
    if outcome == "redirected" and isinstance(detail, str):
        return detail
    if outcome == "failed" and isinstance(detail, SetupError):
        raise _WindowFailed(detail, ExitCode.CHECKS_FAILED)
    if isinstance(detail, str):  # closed on Microsoft's error page: that error, not a cancel
        from app.core.auth.microsoft import error_for_response

        shown = {"error": "invalid_request", "error_description": detail}
        error = error_for_response(shown, address=flow.address, authority=flow.authority.url)
        raise _WindowFailed(error, ExitCode.CHECKS_FAILED)
    from app.core.errors import CancelledByUser

    raise _WindowFailed(CancelledByUser(), ExitCode.CANCELLED)


# -- signout -----------------------------------------------------------------------------------


def run_signout(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    as_json = bool(args.json)
    address = None if args.all else str(EmailAddress.parse(args.address))
    config = configuration.load(language)
    signin = _sign_in_service(config.microsoft, config.network_options(NetworkOptions()))
    from app.core.auth.microsoft import SignInError
    from app.core.auth.token_cache import TokenCacheError

    try:
        if address is None:
            return _sign_out_all(signin, as_json=as_json, language=language)
        removed = asyncio.run(signin.sign_out(address))
    except (SignInError, TokenCacheError) as error:  # the saved sign-ins' storage failed
        report_error(error, as_json=as_json, language=language)
        return ExitCode.ENVIRONMENT
    if as_json:
        print_json({"address": address, "signed_out": removed})
    else:
        key = "signout.cli.done" if removed else "signout.cli.unknown"
        _say(Text(key, {"address": address}), language)
    return ExitCode.OK if removed else ExitCode.NOT_FOUND


def _sign_out_all(signin: MicrosoftSignIn, *, as_json: bool, language: Language) -> int:
    """Sign every saved mailbox out, then empty the token cache of anything left (tokens of
    no mailbox). Needs no client ID and no network."""
    addresses = [account.address for account in asyncio.run(signin.accounts())]
    signed_out = [address for address in addresses if asyncio.run(signin.sign_out(address))]
    signin.cache.clear()
    if as_json:
        print_json({"signed_out": signed_out})
    else:
        for address in signed_out:
            _say(Text("signout.cli.done", {"address": address}), language)
        if not signed_out:
            _say(Text("signout.cli.none"), language)
    return ExitCode.OK
