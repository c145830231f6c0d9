"""The navmap: every step, the answers it takes, where each answer leads, and how answers are
validated and applied. All routing of the wizard is here; :class:`Flow` adds the history that
makes Back free (each page's state is kept, with the answer given there)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from app.core.errors import InvalidAddressError
from app.core.flow import rules
from app.core.flow.fields import build_config, fields_from_config
from app.core.flow.problems import Problem
from app.core.flow.state import (
    AddressEntered,
    Answer,
    AppChosen,
    CheckAction,
    CheckingDone,
    DetectionDone,
    FindingAction,
    ManualEntered,
    SaveDone,
    SettingsChosen,
    SettingsClosed,
    SignInAnswer,
    SignInKind,
    Step,
    TroubleshootChosen,
    WizardState,
)
from app.core.model import EmailAddress
from app.core.texts import Text

__all__ = [
    "STEPS",
    "Flow",
    "InvalidAnswer",
    "StepSpec",
    "WrongAnswer",
    "apply",
    "next_step",
    "validate",
]

Route = Callable[[WizardState, Answer], Step]
Check = Callable[[WizardState, Answer], list[Problem]]
MAX_DISPLAY_NAME = 100


class WrongAnswer(TypeError):
    """A page returned an answer its step does not take (a programming error)."""


class InvalidAnswer(ValueError):
    """An answer with blocking problems; ``problems`` says which (shown beside the fields)."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__(", ".join(p.field for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class StepSpec:
    """One navmap entry. ``targets``: every step ``route`` may return (declared, so the graph
    can be checked without running it); ``terminal``: the wizard ends here."""

    title: Text
    answers: tuple[type[Answer], ...] = ()
    route: Route | None = None
    check: Check | None = None
    targets: frozenset[Step] = frozenset()

    @property
    def terminal(self) -> bool:
        return self.route is None


# --- routes -------------------------------------------------------------------------------------


def _route_welcome(_state: WizardState, answer: Answer) -> Step:
    if isinstance(answer, TroubleshootChosen):
        return Step.TROUBLESHOOT
    if isinstance(answer, SettingsChosen):
        return Step.SETTINGS
    return Step.FINDING


def _route_settings(_state: WizardState, _answer: Answer) -> Step:
    return Step.WELCOME


def _after_app(state: WizardState) -> Step:
    return Step.CHECKING if rules.sign_in_kind(state) is None else Step.SIGN_IN


def _route_finding(state: WizardState, answer: Answer) -> Step:
    assert isinstance(answer, DetectionDone)
    if answer.action is FindingAction.USE_SUGGESTION:
        return Step.FINDING
    if rules.is_blocked(state):
        return Step.BLOCKED
    if answer.action is FindingAction.EDIT or not answer.result.found:
        return Step.MANUAL
    return Step.CHOOSE_APP


def _route_manual(state: WizardState, _answer: Answer) -> Step:
    # Policy was applied on the finding page: manual settings keep the provider they edit, and
    # settings for no catalog provider count as "other" there already.
    # Back from checking ("change settings"): the app is known already.
    return Step.CHOOSE_APP if state.app is None else _after_app(state)


def _route_app(state: WizardState, _answer: Answer) -> Step:
    return _after_app(state)


def _route_sign_in(_state: WizardState, _answer: Answer) -> Step:
    return Step.CHECKING


def _route_checking(state: WizardState, answer: Answer) -> Step:
    assert isinstance(answer, CheckingDone)
    return {
        CheckAction.CONTINUE: Step.SAVE,
        CheckAction.TRY_AGAIN: Step.CHECKING,
        CheckAction.CHANGE_SETTINGS: Step.MANUAL,
        CheckAction.SIGN_IN_AGAIN: Step.SIGN_IN,
    }[answer.action]


def _route_save(_state: WizardState, _answer: Answer) -> Step:
    return Step.DONE


# --- validation ---------------------------------------------------------------------------------


def _check_welcome(_state: WizardState, answer: Answer) -> list[Problem]:
    if not isinstance(answer, AddressEntered):
        return []
    problems: list[Problem] = []
    try:
        EmailAddress.parse(answer.address)
    except InvalidAddressError as error:
        problems.append(Problem("address", error.message))
    name = answer.display_name.strip()
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        problems.append(Problem("display_name", Text("flow.problem.name-characters")))
    elif len(name) > MAX_DISPLAY_NAME:
        problems.append(
            Problem("display_name", Text("flow.problem.name-long", {"limit": MAX_DISPLAY_NAME}))
        )
    return problems


