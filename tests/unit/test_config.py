"""The configuration layers, their precedence, locks, warnings and errors (app/core/config/)."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from app.core.config import (
    DEFAULT_PRODUCT_NAME,
    DEFAULT_REDIRECT_URI,
    DEFAULT_SCOPES,
    ENV_VAR,
    OTHER_PROVIDER,
    SCHEMA_VERSION,
    SETTINGS,
    BrandingSettings,
    Config,
    ConfigWarning,
    LayerKind,
    LockedKeyError,
    MicrosoftSettings,
    NetworkSettings,
    OrganisationSettings,
    ProvidersSettings,
    SupportSettings,
    admin_consent_url,
    host_matches,
    load_config,
    machine_config_paths,
    paths,
    publisher_toml,
    user_config_path,
)
from app.core.errors import ConfigError, InvalidSettingError
from app.core.net import NetworkOptions
from app.core.net.options import DEFAULT_ISPDB_URL
from app.core.resources import resource_path
from app.core.texts import Text
from tests.world.ca import TestCA

ROOT = Path(__file__).resolve().parents[2]
CLIENT_A = "11111111-1111-4111-8111-111111111111"
CLIENT_B = "22222222-2222-4222-8222-222222222222"
CLIENT_C = "33333333-3333-4333-8333-333333333333"
CLIENT_D = "44444444-4444-4444-8444-444444444444"
FIXTURES = ROOT / "tests" / "fixtures" / "policies"
LOGO_PNG = (FIXTURES / "logo.png").read_bytes()
LOGO_SVG = (FIXTURES / "logo.svg").read_bytes()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class Files:
    """Layer files in a temporary folder; ``load()`` reads them and nothing else."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.publisher = root / "build" / "publisher.toml"
        self.user = root / "home" / "MailSetup" / "config.toml"
        self.env = root / "deploy" / "config.toml"
        self.machine = root / "machine" / "config.toml"
        self.env_set = False

    def write(self, layer: str, text: str) -> Path:
        if layer == "env":
            self.env_set = True
        return write(getattr(self, layer), text)

    def load(self) -> Config:
        environ = {ENV_VAR: str(self.env)} if self.env_set else {}
        return load_config(
            environ=environ,
            machine_paths=[self.machine],
            user_path=self.user,
            publisher_path=self.publisher,
        )


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


def reason_key(error: ConfigError) -> str:
    reason = error.message.params["reason"]
    assert isinstance(reason, Text)
    return reason.key


def assert_names(error: ConfigError, file: Path, key: str) -> None:
    """The error names the file and the key, in its message and its detail."""
    text = str(error)
    assert str(file) in text
    assert key in text
    assert error.detail["file"] == str(file)
    assert error.detail["key"] == key
    assert error.render("ja")  # renders in Japanese too, without a missing text


# --- defaults ------------------------------------------------------------------------------------


def test_defaults_alone_give_the_documented_settings(files: Files) -> None:
    config = files.load()
    assert config.microsoft == MicrosoftSettings()
    assert config.microsoft.client_id is None
    assert config.microsoft.redirect_uri == DEFAULT_REDIRECT_URI
    assert config.microsoft.scopes == DEFAULT_SCOPES
    assert config.microsoft.account_types == "organizations"
    assert config.network == NetworkSettings()
    assert config.schema_version == SCHEMA_VERSION
    assert config.warnings == ()
    assert config.locked == frozenset()
    assert [s.kind for s in config.sources] == [LayerKind.DEFAULTS]


def test_the_defaults_file_sets_every_key_and_nothing_else() -> None:
    with resource_path("config", "defaults.toml").open("rb") as handle:
        data = tomllib.load(handle)
    keys = {
        f"{name}.{sub}" if isinstance(value, dict) else name
        for name, value in data.items()
        for sub in (value if isinstance(value, dict) else [None])
    }
    assert keys == set(SETTINGS)


def test_the_shipped_publisher_file_has_no_client_id_and_is_what_the_build_writes() -> None:
    shipped = resource_path("config", "publisher.toml")
    assert shipped.read_text(encoding="utf-8") == publisher_toml()
    config = load_config(environ={}, machine_paths=[], user_path=Path("/nonexistent/x.toml"))
    assert config.microsoft.client_id is None
    assert [s.kind for s in config.sources] == [LayerKind.DEFAULTS, LayerKind.PUBLISHER]
    assert config.warnings == ()


def test_every_key_is_documented_in_the_admin_guide() -> None:
    guide = (ROOT / "docs" / "admin-guide.md").read_text(encoding="utf-8")
    for key in SETTINGS:
        assert f"`{key}`" in guide, key


# --- layers and precedence -----------------------------------------------------------------------

LAYERS = ("publisher", "user", "env", "machine")


@pytest.mark.parametrize("top", range(len(LAYERS)))
def test_each_layer_wins_over_the_ones_below(files: Files, top: int) -> None:
    ids = (CLIENT_A, CLIENT_B, CLIENT_C, CLIENT_D)
    for index in range(top + 1):
        files.write(LAYERS[index], f'[microsoft]\nclient_id = "{ids[index]}"\n')
    config = files.load()
    assert config.microsoft.client_id == ids[top]
    expected_kind = (
        LayerKind.PUBLISHER,
        LayerKind.USER,
        LayerKind.ENVIRONMENT,
        LayerKind.MACHINE,
    )[top]
    assert config.origin("microsoft.client_id").kind is expected_kind
    assert [s.kind for s in config.sources] == [
        LayerKind.DEFAULTS,
        LayerKind.PUBLISHER,
        LayerKind.USER,
        LayerKind.ENVIRONMENT,
        LayerKind.MACHINE,
    ][: top + 2]


def test_layers_merge_key_by_key(files: Files) -> None:
    files.write("publisher", f'[microsoft]\nclient_id = "{CLIENT_A}"\n')
    files.write("user", '[microsoft]\nallowed_hosts = ["sso.corp.test"]\n')
    files.write("env", '[microsoft]\ntenant = "corp.test"\naccount_types = "single-tenant"\n')
    files.write("machine", '[microsoft]\nredirect_uri = "http://localhost"\n')
    ms = files.load().microsoft
    assert ms == MicrosoftSettings(
        client_id=CLIENT_A,
        account_types="single-tenant",
        redirect_uri="http://localhost",
        allowed_hosts=("sso.corp.test",),
        tenant="corp.test",
    )


def test_an_empty_client_id_in_a_later_layer_means_none(files: Files) -> None:
    files.write("publisher", f'[microsoft]\nclient_id = "{CLIENT_A}"\n')
    files.write("user", '[microsoft]\nclient_id = ""\n')
    assert files.load().microsoft.client_id is None


