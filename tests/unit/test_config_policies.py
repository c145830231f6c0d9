"""The policy sources: Windows policy registry values and macOS managed preferences, read from
recorded fixtures (tests/fixtures/policies/), as machine-wide layers after the machine file."""

from __future__ import annotations

import json
import plistlib
import shutil
from pathlib import Path

import pytest

from app.core.config import (
    Config,
    Layer,
    LayerKind,
    LockedKeyError,
    ProvidersSettings,
    SupportSettings,
    load_config,
    read_policy_layers,
)
from app.core.config.policy_macos import (
    managed_preference_paths,
    read_macos_policy,
    read_managed_preferences,
)
from app.core.config.policy_windows import (
    POLICY_LOCATION,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_SZ,
    MappingRegistryReader,
    RegistryKey,
    RegistryValue,
    WinregReader,
    parse_reg_query,
    read_windows_policy,
)
from app.core.errors import ConfigError
from app.core.net import NetworkOptions
from app.core.net.options import DEFAULT_ISPDB_URL

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "policies"
MACOS_ROOT = FIXTURES / "macos" / "Managed Preferences"
CLIENT = "6a1d3c2b-8e4f-4b7a-9c0d-5e6f7a8b9c0d"
ENV = {"FIXTURES": str(FIXTURES)}


def windows_layer_from_json() -> Layer:
    data = json.loads((FIXTURES / "windows_policy.json").read_text(encoding="utf-8"))
    layer = read_windows_policy(MappingRegistryReader.from_json(data), environ=ENV)
    assert layer is not None
    return layer


def windows_layer_from_reg_query() -> Layer:
    text = (FIXTURES / "windows_reg_query.txt").read_bytes().decode("utf-8")
    layer = read_windows_policy(MappingRegistryReader.from_reg_query(text), environ=ENV)
    assert layer is not None
    return layer


def load(
    tmp_path: Path, policies: list[Layer], machine: str | None = None, user: str = ""
) -> Config:
    machine_path = tmp_path / "machine.toml"
    if machine is not None:
        machine_path.write_text(machine, encoding="utf-8")
    user_path = tmp_path / "user.toml"
    user_path.write_text(user, encoding="utf-8")
    return load_config(
        environ={},
        machine_paths=[machine_path],
        user_path=user_path,
        publisher_path=tmp_path / "none.toml",
        policy_layers=policies,
    )


def registry(rows: dict[str, list[tuple[str, object, int]]]) -> MappingRegistryReader:
    return MappingRegistryReader(
        {path: [RegistryValue(*row) for row in values] for path, values in rows.items()}
    )


# --- Windows: the registry values as a layer ----------------------------------------------------


def test_the_windows_fixture_becomes_the_toml_shaped_table() -> None:
    layer = windows_layer_from_json()
    assert layer.kind is LayerKind.POLICY
    assert layer.location == POLICY_LOCATION == r"HKLM\Software\Policies\MailSetup"
    assert layer.base_dir is None
    assert layer.data == {
        "schema_version": 1,
        "locked": ["network.proxy", "providers", "support"],
        "microsoft": {
            "client_id": CLIENT.upper(),
            "tenant": "contoso.onmicrosoft.com",
            "account_types": "single-tenant",
        },
        "network": {"proxy": "http://proxy.contoso.test:8080", "ispdb_url": "none"},
        "providers": {"hidden": ["yahoo", "aol"], "allowed": ["microsoft365", "other"]},
        "organisation": {"default_app": "classic-outlook"},
        "branding": {"product_name": "Contoso Mail Setup", "logo": f"{FIXTURES}/logo.png"},
        "support": {
            "name": "Contoso IT Service Desk",
            "email": "servicedesk@contoso.test",
            "phone": "+1 425 555 0100 ext. 12",
            "url": "https://help.contoso.test/mail",
        },
    }


def test_reg_query_output_and_the_winreg_dump_give_the_same_layer() -> None:
    assert windows_layer_from_reg_query().data == windows_layer_from_json().data


def test_parse_reg_query_reads_types_and_the_default_value() -> None:
    text = (FIXTURES / "windows_reg_query.txt").read_bytes().decode("utf-8")
    keys = parse_reg_query(text)
    root = keys[r"HKLM\Software\Policies\MailSetup"]
    assert RegistryValue("schema_version", 1, REG_DWORD) in root
    assert RegistryValue("locked", ["network.proxy", "providers", "support"], REG_MULTI_SZ) in root
    support = keys[r"HKLM\Software\Policies\MailSetup\support"]
    assert RegistryValue("", "", REG_SZ) in support
    logo = keys[r"HKLM\Software\Policies\MailSetup\branding"][1]
    assert logo == RegistryValue("logo", "%FIXTURES%/logo.png", REG_EXPAND_SZ)


