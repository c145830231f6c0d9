"""The facts the routing rests on, derived from a state: which provider, whether policy allows
it, which apps are offered and which is preselected, which sign-in page (if any) is needed, and
the advice the pages show. Pure functions of :class:`~app.core.flow.state.WizardState`."""

from __future__ import annotations

import re

from app.core.clients.installed import SIGNS_IN_BY_ITSELF, preselect_from
from app.core.flow.problems import Problem
from app.core.flow.state import MailApp, Platform, SignInKind, WizardState
from app.core.model import AccountConfig, AuthKind
from app.core.texts import Text

__all__ = [
    "ICLOUD",
    "advice",
    "app_password_warnings",
    "is_blocked",
    "is_hybrid",
    "offered_apps",
    "preselected_app",
    "provider_id",
    "sign_in_kind",
]

ICLOUD = "icloud"
_APP_PASSWORD_SHAPE = re.compile(r"^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$")


def _config(state: WizardState) -> AccountConfig | None:
    if state.config is not None:
        return state.config
    return None if state.detection is None else state.detection.best


def provider_id(state: WizardState) -> str | None:
    """The catalog id of the account's provider (None: not a catalog provider)."""
    config = _config(state)
    if config is not None and config.provider_id is not None:
        return config.provider_id
    if state.detection is not None and state.detection.provider is not None:
        return state.detection.provider.id
    return None


def is_blocked(state: WizardState) -> bool:
    """True when the organisation does not allow this account's provider."""
    return not state.context.providers.is_allowed(provider_id(state))


def is_hybrid(state: WizardState) -> bool:
    """A hybrid Exchange mailbox (on-premises, signing in through Microsoft)."""
    config = _config(state)
    return config is not None and config.auth is AuthKind.EXCHANGE_HYBRID


def offered_apps(platform: Platform) -> tuple[MailApp, ...]:
    """The apps the choose-app page lists (Apple Mail on macOS only)."""
    return tuple(a for a in MailApp if a is not MailApp.APPLE_MAIL or platform is Platform.MACOS)


def preselected_app(state: WizardState) -> MailApp:
    """The app chosen last, else the installed-apps rule (:func:`app.core.clients.preselect`:
    the organisation's default, new Outlook for a provider it signs in to by itself, then
    classic Outlook, Thunderbird, Apple Mail, new Outlook), else "other"; only apps offered on
    this platform."""
    offered = offered_apps(state.context.platform)
    if state.app is not None and state.app in offered:
        return state.app
    chosen = MailApp(
        preselect_from(
            {app.value for app in state.context.installed},
            state.context.organisation.default_app,
            provider_id(state),
        )
    )
    return chosen if chosen in offered else MailApp.OTHER


def _signs_in_by_itself(state: WizardState) -> bool:
    config = _config(state)
    if state.app is not MailApp.NEW_OUTLOOK or config is None:
        return False
    return provider_id(state) in SIGNS_IN_BY_ITSELF or config.auth is AuthKind.OAUTH2_MICROSOFT


def sign_in_kind(state: WizardState) -> SignInKind | None:
    """The sign-in page the account needs with the chosen app, or None to skip it (the app
    signs in by itself, or the account needs no sign-in); then checking runs without
    credentials."""
    config = _config(state)
    if config is None or config.auth is AuthKind.NONE or _signs_in_by_itself(state):
        return None
    if config.auth in (AuthKind.OAUTH2_MICROSOFT, AuthKind.EXCHANGE_HYBRID):
        return SignInKind.MICROSOFT
    if provider_id(state) == ICLOUD:
        return SignInKind.ICLOUD_APP_PASSWORD
    if config.auth is AuthKind.PASSWORD:
        return SignInKind.PASSWORD
    # App passwords, and Google, whose own sign-in this program does not do.
    return SignInKind.APP_PASSWORD


def app_password_warnings(pasted: str) -> tuple[Problem, ...]:
    """Warnings (never blocking) for a pasted Apple app-specific password; the text is only
    looked at, never kept. Surrounding spaces do not count."""
    text = pasted.strip()
    if not text or _APP_PASSWORD_SHAPE.match(text):
        return ()
    return (Problem("secret", Text("flow.problem.app-password-shape"), False),)


def advice(state: WizardState) -> tuple[Text, ...]:
    """What the pages tell the person about this provider with this app, most useful first."""
    found: list[Text] = []
    provider = provider_id(state)
    config = _config(state)
    microsoft = config is not None and config.auth is AuthKind.OAUTH2_MICROSOFT
    if is_hybrid(state):
        found += [Text("flow.advice.hybrid-works"), Text("flow.advice.hybrid-admin")]
    if state.app is MailApp.NEW_OUTLOOK and provider == ICLOUD:
        found += [Text("flow.advice.new-outlook-icloud"), Text("flow.advice.revoke-app-passwords")]
    elif state.app is MailApp.NEW_OUTLOOK and microsoft:
        found.append(Text("flow.advice.new-outlook-microsoft"))
    elif state.app is MailApp.CLASSIC_OUTLOOK and provider == ICLOUD:
        found += [Text("flow.advice.icloud-app-password"), Text("flow.advice.icloud-for-windows")]
    elif state.app is MailApp.CLASSIC_OUTLOOK and (microsoft or is_hybrid(state)):
        found.append(Text("flow.advice.outlook-exchange-account"))
    return tuple(found)
