"""The wizard's flow without Qt: every real path walked answer by answer, Back at every step,
validation, policy, and the shape of the navmap itself (every step reachable, every step with a
way forward or terminal)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from app.core.checks.base import CheckResult
from app.core.checks.runner import VerifyResult
from app.core.config.orgsettings import OrganisationSettings, ProvidersSettings, SupportSettings
from app.core.discovery.base import ProviderRef
from app.core.discovery.catalog import default_catalog
from app.core.discovery.engine import DetectionResult
from app.core.flow import (
    STEPS,
    AddressEntered,
    Answer,
    AppChosen,
    CheckAction,
    CheckingDone,
    DetectionDone,
    FindingAction,
    Flow,
    FlowContext,
    InvalidAnswer,
    MailApp,
    ManualEntered,
    Platform,
    SaveDone,
    SecretRef,
    ServerFields,
    SettingsChosen,
    SettingsClosed,
    SignInAnswer,
    SignInKind,
    Step,
    TroubleshootChosen,
    WizardState,
    WrongAnswer,
    advice,
    app_password_warnings,
    build_config,
    fields_from_config,
    offered_apps,
    preselected_app,
    sign_in_kind,
    validate,
)
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.texts import Text, render

CATALOG = Provenance("catalog", Trust.HIGH, over_https=False)
SECRET = SecretRef("window-secret-1")


# --- building inputs ----------------------------------------------------------------------------


def catalog_result(address: str, provider_id: str) -> DetectionResult:
    """What detection answers for a provider of the real built-in catalog."""
    parsed = EmailAddress.parse(address)
    provider = default_catalog().get(provider_id)
    assert provider is not None, provider_id
    configs = provider.account_configs(parsed, CATALOG)
    ref = ProviderRef(provider.id, provider.name)
    return DetectionResult(parsed, ref, configs, (), (), None, 5)


def hybrid_result(address: str) -> DetectionResult:
    parsed = EmailAddress.parse(address)
    config = AccountConfig(
        incoming=Endpoint(Protocol.IMAP, "mail.corp.test", 993, Security.TLS),
        outgoing=Endpoint(Protocol.SMTP, "mail.corp.test", 587, Security.STARTTLS),
        auth=AuthKind.EXCHANGE_HYBRID,
        provider_id="exchange",
        provider_name="Exchange (Corp)",
        provenance=Provenance("microsoft", Trust.HIGH, over_https=True),
    )
    return DetectionResult(
        parsed, ProviderRef("exchange", "Exchange (Corp)"), (config,), (), (), None, 40
    )


def empty_result(address: str, suggestion: str | None = None) -> DetectionResult:
    return DetectionResult(EmailAddress.parse(address), None, (), (), (), suggestion, 3000)


def verified(address: str, *, ok: bool = True) -> VerifyResult:
    checks = (
        CheckResult(Protocol.IMAP, "imaps://imap.example.test:993", ok, ok, ()),
        CheckResult(Protocol.SMTP, "smtps://smtp.example.test:465", True, True, ()),
    )
    return VerifyResult(address, checks, 120)


MANUAL = ServerFields(
    incoming_host="mail.example.test",
    incoming_port="993",
    outgoing_host="mail.example.test",
    outgoing_port="587",
    outgoing_security="starttls",
)


@dataclass
class Walk:
    """A walk through the flow: every Flow in order, and the answers given."""

    flows: list[Flow] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    @property
    def flow(self) -> Flow:
        return self.flows[-1]

    @property
    def steps(self) -> list[Step]:
        return [f.step for f in self.flows]

    def answer(self, answer: Answer) -> Walk:
        self.flows.append(self.flow.advance(answer))
        self.answers.append(answer)
        return self


def start(context: FlowContext | None = None) -> Walk:
    state = WizardState(context=FlowContext() if context is None else context)
    return Walk([Flow.start(state)])


def until_app(address: str, result: DetectionResult, context: FlowContext | None = None) -> Walk:
    return (
        start(context).answer(AddressEntered(address, "Taro Yamada")).answer(DetectionDone(result))
    )


# --- the real paths -----------------------------------------------------------------------------


def walk_password_provider() -> Walk:
    address = "taro@mailbox.org"
    walk = until_app(address, catalog_result(address, "mailboxorg"))
    walk.answer(AppChosen(MailApp.THUNDERBIRD))
    assert sign_in_kind(walk.flow.state) is SignInKind.PASSWORD
    walk.answer(SignInAnswer(SignInKind.PASSWORD, SECRET))
    walk.answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


def walk_icloud_classic() -> Walk:
    address = "taro@icloud.com"
    walk = until_app(address, catalog_result(address, "icloud"))
    walk.answer(AppChosen(MailApp.CLASSIC_OUTLOOK))
    answer = SignInAnswer(SignInKind.ICLOUD_APP_PASSWORD, SECRET, apple_account="taro@me.com")
    walk.answer(answer).answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


def walk_icloud_new_outlook() -> Walk:
    address = "taro@icloud.com"
    walk = until_app(address, catalog_result(address, "icloud"))
    walk.answer(AppChosen(MailApp.NEW_OUTLOOK)).answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


def walk_m365(app: MailApp) -> Walk:
    address = "taro@contoso.onmicrosoft.com"
    walk = until_app(address, catalog_result(address, "microsoft365"))
    walk.answer(AppChosen(app))
    if walk.flow.step is Step.SIGN_IN:
        walk.answer(SignInAnswer(SignInKind.MICROSOFT, signed_in_as=address))
    walk.answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


def walk_hybrid() -> Walk:
    address = "taro@corp.test"
    walk = until_app(address, hybrid_result(address))
    walk.answer(AppChosen(MailApp.CLASSIC_OUTLOOK))
    walk.answer(SignInAnswer(SignInKind.MICROSOFT, signed_in_as=address))
    walk.answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


def walk_nothing_found() -> Walk:
    address = "taro@example.test"
    walk = until_app(address, empty_result(address))
    walk.answer(ManualEntered(MANUAL)).answer(AppChosen(MailApp.OTHER))
    walk.answer(SignInAnswer(SignInKind.PASSWORD, SECRET))
    walk.answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


def walk_edit_manually() -> Walk:
    address = "taro@mailbox.org"
    walk = start().answer(AddressEntered(address))
    walk.answer(DetectionDone(catalog_result(address, "mailboxorg"), FindingAction.EDIT))
    return walk


def walk_typo() -> Walk:
    walk = start().answer(AddressEntered("taro@icloud.cm"))
    walk.answer(
        DetectionDone(
            empty_result("taro@icloud.cm", "taro@icloud.com"), FindingAction.USE_SUGGESTION
        )
    )
    walk.answer(DetectionDone(catalog_result("taro@icloud.com", "icloud")))
    return walk


def walk_blocked() -> Walk:
    context = FlowContext(
        providers=ProvidersSettings(allowed=("microsoft365",)),
        support=SupportSettings(name="IT", email="it@corp.test"),
    )
    return until_app("taro@icloud.com", catalog_result("taro@icloud.com", "icloud"), context)


def walk_troubleshoot() -> Walk:
    return start().answer(TroubleshootChosen())


def walk_settings() -> Walk:
    return start().answer(SettingsChosen()).answer(SettingsClosed("ja"))


def walk_check_failed() -> Walk:
    address = "taro@mailbox.org"
    walk = until_app(address, catalog_result(address, "mailboxorg"))
    walk.answer(AppChosen(MailApp.THUNDERBIRD))
    walk.answer(SignInAnswer(SignInKind.PASSWORD, SECRET))
    walk.answer(CheckingDone(verified(address, ok=False), CheckAction.TRY_AGAIN))
    walk.answer(CheckingDone(verified(address, ok=False), CheckAction.SIGN_IN_AGAIN))
    walk.answer(SignInAnswer(SignInKind.PASSWORD, SecretRef("window-secret-2")))
    walk.answer(CheckingDone(verified(address, ok=False), CheckAction.CHANGE_SETTINGS))
    fields = replace(walk.flow.state.manual or ServerFields(), incoming_port="143")
    walk.answer(ManualEntered(replace(fields, incoming_security="starttls")))
    walk.answer(SignInAnswer(SignInKind.PASSWORD, SECRET))
    walk.answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


def walk_change_settings_new_outlook() -> Walk:
    """New Outlook signs in to iCloud by itself: after changing settings, straight to checking."""
    address = "taro@icloud.com"
    walk = until_app(address, catalog_result(address, "icloud"))
    walk.answer(AppChosen(MailApp.NEW_OUTLOOK))
    walk.answer(CheckingDone(verified(address, ok=False), CheckAction.CHANGE_SETTINGS))
    assert walk.flow.state.manual is not None
    walk.answer(ManualEntered(walk.flow.state.manual))
    walk.answer(CheckingDone(verified(address)))
    return walk.answer(SaveDone(address))


WALKS: dict[str, Callable[[], Walk]] = {
    "password-provider": walk_password_provider,
    "icloud-classic-outlook": walk_icloud_classic,
    "icloud-new-outlook": walk_icloud_new_outlook,
    "m365-thunderbird": lambda: walk_m365(MailApp.THUNDERBIRD),
    "m365-new-outlook": lambda: walk_m365(MailApp.NEW_OUTLOOK),
    "m365-classic-outlook": lambda: walk_m365(MailApp.CLASSIC_OUTLOOK),
    "hybrid": walk_hybrid,
    "nothing-found": walk_nothing_found,
    "edit-manually": walk_edit_manually,
    "typo": walk_typo,
    "blocked": walk_blocked,
    "troubleshoot": walk_troubleshoot,
    "settings": walk_settings,
    "check-failed": walk_check_failed,
    "change-settings-new-outlook": walk_change_settings_new_outlook,
}

W, S, F, M, B, A = (
    Step.WELCOME,
    Step.SETTINGS,
    Step.FINDING,
    Step.MANUAL,
    Step.BLOCKED,
    Step.CHOOSE_APP,
)
I, C, V, D, T = Step.SIGN_IN, Step.CHECKING, Step.SAVE, Step.DONE, Step.TROUBLESHOOT  # noqa: E741

EXPECTED_STEPS: dict[str, list[Step]] = {
    "password-provider": [W, F, A, I, C, V, D],
    "icloud-classic-outlook": [W, F, A, I, C, V, D],
    "icloud-new-outlook": [W, F, A, C, V, D],
    "m365-thunderbird": [W, F, A, I, C, V, D],
    "m365-new-outlook": [W, F, A, C, V, D],
    "m365-classic-outlook": [W, F, A, I, C, V, D],
    "hybrid": [W, F, A, I, C, V, D],
    "nothing-found": [W, F, M, A, I, C, V, D],
    "edit-manually": [W, F, M],
    "typo": [W, F, F, A],
    "blocked": [W, F, B],
    "troubleshoot": [W, T],
    "settings": [W, S, W],
    "check-failed": [W, F, A, I, C, C, I, C, M, I, C, V, D],
    "change-settings-new-outlook": [W, F, A, C, M, C, V, D],
}


@pytest.mark.parametrize("name", sorted(WALKS))
def test_each_path_visits_the_expected_pages(name: str) -> None:
    assert WALKS[name]().steps == EXPECTED_STEPS[name]


def test_password_provider_keeps_a_reference_never_the_secret() -> None:
    state = walk_password_provider().flow.state
    assert state.step is Step.DONE and state.saved_as == "taro@mailbox.org"
    assert state.display_name == "Taro Yamada"
    assert state.config is not None and state.config.provider_id == "mailboxorg"
    assert state.sign_in == SignInAnswer(SignInKind.PASSWORD, SECRET)
    assert state.verify is not None and state.verify.ok
    assert walk_password_provider().flow.is_finished


def test_icloud_with_classic_outlook_needs_an_app_password() -> None:
    walk = walk_icloud_classic()
    at_app = walk.flows[3].state  # the sign-in page
    assert at_app.step is Step.SIGN_IN
    assert sign_in_kind(at_app) is SignInKind.ICLOUD_APP_PASSWORD
    keys = [t.key for t in advice(at_app)]
    assert keys == ["flow.advice.icloud-app-password", "flow.advice.icloud-for-windows"]
    assert walk.flow.state.sign_in is not None
    assert walk.flow.state.sign_in.apple_account == "taro@me.com"


def test_icloud_with_new_outlook_checks_without_credentials_and_suggests_revoking() -> None:
    walk = walk_icloud_new_outlook()
    checking = walk.flows[3].state
    assert checking.step is Step.CHECKING
    assert sign_in_kind(checking) is None and checking.sign_in is None
    keys = [t.key for t in advice(walk.flow.state)]
    assert keys == ["flow.advice.new-outlook-icloud", "flow.advice.revoke-app-passwords"]


@pytest.mark.parametrize(
    ("app", "kind", "advice_keys"),
    [
        (MailApp.THUNDERBIRD, SignInKind.MICROSOFT, []),
        (MailApp.NEW_OUTLOOK, None, ["flow.advice.new-outlook-microsoft"]),
        (MailApp.CLASSIC_OUTLOOK, SignInKind.MICROSOFT, ["flow.advice.outlook-exchange-account"]),
    ],
)
def test_microsoft_365_by_app(
    app: MailApp, kind: SignInKind | None, advice_keys: list[str]
) -> None:
    state = walk_m365(app).flows[3].state
    assert sign_in_kind(state) is kind
    assert [t.key for t in advice(state)] == advice_keys


def test_hybrid_exchange_advises_outlook_with_an_exchange_account() -> None:
    walk = walk_hybrid()
    finding_done = walk.flows[2].state  # choose app, before an app is chosen
    assert [t.key for t in advice(finding_done)] == [
        "flow.advice.hybrid-works",
        "flow.advice.hybrid-admin",
    ]
    with_outlook = walk.flows[3].state
    assert "flow.advice.outlook-exchange-account" in [t.key for t in advice(with_outlook)]
    assert sign_in_kind(with_outlook) is SignInKind.MICROSOFT


def test_nothing_found_leads_to_empty_manual_settings_and_a_manual_config() -> None:
    walk = walk_nothing_found()
    manual = walk.flows[2].state
    assert manual.step is Step.MANUAL and manual.manual == ServerFields()
    config = walk.flow.state.config
    assert config is not None and config.provenance.source == "manual"
    assert config.incoming.host == "mail.example.test"
    assert config.outgoing is not None and config.outgoing.security is Security.STARTTLS


def test_edit_manually_prefills_every_field_from_the_detected_settings() -> None:
    walk = walk_edit_manually()
    state = walk.flow.state
    best = catalog_result("taro@mailbox.org", "mailboxorg").best
    assert state.manual == fields_from_config(best)
    assert state.manual is not None and state.manual.incoming_host == "imap.mailbox.org"


def test_accepting_a_typo_suggestion_detects_again_for_the_corrected_address() -> None:
    walk = walk_typo()
    assert str(walk.flows[2].state.address) == "taro@icloud.com"
    assert walk.flows[2].state.detection is None
    # The corrected search replaced the page: Back leads to the address as typed.
    back = walk.flows[2].back()
    assert back.step is Step.WELCOME
    assert back.state.answer == AddressEntered("taro@icloud.cm")


def test_a_provider_the_organisation_does_not_allow_is_blocked() -> None:
    walk = walk_blocked()
    assert walk.flow.step is Step.BLOCKED and walk.flow.is_finished
    assert walk.flow.state.context.support.email == "it@corp.test"
    assert walk.flow.back().step is Step.FINDING  # a way back to another address


def test_manual_settings_for_an_unlisted_provider_can_be_blocked_too() -> None:
    context = FlowContext(providers=ProvidersSettings(allowed=("icloud",)))
    walk = until_app("taro@example.test", empty_result("taro@example.test"), context)
    assert walk.flow.step is Step.BLOCKED  # "other" is not allowed, even before manual entry


def test_troubleshoot_hands_over_and_ends_the_wizard() -> None:
    flow = walk_troubleshoot().flow
    assert flow.step is Step.TROUBLESHOOT and flow.is_finished
    with pytest.raises(WrongAnswer):
        flow.advance(AddressEntered("taro@example.test"))


def test_settings_change_the_language_and_return_to_the_welcome_page() -> None:
    flow = walk_settings().flow
    assert flow.step is Step.WELCOME and flow.state.language == "ja"


def test_failed_check_can_be_retried_signed_in_again_or_changed() -> None:
    walk = walk_check_failed()
    retried = walk.flows[5]
    assert retried.step is Step.CHECKING and retried.state.verify is None
    assert retried.history == walk.flows[4].history  # "try again" adds no page
    changed = walk.flows[8]
    assert changed.step is Step.MANUAL
    assert changed.state.manual == fields_from_config(walk.flows[2].state.config)
    # The app is known: after the change, straight to signing in again.
    assert walk.flows[9].step is Step.SIGN_IN
    config = walk.flow.state.config
    assert config is not None and config.incoming.port == 143
    assert config.provider_id == "mailboxorg"  # still the same provider


def test_continuing_after_a_failed_check_is_refused() -> None:
    walk = walk_check_failed()
    at_checking = walk.flows[4]
    with pytest.raises(InvalidAnswer) as caught:
        at_checking.advance(CheckingDone(verified("taro@mailbox.org", ok=False)))
    assert [p.text.key for p in caught.value.problems] == ["flow.problem.check-failed"]


def test_sign_in_again_is_refused_when_the_app_signs_in_by_itself() -> None:
    checking = walk_icloud_new_outlook().flows[3]
    answer = CheckingDone(verified("taro@icloud.com", ok=False), CheckAction.SIGN_IN_AGAIN)
    assert [p.text.key for p in validate(checking.state, answer)] == ["flow.problem.no-sign-in"]


# --- Back ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WALKS))
def test_back_at_every_step_returns_the_previous_state_with_the_input_kept(name: str) -> None:
    walk = WALKS[name]()
    flow = walk.flow
    while flow.can_go_back:
        before = flow
        flow = flow.back()
        assert flow.history == before.history[:-1]
        assert flow.state == before.history[-1]
    assert flow.step is Step.WELCOME and not flow.history
    # Every page left by an answer comes back exactly, with that answer to show again.
    for index, page in enumerate(walk.flows[:-1]):
        following = walk.flows[index + 1]
        if following.history != page.history:
            assert following.back().state == replace(page.state, answer=walk.answers[index])


def test_back_on_the_first_page_is_refused() -> None:
    with pytest.raises(ValueError, match="no page before"):
        Flow.start().back()


def test_the_address_page_reached_by_back_shows_what_was_typed() -> None:
    walk = walk_password_provider()
    welcome = walk.flows[1].back().state
    assert welcome.step is Step.WELCOME
    assert welcome.answer == AddressEntered("taro@mailbox.org", "Taro Yamada")


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｔｅｓｔ", None),
        ("taro@example.test", None),
        ("taro.example.test", "address.no-at"),
        ("", "address.empty"),
        ("taro@@example.test", "address.multiple-at"),
    ],
)
def test_address_validation(typed: str, problem: str | None) -> None:
    problems = validate(WizardState(), AddressEntered(typed))
    assert [p.text.key for p in problems] == ([] if problem is None else [problem])


def test_full_width_address_is_accepted_and_normalised() -> None:
    flow = Flow.start().advance(AddressEntered("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｔｅｓｔ"))
    assert str(flow.state.address) == "taro@example.test"


@pytest.mark.parametrize(
    ("name", "key"),
    [("Taro\nYamada", "flow.problem.name-characters"), ("x" * 101, "flow.problem.name-long")],
)
def test_display_name_validation(name: str, key: str) -> None:
    problems = validate(WizardState(), AddressEntered("taro@example.test", name))
    assert [(p.field, p.text.key) for p in problems] == [("display_name", key)]


def test_an_invalid_answer_does_not_move_and_says_why() -> None:
    flow = Flow.start()
    with pytest.raises(InvalidAnswer) as caught:
        flow.advance(AddressEntered("taro"))
    assert caught.value.problems[0].field == "address"


def test_a_result_for_another_address_is_refused() -> None:
    finding = start().answer(AddressEntered("taro@example.test")).flow
    answer = DetectionDone(empty_result("hanako@example.test"))
    assert [p.text.key for p in validate(finding.state, answer)] == ["flow.problem.stale-result"]


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (
            DetectionDone(empty_result("taro@example.test"), FindingAction.USE_SUGGESTION),
            "flow.problem.no-suggestion",
        ),
        (
            DetectionDone(catalog_result("taro@example.test", "mailboxorg"), candidate=9),
            "flow.problem.candidate",
        ),
    ],
)
def test_finding_answer_validation(answer: DetectionDone, key: str) -> None:
    finding = start().answer(AddressEntered("taro@example.test")).flow
    assert [p.text.key for p in validate(finding.state, answer)] == [key]


@pytest.mark.parametrize(
    ("change", "field_name", "key", "blocking"),
    [
        ({"incoming_port": "abc"}, "incoming.port", "flow.problem.port-number", True),
        ({"incoming_port": "70000"}, "incoming.port", "setting.port-range", True),
        ({"outgoing_port": "0"}, "outgoing.port", "setting.port-range", True),
        ({"incoming_host": ""}, "incoming.host", "setting.host-empty", True),
        ({"incoming_host": "bad host!"}, "incoming.host", "setting.host-invalid", True),
        (
            {"incoming_protocol": "smtp"},
            "incoming.protocol",
            "flow.problem.incoming-protocol",
            True,
        ),
        ({"incoming_security": "ssl3"}, "incoming.security", "flow.problem.security", True),
        ({"auth": "magic"}, "auth", "flow.problem.auth", True),
        ({"caldav": "ftp://dav.example.test"}, "caldav", "setting.url-invalid", True),
        ({"incoming_security": "plain"}, "incoming.security", "flow.problem.unencrypted", False),
        ({"outgoing_host": ""}, "outgoing.host", "flow.problem.no-outgoing", False),
    ],
)
def test_manual_settings_validation(
    change: dict[str, str], field_name: str, key: str, blocking: bool
) -> None:
    fields = replace(MANUAL, **change)
    _config, problems = build_config(fields)
    assert [(p.field, p.text.key, p.blocking) for p in problems] == [(field_name, key, blocking)]
    manual = walk_edit_manually().flow
    if blocking:
        with pytest.raises(InvalidAnswer):
            manual.advance(ManualEntered(fields))
    else:
        assert manual.advance(ManualEntered(fields)).step is Step.CHOOSE_APP


def test_full_width_port_digits_are_accepted() -> None:
    config, problems = build_config(replace(MANUAL, incoming_port="９９３"))
    assert problems == () and config is not None and config.incoming.port == 993


@pytest.mark.parametrize("provider", ["mailboxorg", "icloud", "microsoft365"])
def test_fields_round_trip_through_the_manual_page(provider: str) -> None:
    original = catalog_result("taro@example.test", provider).best
    assert original is not None
    config, problems = build_config(fields_from_config(original), original)
    assert not [p for p in problems if p.blocking]
    assert config is not None and config.provenance.source == "manual"
    assert replace(config, provenance=original.provenance) == original


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (SignInAnswer(SignInKind.PASSWORD), "flow.problem.no-secret"),
        (
            SignInAnswer(SignInKind.MICROSOFT, signed_in_as="x@example.test"),
            "flow.problem.sign-in-kind",
        ),
        (
            SignInAnswer(SignInKind.PASSWORD, SECRET, apple_account="not an address"),
            "address.spaces",
        ),
    ],
)
def test_sign_in_validation(answer: SignInAnswer, key: str) -> None:
    sign_in = walk_password_provider().flows[3]
    assert sign_in.step is Step.SIGN_IN
    assert [p.text.key for p in validate(sign_in.state, answer)] == [key]


def test_microsoft_sign_in_must_have_happened() -> None:
    sign_in = walk_m365(MailApp.THUNDERBIRD).flows[3]
    problems = validate(sign_in.state, SignInAnswer(SignInKind.MICROSOFT))
    assert [p.text.key for p in problems] == ["flow.problem.not-signed-in"]


@pytest.mark.parametrize(
    ("pasted", "warned"),
    [
        ("abcd-efgh-ijkl-mnop", False),
        ("  abcd-efgh-ijkl-mnop \n", False),
        ("MyApplePassword1!", True),
        ("abcdefghijklmnop", True),
        ("", False),
    ],
)
def test_app_password_shape_warns_without_blocking(pasted: str, warned: bool) -> None:
    problems = app_password_warnings(pasted)
    assert bool(problems) is warned
    assert all(not p.blocking for p in problems)


def test_save_needs_an_account() -> None:
    save = walk_password_provider().flows[5]
    assert save.step is Step.SAVE
    with pytest.raises(InvalidAnswer):
        save.advance(SaveDone(""))


def test_a_step_refuses_answers_it_does_not_take() -> None:
    with pytest.raises(WrongAnswer):
        Flow.start().advance(AppChosen(MailApp.OTHER))


# --- choosing the app ---------------------------------------------------------------------------


BOTH_OUTLOOKS = frozenset({MailApp.NEW_OUTLOOK, MailApp.CLASSIC_OUTLOOK})


@pytest.mark.parametrize(
    ("platform", "installed", "default", "provider", "expected"),
    [
        (Platform.WINDOWS, frozenset(), None, None, MailApp.OTHER),
        (
            Platform.WINDOWS,
            frozenset({MailApp.THUNDERBIRD, MailApp.CLASSIC_OUTLOOK}),
            None,
            None,
            MailApp.CLASSIC_OUTLOOK,
        ),
        # new Outlook first only for a provider it signs in to by itself (no app password)
        (Platform.WINDOWS, BOTH_OUTLOOKS, None, None, MailApp.CLASSIC_OUTLOOK),
        (Platform.WINDOWS, BOTH_OUTLOOKS, None, "mailboxorg", MailApp.CLASSIC_OUTLOOK),
        (Platform.WINDOWS, BOTH_OUTLOOKS, None, "icloud", MailApp.NEW_OUTLOOK),
        (Platform.WINDOWS, BOTH_OUTLOOKS, None, "microsoft365", MailApp.NEW_OUTLOOK),
        (
            Platform.WINDOWS,
            frozenset({MailApp.NEW_OUTLOOK}),
            "thunderbird",
            None,
            MailApp.THUNDERBIRD,
        ),
        (Platform.MACOS, frozenset({MailApp.APPLE_MAIL}), None, None, MailApp.APPLE_MAIL),
        (Platform.WINDOWS, frozenset({MailApp.APPLE_MAIL}), "apple-mail", None, MailApp.OTHER),
    ],
)
def test_preselected_app(
    platform: Platform,
    installed: frozenset[MailApp],
    default: str | None,
    provider: str | None,
    expected: MailApp,
) -> None:
    context = FlowContext(
        platform=platform,
        installed=installed,
        organisation=OrganisationSettings(default_app=default),  # type: ignore[arg-type]
    )
    state = WizardState(context=context)
    if provider is not None:
        address = "taro@example.test"
        result = catalog_result(address, provider)
        state = replace(state, detection=result, config=result.best)
    assert preselected_app(state) is expected


def test_the_app_chosen_before_stays_preselected() -> None:
    state = WizardState(
        app=MailApp.THUNDERBIRD, context=FlowContext(installed=frozenset({MailApp.NEW_OUTLOOK}))
    )
    assert preselected_app(state) is MailApp.THUNDERBIRD


@pytest.mark.parametrize("platform", list(Platform))
def test_apple_mail_is_offered_on_macos_only(platform: Platform) -> None:
    assert (MailApp.APPLE_MAIL in offered_apps(platform)) is (platform is Platform.MACOS)
    choose = until_app(
        "taro@mailbox.org",
        catalog_result("taro@mailbox.org", "mailboxorg"),
        FlowContext(platform=platform),
    ).flow
    problems = validate(choose.state, AppChosen(MailApp.APPLE_MAIL))
    assert bool(problems) is (platform is not Platform.MACOS)


# --- the navmap itself --------------------------------------------------------------------------


def test_every_step_is_declared_and_reachable() -> None:
    assert set(STEPS) == set(Step)
    seen, todo = {Step.WELCOME}, [Step.WELCOME]
    while todo:
        for target in STEPS[todo.pop()].targets:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(Step)


@pytest.mark.parametrize("step", list(Step))
def test_every_step_has_a_way_forward_or_is_terminal(step: Step) -> None:
    spec = STEPS[step]
    if spec.terminal:
        assert not spec.answers and not spec.targets
    else:
        assert spec.answers and spec.targets and spec.route is not None
    assert render(spec.title, "en") and render(spec.title, "ja")


def test_the_walks_take_every_declared_transition_and_only_those() -> None:
    taken: set[tuple[Step, Step]] = set()
    for make in WALKS.values():
        steps = make().steps
        taken.update(itertools.pairwise(steps))
    declared = {(step, target) for step, spec in STEPS.items() for target in spec.targets}
    assert taken <= declared
    assert taken == declared


def test_every_flow_text_renders_in_both_languages() -> None:
    texts: list[Text] = []
    for make in WALKS.values():
        for flow in make().flows:
            texts.extend(advice(flow.state))
    texts.append(app_password_warnings("nope")[0].text)
    for text in texts:
        for language in ("en", "ja"):
            assert render(text, language, strict=True)  # type: ignore[arg-type]