def test_missing_files_are_fine(tmp_path: Path) -> None:
    config = load_config(
        environ={},
        machine_paths=[tmp_path / "no" / "machine.toml"],
        user_path=tmp_path / "no" / "user.toml",
        publisher_path=tmp_path / "no" / "publisher.toml",
    )
    assert config.microsoft == MicrosoftSettings()
    assert [s.kind for s in config.sources] == [LayerKind.DEFAULTS]


def test_the_user_file_is_found_in_the_platform_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_config_path() == tmp_path / "xdg" / "MailSetup" / "config.toml"
    write(user_config_path(), f'[microsoft]\nclient_id = "{CLIENT_B}"\n')
    config = load_config(environ={}, machine_paths=[])
    assert config.microsoft.client_id == CLIENT_B
    assert config.origin("microsoft.client_id").path == user_config_path()


def test_the_machine_file_is_found_at_the_platform_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = write(tmp_path / "etc" / "config.toml", f'[microsoft]\nclient_id = "{CLIENT_C}"\n')
    seen: list[object] = []

    def fake_paths(platform: str | None = None, environ: object = None) -> tuple[Path, ...]:
        seen.append(environ)
        return (machine,)

    monkeypatch.setattr(paths, "machine_config_paths", fake_paths)
    environ = {"ProgramData": "X"}
    config = load_config(environ=environ, user_path=tmp_path / "none.toml")
    assert config.microsoft.client_id == CLIENT_C
    assert config.origin("microsoft.client_id").kind is LayerKind.MACHINE
    assert seen == [environ]


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("win32", {"ProgramData": r"D:\ProgramData"}, r"D:\ProgramData\MailSetup\config.toml"),
        ("win32", {}, r"C:\ProgramData\MailSetup\config.toml"),
        ("darwin", {}, "/Library/Application Support/MailSetup/config.toml"),
        ("linux", {}, "/etc/mailsetup/config.toml"),
        ("freebsd14", {}, "/etc/mailsetup/config.toml"),
    ],
)
def test_machine_paths_per_platform(platform: str, environ: dict[str, str], expected: str) -> None:
    assert [str(p) for p in machine_config_paths(platform, environ)] == [expected]


def test_several_machine_files_apply_in_order(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.toml",
        f'locked = ["microsoft.tenant"]\n[microsoft]\nclient_id = "{CLIENT_A}"\n',
    )
    second = write(tmp_path / "b.toml", f'[microsoft]\nclient_id = "{CLIENT_B}"\n')
    config = load_config(environ={}, machine_paths=[first, second], user_path=tmp_path / "u")
    assert config.microsoft.client_id == CLIENT_B
    assert config.is_locked("microsoft.tenant")


def test_a_relative_mailsetup_config_is_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "here" / "test.toml", f'[microsoft]\nclient_id = "{CLIENT_D}"\n')
    monkeypatch.chdir(tmp_path / "here")
    config = load_config(
        environ={ENV_VAR: "test.toml"}, machine_paths=[], user_path=tmp_path / "u.toml"
    )
    assert config.microsoft.client_id == CLIENT_D
    assert config.origin("microsoft.client_id").path == tmp_path / "here" / "test.toml"


def test_mailsetup_config_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(environ={ENV_VAR: str(missing)}, machine_paths=[], user_path=tmp_path / "u")
    assert caught.value.code == "config.missing"
    assert str(missing) in str(caught.value)
    assert ENV_VAR in str(caught.value)


def test_an_empty_mailsetup_config_is_ignored(tmp_path: Path) -> None:
    config = load_config(environ={ENV_VAR: "  "}, machine_paths=[], user_path=tmp_path / "u")
    assert [s.kind for s in config.sources] == [LayerKind.DEFAULTS, LayerKind.PUBLISHER]


# --- locked keys ---------------------------------------------------------------------------------


def test_a_locked_key_keeps_the_machine_value(files: Files) -> None:
    files.write("user", f'[microsoft]\nclient_id = "{CLIENT_A}"\ntenant = "user.test"\n')
    files.write("env", f'[microsoft]\nclient_id = "{CLIENT_B}"\n')
    files.write(
        "machine", f'locked = ["microsoft.client_id"]\n[microsoft]\nclient_id = "{CLIENT_D}"\n'
    )
    config = files.load()
    assert config.microsoft.client_id == CLIENT_D
    assert config.microsoft.tenant == "user.test"  # not locked: the user's value stands
    assert config.locked == frozenset({"microsoft.client_id"})
    assert config.is_locked("microsoft.client_id")
    assert not config.is_locked("microsoft.tenant")
    assert config.locked_by("microsoft.client_id") is not None
    ignored = [w for w in config.warnings if w.code == "config.locked-ignored"]
    assert {(w.key, w.source) for w in ignored} == {
        ("microsoft.client_id", str(files.user)),
        ("microsoft.client_id", str(files.env)),
    }
    assert all(str(files.machine) in str(w) for w in ignored)


def test_a_locked_key_the_machine_file_does_not_set_keeps_the_publisher_value(
    files: Files,
) -> None:
    files.write("publisher", f'[microsoft]\nclient_id = "{CLIENT_A}"\n')
    # the user's value is ignored, even a bad one
    files.write("user", '[microsoft]\nclient_id = "not-a-guid"\n')
    files.write("machine", 'locked = ["microsoft.client_id"]\n')
    config = files.load()
    assert config.microsoft.client_id == CLIENT_A
    assert config.origin("microsoft.client_id").kind is LayerKind.PUBLISHER


def test_locking_a_table_locks_every_key_in_it(files: Files) -> None:
    files.write("user", '[microsoft]\ntenant = "user.test"\n')
    files.write("machine", 'locked = ["microsoft"]\n')
    config = files.load()
    assert config.microsoft.tenant is None
    assert config.is_locked("microsoft.tenant")
    assert config.is_locked("microsoft.scopes")
    assert not config.is_locked("network.ca_bundle")


def test_override_refuses_a_locked_key(files: Files) -> None:
    files.write(
        "machine", f'locked = ["microsoft.client_id"]\n[microsoft]\nclient_id = "{CLIENT_D}"\n'
    )
    config = files.load()
    with pytest.raises(LockedKeyError) as caught:
        config.override("microsoft.client_id", CLIENT_A, source="--client-id")
    error = caught.value
    assert isinstance(error, ConfigError)
    assert error.code == "config.locked"
    assert error.key == "microsoft.client_id"
    assert "--client-id" in str(error)
    assert "microsoft.client_id" in str(error)
    assert str(files.machine) in str(error)
    assert config.microsoft.client_id == CLIENT_D