def _check_finding(state: WizardState, answer: Answer) -> list[Problem]:
    assert isinstance(answer, DetectionDone)
    result = answer.result
    if state.address is None or result.address != state.address:
        return [Problem("result", Text("flow.problem.stale-result"))]
    if answer.action is FindingAction.USE_SUGGESTION:
        if result.suggestion is None:
            return [Problem("suggestion", Text("flow.problem.no-suggestion"))]
        try:
            EmailAddress.parse(result.suggestion)
        except InvalidAddressError as error:
            return [Problem("suggestion", error.message)]
    elif result.found and not 0 <= answer.candidate < len(result.candidates):
        return [Problem("candidate", Text("flow.problem.candidate"))]
    return []


def _check_manual(state: WizardState, answer: Answer) -> list[Problem]:
    assert isinstance(answer, ManualEntered)
    return list(build_config(answer.fields, state.config)[1])


def _check_app(state: WizardState, answer: Answer) -> list[Problem]:
    assert isinstance(answer, AppChosen)
    if answer.app not in rules.offered_apps(state.context.platform):
        return [Problem("app", Text("flow.problem.app-not-offered"))]
    return []


def _check_sign_in(state: WizardState, answer: Answer) -> list[Problem]:
    assert isinstance(answer, SignInAnswer)
    expected = rules.sign_in_kind(state)
    if answer.kind is not expected:
        return [Problem("kind", Text("flow.problem.sign-in-kind"))]
    if answer.kind is SignInKind.MICROSOFT:
        if not answer.signed_in_as.strip():
            return [Problem("account", Text("flow.problem.not-signed-in"))]
        return []
    problems: list[Problem] = []
    if answer.secret is None:
        problems.append(Problem("secret", Text("flow.problem.no-secret")))
    if answer.apple_account.strip():
        try:
            EmailAddress.parse(answer.apple_account)
        except InvalidAddressError as error:
            problems.append(Problem("apple_account", error.message))
    return problems


def _check_checking(state: WizardState, answer: Answer) -> list[Problem]:
    assert isinstance(answer, CheckingDone)
    if state.address is None or answer.result.address not in (
        str(state.address),
        state.address.ascii,
    ):
        return [Problem("result", Text("flow.problem.stale-result"))]
    if answer.action is CheckAction.CONTINUE and not answer.result.ok:
        return [Problem("result", Text("flow.problem.check-failed"))]
    if answer.action is CheckAction.SIGN_IN_AGAIN and rules.sign_in_kind(state) is None:
        return [Problem("result", Text("flow.problem.no-sign-in"))]
    return []


def _check_save(_state: WizardState, answer: Answer) -> list[Problem]:
    assert isinstance(answer, SaveDone)
    return [] if answer.account_key else [Problem("account", Text("flow.problem.not-saved"))]


# --- the navmap ---------------------------------------------------------------------------------

STEPS: Mapping[Step, StepSpec] = {
    Step.WELCOME: StepSpec(
        Text("flow.step.welcome"),
        (AddressEntered, TroubleshootChosen, SettingsChosen),
        _route_welcome,
        _check_welcome,
        frozenset({Step.FINDING, Step.TROUBLESHOOT, Step.SETTINGS}),
    ),
    Step.SETTINGS: StepSpec(
        Text("flow.step.settings"),
        (SettingsClosed,),
        _route_settings,
        None,
        frozenset({Step.WELCOME}),
    ),
    Step.TROUBLESHOOT: StepSpec(Text("flow.step.troubleshoot")),
    Step.FINDING: StepSpec(
        Text("flow.step.finding"),
        (DetectionDone,),
        _route_finding,
        _check_finding,
        frozenset({Step.FINDING, Step.BLOCKED, Step.MANUAL, Step.CHOOSE_APP}),
    ),
    Step.MANUAL: StepSpec(
        Text("flow.step.manual"),
        (ManualEntered,),
        _route_manual,
        _check_manual,
        frozenset({Step.CHOOSE_APP, Step.SIGN_IN, Step.CHECKING}),
    ),
    Step.BLOCKED: StepSpec(Text("flow.step.blocked")),
    Step.CHOOSE_APP: StepSpec(
        Text("flow.step.choose-app"),
        (AppChosen,),
        _route_app,
        _check_app,
        frozenset({Step.SIGN_IN, Step.CHECKING}),
    ),
    Step.SIGN_IN: StepSpec(
        Text("flow.step.sign-in"),
        (SignInAnswer,),
        _route_sign_in,
        _check_sign_in,
        frozenset({Step.CHECKING}),
    ),
    Step.CHECKING: StepSpec(
        Text("flow.step.checking"),
        (CheckingDone,),
        _route_checking,
        _check_checking,
        frozenset({Step.SAVE, Step.CHECKING, Step.MANUAL, Step.SIGN_IN}),
    ),
    Step.SAVE: StepSpec(
        Text("flow.step.save"), (SaveDone,), _route_save, _check_save, frozenset({Step.DONE})
    ),
    Step.DONE: StepSpec(Text("flow.step.done")),
}


