"""Qt WebEngine's environment: the one place that sets it, before WebEngine starts.

Chromium inside Qt WebEngine reads its switches from environment variables once, when the first
web profile or page of the process is created (importing the modules is not enough to start
it). So whoever is about to show a web page calls :func:`prepare_webengine` first; the modules
themselves are imported only where a page is needed (``app.ui.browser``), never at start-up.

What is set:

- ``QTWEBENGINE_DISABLE_SANDBOX=1`` when running as root on Linux: Chromium's sandbox refuses
  to start as root and WebEngine would abort.
- ``QTWEBENGINE_CHROMIUM_FLAGS`` gains ``--host-resolver-rules`` made from the network seam's
  ``--resolve`` overrides (:func:`host_resolver_rules`), so the embedded browser meets the same
  servers as the rest of the program. Rules already in the variable (a test's, an
  administrator's) are kept after ours; everything else already in the variable is kept as is.

Nothing here makes the browser accept a certificate it would otherwise refuse.
"""

from __future__ import annotations

import os
import shlex
import sys
import warnings
from collections.abc import Iterable, Mapping, MutableMapping

from app.core.net.options import ANY_HOST, ResolveOverride

SANDBOX_VARIABLE = "QTWEBENGINE_DISABLE_SANDBOX"
FLAGS_VARIABLE = "QTWEBENGINE_CHROMIUM_FLAGS"
RULES_SWITCH = "--host-resolver-rules"

#: Qt modules whose import means WebEngine may already have been started in this process.
_WEBENGINE_MODULES = ("PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets")


class WebEngineEnvironmentWarning(RuntimeWarning):
    """WebEngine was loaded before its environment was set: the new values may be ignored."""


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def host_resolver_rules(overrides: Iterable[ResolveOverride], *, block_others: bool = False) -> str:
    """Chromium's ``--host-resolver-rules`` value for ``--resolve`` overrides.

    ``host:443:127.0.0.1:8443`` becomes ``MAP host:443 127.0.0.1:8443`` (Chromium matches a
    pattern against ``host`` and against ``host:port``). With ``block_others`` every other name
    is unresolvable (``MAP * ~NOTFOUND``) except loopback addresses and ``localhost``: the
    browser then cannot reach anything but the mapped servers and this computer.
    """
    rules: list[str] = []
    for override in overrides:
        pattern = "*" if override.host == ANY_HOST else _bracketed(override.host)
        target = f"{_bracketed(override.address)}:{override.target_port}"
        rules.append(f"MAP {pattern}:{override.port} {target}")
    if block_others:
        rules.extend(("EXCLUDE 127.0.0.1", "EXCLUDE [::1]", "EXCLUDE localhost"))
        rules.append("MAP * ~NOTFOUND")
    return ", ".join(rules)


def _split_flags(value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError:  # an unbalanced quote: keep the words as they are
        return value.split()


def _entries(rules: str) -> list[str]:
    return [entry.strip() for entry in rules.split(",") if entry.strip()]


def _quoted(word: str) -> str:
    """A word as Qt WebEngine splits the variable: double quotes group words with spaces."""
    return f'"{word}"' if any(c.isspace() for c in word) and '"' not in word else word


def merge_flags(existing: str, rules: str) -> str:
    """``existing`` Chromium switches with ``rules`` put in front of any host resolver rules
    they already hold (Chromium uses one ``--host-resolver-rules``; the first matching rule
    wins)."""
    if not rules:
        return existing
    words = _split_flags(existing)
    kept: list[str] = []
    earlier: list[str] = []
    for word in words:
        name, sep, value = word.partition("=")
        if name == RULES_SWITCH and sep:
            earlier.append(value)
        else:
            kept.append(word)
    wanted = _entries(rules)
    present = [entry for part in earlier for entry in _entries(part)]
    if present and set(wanted) <= set(present):
        return existing  # asked for already (a second call, or the same overrides twice)
    entries = (entry.strip() for part in (rules, *earlier) for entry in part.split(","))
    # a rule seen before can never match again (the first match wins): drop repeats
    combined = ", ".join(dict.fromkeys(entry for entry in entries if entry))
    kept.append(f"{RULES_SWITCH}={combined}")
    return " ".join(_quoted(word) for word in kept)


def webengine_environment(
    environ: Mapping[str, str],
    *,
    resolve: Iterable[ResolveOverride] = (),
    is_root: bool | None = None,
    platform: str | None = None,
) -> dict[str, str]:
    """The variables :func:`prepare_webengine` would set, given the current ``environ``."""
    changes: dict[str, str] = {}
    root = _is_root() if is_root is None else is_root
    system = sys.platform if platform is None else platform
    if root and system.startswith("linux") and not environ.get(SANDBOX_VARIABLE):
        changes[SANDBOX_VARIABLE] = "1"
    rules = host_resolver_rules(resolve)
    if rules:
        changes[FLAGS_VARIABLE] = merge_flags(environ.get(FLAGS_VARIABLE, ""), rules)
    return changes


def webengine_loaded() -> bool:
    """Whether Qt WebEngine's modules have been imported in this process (it may have
    started, and then no longer reads its environment)."""
    return any(name in sys.modules for name in _WEBENGINE_MODULES)


def prepare_webengine(
    *,
    resolve: Iterable[ResolveOverride] = (),
    environ: MutableMapping[str, str] | None = None,
) -> dict[str, str]:
    """Set WebEngine's environment for this process (see the module docstring); returns what
    was changed. Warns (:class:`WebEngineEnvironmentWarning`) when WebEngine's modules are
    already loaded and the values change: if it has started, Chromium silently ignores them."""
    env = os.environ if environ is None else environ
    changes = webengine_environment(env, resolve=tuple(resolve))
    differing = {name: value for name, value in changes.items() if env.get(name) != value}
    if differing and environ is None and webengine_loaded():
        warnings.warn(
            "Qt WebEngine was loaded before its environment was set; "
            f"{', '.join(sorted(differing))} may be ignored",
            WebEngineEnvironmentWarning,
            stacklevel=2,
        )
    env.update(differing)
    return differing