def test_override_changes_an_unlocked_key_and_leaves_the_original(files: Files) -> None:
    config = files.load()
    changed = config.override("microsoft.tenant", "corp.test", source="settings window")
    assert changed.microsoft.tenant == "corp.test"
    assert changed.origin("microsoft.tenant").kind is LayerKind.OVERRIDE
    assert changed.origin("microsoft.tenant").location == "settings window"
    assert config.microsoft.tenant is None


def test_override_checks_the_value_and_the_key(files: Files) -> None:
    config = files.load()
    with pytest.raises(ConfigError) as caught:
        config.override("microsoft.client_id", "nope", source="--client-id")
    assert reason_key(caught.value) == "config.client-id"
    assert "--client-id" in str(caught.value)
    assert "microsoft.client_id" in str(caught.value)
    with pytest.raises(ConfigError) as unknown:
        config.override("microsoft.clientid", CLIENT_A)
    assert unknown.value.code == "config.unknown-key"
    assert "microsoft.client_id" in str(unknown.value)  # did you mean


def test_override_of_account_types_is_checked_against_the_rest(files: Files) -> None:
    with pytest.raises(ConfigError) as caught:
        files.load().override("microsoft.account_types", "single-tenant", source="--accounts")
    assert reason_key(caught.value) == "config.single-tenant"
    assert "--accounts" in str(caught.value)


def test_locked_outside_the_machine_file_is_ignored_with_a_warning(files: Files) -> None:
    files.write("user", 'locked = ["microsoft.tenant"]\n')
    config = files.load()
    assert config.locked == frozenset()
    (warning,) = config.warnings
    assert warning.code == "config.locked-misplaced"
    assert warning.source == str(files.user)


def test_locked_must_be_a_list_of_names(files: Files) -> None:
    files.write("machine", 'locked = "microsoft.client_id"\n')
    with pytest.raises(ConfigError) as caught:
        files.load()
    assert_names(caught.value, files.machine, "locked")
    files.write("machine", "locked = [1]\n")
    with pytest.raises(ConfigError):
        files.load()


def test_an_unknown_locked_key_is_a_warning_with_a_suggestion(files: Files) -> None:
    files.write("machine", 'locked = ["microsoft.clientid"]\n')
    (warning,) = files.load().warnings
    assert warning.code == "config.locked-unknown"
    assert warning.suggestion == "microsoft.client_id"
    assert "Did you mean microsoft.client_id?" in str(warning)


# --- unknown keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        (
            f'[microsoft]\nclient_ide = "{CLIENT_A}"\n',
            "microsoft.client_ide",
            "microsoft.client_id",
        ),
        ('[microsoft]\nscope = ["x"]\n', "microsoft.scope", "microsoft.scopes"),
        ('[microsoft]\nca_bundle = ["x.pem"]\n', "microsoft.ca_bundle", "network.ca_bundle"),
        ('[microsft]\ntenant = "x"\n', "microsft", "microsoft"),
        ("schema_versoin = 1\n", "schema_versoin", "schema_version"),
        ("[network]\nproxy_url = 'x'\n", "network.proxy_url", None),
        ("[network]\nprox = 'x'\n", "network.prox", "network.proxy"),
        ("[branding]\nproduct = 'Contoso Mail'\n", "branding.product", None),
        ("[support]\nmail = 'it@corp.test'\n", "support.mail", "support.email"),
        ("[providers]\nallow = ['google']\n", "providers.allow", "providers.allowed"),
        ("[organization]\ndefault_app = 'other'\n", "organization", "organisation"),
        ("[microsoft.extra]\nx = 1\n", "microsoft.extra", None),
    ],
)
def test_an_unknown_key_is_a_warning_naming_key_and_file(
    files: Files, text: str, key: str, suggestion: str | None
) -> None:
    files.write("user", text)
    config = files.load()
    (warning,) = config.warnings
    assert warning.code == "config.unknown-key"
    assert warning.key == key
    assert warning.source == str(files.user)
    assert warning.suggestion == suggestion
    assert key in str(warning)
    assert str(files.user) in str(warning)
    assert ("Did you mean" in str(warning)) is (suggestion is not None)
    assert key in warning.render("ja")
    assert config.microsoft == MicrosoftSettings()  # nothing else changed


def test_known_keys_still_apply_beside_unknown_ones(files: Files) -> None:
    files.write("env", f'[microsoft]\nclient_id = "{CLIENT_A}"\nfuture_option = true\n')
    config = files.load()
    assert config.microsoft.client_id == CLIENT_A
    assert [w.key for w in config.warnings] == ["microsoft.future_option"]


def test_a_newer_schema_version_is_a_warning_not_a_failure(files: Files) -> None:
    files.write(
        "machine",
        f'schema_version = {SCHEMA_VERSION + 1}\n[microsoft]\nclient_id = "{CLIENT_A}"\n'
        "[support]\nemail = 'help@corp.test'\nchat = 'x'\n",
    )
    config = files.load()
    assert config.microsoft.client_id == CLIENT_A
    assert config.support.email == "help@corp.test"
    codes = [w.code for w in config.warnings]
    assert codes == ["config.newer-schema", "config.unknown-key"]
    assert str(files.machine) in str(config.warnings[0])
    assert str(SCHEMA_VERSION + 1) in str(config.warnings[0])


