"""``mailsetup --self-test`` from source, for real: under Xvfb every check passes and exits 0;
in a copy of the program with a resource removed or changed, it exits 6 and names the file.

The copy (``app/``, ``resources/``, ``pyproject.toml`` in a temporary folder) is a source
checkout of its own: ``python -m app`` run there finds its resources beside ``app/``
(``app/core/resources.py``), so no override of the resources folder is needed. The frozen
bundle's self-test is ``make dist-test`` (docs/packaging.md), not part of this suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.selftest import CHECKS, FILE_LIST, file_list
from tests.world.display import XvfbDisplay

ROOT = Path(__file__).resolve().parents[2]
NAMES = [name for name, _check in CHECKS]

pytestmark = pytest.mark.gui


def _self_test(cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)  # DISPLAY and the WebEngine switches of xvfb_display
    env["HOME"] = str(tmp_path / "home")
    env.pop("PYTHONPATH", None)
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "app", "--self-test"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_program(tmp_path: Path) -> Path:
    copy = tmp_path / "program"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "app", copy / "app", ignore=ignore)
    shutil.copytree(ROOT / "resources", copy / "resources", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _lines(output: str) -> dict[str, str]:
    """The report's lines by check name: ``{"texts": "ok    texts  1196 texts ..."}``."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("ok", "FAIL") and words[1] in NAMES:
            found[words[1]] = line
    return found


def test_self_test_from_source_passes(xvfb_display: XvfbDisplay, tmp_path: Path) -> None:
    result = _self_test(ROOT, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result.stdout)
    assert list(lines) == NAMES, result.stdout  # every check reported, in order
    assert all(line.startswith("ok") for line in lines.values()), result.stdout
    assert f"source {ROOT}" in result.stdout.splitlines()[0]
    assert "taro@icloud.com: iCloud Mail" in lines["offline"]
    assert "loaded a local page" in lines["webengine"]
    assert result.stdout.splitlines()[-1].startswith(f"self-test passed: {len(NAMES)} checks")


def test_a_missing_resource_fails_and_is_named(xvfb_display: XvfbDisplay, tmp_path: Path) -> None:
    copy = _copy_program(tmp_path)
    (copy / "resources" / "microsoft" / "clouds.toml").unlink()
    result = _self_test(copy, tmp_path)
    assert result.returncode == 6, result.stdout + result.stderr
    lines = _lines(result.stdout)
    assert f"source {copy}" in result.stdout.splitlines()[0]  # the copy ran, not the checkout
    assert lines["resources"].startswith("FAIL")
    assert "missing microsoft/clouds.toml" in lines["resources"]
    assert lines["clouds"].startswith("FAIL") and "clouds.toml" in lines["clouds"]
    assert lines["texts"].startswith("ok")  # the others still ran
    assert result.stdout.splitlines()[-1].startswith("self-test FAILED: resources, clouds")


def test_the_build_file_list_catches_missing_and_changed_files(
    xvfb_display: XvfbDisplay, tmp_path: Path
) -> None:
    copy = _copy_program(tmp_path)
    resources = copy / "resources"
    (resources / FILE_LIST).write_text(file_list(resources), "utf-8")  # as packaging/build.py
    (resources / "texts" / "export.toml").unlink()
    with (resources / "known_domains.txt").open("a", encoding="utf-8") as handle:
        handle.write("changed.example\n")
    result = _self_test(copy, tmp_path)
    assert result.returncode == 6, result.stdout + result.stderr
    line = _lines(result.stdout)["resources"]
    assert line.startswith("FAIL")
    assert "missing texts/export.toml" in line and "changed known_domains.txt" in line