def test_the_windows_policy_configures_every_organisation_setting(tmp_path: Path) -> None:
    config = load(tmp_path, [windows_layer_from_json()])
    assert config.microsoft.client_id == CLIENT
    assert config.microsoft.account_types == "single-tenant"
    assert config.network.proxy == "http://proxy.contoso.test:8080"
    assert config.network.ispdb_url is None and not config.network.ispdb_enabled
    assert config.providers == ProvidersSettings(
        allowed=("microsoft365", "other"), hidden=("yahoo", "aol")
    )
    assert config.organisation.default_app == "classic-outlook"
    assert config.branding.product_name == "Contoso Mail Setup"
    assert config.branding.logo == FIXTURES / "logo.png"
    assert config.support == SupportSettings(
        name="Contoso IT Service Desk",
        email="servicedesk@contoso.test",
        phone="+1 425 555 0100 ext. 12",
        url="https://help.contoso.test/mail",
    )
    assert config.origin("support.email").kind is LayerKind.POLICY
    assert config.origin("support.email").location == POLICY_LOCATION
    assert config.locked == frozenset({"network.proxy", "providers", "support"})
    assert config.warnings == ()


def test_policy_beats_the_machine_file_and_both_may_lock(tmp_path: Path) -> None:
    machine = (
        'locked = ["organisation.default_app", "support.phone"]\n'
        '[organisation]\ndefault_app = "thunderbird"\n'
        '[support]\nphone = "+1 206 555 0199"\nname = "From the file"\n'
    )
    user = '[organisation]\ndefault_app = "apple-mail"\n[network]\nproxy = "direct"\n'
    config = load(tmp_path, [windows_layer_from_json()], machine=machine, user=user)
    assert config.support.phone == "+1 425 555 0100 ext. 12"  # policy over the file
    assert config.support.name == "Contoso IT Service Desk"
    assert config.organisation.default_app == "classic-outlook"  # policy over the file's lock
    assert config.is_locked("organisation.default_app")  # the file's lock
    assert config.locked_by("organisation.default_app").kind is LayerKind.MACHINE  # type: ignore[union-attr]
    assert config.locked_by("network.proxy").location == POLICY_LOCATION  # type: ignore[union-attr]
    assert config.network.proxy == "http://proxy.contoso.test:8080"  # the user's is ignored
    ignored = {(w.key, w.code) for w in config.warnings}
    assert ignored == {
        ("organisation.default_app", "config.locked-ignored"),
        ("network.proxy", "config.locked-ignored"),
    }
    assert all(POLICY_LOCATION in str(w) or "machine.toml" in str(w) for w in config.warnings)


def test_a_key_locked_by_policy_cannot_be_overridden(tmp_path: Path) -> None:
    config = load(tmp_path, [windows_layer_from_json()])
    with pytest.raises(LockedKeyError) as caught:
        config.override("support.email", "me@example.test", source="settings window")
    assert caught.value.locked_by == POLICY_LOCATION
    assert POLICY_LOCATION in str(caught.value)
    with pytest.raises(LockedKeyError):
        config.override("providers.allowed", ["google"], source="--providers")
    # the CLI's --proxy is ignored too, with a warning naming the policy
    ignored: list = []
    options = config.network_options(NetworkOptions(proxy="http://mine.test:3128"), ignored)
    assert options.proxy == "http://proxy.contoso.test:8080"
    assert [w.code for w in ignored] == ["config.locked-option-ignored"]
    assert POLICY_LOCATION in str(ignored[0])


@pytest.mark.parametrize(
    ("rows", "key", "reason"),
    [
        (
            {"microsoft": [("client_id", b"\x01\x02", REG_BINARY)]},
            "microsoft.client_id",
            "config.type",
        ),
        ({"support": [("email", 5, REG_DWORD)]}, "support.email", "config.type"),
        ({"providers": [("allowed", "google", REG_SZ)]}, "providers.allowed", "config.type"),
        ({"branding": [("logo", "logo.png", REG_SZ)]}, "branding.logo", "config.path-absolute"),
        ({"support": [("phone", "call us", REG_SZ)]}, "support.phone", "config.support-phone"),
        (
            {"network": [("proxy", "socks5://p.test:1080", REG_SZ)]},
            "network.proxy",
            "net.option.socks",
        ),
        ({"": [("locked", "support", REG_SZ)]}, "locked", "config.type"),
    ],
)
def test_a_bad_policy_value_is_an_error_naming_key_and_registry_key(
    tmp_path: Path, rows: dict[str, list[tuple[str, object, int]]], key: str, reason: str
) -> None:
    reader = registry(
        {(POLICY_LOCATION + ("\\" + sub if sub else "")): values for sub, values in rows.items()}
    )
    layer = read_windows_policy(reader, environ={})
    assert layer is not None
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, [layer])
    error = caught.value
    reason_text = error.message.params["reason"]
    assert getattr(reason_text, "key", None) == reason
    assert error.detail["key"] == key
    assert error.detail["file"] == POLICY_LOCATION
    assert POLICY_LOCATION in str(error) and key in str(error)


def test_names_are_case_insensitive_and_unknown_ones_warn(tmp_path: Path) -> None:
    reader = registry(
        {
            POLICY_LOCATION + r"\Support": [("EMail", "help@corp.test", REG_SZ)],
            POLICY_LOCATION + r"\Suport": [("email", "x@corp.test", REG_SZ)],
        }
    )
    layer = read_windows_policy(reader, environ={})
    assert layer is not None
    config = load(tmp_path, [layer])
    assert config.support.email == "help@corp.test"
    (warning,) = config.warnings
    assert warning.code == "config.unknown-key"
    assert warning.key == "suport"  # an unknown table: the whole table is ignored
    assert warning.suggestion == "support"
    assert warning.source == POLICY_LOCATION