# --- bad values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[microsoft]\nclient_id = "my-app"\n', "microsoft.client_id", "config.client-id"),
        ("[microsoft]\nclient_id = 12\n", "microsoft.client_id", "config.type"),
        (
            '[microsoft]\nauthority = "http://login.microsoftonline.com/organizations"\n',
            "microsoft.authority",
            "config.authority.https",
        ),
        (
            '[microsoft]\nauthority = "https://login.microsoftonline.com"\n',
            "microsoft.authority",
            "config.authority.form",
        ),
        (
            '[microsoft]\nauthority = "organizations"\n',
            "microsoft.authority",
            "config.authority.form",
        ),
        ('[microsoft]\ntenant = "corp.test/x"\n', "microsoft.tenant", "config.tenant"),
        (
            '[microsoft]\naccount_types = "everyone"\n',
            "microsoft.account_types",
            "config.account-types",
        ),
        (
            '[microsoft]\nredirect_uri = "http://example.test/callback"\n',
            "microsoft.redirect_uri",
            "config.redirect-uri",
        ),
        (
            '[microsoft]\nredirect_uri = "myapp://auth"\n',
            "microsoft.redirect_uri",
            "config.redirect-uri",
        ),
        ("[microsoft]\nscopes = []\n", "microsoft.scopes", "config.scopes.empty"),
        ('[microsoft]\nscopes = "x"\n', "microsoft.scopes", "config.type"),
        ("[microsoft]\nscopes = [1]\n", "microsoft.scopes", "config.list-item"),
        (
            '[microsoft]\nscopes = ["offline_access"]\n',
            "microsoft.scopes",
            "config.scopes.reserved",
        ),
        (
            '[microsoft]\nscopes = ["https://outlook.office.com/SMTP.Send", '
            '"https://graph.microsoft.com/Mail.Read"]\n',
            "microsoft.scopes",
            "config.scopes.resources",
        ),
        ('[microsoft]\nallowed_hosts = ["sso corp"]\n', "microsoft.allowed_hosts", "config.host"),
        (
            '[microsoft]\nallowed_hosts = [""]\n',
            "microsoft.allowed_hosts",
            "config.list-empty-item",
        ),
        ('schema_version = "1"\n', "schema_version", "config.type"),
        ("schema_version = 0\n", "schema_version", "config.schema-version"),
        ("schema_version = true\n", "schema_version", "config.type"),
        ('microsoft = "x"\n', "microsoft", "config.type"),
        ('[network]\nca_bundle = ["missing.pem"]\n', "network.ca_bundle", "net.option.ca-bundle"),
        ("[network]\nca_bundle = 5\n", "network.ca_bundle", "config.type"),
        (
            '[microsoft]\naccount_types = "single-tenant"\n',
            "microsoft.account_types",
            "config.single-tenant",
        ),
    ],
)
@pytest.mark.parametrize("layer", ["user", "machine"])
def test_a_bad_value_is_an_error_naming_key_and_file(
    files: Files, layer: str, text: str, key: str, reason: str
) -> None:
    path = files.write(layer, text)
    with pytest.raises(ConfigError) as caught:
        files.load()
    assert reason_key(caught.value) == reason
    assert_names(caught.value, path, key)


def test_a_file_that_is_not_a_certificate_is_a_bad_ca_bundle(files: Files) -> None:
    write(files.user.parent / "junk.pem", "not a certificate\n")
    files.write("user", '[network]\nca_bundle = ["junk.pem"]\n')
    with pytest.raises(ConfigError) as caught:
        files.load()
    assert caught.value.code == "config.ca-bundle"
    assert_names(caught.value, files.user, "network.ca_bundle")
    assert caught.value.detail["path"] == str(files.user.parent / "junk.pem")


@pytest.mark.parametrize(
    "text",
    [
        '[microsoft]\nclient_secret = "abc~123"\n',
        '[microsoft]\nclient_secret = ""\n',
        '[microsoft.app]\nclient_secret = "abc"\n',
        '[microsoft]\nsecret = "abc"\n',
        'client_secret = "abc"\n',
    ],
)
def test_a_client_secret_is_rejected_with_an_explanation(files: Files, text: str) -> None:
    files.write("env", text)
    with pytest.raises(ConfigError) as caught:
        files.load()
    error = caught.value
    assert error.code == "config.client-secret"
    assert error.detail["file"] == str(files.env)
    assert "secret" in str(error.detail["key"])
    assert str(files.env) in str(error)
    assert "public client" in str(error)
    assert error.fix is not None
    assert "Allow public client flows" in error.fix.render("en")


def test_valid_values_are_normalised(files: Files) -> None:
    files.write(
        "user",
        "[microsoft]\n"
        f'client_id = "{CLIENT_A.upper()}"\n'
        'authority = "https://127.0.0.1:8443/4f3c9b1e-7d2a-4c5e-9b8f-1a2d3c4e5f60/"\n'
        'account_types = "Common"\n'
        'redirect_uri = "http://localhost"\n'
        'scopes = ["https://outlook.office.com/IMAP.AccessAsUser.All", '
        '"https://outlook.office.com/IMAP.AccessAsUser.All"]\n'
        'allowed_hosts = ["SSO.Corp.Test.", "*.okta.test", "bücher.test"]\n',
    )
    ms = files.load().microsoft
    assert ms.client_id == CLIENT_A
    assert ms.authority == "https://127.0.0.1:8443/4f3c9b1e-7d2a-4c5e-9b8f-1a2d3c4e5f60"
    assert ms.account_types == "common"
    assert ms.accepts_personal_accounts and ms.accepts_work_accounts
    assert ms.redirect_uri == "http://localhost"
    assert ms.scopes == ("https://outlook.office.com/IMAP.AccessAsUser.All",)
    assert ms.allowed_hosts == ("sso.corp.test", "*.okta.test", "xn--bcher-kva.test")


def test_host_matches() -> None:
    allowed = ("sso.corp.test", "*.okta.test")
    assert host_matches("SSO.corp.test", allowed)
    assert host_matches("corp.okta.test", allowed)
    assert host_matches("a.b.okta.test", allowed)
    assert not host_matches("okta.test", allowed)
    assert not host_matches("evilokta.test", allowed)
    assert not host_matches("corp.test", allowed)


# --- CA bundles ----------------------------------------------------------------------------------


