"""The packaging files, checked where they cannot run: ``installer.iss`` (Inno Setup, Windows),
``packaging/macos/Info.plist``, the Linux desktop entry, the release workflow, the shell scripts
(shellcheck) and the build's staging step (``packaging/build.py``, run for real into a temporary
folder). Compiling the installer and the .dmg, signing and notarising are in docs/unverified.md.
"""

from __future__ import annotations

import configparser
import importlib.util
import plistlib
import re
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path, PureWindowsPath
from types import ModuleType

import pytest
import yaml

from app.cli.selftest import FILE_LIST, VERSION_STAMP, _listed_problems
from app.core.config.paths import machine_config_paths
from app.core.errors import InvalidSettingError
from app.ui.launch import APPLICATION_NAME, DESKTOP_FILE_NAME

ROOT = Path(__file__).resolve().parents[2]
ISS = ROOT / "installer.iss"
SPEC = ROOT / "packaging" / "mailsetup.spec"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def _packaging_module(name: str) -> ModuleType:
    """A script of packaging/ loaded by path under a name of its own: ``build`` would clash
    with the PyPI package of that name, and a folder named build/ confuses import sorting."""
    if str(ROOT / "packaging") not in sys.path:
        sys.path.insert(0, str(ROOT / "packaging"))  # build.py imports its sibling icons.py
    spec = importlib.util.spec_from_file_location(
        f"mailsetup_packaging_{name}", ROOT / "packaging" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


icons = _packaging_module("icons")
build = _packaging_module("build")

# --- installer.iss, read as Inno Setup reads it -------------------------------------------------


def _sections() -> dict[str, list[str]]:
    """installer.iss by section: its lines without comments and preprocessor lines."""
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in ISS.read_text("utf-8").splitlines():
        line = raw.strip()
        if current != "Code" and (not line or line.startswith((";", "#"))):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = header.group(1)
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(raw)
    return sections


def _defines() -> dict[str, str]:
    """The preprocessor's ``#define NAME "value"`` defaults."""
    text = ISS.read_text("utf-8")
    return dict(re.findall(r'^\s*#define\s+(\w+)\s+"([^"]*)"', text, re.MULTILINE))


def _expand(value: str) -> str:
    defines = _defines()
    return re.sub(r"\{#(\w+)\}", lambda m: defines[m.group(1)], value)


def _setup() -> dict[str, str]:
    entries = {}
    for line in _sections()["Setup"]:
        name, _, value = line.partition("=")
        entries[name.strip()] = _expand(value.strip())
    return entries


def _entries(section: str) -> list[dict[str, str]]:
    """``Name: "value"; Other: value`` lines of a section as dictionaries."""
    parsed = []
    for line in _sections()[section]:
        fields = re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line)
        parsed.append({k: _expand(v.strip().strip('"')) for k, v in fields})
    return parsed


def _spec_text() -> str:
    return SPEC.read_text("utf-8")


def test_sections_an_installer_needs() -> None:
    sections = _sections()
    for name in ("Setup", "Languages", "Tasks", "Files", "Icons", "Run", "Code"):
        assert name in sections, f"[{name}] is missing"
    languages = {entry["Name"] for entry in _entries("Languages")}
    assert languages == {"english", "japanese"}


def test_per_user_by_default_all_users_on_request() -> None:
    setup = _setup()
    assert setup["PrivilegesRequired"] == "lowest"
    assert set(setup["PrivilegesRequiredOverridesAllowed"].split()) == {"dialog", "commandline"}
    assert setup["DefaultDirName"].startswith("{autopf}")  # Program Files or the user's Programs
    assert re.fullmatch(r"\{\{[0-9A-F-]{36}\}", setup["AppId"])  # the uninstall key's name


def test_every_file_source_is_what_the_build_produces() -> None:
    """``Source:`` paths point into the spec's COLLECT folder under build.py's dist folder."""
    collect = re.search(r'COLLECT\(.*?name="([^"]+)"', _spec_text(), re.DOTALL)
    assert collect is not None
    bundle = PureWindowsPath("dist") / collect.group(1)
    assert 'default=ROOT / "dist"' in Path(build.__file__).read_text("utf-8")  # --dist
    files = _entries("Files")
    assert files, "[Files] is empty"
    for entry in files:
        source = PureWindowsPath(entry["Source"])
        assert source.parent == bundle or bundle in source.parents, entry
        assert "recursesubdirs" in entry["Flags"]  # the one-folder bundle, subfolders included


