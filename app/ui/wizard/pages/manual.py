"""Placeholder: replaced by the real page."""

from __future__ import annotations

from app.core.flow import Step
from app.ui.wizard.page import WizardPage


class ManualPage(WizardPage):
    step = Step.MANUAL
