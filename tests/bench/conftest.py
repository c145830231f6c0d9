"""Benchmarks collect their figures here; they are printed at the end of ``make bench``."""

from __future__ import annotations

import pytest

FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("benchmark figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
