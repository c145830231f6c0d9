"""The wizard's flow as data, with no user interface: the steps and where each answer leads
(:mod:`~app.core.flow.steps`, the navmap), the frozen state of a run and the answers pages give
(:mod:`~app.core.flow.state`), the facts routing rests on (:mod:`~app.core.flow.rules`) and the
expert's server fields (:mod:`~app.core.flow.fields`).

A page renders a :class:`WizardState` and returns an answer; :meth:`Flow.advance` validates it
and moves on, :meth:`Flow.back` returns the earlier page's state exactly, input kept.
"""

from __future__ import annotations

from app.core.flow.fields import ServerFields, build_config, fields_from_config
from app.core.flow.problems import Problem
from app.core.flow.rules import (
    advice,
    app_password_warnings,
    is_blocked,
    is_hybrid,
    offered_apps,
    preselected_app,
    provider_id,
    sign_in_kind,
)
from app.core.flow.state import (
    AddressEntered,
    Answer,
    AppChosen,
    CheckAction,
    CheckingDone,
    DetectionDone,
    FindingAction,
    FlowContext,
    MailApp,
    ManualEntered,
    Platform,
    SaveDone,
    SecretRef,
    SettingsChosen,
    SettingsClosed,
    SignInAnswer,
    SignInKind,
    Step,
    TroubleshootChosen,
    WizardState,
)
from app.core.flow.steps import (
    STEPS,
    Flow,
    InvalidAnswer,
    StepSpec,
    WrongAnswer,
    apply,
    next_step,
    validate,
)

__all__ = [
    "STEPS",
    "AddressEntered",
    "Answer",
    "AppChosen",
    "CheckAction",
    "CheckingDone",
    "DetectionDone",
    "FindingAction",
    "Flow",
    "FlowContext",
    "InvalidAnswer",
    "MailApp",
    "ManualEntered",
    "Platform",
    "Problem",
    "SaveDone",
    "SecretRef",
    "ServerFields",
    "SettingsChosen",
    "SettingsClosed",
    "SignInAnswer",
    "SignInKind",
    "Step",
    "StepSpec",
    "TroubleshootChosen",
    "WizardState",
    "WrongAnswer",
    "advice",
    "app_password_warnings",
    "apply",
    "build_config",
    "fields_from_config",
    "is_blocked",
    "is_hybrid",
    "next_step",
    "offered_apps",
    "preselected_app",
    "provider_id",
    "sign_in_kind",
    "validate",
]
