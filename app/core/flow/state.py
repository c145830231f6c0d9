"""The wizard's data: its steps, the answers pages give, and the frozen state of one run.

Nothing here decides anything; :mod:`app.core.flow.steps` routes. A page renders a
:class:`WizardState` and returns one of the answer types. Secrets never enter the state: a
sign-in answer holds a :class:`SecretRef` (a handle the window keeps the secret under until it
goes to the keyring), never the secret itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from app.core.checks.runner import VerifyResult
from app.core.config.orgsettings import OrganisationSettings, ProvidersSettings, SupportSettings
from app.core.discovery.engine import DetectionResult
from app.core.flow.fields import ServerFields
from app.core.flow.problems import Problem
from app.core.model import AccountConfig, EmailAddress
from app.core.texts import DEFAULT_LANGUAGE, Language

__all__ = [
    "AddressEntered",
    "Answer",
    "AppChosen",
    "CheckAction",
    "CheckingDone",
    "DetectionDone",
    "FindingAction",
    "FlowContext",
    "MailApp",
    "ManualEntered",
    "Platform",
    "Problem",
    "SaveDone",
    "SecretRef",
    "SettingsChosen",
    "SettingsClosed",
    "SignInAnswer",
    "SignInKind",
    "Step",
    "TroubleshootChosen",
    "WizardState",
]


class Step(StrEnum):
    """The wizard's pages. The values are stable ids (page names, screenshots, logs)."""

    WELCOME = "welcome"
    SETTINGS = "settings"
    TROUBLESHOOT = "troubleshoot"  # hands over to helpdesk mode
    FINDING = "finding"
    MANUAL = "manual"
    BLOCKED = "blocked"  # the organisation does not allow this provider
    CHOOSE_APP = "choose-app"
    SIGN_IN = "sign-in"
    CHECKING = "checking"
    SAVE = "save"
    DONE = "done"


class MailApp(StrEnum):
    """The mail programs the wizard sets up; the values are those of ``default_app``."""

    NEW_OUTLOOK = "new-outlook"
    CLASSIC_OUTLOOK = "classic-outlook"
    THUNDERBIRD = "thunderbird"
    APPLE_MAIL = "apple-mail"
    OTHER = "other"


class Platform(StrEnum):
    WINDOWS = "windows"
    MACOS = "macos"
    LINUX = "linux"


class SignInKind(StrEnum):
    """Which sign-in page the account needs."""

    MICROSOFT = "microsoft"  # the embedded Microsoft sign-in window
    ICLOUD_APP_PASSWORD = "icloud-app-password"  # noqa: S105 - Apple's page beside the steps
    APP_PASSWORD = "app-password"  # noqa: S105 - another provider's app password
    PASSWORD = "password"  # noqa: S105


@dataclass(frozen=True)
class SecretRef:
    """A handle to a secret the window holds (never the secret): ``id`` is the window's own
    name for it. The window stores the secret in the keyring on the save page."""

    id: str


@dataclass(frozen=True)
class FlowContext:
    """What the flow takes from outside: the organisation's policy and support contact, the
    platform, and the mail programs found installed (detected by the window's adapters)."""

    providers: ProvidersSettings = field(default_factory=ProvidersSettings)
    organisation: OrganisationSettings = field(default_factory=OrganisationSettings)
    support: SupportSettings = field(default_factory=SupportSettings)
    platform: Platform = Platform.WINDOWS
    installed: frozenset[MailApp] = frozenset()


# --- answers: what a page returns ----------------------------------------------------------------


@dataclass(frozen=True)
class AddressEntered:
    """Welcome: continue with this address (as typed) and optional display name."""

    address: str
    display_name: str = ""


@dataclass(frozen=True)
class TroubleshootChosen:
    """Welcome: "Something stopped working / I'm from the helpdesk"."""


@dataclass(frozen=True)
class SettingsChosen:
    """Welcome: open the settings."""


@dataclass(frozen=True)
class SettingsClosed:
    """Settings: done, in this language."""

    language: Language = DEFAULT_LANGUAGE


class FindingAction(StrEnum):
    CONTINUE = "continue"  # use the detected settings
    EDIT = "edit"  # "show details / edit manually"
    USE_SUGGESTION = "use-suggestion"  # "did you mean …?" accepted


@dataclass(frozen=True)
class DetectionDone:
    """Finding: detection ran (the page ran it) and the person chose what to do."""

    result: DetectionResult
    action: FindingAction = FindingAction.CONTINUE
    candidate: int = 0  # which of result.candidates


@dataclass(frozen=True)
class ManualEntered:
    """Manual settings: the fields as the expert left them."""

    fields: ServerFields


@dataclass(frozen=True)
class AppChosen:
    app: MailApp


@dataclass(frozen=True)
class SignInAnswer:
    """Sign in. ``secret``: the password or app password entered (a reference, never the
    text); ``username``: the sign-in name when it differs from the address; ``apple_account``:
    the Apple Account address when it differs from the iCloud mail address (calendars and
    contacts sign in with it); ``signed_in_as``: the Microsoft account the sign-in returned."""

    kind: SignInKind
    secret: SecretRef | None = None
    username: str = ""
    apple_account: str = ""
    signed_in_as: str = ""


class CheckAction(StrEnum):
    CONTINUE = "continue"
    TRY_AGAIN = "try-again"
    CHANGE_SETTINGS = "change-settings"
    SIGN_IN_AGAIN = "sign-in-again"


@dataclass(frozen=True)
class CheckingDone:
    """Checking: verification ran (the page ran it) and the person chose what to do."""

    result: VerifyResult
    action: CheckAction = CheckAction.CONTINUE


@dataclass(frozen=True)
class SaveDone:
    """Save: the account is in the saved-accounts store (and the secret in the keyring)."""

    account_key: str


Answer: TypeAlias = (
    AddressEntered
    | TroubleshootChosen
    | SettingsChosen
    | SettingsClosed
    | DetectionDone
    | ManualEntered
    | AppChosen
    | SignInAnswer
    | CheckingDone
    | SaveDone
)


# --- the state ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WizardState:
    """Everything one run of the wizard knows, at one step. Frozen: each answer makes a new
    state. ``answer`` is the answer last given on this step, so a page reached by Back shows
    what the person entered there."""

    step: Step = Step.WELCOME
    context: FlowContext = field(default_factory=FlowContext)
    language: Language = DEFAULT_LANGUAGE
    address: EmailAddress | None = None
    display_name: str = ""
    detection: DetectionResult | None = None
    config: AccountConfig | None = None
    manual: ServerFields | None = None
    app: MailApp | None = None
    sign_in: SignInAnswer | None = None
    verify: VerifyResult | None = None
    saved_as: str | None = None
    answer: Answer | None = None
