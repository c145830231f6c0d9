"""The wheel is a working install: built from the checkout, installed into a fresh virtual
environment outside it, ``mailsetup --version`` runs and the resources ship inside the package.

The dependencies are left out (``--no-deps``): ``--version`` and ``resources_root()`` need none,
which also proves that they import nothing heavy. pip runs with ``--no-index --isolated``: the
build and the install never reach a package index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from app import __version__

CHECKOUT = Path(__file__).resolve().parents[2]

# Not part of what setup.py packs, and big or volatile: never copied into the build folder.
_NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", "tests", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "*.pyc"
)


def _run(argv: Sequence[str], cwd: Path, timeout: float = 60.0) -> str:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))
    }
    result = subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the checkout) with only the freshly built wheel in it."""
    root = tmp_path_factory.mktemp("wheel")
    assert CHECKOUT not in root.parents
    source = root / "source"
    shutil.copytree(CHECKOUT, source, ignore=_NOT_SOURCES)
    dist = root / "dist"
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)], source
    )
    wheels = sorted(dist.glob("mailsetup-*.whl"))
    assert len(wheels) == 1, wheels

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root)
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--isolated",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--no-cache-dir",
            "--quiet",
            str(wheels[0]),
        ],
        root,
    )
    return venv


def test_the_installed_command_prints_its_version(installed: Path, tmp_path: Path) -> None:
    out = _run([str(installed / "bin" / "mailsetup"), "--version"], tmp_path)
    assert out.strip() == f"mailsetup {__version__}"


def test_resources_ship_inside_the_installed_package(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import app, sysconfig\n"
        "from app.core.resources import resources_root\n"
        "print(sysconfig.get_path('purelib'))\n"
        "print(app.__file__)\n"
        "print(resources_root())\n"
    )
    out = _run([str(installed / "bin" / "python"), "-c", probe], tmp_path)
    site_packages, package_file, resources = (Path(line) for line in out.splitlines())
    assert site_packages.is_relative_to(installed)
    assert Path(package_file).is_relative_to(site_packages)
    assert resources == site_packages / "app" / "resources"
    assert (resources / "MANIFEST.txt").is_file()
    assert not resources.is_relative_to(CHECKOUT)
