"""app.core must import without Qt: every module under it is imported in a fresh interpreter
in which PySide6, shiboken6 and qasync cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run by the venv's python. Argument 1: the package to walk; argument 2 (optional): a folder to
# put first on sys.path. Prints the imported module names as JSON; exits non-zero on failure.
SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, json, pkgutil, sys

    BLOCKED = {"PySide6", "shiboken6", "qasync"}

    class QtBlocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked: app.core must not import Qt")
            return None

    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED:
            sys.exit(f"{name} was imported before the blocker was installed")
    sys.meta_path.insert(0, QtBlocker())

    # The blocker must really block, or this test proves nothing.
    for name in sorted(BLOCKED):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
        else:
            sys.exit(f"the blocker let {name} through")

    if len(sys.argv) > 2:
        sys.path.insert(0, sys.argv[2])
    package = importlib.import_module(sys.argv[1])

    def fail(name):
        raise ImportError(f"cannot import {name}")

    imported = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".", onerror=fail):
        try:
            importlib.import_module(info.name)
        except BaseException:
            print(f"while importing {info.name}:", file=sys.stderr)
            raise
        imported.append(info.name)
    leaked = sorted(n for n in sys.modules if n.partition(".")[0] in BLOCKED)
    if leaked:
        sys.exit(f"Qt modules were loaded: {leaked}")
    print(json.dumps(imported))
    """
)


def _run(package: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT, package, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_core_module_imports_without_qt() -> None:
    result = _run("app.core")
    assert result.returncode == 0, result.stderr
    imported = set(json.loads(result.stdout))
    expected = {
        str(path.relative_to(ROOT).with_suffix("")).replace("/", ".").removesuffix(".__init__")
        for path in (ROOT / "app" / "core").rglob("*.py")
    }
    assert expected <= imported
    assert {"app.core.model", "app.core.errors", "app.core.texts"} <= imported


def test_the_check_fails_for_a_module_that_imports_qt(tmp_path: Path) -> None:
    package = tmp_path / "fakecore"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('"""A package that looks clean at the top."""\n')
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "window.py").write_text("from PySide6.QtCore import QObject\n")
    result = _run("fakecore", str(tmp_path))
    assert result.returncode != 0
    assert "PySide6.QtCore is blocked" in result.stderr or "PySide6 is blocked" in result.stderr
    assert "while importing fakecore.sub.window:" in result.stderr


def test_the_check_fails_for_qasync_too(tmp_path: Path) -> None:
    package = tmp_path / "fakecore2"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "loop.py").write_text("import qasync\n")
    result = _run("fakecore2", str(tmp_path))
    assert result.returncode != 0
    assert "qasync is blocked" in result.stderr
    assert "while importing fakecore2.loop:" in result.stderr