def test_a_relative_ca_bundle_is_relative_to_its_file(
    files: Files, test_ca: TestCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = files.env.parent / "certs" / "corp.pem"
    write(bundle, test_ca.pem.decode("ascii"))
    files.write("env", '[network]\nca_bundle = ["certs/corp.pem"]\n')
    monkeypatch.chdir(files.root)  # not the file's folder: the path must not depend on it
    config = files.load()
    assert config.network.ca_bundle == (bundle,)


def test_a_single_ca_bundle_path_and_an_absolute_one(files: Files, test_ca: TestCA) -> None:
    files.write("machine", f'[network]\nca_bundle = "{test_ca.cert_path}"\n')
    assert files.load().network.ca_bundle == (test_ca.cert_path,)


def test_network_options_add_the_configured_bundles(
    files: Files, test_ca: TestCA, tmp_path: Path
) -> None:
    files.write("user", f'[network]\nca_bundle = ["{test_ca.cert_path}"]\n')
    config = files.load()
    cli_bundle = write(tmp_path / "cli.pem", test_ca.pem.decode("ascii"))
    base = NetworkOptions(ca_bundles=(cli_bundle,), timeout=3.0)
    merged = config.network_options(base)
    assert merged.ca_bundles == (cli_bundle, test_ca.cert_path)
    assert merged.timeout == 3.0
    assert config.network_options(merged).ca_bundles == merged.ca_bundles  # no duplicates
    assert files.load().network_options(NetworkOptions()) == NetworkOptions(
        ca_bundles=(test_ca.cert_path,)
    )


# --- files that cannot be read -------------------------------------------------------------------


def test_a_toml_syntax_error_names_the_file_and_line(files: Files) -> None:
    files.write("user", '[microsoft]\nclient_id = "x"\ntenant = \n')
    with pytest.raises(ConfigError) as caught:
        files.load()
    error = caught.value
    assert error.code == "config.syntax"
    assert error.detail["line"] == 3
    assert error.detail["file"] == str(files.user)
    assert str(files.user) in str(error)
    assert "line 3" in str(error)


def test_a_byte_order_mark_is_accepted(files: Files) -> None:
    files.user.parent.mkdir(parents=True)
    files.user.write_bytes('\ufeff[microsoft]\ntenant = "corp.test"\n'.encode())
    assert files.load().microsoft.tenant == "corp.test"


def test_a_file_that_is_not_utf8_is_an_error(files: Files) -> None:
    files.machine.parent.mkdir(parents=True)
    files.machine.write_bytes('[microsoft]\ntenant = "会社"\n'.encode("shift_jis"))
    with pytest.raises(ConfigError) as caught:
        files.load()
    assert reason_key(caught.value) == "config.encoding"
    assert str(files.machine) in str(caught.value)


def test_a_file_that_cannot_be_read_is_an_error(files: Files) -> None:
    files.user.mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(ConfigError) as caught:
        files.load()
    assert caught.value.code == "config.unreadable"
    assert str(files.user) in str(caught.value)


# --- the admin-consent link and the publisher file -----------------------------------------------


def test_admin_consent_url() -> None:
    url = admin_consent_url("contoso.onmicrosoft.com", CLIENT_A, DEFAULT_REDIRECT_URI)
    assert url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent"
        f"?client_id={CLIENT_A}"
        "&redirect_uri=https%3A%2F%2Flogin.microsoftonline.com%2Fcommon%2Foauth2%2Fnativeclient"
    )
    national = admin_consent_url(
        "4f3c9b1e-7d2a-4c5e-9b8f-1a2d3c4e5f60",
        CLIENT_A,
        "http://localhost",
        authority_host="login.microsoftonline.us",
    )
    assert national == (
        "https://login.microsoftonline.us/4f3c9b1e-7d2a-4c5e-9b8f-1a2d3c4e5f60/adminconsent"
        f"?client_id={CLIENT_A}&redirect_uri=http%3A%2F%2Flocalhost"
    )


@pytest.mark.parametrize(
    ("args", "setting"),
    [
        (("corp.test/../x", CLIENT_A, DEFAULT_REDIRECT_URI), "tenant"),
        (("", CLIENT_A, DEFAULT_REDIRECT_URI), "tenant"),
        (("corp.test", "app", DEFAULT_REDIRECT_URI), "client_id"),
        (("corp.test", CLIENT_A, "http://example.test/"), "redirect_uri"),
    ],
)
def test_admin_consent_url_refuses_bad_arguments(args: tuple[str, str, str], setting: str) -> None:
    with pytest.raises(InvalidSettingError) as caught:
        admin_consent_url(*args)
    assert caught.value.setting == setting
    assert isinstance(caught.value, ValueError)


def test_a_built_in_publisher_client_id_is_used_and_the_organisation_overrides_it(
    files: Files,
) -> None:
    files.write("publisher", publisher_toml(CLIENT_A, account_types="common"))
    config = files.load()
    assert config.microsoft.client_id == CLIENT_A
    assert config.microsoft.account_types == "common"
    assert config.warnings == ()
    files.write("machine", f'[microsoft]\nclient_id = "{CLIENT_B}"\n')
    assert files.load().microsoft.client_id == CLIENT_B


def test_publisher_toml_refuses_a_bad_client_id() -> None:
    with pytest.raises(InvalidSettingError) as caught:
        publisher_toml("not-a-guid")
    assert caught.value.setting == "client_id"


def test_microsoft_settings_defaults_match_the_defaults_file() -> None:
    fields = {f.name for f in dataclasses.fields(MicrosoftSettings)}
    assert fields == {
        "client_id",
        "authority",
        "account_types",
        "redirect_uri",
        "scopes",
        "allowed_hosts",
        "tenant",
    }
    config = load_config(environ={}, machine_paths=[], user_path=Path("/nonexistent/u.toml"))
    assert config.microsoft == MicrosoftSettings()


def admin_guide_example() -> str:
    guide = (ROOT / "docs" / "admin-guide.md").read_text(encoding="utf-8")
    section = guide.split("### A complete example", 1)[1]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


def test_the_complete_example_of_the_admin_guide_sets_every_key() -> None:
    data = tomllib.loads(admin_guide_example())
    keys = {
        f"{name}.{sub}" if isinstance(value, dict) else name
        for name, value in data.items()
        for sub in (value if isinstance(value, dict) else [None])
    }
    assert keys == {*SETTINGS, "locked"}


def test_the_complete_example_of_the_admin_guide_loads_cleanly(
    files: Files, test_ca: TestCA
) -> None:
    guide = (ROOT / "docs" / "admin-guide.md").read_text(encoding="utf-8")
    write(files.machine.parent / "contoso-inspection-ca.pem", test_ca.pem.decode("ascii"))
    write(files.machine.parent / "contoso-logo.svg", LOGO_SVG.decode())
    files.write("machine", admin_guide_example())
    files.write(
        "user", '[microsoft]\ntenant = "other.test"\n[support]\nphone = "+1 206 555 0199"\n'
    )
    config = files.load()
    assert config.microsoft.client_id == "6a1d3c2b-8e4f-4b7a-9c0d-5e6f7a8b9c0d"
    assert config.microsoft.account_types == "single-tenant"
    assert config.microsoft.tenant == "contoso.onmicrosoft.com"  # locked: the user's is ignored
    assert config.microsoft.allowed_hosts == ("sts.contoso.com", "*.okta.com")
    assert config.network.ca_bundle == (files.machine.parent / "contoso-inspection-ca.pem",)
    assert config.network.ispdb_url == "https://ispdb.contoso.com/autoconfig/v1.1/"
    assert config.network.proxy == "http://proxy.contoso.com:8080"
    assert config.providers == ProvidersSettings(("microsoft365", "other"), ("other",))
    assert config.organisation.default_app == "classic-outlook"
    assert config.branding.logo == files.machine.parent / "contoso-logo.svg"
    assert config.branding.shown_name == "Contoso Mail Setup"
    assert config.support.phone == "+1 425 555 0100 ext. 2"  # locked
    assert config.support.is_set
    assert [w.code for w in config.warnings] == ["config.locked-ignored"] * 2
    client_id = config.microsoft.client_id or ""
    url = admin_consent_url("contoso.onmicrosoft.com", client_id, config.microsoft.redirect_uri)
    assert url.replace(client_id, "<client-id>") in guide  # the guide shows the real link


