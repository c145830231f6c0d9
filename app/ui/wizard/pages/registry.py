"""Which page shows which step."""

from __future__ import annotations

from app.core.flow import Step
from app.ui.wizard.page import WizardPage
from app.ui.wizard.pages.blocked import BlockedPage
from app.ui.wizard.pages.checking import CheckingPage
from app.ui.wizard.pages.choose_app import ChooseAppPage
from app.ui.wizard.pages.done import DonePage
from app.ui.wizard.pages.finding import FindingPage
from app.ui.wizard.pages.manual import ManualPage
from app.ui.wizard.pages.save import SavePage
from app.ui.wizard.pages.settings import SettingsPage
from app.ui.wizard.pages.sign_in import SignInPage
from app.ui.wizard.pages.troubleshoot import TroubleshootPage
from app.ui.wizard.pages.welcome import WelcomePage

PAGES: dict[Step, type[WizardPage]] = {
    page.step: page
    for page in (
        WelcomePage,
        SettingsPage,
        TroubleshootPage,
        FindingPage,
        ManualPage,
        BlockedPage,
        ChooseAppPage,
        SignInPage,
        CheckingPage,
        SavePage,
        DonePage,
    )
}
assert set(PAGES) == set(Step), "every step has its page"
