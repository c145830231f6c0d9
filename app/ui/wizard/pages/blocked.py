"""Blocked: the organisation does not allow this provider's accounts. Says so plainly, whom to
ask, and lets the person go back to use another address."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.core.flow import Step, WizardState
from app.ui.wizard.page import PageContext, WizardPage, wrapped
from app.ui.wizard.support import support_html


class BlockedPage(WizardPage):
    step = Step.BLOCKED

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.message = wrapped("", self, name="blockedMessage")
        self.support = wrapped("", self, name="support")
        self.layout_.addWidget(self.message)
        self.layout_.addWidget(self.support)
        self.layout_.addStretch(1)

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        detection = state.detection
        name = detection.provider.name if detection is not None and detection.provider else ""
        if name:
            text = self.tr(
                "Your organisation does not allow %1 accounts to be set up with this program. "
                "Go back to use another address, or ask your helpdesk."
            ).replace("%1", name)
        else:
            text = self.tr(
                "Your organisation does not allow this account to be set up with this program. "
                "Go back to use another address, or ask your helpdesk."
            )
        self.message.setText(text)
        self.message.setAccessibleName(text)
        contact = support_html(self.context.flow_context.support)
        self.support.setText(contact)
        self.support.setVisible(bool(contact))

    def shows_next(self) -> bool:
        return False