# --- organisation settings (issue 8): providers, default app, network, branding, support --------


def test_the_organisation_settings_default_to_nothing_set(files: Files) -> None:
    config = files.load()
    assert config.providers == ProvidersSettings()
    assert config.organisation == OrganisationSettings()
    assert config.branding == BrandingSettings()
    assert config.branding.shown_name == DEFAULT_PRODUCT_NAME
    assert config.support == SupportSettings()
    assert not config.support.is_set
    assert config.network == NetworkSettings()
    assert config.network.ispdb_url == DEFAULT_ISPDB_URL and config.network.proxy is None


@pytest.mark.parametrize(
    ("text", "attribute", "expected"),
    [
        (
            '[providers]\nallowed = ["Google", "microsoft365", "google"]\n',
            "providers.allowed",
            ("google", "microsoft365"),
        ),
        ('[providers]\nhidden = ["yahoo", "other"]\n', "providers.hidden", ("yahoo", "other")),
        (
            '[organisation]\ndefault_app = "New-Outlook"\n',
            "organisation.default_app",
            "new-outlook",
        ),
        ('[organisation]\ndefault_app = "apple-mail"\n', "organisation.default_app", "apple-mail"),
        (
            '[network]\nispdb_url = "https://ispdb.corp.test/v1.1"\n',
            "network.ispdb_url",
            "https://ispdb.corp.test/v1.1/",
        ),
        ('[network]\nispdb_url = "None"\n', "network.ispdb_url", None),
        ('[network]\nispdb_url = ""\n', "network.ispdb_url", DEFAULT_ISPDB_URL),
        (
            '[network]\nproxy = "proxy.corp.test:8080"\n',
            "network.proxy",
            "http://proxy.corp.test:8080",
        ),
        ('[network]\nproxy = "DIRECT"\n', "network.proxy", "direct"),
        ('[network]\nproxy = ""\n', "network.proxy", None),
        ('[branding]\nproduct_name = " Contoso Mail "\n', "branding.product_name", "Contoso Mail"),
        (
            '[support]\nname = "Contoso IT Service Desk"\n',
            "support.name",
            "Contoso IT Service Desk",
        ),
        ('[support]\nemail = "mailto:Help@Corp.Test"\n', "support.email", "Help@corp.test"),
        ('[support]\nphone = "+81  3-1234-5678"\n', "support.phone", "+81 3-1234-5678"),
        ('[support]\nphone = "(425) 555-0100 x12"\n', "support.phone", "(425) 555-0100 x12"),
        (
            '[support]\nurl = "https://help.corp.test/mail?from=app"\n',
            "support.url",
            "https://help.corp.test/mail?from=app",
        ),
    ],
)
def test_valid_organisation_values(
    files: Files, text: str, attribute: str, expected: object
) -> None:
    files.write("machine", text)
    config = files.load()
    section, name = attribute.split(".")
    assert getattr(getattr(config, section), name) == expected
    assert config.value(attribute) == expected
    assert config.origin(attribute).kind is LayerKind.MACHINE


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[providers]\nallowed = "google"\n', "providers.allowed", "config.type"),
        ('[providers]\nallowed = ["Google Mail"]\n', "providers.allowed", "config.provider-id"),
        ("[providers]\nhidden = [3]\n", "providers.hidden", "config.list-item"),
        (
            '[organisation]\ndefault_app = "outlook"\n',
            "organisation.default_app",
            "config.default-app",
        ),
        ("[organisation]\ndefault_app = 1\n", "organisation.default_app", "config.type"),
        (
            '[network]\nispdb_url = "ftp://ispdb.corp.test/"\n',
            "network.ispdb_url",
            "net.option.url",
        ),
        (
            '[network]\nproxy = "socks5://proxy.corp.test:1080"\n',
            "network.proxy",
            "net.option.socks",
        ),
        (
            '[network]\nproxy = "http://me:pw@proxy.corp.test:8080"\n',
            "network.proxy",
            "config.proxy-credentials",
        ),
        ('[network]\nproxy = "http://proxy.corp.test:0"\n', "network.proxy", "net.option.url"),
        (
            '[branding]\nproduct_name = "Contoso\\nMail"\n',
            "branding.product_name",
            "config.org.control-chars",
        ),
        (
            f'[branding]\nproduct_name = "{"x" * 65}"\n',
            "branding.product_name",
            "config.org.too-long",
        ),
        ('[branding]\nlogo = "logo.gif"\n', "branding.logo", "config.logo.kind"),
        ('[branding]\nlogo = "missing.png"\n', "branding.logo", "config.logo.missing"),
        ('[support]\nemail = "helpdesk"\n', "support.email", "config.support-email"),
        ('[support]\nemail = "help desk@corp.test"\n', "support.email", "config.support-email"),
        ('[support]\nphone = "call 555"\n', "support.phone", "config.support-phone"),
        ('[support]\nphone = "1234"\n', "support.phone", "config.support-phone"),
        ('[support]\nphone = "+８１ 3 1234 5678"\n', "support.phone", "config.support-phone"),
        ('[support]\nurl = "help.corp.test"\n', "support.url", "config.support-url"),
        ('[support]\nurl = "javascript:alert(1)"\n', "support.url", "config.support-url"),
        ("[support]\nname = ['IT']\n", "support.name", "config.type"),
        ('providers = "google"\n', "providers", "config.type"),
    ],
)
@pytest.mark.parametrize("layer", ["user", "machine"])
def test_a_bad_organisation_value_is_an_error_naming_key_and_file(
    files: Files, layer: str, text: str, key: str, reason: str
) -> None:
    path = files.write(layer, text)
    with pytest.raises(ConfigError) as caught:
        files.load()
    assert reason_key(caught.value) == reason
    assert_names(caught.value, path, key)


def test_a_bad_override_of_an_organisation_key_names_the_source(files: Files) -> None:
    with pytest.raises(ConfigError) as caught:
        files.load().override("support.email", "nobody", source="--support-email")
    assert reason_key(caught.value) == "config.support-email"
    assert "--support-email" in str(caught.value) and "support.email" in str(caught.value)


