"""Which way to sign in to Microsoft: the embedded window, MSAL's broker, or the system browser.

- **embedded** (the default): the program's own sign-in window (Qt WebEngine) with the auth code
  flow of :class:`~app.core.auth.microsoft.MicrosoftSignIn` (``start``/``finish``), redirect URI
  from the settings (``.../oauth2/nativeclient`` by default). Proven by the test suite.
- **broker**: MSAL's broker, the operating system's sign-in component: WAM on Windows, the
  Company Portal app on macOS. Needs ``pymsalruntime`` (``msal[broker]``) and the broker's
  redirect URI in the app registration. It is the only way to satisfy Conditional Access
  policies that require a compliant or managed device (AADSTS53000, AADSTS530003), which an
  embedded window cannot prove. UNPROVEN: no Windows or macOS broker runs here.
- **system browser**: MSAL's ``acquire_token_interactive`` opens the default browser and listens
  on ``http://localhost:<port>`` for the redirect. A managed browser (Edge signed in to the work
  profile, Chrome with Microsoft's extension) can satisfy device policies too. UNPROVEN here.

This module only *chooses* (pure functions, tested); ``MicrosoftSignIn.sign_in_interactive``
runs the broker and system-browser ways.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from app.core.texts import Text

__all__ = [
    "COMPLIANT_DEVICE_CODES",
    "LOOPBACK_REDIRECT",
    "MAC_BROKER_REDIRECT",
    "BrokerSupport",
    "MethodChoice",
    "SignInMethod",
    "broker_redirect_uri",
    "choose_methods",
    "msal_broker_options",
    "needs_device_compliance",
]

#: AADSTS codes that mean "this device must be compliant or managed": only a broker (or a
#: managed system browser) can pass them.
COMPLIANT_DEVICE_CODES: Final = frozenset({53000, 530003})
#: The redirect URI of the system-browser way (MSAL adds the port it listens on).
LOOPBACK_REDIRECT: Final = "http://localhost"
#: The macOS broker's redirect URI for an unsigned app (MSAL's documentation); a signed app
#: registers ``msauth.<bundle id>://auth`` instead.
MAC_BROKER_REDIRECT: Final = "msauth.com.msauth.unsignedapp://auth"


class SignInMethod(StrEnum):
    EMBEDDED = "embedded"
    BROKER = "broker"
    SYSTEM_BROWSER = "system-browser"


@dataclass(frozen=True)
class BrokerSupport:
    """What this computer offers: ``platform`` as ``sys.platform``; ``runtime`` whether MSAL's
    broker runtime (``pymsalruntime``) is installed."""

    platform: str
    runtime: bool

    @classmethod
    def detect(cls) -> BrokerSupport:
        return cls(sys.platform, importlib.util.find_spec("pymsalruntime") is not None)

    @property
    def broker_name(self) -> str | None:
        """The broker of this platform (None where MSAL has no usable one: Linux's broker is
        a preview and not used)."""
        if self.platform.startswith("win"):
            return "WAM"
        if self.platform.startswith("darwin"):
            return "Company Portal"
        return None

    @property
    def available(self) -> bool:
        return self.runtime and self.broker_name is not None


@dataclass(frozen=True)
class MethodChoice:
    """One way to sign in, the redirect URI it needs registered, and why it was chosen.
    ``proven`` is False for the ways the test suite cannot run (broker, system browser)."""

    method: SignInMethod
    redirect_uri: str
    reason: Text
    proven: bool


def broker_redirect_uri(platform: str, client_id: str) -> str | None:
    """The redirect URI the broker of ``platform`` needs in the app registration."""
    if platform.startswith("win"):
        return f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{client_id}"
    if platform.startswith("darwin"):
        return MAC_BROKER_REDIRECT
    return None


def needs_device_compliance(aadsts: int | None) -> bool:
    """Whether a failure with this AADSTS code can only be passed with a broker."""
    return aadsts in COMPLIANT_DEVICE_CODES


def choose_methods(
    *,
    client_id: str,
    embedded_redirect_uri: str,
    support: BrokerSupport,
    embedded_available: bool = True,
    prefer_system_browser: bool = False,
    device_compliance_required: bool = False,
) -> tuple[MethodChoice, ...]:
    """The ways to sign in, best first (the caller tries the first, offers the rest).

    - ``prefer_system_browser`` (``--system-browser``): the system browser only.
    - ``device_compliance_required`` (after AADSTS53000/530003): the broker if available,
      then the system browser; never the embedded window, which cannot pass.
    - otherwise: the embedded window (when ``embedded_available``: Qt WebEngine works), then
      the broker if available, then the system browser.
    """
    broker: MethodChoice | None = None
    broker_uri = broker_redirect_uri(support.platform, client_id)
    if support.available and broker_uri is not None:
        reason_key = (
            "auth.method.broker.compliance"
            if device_compliance_required
            else ("auth.method.broker")
        )
        broker = MethodChoice(
            SignInMethod.BROKER,
            broker_uri,
            Text(reason_key, {"broker": support.broker_name or ""}),
            proven=False,
        )
    system = MethodChoice(
        SignInMethod.SYSTEM_BROWSER,
        LOOPBACK_REDIRECT,
        Text(
            "auth.method.system-browser.compliance"
            if device_compliance_required
            else "auth.method.system-browser"
        ),
        proven=False,
    )
    if prefer_system_browser:
        system = MethodChoice(
            system.method, system.redirect_uri, Text("auth.method.system-browser.asked"), False
        )
        return (system,)
    embedded = MethodChoice(
        SignInMethod.EMBEDDED, embedded_redirect_uri, Text("auth.method.embedded"), proven=True
    )
    choices: list[MethodChoice] = []
    if embedded_available and not device_compliance_required:
        choices.append(embedded)
    if broker is not None:
        choices.append(broker)
    choices.append(system)
    return tuple(choices)


def msal_broker_options(choice: MethodChoice, support: BrokerSupport) -> dict[str, bool]:
    """Keyword arguments for ``msal.PublicClientApplication`` that turn the broker on for
    ``choice`` (empty for the other ways)."""
    if choice.method is not SignInMethod.BROKER:
        return {}
    if support.platform.startswith("win"):
        return {"enable_broker_on_windows": True}
    if support.platform.startswith("darwin"):
        return {"enable_broker_on_mac": True}
    return {}