def _spec_for(state: WizardState, answer: Answer) -> StepSpec:
    spec = STEPS[state.step]
    if not isinstance(answer, spec.answers):
        raise WrongAnswer(f"step {state.step.value!r} does not take {type(answer).__name__}")
    return spec


def validate(state: WizardState, answer: Answer) -> list[Problem]:
    """Every problem with ``answer`` given on ``state.step``; blocking ones stop the step.
    Raises WrongAnswer for an answer the step does not take."""
    spec = _spec_for(state, answer)
    return [] if spec.check is None else spec.check(state, answer)


def apply(state: WizardState, answer: Answer) -> WizardState:
    """``state`` with what ``answer`` says, still at the same step (no validation)."""
    if isinstance(answer, AddressEntered):
        address = EmailAddress.parse(answer.address)
        changed = address != state.address
        return replace(
            state,
            address=address,
            display_name=answer.display_name.strip(),
            detection=None if changed else state.detection,
            config=None if changed else state.config,
            manual=None if changed else state.manual,
            verify=None,
        )
    if isinstance(answer, SettingsClosed):
        return replace(state, language=answer.language)
    if isinstance(answer, DetectionDone):
        result = answer.result
        if answer.action is FindingAction.USE_SUGGESTION and result.suggestion is not None:
            return replace(
                state,
                address=EmailAddress.parse(result.suggestion),
                detection=None,
                config=None,
                manual=None,
            )
        best = result.candidates[answer.candidate] if result.found else None
        return replace(state, detection=result, config=best, manual=None)
    if isinstance(answer, ManualEntered):
        config, _problems = build_config(answer.fields, state.config)
        return replace(state, manual=answer.fields, config=config or state.config, verify=None)
    if isinstance(answer, AppChosen):
        return replace(state, app=answer.app)
    if isinstance(answer, SignInAnswer):
        return replace(state, sign_in=answer)
    if isinstance(answer, CheckingDone):
        return replace(state, verify=answer.result)
    if isinstance(answer, SaveDone):
        return replace(state, saved_as=answer.account_key)
    return state


def next_step(state: WizardState, answer: Answer) -> Step:
    """Where ``answer`` on ``state.step`` leads. Raises InvalidAnswer when it has blocking
    problems, WrongAnswer when the step does not take it (or is terminal)."""
    spec = _spec_for(state, answer)
    blocking = tuple(p for p in validate(state, answer) if p.blocking)
    if blocking:
        raise InvalidAnswer(blocking)
    assert spec.route is not None  # a terminal step takes no answers
    return spec.route(apply(state, answer), answer)


@dataclass(frozen=True)
class Flow:
    """One run: the current state and the states of the pages before it. Immutable: every
    move returns a new Flow, so Back is a pop and gives back exactly the earlier page's state,
    with the answer given there (``state.answer``) for the page to show again."""

    state: WizardState
    history: tuple[WizardState, ...] = ()

    @classmethod
    def start(cls, state: WizardState | None = None) -> Flow:
        return cls(WizardState() if state is None else state)

    @property
    def step(self) -> Step:
        return self.state.step

    @property
    def can_go_back(self) -> bool:
        return bool(self.history)

    @property
    def is_finished(self) -> bool:
        return STEPS[self.state.step].terminal

    def advance(self, answer: Answer) -> Flow:
        """The next page's Flow. Raises InvalidAnswer or WrongAnswer (see :func:`next_step`)."""
        step = next_step(self.state, answer)
        new = replace(apply(self.state, answer), step=step, answer=None)
        if step is Step.CHECKING:
            new = replace(new, verify=None)  # checking runs afresh, also on "try again"
        if step is Step.MANUAL and new.manual is None:
            new = replace(new, manual=fields_from_config(new.config))
        if step is self.state.step:
            # "Try again", or detection for a corrected address: the same page again, not a
            # new one, so Back still leads to the page before it.
            return Flow(new, self.history)
        kept = replace(self.state, answer=answer)
        return Flow(new, (*self.history, kept))

    def back(self) -> Flow:
        """The previous page's Flow (ValueError on the first page)."""
        if not self.history:
            raise ValueError("there is no page before this one")
        return Flow(self.history[-1], self.history[:-1])
