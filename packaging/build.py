"""Build the frozen bundle of this operating system: ``python packaging/build.py`` (``make dist``).

1. Stages the build's inputs in ``build/stage/`` (the source tree is never changed):
   - ``resources/``: a copy of the top-level ``resources/`` with the build's own
     ``config/publisher.toml`` (from the build settings ``MAILSETUP_PUBLISHER_CLIENT_ID`` and
     ``MAILSETUP_PUBLISHER_ACCOUNT_TYPES``, checked by ``app.core.config.publisher_toml``), the
     version stamp ``version.txt``, the window icon ``icons/mailsetup.png`` and, last, the list
     of every file with its SHA-256 (``FILES.txt``) that ``mailsetup --self-test`` checks;
   - ``icons/``: ``mailsetup.png``, ``.ico`` and ``.icns`` (``packaging/icons.py``);
   - ``version.json`` (what the spec and the release workflow read) and, for Windows,
     ``version_info.txt`` (the executable's file version, which deployment tools detect).
2. Runs PyInstaller on ``packaging/mailsetup.spec``: ``dist/mailsetup/`` (Windows, Linux) or
   ``dist/Mail Setup Wizard.app`` (macOS).
3. On Linux, puts ``mailsetup.desktop`` and the icon beside the executable.

Prints how long it took and the bundle's size. ``--stage-only`` stops after step 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))

from icons import write_icons  # noqa: E402

from app.cli.selftest import FILE_LIST, VERSION_STAMP, file_list  # noqa: E402
from app.core.config import publisher_toml  # noqa: E402

STAGE = ROOT / "build" / "stage"
SPEC = ROOT / "packaging" / "mailsetup.spec"
CLIENT_ID_VARIABLE = "MAILSETUP_PUBLISHER_CLIENT_ID"
ACCOUNT_TYPES_VARIABLE = "MAILSETUP_PUBLISHER_ACCOUNT_TYPES"


def project_version() -> str:
    """The version written in pyproject.toml, the one place it is set."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """Four numbers for Windows' file version (``0.1.0`` -> 0, 1, 0, 0; suffixes dropped)."""
    matches = (re.match(r"\d+", part) for part in version.split("."))
    numbers = [*(int(m.group()) if m else 0 for m in matches), 0, 0, 0, 0][:4]
    return numbers[0], numbers[1], numbers[2], numbers[3]


def windows_version_info(version: str) -> str:
    """PyInstaller's version resource file (``EXE(version=...)``) for the Windows executable."""
    numbers = numeric_version(version)
    strings = {
        "CompanyName": "Mail Setup Wizard",
        "FileDescription": "Mail Setup Wizard",
        "FileVersion": version,
        "InternalName": "mailsetup",
        "OriginalFilename": "mailsetup.exe",
        "ProductName": "Mail Setup Wizard",
        "ProductVersion": version,
    }
    entries = ",\n".join(f"          StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, flags=0x0,
                    OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
{entries}
    ])]),
    VarFileInfo([VarStruct('Translation', [0x0409, 1200])]),
  ]
)
"""


def stage(environ: dict[str, str], folder: Path = STAGE) -> dict[str, str]:
    """Write the staging folder (``build/stage``, see the module docstring); returns the build's
    facts. Raises InvalidSettingError for a publisher setting the program would refuse."""
    version = project_version()
    if folder.exists():
        shutil.rmtree(folder)
    resources = folder / "resources"
    shutil.copytree(
        ROOT / "resources", resources, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    client_id = environ.get(CLIENT_ID_VARIABLE, "").strip() or None
    account_types = environ.get(ACCOUNT_TYPES_VARIABLE, "").strip() or None
    (resources / "config" / "publisher.toml").write_text(
        publisher_toml(client_id, account_types=account_types), "utf-8"
    )
    (resources / VERSION_STAMP).write_text(version + "\n", "utf-8")
    icons = write_icons(folder / "icons")
    (resources / "icons").mkdir(exist_ok=True)
    shutil.copy2(icons["png"], resources / "icons" / "mailsetup.png")
    (resources / FILE_LIST).write_text(file_list(resources), "utf-8")
    (folder / "version_info.txt").write_text(windows_version_info(version), "utf-8")
    facts = {
        "version": version,
        "numeric_version": ".".join(str(n) for n in numeric_version(version)),
        "publisher_client_id": "set" if client_id else "none",
    }
    (folder / "version.json").write_text(json.dumps(facts, indent=2) + "\n", "utf-8")
    return facts


def run_pyinstaller(dist: Path, work: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level=WARN",
        f"--distpath={dist}",
        f"--workpath={work}",
        str(SPEC),
    ]
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603  (our own interpreter)


def finish_linux(bundle: Path) -> None:
    """The desktop entry and its icon beside the executable (see docs/packaging.md)."""
    shutil.copy2(ROOT / "packaging" / "linux" / "mailsetup.desktop", bundle / "mailsetup.desktop")
    shutil.copy2(STAGE / "icons" / "mailsetup.png", bundle / "mailsetup.png")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage-only", action="store_true", help="write build/stage and stop")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    args = parser.parse_args(argv)
    started = time.monotonic()
    facts = stage(dict(os.environ))
    print(
        f"staged {STAGE} (version {facts['version']}, publisher client ID: "
        f"{facts['publisher_client_id']})"
    )
    if args.stage_only:
        return 0
    run_pyinstaller(args.dist.resolve(), args.work.resolve())
    if sys.platform == "darwin":
        bundle = args.dist / "Mail Setup Wizard.app"
    else:
        bundle = args.dist / "mailsetup"
        if sys.platform.startswith("linux"):
            finish_linux(bundle)
    seconds = time.monotonic() - started
    size = folder_size(bundle) / 1_000_000
    print(f"built {bundle} in {seconds:.1f} s; {size:.1f} MB of files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