ORG_VALUES: dict[str, tuple[str, object]] = {
    # key: (TOML value for the machine file, a different valid value for the user's layers)
    "providers.allowed": ('["microsoft365"]', ["google"]),
    "providers.hidden": ('["yahoo"]', []),
    "organisation.default_app": ('"classic-outlook"', "thunderbird"),
    "network.ispdb_url": ('"none"', "https://ispdb.user.test/"),
    "network.proxy": ('"http://proxy.corp.test:8080"', "direct"),
    "branding.product_name": ('"Contoso Mail"', "My Mail"),
    "branding.logo": ('"logo.svg"', ""),
    "support.name": ('"Contoso IT"', "Someone else"),
    "support.email": ('"it@corp.test"', "fake@evil.test"),
    "support.phone": ('"+1 425 555 0100"', "+1 206 555 0199"),
    "support.url": ('"https://it.corp.test/"', "https://evil.test/"),
}


def toml_value(value: object) -> str:
    import json

    return json.dumps(value)


@pytest.mark.parametrize("key", sorted(ORG_VALUES))
def test_a_locked_organisation_key_keeps_the_machine_value(files: Files, key: str) -> None:
    section, name = key.split(".")
    machine_value, user_value = ORG_VALUES[key]
    write(files.machine.parent / "logo.svg", LOGO_SVG.decode())
    files.write("machine", f'locked = ["{key}"]\n[{section}]\n{name} = {machine_value}\n')
    files.write("user", f"[{section}]\n{name} = {toml_value(user_value)}\n")
    files.write("env", f"[{section}]\n{name} = {toml_value(user_value)}\n")
    config = files.load()
    expected = build_value(key, machine_value, files.machine.parent)
    assert config.value(key) == expected
    assert config.origin(key).kind is LayerKind.MACHINE
    assert config.is_locked(key)
    assert [(w.code, w.source) for w in config.warnings] == [
        ("config.locked-ignored", str(files.user)),
        ("config.locked-ignored", str(files.env)),
    ]
    with pytest.raises(LockedKeyError) as caught:
        config.override(key, user_value, source="settings window")
    assert str(files.machine) in str(caught.value)
    # unlocked, the same key may be overridden
    files.write("machine", f"[{section}]\n{name} = {machine_value}\n")
    unlocked = files.load().override(key, user_value, source="settings window")
    assert unlocked.value(key) == build_value(key, toml_value(user_value), files.root)


def build_value(key: str, toml_text: str, base: Path) -> object:
    """The parsed value of ``key = toml_text`` (relative paths against ``base``)."""
    from app.core.config import schema

    parsed = tomllib.loads(f"x = {toml_text}")["x"]
    return schema.SETTINGS[key].parse(parsed, base)


def test_every_organisation_key_has_a_lock_test() -> None:
    org_sections = ("providers", "organisation", "branding", "support")
    org_keys = {k for k in SETTINGS if k.split(".")[0] in org_sections}
    org_keys |= {"network.ispdb_url", "network.proxy"}
    assert org_keys == set(ORG_VALUES)


def test_unknown_provider_ids_warn_with_did_you_mean_and_stay_in_the_list(files: Files) -> None:
    files.write("machine", '[providers]\nallowed = ["gogle", "microsoft365", "zzzzzz"]\n')
    config = files.load()
    assert config.providers.allowed == ("gogle", "microsoft365", "zzzzzz")
    unknown = [(w.code, w.key, w.suggestion) for w in config.warnings]
    assert unknown == [
        ("config.provider-unknown", "providers.allowed", "google"),
        ("config.provider-unknown", "providers.allowed", None),
    ]
    assert "Did you mean google?" in str(config.warnings[0])
    assert str(files.machine) in str(config.warnings[0])
    assert "gogle" in config.warnings[0].render("ja")
    # a typo never opens every provider: google is still not allowed
    assert not config.providers.is_allowed("google")
    assert config.providers.is_allowed("microsoft365")


def test_every_catalog_provider_id_is_accepted_without_a_warning(files: Files) -> None:
    from app.core.discovery.catalog import default_catalog

    ids = [provider.id for provider in default_catalog()]
    files.write("user", f"[providers]\nhidden = {toml_value([*ids, OTHER_PROVIDER])}\n")
    config = files.load()
    assert config.warnings == ()
    assert len(config.providers.hidden) == len(ids) + 1


def test_allowed_and_hidden_providers() -> None:
    everyone = ProvidersSettings()
    assert everyone.is_allowed("google") and everyone.is_offered(None)
    limited = ProvidersSettings(allowed=("microsoft365", "other"), hidden=("other",))
    assert limited.is_allowed("microsoft365") and limited.is_offered("microsoft365")
    assert not limited.is_allowed("google")
    assert limited.is_allowed(None)  # an address no catalog provider describes: "other"
    assert not limited.is_offered(None)  # ...but not offered in lists
    hidden = ProvidersSettings(hidden=("yahoo",))
    assert hidden.is_allowed("yahoo") and not hidden.is_offered("yahoo")


def test_a_logo_is_relative_to_its_file_and_must_be_what_it_says(files: Files) -> None:
    write(files.env.parent / "img" / "logo.svg", LOGO_SVG.decode())
    files.env.parent.joinpath("img", "logo.png").write_bytes(LOGO_PNG)
    files.write("env", '[branding]\nlogo = "img/logo.png"\n')
    assert files.load().branding.logo == files.env.parent / "img" / "logo.png"
    files.write("env", '[branding]\nlogo = "img/logo.svg"\n')
    assert files.load().branding.logo == files.env.parent / "img" / "logo.svg"
    files.env.parent.joinpath("img", "fake.png").write_bytes(LOGO_SVG)  # an SVG named .png
    files.write("env", '[branding]\nlogo = "img/fake.png"\n')
    with pytest.raises(ConfigError) as caught:
        files.load()
    assert reason_key(caught.value) == "config.logo.content"
    assert caught.value.code == "config.logo"
    assert_names(caught.value, files.env, "branding.logo")


def test_support_settings_to_dict() -> None:
    support = SupportSettings(name="IT", email="it@corp.test")
    assert support.is_set
    assert support.to_dict() == {"name": "IT", "email": "it@corp.test"}
    assert not SupportSettings(name="IT").is_set


# --- network options: the command line against the configuration --------------------------------