def test_no_policy_key_means_no_layer() -> None:
    assert read_windows_policy(registry({}), environ={}) is None
    assert read_windows_policy(registry({r"HKLM\Software\Policies\Other": []}), environ={}) is None


def test_an_unreadable_policy_key_is_an_error() -> None:
    class Denied:
        def read_key(self, path: str) -> RegistryKey | None:
            raise PermissionError(13, "Access is denied")

    with pytest.raises(ConfigError) as caught:
        read_windows_policy(Denied(), environ={})
    assert caught.value.code == "config.unreadable"
    assert POLICY_LOCATION in str(caught.value)
    assert "Access is denied" in str(caught.value)


def test_off_windows_the_real_registry_reads_nothing() -> None:
    assert WinregReader().read_key(r"Software\Policies\MailSetup") is None
    assert read_policy_layers("linux", {}) == []


# --- macOS: managed preferences ------------------------------------------------------------------


def copy_macos_fixtures(tmp_path: Path) -> Path:
    root = tmp_path / "Managed Preferences"
    shutil.copytree(MACOS_ROOT, root)
    machine = root / "com.mailsetup.plist"
    data = plistlib.loads(machine.read_bytes())
    data["branding"]["logo"] = data["branding"]["logo"].replace("%FIXTURES%", str(FIXTURES))
    machine.write_bytes(plistlib.dumps(data))
    return root


def test_managed_preference_paths() -> None:
    root = Path("/Library/Managed Preferences")
    assert managed_preference_paths("alice") == (
        root / "com.mailsetup.plist",
        root / "alice" / "com.mailsetup.plist",
    )
    assert managed_preference_paths(None) == (root / "com.mailsetup.plist",)
    assert managed_preference_paths("../x") == (root / "com.mailsetup.plist",)


def test_device_and_user_managed_preferences_the_users_win(tmp_path: Path) -> None:
    root = copy_macos_fixtures(tmp_path)
    layers = read_macos_policy({"USER": "alice"}, root)
    assert [layer.location for layer in layers] == [
        str(root / "com.mailsetup.plist"),
        str(root / "alice" / "com.mailsetup.plist"),
    ]
    assert all(layer.kind is LayerKind.POLICY for layer in layers)
    config = load(
        tmp_path,
        layers,
        user='[branding]\nproduct_name = "Mine"\n[microsoft]\nclient_id = ""\n',
    )
    assert config.microsoft.client_id == CLIENT
    assert config.microsoft.allowed_hosts == ("sts.contoso.test",)
    assert config.providers.allowed == ("microsoft365", "icloud", "other")
    assert config.organisation.default_app == "thunderbird"  # the user profile (binary plist)
    assert config.network.ispdb_url == "https://ispdb.contoso.test/v1.1/"
    assert config.support.phone == "+81 3-9999-0000"
    assert config.support.email == "it@contoso.test"
    assert config.branding.product_name == "Contoso Mail Setup"  # locked: the user's ignored
    assert config.branding.logo == FIXTURES / "logo.svg"
    assert config.is_locked("branding.logo") and config.is_locked("microsoft.client_id")
    assert {w.key for w in config.warnings} == {"branding.product_name", "microsoft.client_id"}
    # another user sees only the device profile
    (device,) = read_macos_policy({"USER": "bob"}, root)
    assert load(tmp_path, [device]).organisation.default_app == "apple-mail"


def test_a_managed_preference_of_the_wrong_type_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "com.mailsetup.plist"
    path.write_bytes(plistlib.dumps({"support": {"phone": 12345678}}))
    layer = read_managed_preferences(path)
    assert layer is not None
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, [layer])
    assert caught.value.detail["key"] == "support.phone"
    assert caught.value.detail["file"] == str(path)
    path.write_bytes(plistlib.dumps({"organisation": {"default_app": True}}))
    with pytest.raises(ConfigError) as again:
        load(tmp_path, [read_managed_preferences(path)])  # type: ignore[list-item]
    assert "boolean" in str(again.value)


@pytest.mark.parametrize("content", [b"not a plist", plistlib.dumps(["a", "b"])])
def test_a_managed_preferences_file_that_is_not_a_dictionary_is_an_error(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "com.mailsetup.plist"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_managed_preferences(path)
    assert caught.value.code == "config.syntax"
    assert str(path) in str(caught.value)


def test_no_managed_preferences_means_no_layer(tmp_path: Path) -> None:
    assert read_managed_preferences(tmp_path / "none.plist") is None
    assert read_macos_policy({"USER": "alice"}, tmp_path) == []


def test_without_policies_the_defaults_stand(tmp_path: Path) -> None:
    config = load(tmp_path, [])
    assert config.network.ispdb_url == DEFAULT_ISPDB_URL
    assert config.providers.is_allowed("google")