def test_shortcuts_run_the_executables_the_spec_makes() -> None:
    spec = _spec_text()
    made = set(re.findall(r'_exe\("([\w-]+)"', spec))
    defines = _defines()
    assert Path(defines["AppExeName"]).stem in made
    assert Path(defines["AppCliName"]).stem in made
    for entry in _entries("Icons"):
        assert entry["Filename"] == "{app}\\" + defines["AppExeName"]
    desktop = [e for e in _entries("Icons") if e["Name"].startswith("{autodesktop}")]
    assert desktop and desktop[0]["Tasks"] == "desktopicon"
    task = next(e for e in _entries("Tasks") if e["Name"] == "desktopicon")
    assert "unchecked" in task["Flags"]  # the desktop icon is optional, off by default
    assert "PYZ(" in spec and "upx=False" in spec and "upx=True" not in spec


def test_setup_icon_is_the_one_build_writes(tmp_path: Path) -> None:
    written = icons.write_icons(tmp_path)
    icon = PureWindowsPath(_setup()["SetupIconFile"])
    stage = build.STAGE.relative_to(ROOT)
    assert icon.parent == PureWindowsPath(*stage.parts) / "icons"
    assert icon.name == written["ico"].name


def test_versions_agree() -> None:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    defines = _defines()
    assert defines["AppVersion"] == version
    numeric = ".".join(str(n) for n in build.numeric_version(version))
    assert defines["AppNumericVersion"] == numeric
    with (ROOT / "packaging" / "macos" / "Info.plist").open("rb") as handle:
        info = plistlib.load(handle)
    assert info["CFBundleShortVersionString"] == version
    assert info["CFBundleVersion"] == numeric
    # and the build injects its own version everywhere
    spec = _spec_text()
    assert 'info["CFBundleShortVersionString"] = FACTS["version"]' in spec
    assert "/DAppVersion=" in WORKFLOW.read_text("utf-8")


def test_numeric_version_for_windows() -> None:
    assert build.numeric_version("1.2.3") == (1, 2, 3, 0)
    assert build.numeric_version("2.0.1rc1") == (2, 0, 1, 0)
    assert build.numeric_version("3") == (3, 0, 0, 0)
    info = build.windows_version_info("1.2.3")
    assert "filevers=(1, 2, 3, 0)" in info and "StringStruct('ProductVersion', '1.2.3')" in info


def test_orgconfig_and_allusers_code_paths() -> None:
    code = "\n".join(_sections()["Code"])
    assert "SwitchValue('ORGCONFIG')" in code
    assert "ParamStr(I)" in code and "GetCmdTail" in code
    # refused outside the all-users mode, copied only in it
    assert re.search(r"if not IsAdminInstallMode then\s+Result := CustomMessage", code)
    assert re.search(r"ssPostInstall\).*IsAdminInstallMode", code)
    assert "FileCopy(OrgConfigPath, Target, False)" in code
    # the place the program reads the organisation file from on Windows
    expected = machine_config_paths("win32", {"ProgramData": r"C:\ProgramData"})[0]
    assert PureWindowsPath(expected) == PureWindowsPath(r"C:\ProgramData\MailSetup\config.toml")
    assert "ExpandConstant('{commonappdata}\\MailSetup')" in code
    assert "Folder + '\\config.toml'" in code


def test_uninstall_keeps_user_data_unless_asked() -> None:
    code = "\n".join(_sections()["Code"])
    purge = code[code.index("function PurgeWanted") :]
    assert "SwitchGiven('PURGE')" in purge
    assert "MB_DEFBUTTON2" in purge  # the question's default answer is No
    assert re.search(r"usUninstall\) and PurgeWanted\(\) then\s+PurgeUserData", code)
    assert "[UninstallDelete]" not in ISS.read_text("utf-8")


def test_signing_only_when_asked() -> None:
    setup = ISS.read_text("utf-8")
    assert re.search(r"#ifdef Sign\s+SignTool=mailsetup\s+SignedUninstaller=yes\s+#endif", setup)
    setup_section = "\n".join(_sections()["Setup"]).lower()
    assert "signtool.exe" not in setup_section and " sign " not in setup_section  # no command


# --- macOS and Linux ---------------------------------------------------------------------------


def test_info_plist() -> None:
    with (ROOT / "packaging" / "macos" / "Info.plist").open("rb") as handle:
        info = plistlib.load(handle)
    assert re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", info["CFBundleIdentifier"])
    assert info["NSHighResolutionCapable"] is True
    assert info["CFBundleExecutable"] in re.findall(r'_exe\("([\w-]+)"', _spec_text())
    assert set(info["CFBundleLocalizations"]) == {"en", "ja"}
    with (ROOT / "packaging" / "macos" / "entitlements.plist").open("rb") as handle:
        entitlements = plistlib.load(handle)
    assert entitlements["com.apple.security.cs.allow-jit"] is True  # Chromium's V8