def test_configured_ispdb_and_proxy_apply_when_the_command_line_is_silent(files: Files) -> None:
    files.write(
        "machine",
        '[network]\nispdb_url = "https://ispdb.corp.test/"\nproxy = "proxy.corp.test:3128"\n',
    )
    options = files.load().network_options(NetworkOptions(timeout=4.0))
    assert options.ispdb_url == "https://ispdb.corp.test/"
    assert options.proxy == "http://proxy.corp.test:3128"
    assert options.system_proxy is False
    assert options.timeout == 4.0
    files.write("machine", '[network]\nproxy = "direct"\n')
    direct = files.load().network_options(NetworkOptions())
    assert direct.proxy is None and direct.system_proxy is False
    files.write("machine", '[network]\nispdb_url = "none"\n')
    config = files.load()
    assert not config.network.ispdb_enabled
    assert config.network_options(NetworkOptions()).ispdb_url is None  # the ISPDB is off


def test_the_command_line_wins_over_an_unlocked_network_key(files: Files) -> None:
    files.write(
        "machine",
        '[network]\nispdb_url = "https://ispdb.corp.test/"\nproxy = "proxy.corp.test:3128"\n',
    )
    ignored: list[ConfigWarning] = []
    base = NetworkOptions(
        ispdb_url="https://mirror.cli.test/", proxy=None, system_proxy=False
    )  # --proxy direct
    options = files.load().network_options(base, ignored)
    assert options.ispdb_url == "https://mirror.cli.test/"
    assert options.proxy is None and options.system_proxy is False
    assert ignored == []


def test_a_locked_network_key_wins_over_the_command_line_with_a_warning(files: Files) -> None:
    files.write(
        "machine",
        'locked = ["network"]\n'
        '[network]\nispdb_url = "https://ispdb.corp.test/"\nproxy = "proxy.corp.test:3128"\n',
    )
    config = files.load()
    ignored: list[ConfigWarning] = []
    base = NetworkOptions(ispdb_url="https://mirror.cli.test/", proxy="http://u:pw@mine.test:8")
    options = config.network_options(base, ignored)
    assert options.ispdb_url == "https://ispdb.corp.test/"
    assert options.proxy == "http://proxy.corp.test:3128"
    assert [(w.code, w.key, w.source) for w in ignored] == [
        ("config.locked-option-ignored", "network.ispdb_url", "command line"),
        ("config.locked-option-ignored", "network.proxy", "command line"),
    ]
    assert "--proxy http://mine.test:8 is ignored" in str(ignored[1])
    assert "pw" not in str(ignored[1])  # credentials in a proxy URL are never shown
    assert str(files.machine) in str(ignored[0])
    # the same value on the command line is no conflict
    again: list[ConfigWarning] = []
    config.network_options(NetworkOptions(proxy="http://proxy.corp.test:3128"), again)
    assert again == []


def test_a_lock_without_a_value_keeps_the_default_against_the_command_line(files: Files) -> None:
    files.write("machine", 'locked = ["network.proxy"]\n')
    ignored: list[ConfigWarning] = []
    options = files.load().network_options(NetworkOptions(proxy="http://mine.test:8"), ignored)
    assert options.proxy is None and options.system_proxy is True  # the system's settings
    assert [w.key for w in ignored] == ["network.proxy"]


# --- mailsetup config show ------------------------------------------------------------------------


@pytest.fixture
def cli_files(files: Files, monkeypatch: pytest.MonkeyPatch) -> Files:
    """``files`` as the real program finds them: user folder, MAILSETUP_CONFIG, machine file,
    and no policy sources."""
    from app.core.config import policy

    monkeypatch.setenv("XDG_CONFIG_HOME", str(files.root / "xdg"))
    files.user = user_config_path()
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(paths, "machine_config_paths", lambda **_: (files.machine,))
    monkeypatch.setattr(policy, "read_policy_layers", lambda **_: [])
    return files


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from app.cli.main import run

    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_config_show_json_lists_values_sources_locks_and_warnings(
    cli_files: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    cli_files.write(
        "machine",
        'locked = ["support.email", "network.proxy"]\n'
        '[support]\nemail = "it@corp.test"\n[network]\nproxy = "proxy.corp.test:3128"\n',
    )
    cli_files.write("user", '[support]\nemail = "me@home.test"\nphone = "+1 206 555 0199"\n')
    code, out, _ = run_cli(
        ["config", "show", "--json", "--proxy", "direct", "--language", "en"], capsys
    )
    assert code == 0
    shown = json.loads(out)
    email = shown["settings"]["support.email"]
    assert email == {
        "value": "it@corp.test",
        "source": {"kind": "machine", "location": str(cli_files.machine)},
        "locked": True,
        "locked_by": str(cli_files.machine),
    }
    phone = shown["settings"]["support.phone"]
    assert phone["value"] == "+1 206 555 0199" and phone["locked"] is False
    assert phone["source"] == {"kind": "user", "location": str(cli_files.user)}
    assert shown["settings"]["providers.allowed"]["value"] == []
    assert shown["locked"] == ["network.proxy", "support.email"]
    assert shown["network_options"]["proxy"] == "http://proxy.corp.test:3128"
    codes = [(w["code"], w["key"]) for w in shown["warnings"]]
    assert codes == [
        ("config.locked-ignored", "support.email"),
        ("config.locked-option-ignored", "network.proxy"),
    ]
    assert [s["kind"] for s in shown["sources"]] == ["defaults", "publisher", "user", "machine"]


def test_config_show_text(cli_files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    cli_files.write(
        "machine",
        'locked = ["branding"]\n[branding]\nproduct_name = "Contoso Mail"\n'
        '[network]\nispdb_url = "none"\n[providers]\nhidden = ["yahooo"]\n',
    )
    code, out, _ = run_cli(["config", "show", "--language", "en"], capsys)
    assert code == 0
    assert (
        f'branding.product_name = "Contoso Mail"  (machine: {cli_files.machine})  '
        f"[locked: locked by {cli_files.machine}]"
    ) in out
    assert 'network.ispdb_url = "none"' in out
    assert 'ispdb_url: not used (network.ispdb_url = "none")' in out
    assert "Did you mean yahoo?" in out


def test_an_invalid_organisation_file_stops_the_cli_with_exit_code_6(
    cli_files: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    cli_files.write("machine", '[support]\nphone = "ring ring"\n')
    code, out, _ = run_cli(["config", "show", "--json"], capsys)
    assert code == 6
    error = json.loads(out)["error"]
    assert error["code"] == "config.value"
    assert str(cli_files.machine) in error["message"]
    assert "support.phone" in error["message"]
    code, _, err = run_cli(["config", "show"], capsys)
    assert code == 6
    assert "support.phone" in err and str(cli_files.machine) in err
