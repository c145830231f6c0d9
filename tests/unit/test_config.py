"""The configuration layers, their precedence, locks, warnings and errors (app/core/config/)."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from app.core.config import (
    DEFAULT_REDIRECT_URI,
    DEFAULT_SCOPES,
    ENV_VAR,
    SCHEMA_VERSION,
    SETTINGS,
    Config,
    LayerKind,
    LockedKeyError,
    MicrosoftSettings,
    NetworkSettings,
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
from app.core.resources import resource_path
from app.core.texts import Text
from tests.world.ca import TestCA

ROOT = Path(__file__).resolve().parents[2]
CLIENT_A = "11111111-1111-4111-8111-111111111111"
CLIENT_B = "22222222-2222-4222-8222-222222222222"
CLIENT_C = "33333333-3333-4333-8333-333333333333"
CLIENT_D = "44444444-4444-4444-8444-444444444444"


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
        ("[branding]\nproduct_name = 'Contoso Mail'\n", "branding.product_name", None),
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
        "[support]\nemail = 'help@corp.test'\n",
    )
    config = files.load()
    assert config.microsoft.client_id == CLIENT_A
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


def test_the_complete_example_of_the_admin_guide_loads_cleanly(
    files: Files, test_ca: TestCA
) -> None:
    guide = (ROOT / "docs" / "admin-guide.md").read_text(encoding="utf-8")
    section = guide.split("### A complete example", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    write(files.machine.parent / "contoso-inspection-ca.pem", test_ca.pem.decode("ascii"))
    files.write("machine", example)
    files.write("user", '[microsoft]\ntenant = "other.test"\n')
    config = files.load()
    assert config.microsoft.client_id == "6a1d3c2b-8e4f-4b7a-9c0d-5e6f7a8b9c0d"
    assert config.microsoft.account_types == "single-tenant"
    assert config.microsoft.tenant == "contoso.onmicrosoft.com"  # locked: the user's is ignored
    assert config.microsoft.allowed_hosts == ("sts.contoso.com", "*.okta.com")
    assert config.network.ca_bundle == (files.machine.parent / "contoso-inspection-ca.pem",)
    assert [w.code for w in config.warnings] == ["config.locked-ignored"]
    client_id = config.microsoft.client_id or ""
    url = admin_consent_url("contoso.onmicrosoft.com", client_id, config.microsoft.redirect_uri)
    assert url.replace(client_id, "<client-id>") in guide  # the guide shows the real link