def test_desktop_entry_matches_the_program() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "packaging" / "linux" / "mailsetup.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "mailsetup"
    assert entry["Icon"] == "mailsetup"
    assert entry["StartupWMClass"] == APPLICATION_NAME  # the X11 window class Qt sets
    assert DESKTOP_FILE_NAME == "mailsetup"  # Wayland matches the file name
    assert "Name[ja]" in entry and entry["Categories"].endswith(";")


def test_shell_scripts_pass_shellcheck() -> None:
    scripts = sorted((ROOT / "packaging").rglob("*.sh"))
    assert len(scripts) >= 2
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing (Debian package shellcheck)"
    result = subprocess.run(
        [shellcheck, "--severity=style", *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the release workflow -----------------------------------------------------------------------


def _workflow() -> dict[str, object]:
    data = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_workflow_builds_signs_and_self_tests_on_both_systems() -> None:
    jobs = _workflow()["jobs"]
    assert isinstance(jobs, dict)
    runners = {name: str(job["runs-on"]) for name, job in jobs.items()}
    assert runners["windows"].startswith("windows") and runners["macos"].startswith("macos")
    for name, job in jobs.items():
        runs = "\n".join(step.get("run", "") for step in job["steps"])
        assert "packaging/build.py" in runs, name
        assert runs.count("--self-test") >= 2, name  # the bundle and the installed/dmg copy
    windows = "\n".join(step.get("run", "") for step in jobs["windows"]["steps"])
    assert "installer.iss" in windows and "/VERYSILENT" in windows and "/DSign" in windows
    macos = "\n".join(step.get("run", "") for step in jobs["macos"]["steps"])
    assert "packaging/macos/build-dmg.sh" in macos


SIGNING_STEPS = ("Prepare signing", "Sign the executables", "Import the signing certificate")


def test_workflow_keeps_secrets_out_of_scripts_and_pins_actions() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    for name, job in jobs.items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), (name, step.get("name"))
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            if str(step.get("name", "")).startswith(SIGNING_STEPS):
                assert "!= ''" in str(step.get("if")), step["name"]  # only where secrets exist


# --- the staging step of packaging/build.py, for real --------------------------------------------


def test_stage_writes_publisher_settings_version_and_file_list(tmp_path: Path) -> None:
    client_id = "00000000-1111-2222-3333-444444444444"
    environ = {build.CLIENT_ID_VARIABLE: client_id, build.ACCOUNT_TYPES_VARIABLE: "common"}
    facts = build.stage(environ, tmp_path / "stage")
    resources = tmp_path / "stage" / "resources"
    with (resources / "config" / "publisher.toml").open("rb") as handle:
        publisher = tomllib.load(handle)
    assert publisher["microsoft"] == {"client_id": client_id, "account_types": "common"}
    assert (resources / VERSION_STAMP).read_text("utf-8").strip() == facts["version"]
    listing = (resources / FILE_LIST).read_text("utf-8")
    count, problems = _listed_problems(resources, listing)
    assert problems == [] and count == len(listing.splitlines())
    assert "config/publisher.toml" in listing and "icons/mailsetup.png" in listing
    for name in ("mailsetup.png", "mailsetup.ico", "mailsetup.icns"):
        assert (tmp_path / "stage" / "icons" / name).stat().st_size > 1000
    # the source tree's own file keeps no client ID
    assert 'client_id = ""' in (ROOT / "resources" / "config" / "publisher.toml").read_text()


def test_stage_without_settings_builds_in_no_client_id(tmp_path: Path) -> None:
    facts = build.stage({}, tmp_path / "stage")
    text = (tmp_path / "stage" / "resources" / "config" / "publisher.toml").read_text("utf-8")
    assert tomllib.loads(text)["microsoft"] == {"client_id": ""}
    assert facts["publisher_client_id"] == "none"


def test_stage_refuses_a_bad_client_id(tmp_path: Path) -> None:
    with pytest.raises(InvalidSettingError):
        build.stage({build.CLIENT_ID_VARIABLE: "not a guid"}, tmp_path / "stage")


def test_icon_containers() -> None:
    ico = icons.ico_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", ico)
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    for index, size in enumerate(icons.ICO_SIZES):
        width, _h, _c, _r, _p, bits, length, offset = struct.unpack_from(
            "<BBBBHHII", ico, 6 + 16 * index
        )
        assert (width or 256) == size and bits == 32
        png = ico[offset : offset + length]
        assert png.startswith(b"\x89PNG") and struct.unpack(">II", png[16:24]) == (size, size)
    icns = icons.icns_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    position, kinds = 8, []
    while position < len(icns):
        kinds.append(icns[position : position + 4])
        position += struct.unpack(">I", icns[position + 4 : position + 8])[0]
    assert position == len(icns) and b"ic10" in kinds and b"ic07" in kinds
