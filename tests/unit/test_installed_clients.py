"""Which mail apps are installed (app.core.clients), from recorded registry dumps and fake
disks in tmp_path, and which one the wizard preselects."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import pytest

from app.core.clients import (
    SIGNS_IN_BY_ITSELF,
    HiveRegistry,
    InstalledApp,
    installed_apps,
    preselect,
)
from app.core.config.policy_windows import RegistryKey

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "installed"
PACKAGE = "Microsoft.OutlookForWindows_1.2024.1023.300_x64__8wekyb3d8bbwe"
WIN_ENV = {
    "USERPROFILE": "C:\\Users\\taro",
    "APPDATA": "C:\\Users\\taro\\AppData\\Roaming",
    "LOCALAPPDATA": "C:\\Users\\taro\\AppData\\Local",
    "ProgramFiles": "C:\\Program Files",
}


def registry(name: str) -> HiveRegistry:
    path = FIXTURES / name
    if name.endswith(".json"):
        return HiveRegistry.from_json(json.loads(path.read_text(encoding="utf-8")))
    return HiveRegistry.from_reg_query(path.read_text(encoding="utf-8"))


def windows(
    name: str, root: Path, environ: dict[str, str] | None = None
) -> dict[str, InstalledApp]:
    found = installed_apps(
        "Windows",
        registry=registry(name),
        root=root,
        environ=WIN_ENV if environ is None else environ,
    )
    return {app.app: app for app in found}


def write_profiles(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "profiles.ini").write_text(
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=Profiles/abcd.default-release\n"
        "Default=1\n",
        encoding="utf-8",
    )
    return folder / "Profiles" / "abcd.default-release"


def make_bundle(folder: Path, name: str, version: str | None) -> Path:
    contents = folder / name / "Contents"
    contents.mkdir(parents=True)
    if version is not None:
        with (contents / "Info.plist").open("wb") as handle:
            plistlib.dump({"CFBundleShortVersionString": version}, handle)
    return folder / name


# --- Windows: classic Outlook -------------------------------------------------------------------


def test_classic_outlook_click_to_run_from_reg_query(tmp_path: Path) -> None:
    found = windows("windows_classic_c2r.reg.txt", tmp_path)
    assert set(found) == {"classic-outlook"}
    outlook = found["classic-outlook"]
    assert outlook.version == "16.0.17928.20114"  # Click-to-Run's, not the key's "16.0"
    assert outlook.evidence == "HKLM\\Software\\Microsoft\\Office\\16.0\\Outlook\\InstallRoot"


def test_classic_outlook_32_bit_msi_in_wow6432node(tmp_path: Path) -> None:
    outlook = windows("windows_classic_msi_32bit.json", tmp_path)["classic-outlook"]
    assert outlook.version == "15.0"
    assert "WOW6432Node\\Microsoft\\Office\\15.0\\Outlook\\InstallRoot" in outlook.evidence


def test_click_to_run_product_with_outlook_is_enough(tmp_path: Path) -> None:
    outlook = windows("windows_c2r_only.json", tmp_path)["classic-outlook"]
    assert outlook == InstalledApp(
        "classic-outlook",
        "16.0.18025.20140",
        "HKLM\\Software\\Microsoft\\Office\\ClickToRun\\Configuration (ProductReleaseIds)",
    )


def test_office_without_outlook_or_with_outlook_excluded_is_not_outlook(tmp_path: Path) -> None:
    assert windows("windows_c2r_home_student.json", tmp_path) == {}


def test_user_settings_alone_are_the_weakest_evidence(tmp_path: Path) -> None:
    outlook = windows("windows_hkcu_only.json", tmp_path)["classic-outlook"]
    assert outlook.evidence == "HKCU\\Software\\Microsoft\\Office\\16.0\\Outlook"
    assert outlook.version == "16.0"


def test_empty_windows_has_nothing(tmp_path: Path) -> None:
    assert (
        installed_apps(
            "Windows", registry=registry("windows_empty.json"), root=tmp_path, environ=WIN_ENV
        )
        == ()
    )


def test_unreadable_registry_key_is_no_evidence(tmp_path: Path) -> None:
    class Denied:
        def read_key(self, path: str) -> RegistryKey | None:
            raise PermissionError(13, "Access is denied", path)

    found = installed_apps(
        "Windows",
        registry=HiveRegistry({"HKLM": Denied(), "HKCU": Denied()}),
        root=tmp_path,
        environ=WIN_ENV,
    )
    assert found == ()


def test_hive_registry_keeps_hklm_and_hkcu_apart() -> None:
    reg = HiveRegistry.from_json({"HKCU\\Software\\A": [["x", "1", "REG_SZ"]]})
    assert reg.read_key("HKLM\\Software\\A") is None
    key = reg.read_key("HKEY_CURRENT_USER\\Software\\A")
    assert key is not None and key.values[0].data == "1"
    with pytest.raises(ValueError, match="HKLM or HKCU"):
        reg.read_key("HKCR\\.eml")


# --- Windows: new Outlook and Thunderbird ---------------------------------------------------------


def test_new_outlook_and_thunderbird_from_registry(tmp_path: Path) -> None:
    found = windows("windows_new_outlook_thunderbird.json", tmp_path)
    assert [app.app for app in found.values()] == ["new-outlook", "thunderbird"]
    assert found["new-outlook"].version == "1.2024.1023.300"
    # The dump reader lower-cases key names; winreg keeps Windows' spelling.
    assert found["new-outlook"].evidence.lower().endswith(f"\\packages\\{PACKAGE}".lower())
    assert found["thunderbird"].version == "115.3.1"
    assert found["thunderbird"].evidence == "HKLM\\Software\\Mozilla\\Mozilla Thunderbird"


def test_new_outlook_package_folder_under_windowsapps(tmp_path: Path) -> None:
    apps = tmp_path / "C" / "Program Files" / "WindowsApps"
    (apps / "Microsoft.OutlookForWindows_1.2024.999.0_x64__8wekyb3d8bbwe").mkdir(parents=True)
    (apps / PACKAGE).mkdir()
    (apps / "Microsoft.WindowsCalculator_11.2405.2.0_x64__8wekyb3d8bbwe").mkdir()
    outlook = windows("windows_empty.json", tmp_path)["new-outlook"]
    assert outlook.version == "1.2024.1023.300"  # the newest by number, not by text
    assert outlook.evidence == str(apps / PACKAGE)


def test_new_outlook_execution_alias_when_windowsapps_cannot_be_listed(tmp_path: Path) -> None:
    # Not a folder: iterdir() fails with an OSError, as listing the real WindowsApps does.
    (tmp_path / "C" / "Program Files").mkdir(parents=True)
    (tmp_path / "C" / "Program Files" / "WindowsApps").write_bytes(b"")
    aliases = tmp_path / "C" / "Users" / "taro" / "AppData" / "Local" / "Microsoft" / "WindowsApps"
    aliases.mkdir(parents=True)
    assert "new-outlook" not in windows("windows_empty.json", tmp_path)
    (aliases / "olk.exe").write_bytes(b"")
    outlook = windows("windows_empty.json", tmp_path)["new-outlook"]
    assert outlook == InstalledApp("new-outlook", None, str(aliases / "olk.exe"))


def test_thunderbird_from_windows_profiles(tmp_path: Path) -> None:
    roaming = tmp_path / "C" / "Users" / "taro" / "AppData" / "Roaming"
    assert "thunderbird" not in windows("windows_empty.json", tmp_path)
    profile = write_profiles(roaming / "Thunderbird")
    assert windows("windows_empty.json", tmp_path)["thunderbird"] == InstalledApp(
        "thunderbird", None, str(profile)
    )


def test_all_three_on_windows_in_default_app_order(tmp_path: Path) -> None:
    text = (FIXTURES / "windows_classic_c2r.reg.txt").read_text(encoding="utf-8")
    data = json.loads((FIXTURES / "windows_new_outlook_thunderbird.json").read_text("utf-8"))
    both = HiveRegistry.from_json(
        {
            **data,
            **{
                f"HKLM\\{path}": [[v.name, v.data, v.type] for v in key.values]
                for path, key in _keys(HiveRegistry.from_reg_query(text))
            },
        }
    )
    found = installed_apps("Windows", registry=both, root=tmp_path, environ=WIN_ENV)
    assert [app.app for app in found] == ["new-outlook", "classic-outlook", "thunderbird"]


def _keys(reg: HiveRegistry) -> list[tuple[str, RegistryKey]]:
    paths = [
        "Software\\Microsoft\\Office\\16.0\\Outlook\\InstallRoot",
        "Software\\Microsoft\\Office\\ClickToRun\\Configuration",
    ]
    keys = [(path, reg.read_key(f"HKLM\\{path}")) for path in paths]
    return [(path, key) for path, key in keys if key is not None]


# --- macOS ----------------------------------------------------------------------------------------


def test_macos_always_has_mail(tmp_path: Path) -> None:
    found = installed_apps("Darwin", root=tmp_path, environ={"HOME": "/Users/taro"})
    assert found == (InstalledApp("apple-mail", None, "Mail is part of macOS"),)


def test_macos_bundles_with_versions(tmp_path: Path) -> None:
    mail = make_bundle(tmp_path / "System" / "Applications", "Mail.app", "16.0")
    outlook = make_bundle(tmp_path / "Applications", "Microsoft Outlook.app", "16.89")
    thunderbird = make_bundle(tmp_path / "Users" / "taro" / "Applications", "Thunderbird.app", None)
    found = installed_apps("Darwin", root=tmp_path, environ={"HOME": "/Users/taro"})
    assert found == (
        InstalledApp("new-outlook", "16.89", str(outlook)),
        InstalledApp("thunderbird", None, str(thunderbird)),
        InstalledApp("apple-mail", "16.0", str(mail)),
    )


def test_macos_thunderbird_from_profiles(tmp_path: Path) -> None:
    profile = write_profiles(tmp_path / "Users" / "taro" / "Library" / "Thunderbird")
    found = {
        a.app: a for a in installed_apps("Darwin", root=tmp_path, environ={"HOME": "/Users/taro"})
    }
    assert found["thunderbird"] == InstalledApp("thunderbird", None, str(profile))


# --- Linux ----------------------------------------------------------------------------------------


def test_linux_without_thunderbird(tmp_path: Path) -> None:
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "usr" / "bin" / "thunderbird").write_text("not executable")
    env = {"HOME": "/home/taro", "PATH": "/usr/bin:/bin"}
    assert installed_apps("Linux", root=tmp_path, environ=env) == ()


def test_linux_thunderbird_on_path(tmp_path: Path) -> None:
    program = tmp_path / "usr" / "bin" / "thunderbird"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    env = {"HOME": "/home/taro", "PATH": "/usr/local/bin:/usr/bin"}
    assert installed_apps("Linux", root=tmp_path, environ=env) == (
        InstalledApp("thunderbird", None, str(program)),
    )


def test_linux_flatpak_export_on_path(tmp_path: Path) -> None:
    program = tmp_path / "var" / "lib" / "flatpak" / "exports" / "bin" / "org.mozilla.Thunderbird"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    env = {"HOME": "/home/taro", "PATH": "/usr/bin:/var/lib/flatpak/exports/bin"}
    assert installed_apps("Linux", root=tmp_path, environ=env)[0].evidence == str(program)


def test_linux_thunderbird_snap_profile(tmp_path: Path) -> None:
    home = tmp_path / "home" / "taro"
    profile = write_profiles(home / "snap" / "thunderbird" / "common" / ".thunderbird")
    found = installed_apps("Linux", root=tmp_path, environ={"HOME": "/home/taro", "PATH": ""})
    assert found == (InstalledApp("thunderbird", None, str(profile)),)


# --- preselection ---------------------------------------------------------------------------------


def apps(*ids: str) -> tuple[InstalledApp, ...]:
    return tuple(InstalledApp(app, None, "test") for app in ids)  # type: ignore[arg-type]


PRESELECT_TABLE = [
    # installed, org default, provider, expected
    ((), None, None, "other"),
    ((), "thunderbird", "icloud", "thunderbird"),  # org default wins even when not installed
    (("new-outlook", "classic-outlook"), "classic-outlook", "icloud", "classic-outlook"),
    (("new-outlook",), "apple-mail", "icloud", "new-outlook"),  # no Apple Mail off macOS
    (("apple-mail", "thunderbird"), "apple-mail", None, "apple-mail"),
    (("new-outlook", "classic-outlook", "thunderbird"), None, "icloud", "new-outlook"),
    (("new-outlook", "classic-outlook"), None, "microsoft365", "new-outlook"),
    (("new-outlook", "classic-outlook"), None, "outlook", "new-outlook"),
    (("new-outlook", "classic-outlook"), None, "google", "classic-outlook"),
    (("new-outlook", "classic-outlook"), None, None, "classic-outlook"),
    (("classic-outlook", "thunderbird"), None, "icloud", "classic-outlook"),
    (("new-outlook", "thunderbird"), None, "nifty", "thunderbird"),
    (("thunderbird", "apple-mail"), None, "icloud", "thunderbird"),
    (("new-outlook", "apple-mail"), None, "icloud", "new-outlook"),
    (("new-outlook", "apple-mail"), None, "fastmail", "apple-mail"),
    (("apple-mail",), None, None, "apple-mail"),
    (("new-outlook",), None, "fastmail", "new-outlook"),  # the only program: it reads IMAP too
]


@pytest.mark.parametrize(("installed", "org_default", "provider", "expected"), PRESELECT_TABLE)
def test_preselect(
    installed: tuple[str, ...], org_default: str | None, provider: str | None, expected: str
) -> None:
    chosen = preselect(apps(*installed), org_default=org_default, provider_id=provider)  # type: ignore[arg-type]
    assert chosen == expected


def test_providers_new_outlook_signs_in_to_exist_in_the_catalog() -> None:
    catalog = Path(__file__).resolve().parents[2] / "resources" / "providers"
    assert {path.stem for path in catalog.glob("*.toml")} >= SIGNS_IN_BY_ITSELF


def test_preselect_with_what_a_fixture_computer_has(tmp_path: Path) -> None:
    found = installed_apps(
        "Windows", registry=registry("windows_classic_c2r.reg.txt"), root=tmp_path, environ=WIN_ENV
    )
    assert preselect(found, provider_id="icloud") == "classic-outlook"
    (tmp_path / "C" / "Program Files" / "WindowsApps" / PACKAGE).mkdir(parents=True)
    found = installed_apps(
        "Windows", registry=registry("windows_classic_c2r.reg.txt"), root=tmp_path, environ=WIN_ENV
    )
    assert preselect(found, provider_id="icloud") == "new-outlook"
