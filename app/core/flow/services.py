"""What the wizard's pages need done, with no user interface: find the settings for an address,
check an account, sign in to Microsoft, save the account (secret to the keyring, the rest to the
saved-accounts store). A window holds one :class:`WizardServices`; tests build one aimed at the
test world. Everything slow is async (blocking calls such as the keyring's D-Bus and the store's
file lock run in a worker thread), so the window's event loop never waits on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from app.core.checks.base import CheckTarget, Secret, Step
from app.core.checks.runner import VerifyOptions, VerifyResult, verify
from app.core.config import Config, load_config
from app.core.diagnostics.diagnose import targets_for
from app.core.discovery.engine import DetectionOptions, DetectionResult, SourceEvent, detect
from app.core.flow import rules
from app.core.flow.state import MailApp, SignInKind, WizardState
from app.core.model import AuthKind, EmailAddress, Protocol
from app.core.net import Network, NetworkOptions
from app.core.profiles.secrets import SecretPurpose, delete_secret, load_secret, store_secret
from app.core.profiles.store import AccountState, AccountStore, SavedAccount, state_after
from app.core.texts import Language

if TYPE_CHECKING:
    from app.core.auth.microsoft import MicrosoftSignIn

__all__ = [
    "WizardServices",
    "check_targets",
    "defaults_config",
    "microsoft_scopes",
    "with_microsoft_tokens",
]

#: ``client`` of a saved account for each app (what exporters and ``accounts list`` show).
_CLIENT: dict[MailApp, str] = {
    MailApp.NEW_OUTLOOK: "new-outlook",
    MailApp.CLASSIC_OUTLOOK: "outlook",
    MailApp.THUNDERBIRD: "thunderbird",
    MailApp.APPLE_MAIL: "apple-mail",
    MailApp.OTHER: "other",
}


def microsoft_scopes() -> dict[Protocol, str]:
    """The token scope each mail protocol signs in with (one resource per token request)."""
    from app.core.auth.microsoft import IMAP_SCOPE, POP_SCOPE, SMTP_SCOPE

    return {Protocol.IMAP: IMAP_SCOPE, Protocol.POP3: POP_SCOPE, Protocol.SMTP: SMTP_SCOPE}


async def with_microsoft_tokens(
    service: MicrosoftSignIn, account: str, targets: Sequence[CheckTarget]
) -> list[CheckTarget]:
    """``targets`` with the Microsoft sign-in's access tokens for ``account`` (refreshed
    silently; one token request per resource) on the mail servers; calendars and contacts as
    they were (Microsoft offers no CalDAV or CardDAV). Raises the sign-in's SetupError."""
    scopes = microsoft_scopes()
    updated: list[CheckTarget] = []
    for target in targets:
        scope = scopes.get(target.protocol)
        if scope is None:
            updated.append(target)
            continue
        credentials = await service.oauth_credentials(account, [scope])
        updated.append(replace(target, credentials=credentials))
    return updated


def defaults_config() -> Config:
    """The built-in configuration alone (no machine, user or policy layers)."""
    from pathlib import Path

    return load_config(
        environ={}, machine_paths=[], user_path=Path("/nonexistent/none.toml"), policy_layers=[]
    )


def check_targets(state: WizardState, secret: Secret | None) -> list[CheckTarget]:
    """The checks for the state's account: incoming, outgoing, calendars and contacts, signing
    in with ``secret`` (None: only what needs no sign-in is tried). Calendars and contacts sign
    in with the Apple Account when one was given."""
    if state.config is None or state.address is None:
        return []
    sign_in = state.sign_in
    username = sign_in.username.strip() if sign_in is not None else ""
    apple = sign_in.apple_account.strip() if sign_in is not None else ""
    return targets_for(
        state.config,
        str(state.address),
        secret=secret,
        username=username or None,
        dav_username=apple or None,
    )


@dataclass
class WizardServices:
    """The window's link to the core. ``net_options``: the network seam's options (CA bundles,
    ``--resolve`` overrides, proxy); ``config``: the merged configuration (organisation policy,
    Microsoft registration); ``store``: the saved accounts; ``keyring_backend``: None for the
    system keyring. ``microsoft_factory`` builds the Microsoft sign-in service (default: MSAL
    with the encrypted token cache), called at most once."""

    net_options: NetworkOptions = field(default_factory=NetworkOptions)
    config: Config = field(default_factory=defaults_config)
    store: AccountStore = field(default_factory=AccountStore)
    keyring_backend: Any = None
    detection: DetectionOptions = field(default_factory=DetectionOptions)
    checking: VerifyOptions = field(default_factory=VerifyOptions)
    microsoft_factory: Callable[[WizardServices], MicrosoftSignIn] | None = None
    _microsoft: MicrosoftSignIn | None = field(default=None, init=False, repr=False)
    _network: Network | None = field(default=None, init=False, repr=False)

    def network(self) -> Network:
        """The network seam for these options, one for the window's life (its TLS contexts
        are made once)."""
        if self._network is None or self._network.options is not self.net_options:
            self._network = Network(self.net_options)
        return self._network

    async def warm_up(self) -> None:
        """Read what the first detection and check would otherwise read in the event loop's
        thread (the TLS trust store, the provider, knowledge and text catalogs), in a worker
        thread while the person types."""
        net = self.network()

        def read() -> None:
            from app.core.diagnostics.knowledge import default_knowledge
            from app.core.discovery.catalog import default_catalog
            from app.core.discovery.typos import default_suggester
            from app.core.texts import default_catalog as texts

            _ = net.tls_context, net.http_tls_context
            default_catalog()
            default_knowledge()
            default_suggester()
            texts()

        await asyncio.to_thread(read)

    # -- finding -------------------------------------------------------------------------------

    async def find(
        self,
        address: EmailAddress,
        language: Language,
        on_event: Callable[[SourceEvent], None] | None = None,
    ) -> DetectionResult:
        """Detection for ``address``; cancelling the task stops every source at once."""
        return await detect(
            address, self.network(), options=self.detection, language=language, on_event=on_event
        )

    # -- Microsoft -----------------------------------------------------------------------------

    @property
    def microsoft_configured(self) -> bool:
        return bool((self.config.microsoft.client_id or "").strip())

    async def microsoft(self) -> MicrosoftSignIn:
        """The Microsoft sign-in service (its token cache opened in a worker thread)."""
        if self._microsoft is None:
            if self.microsoft_factory is not None:
                self._microsoft = self.microsoft_factory(self)
            else:
                from app.core.auth.microsoft import MicrosoftSignIn
                from app.core.auth.token_cache import TokenCacheStore

                cache = await asyncio.to_thread(TokenCacheStore.open)
                self._microsoft = MicrosoftSignIn(self.config.microsoft, self.network(), cache)
        return self._microsoft

    # -- checking ------------------------------------------------------------------------------

    async def check(
        self,
        state: WizardState,
        secret: Secret | None,
        language: Language,
        on_step: Callable[[Protocol, Step], None] | None = None,
    ) -> VerifyResult:
        """Check the state's account for real. A Microsoft account signs in to its mail
        servers with the tokens of the sign-in just made; an app that signs in by itself
        (new Outlook) is checked without credentials (the servers' offer and TLS only)."""
        address = "" if state.address is None else str(state.address)
        targets = check_targets(state, secret)
        kind = rules.sign_in_kind(state)
        if kind is SignInKind.MICROSOFT and state.sign_in is not None:
            service = await self.microsoft()
            account = state.sign_in.signed_in_as or address
            targets = await with_microsoft_tokens(service, account, targets)
        return await verify(
            address,
            targets,
            self.network(),
            options=self.checking,
            language=language,
            on_step=on_step,
        )

    # -- saving --------------------------------------------------------------------------------

    def _account(self, state: WizardState, with_secret: bool) -> SavedAccount:
        assert state.address is not None and state.config is not None
        config = state.config
        username = state.sign_in.username.strip() if state.sign_in is not None else ""
        if username:
            outgoing = config.outgoing
            config = replace(
                config,
                incoming=replace(config.incoming, username=username),
                outgoing=None if outgoing is None else replace(outgoing, username=username),
            )
        apple = state.sign_in.apple_account.strip() if state.sign_in is not None else ""
        verified = state.verify
        checked, codes = (
            (AccountState.UNVERIFIED, ())
            if verified is None
            else state_after(verified, sign_in_expected=config.auth is not AuthKind.NONE)
        )
        return SavedAccount(
            address=str(state.address),
            config=config,
            display_name=state.display_name or None,
            dav_username=apple or None,
            client=None if state.app is None else _CLIENT[state.app],
            secrets=(SecretPurpose.ACCOUNT.value,) if with_secret else (),
            state=checked,  # (checked without signing in, for an app that signs in by itself:
            findings=codes,  # unverified, as nothing proved the credentials)
        )

    async def record_check(self, address: str, result: VerifyResult) -> SavedAccount | None:
        """Record a re-check of a saved account (helpdesk mode) in the store: its state and
        problems, as ``mailsetup accounts verify`` does. None when no account is saved."""

        def record() -> SavedAccount | None:
            account = self.store.get(address)
            if account is None or not result.checks:
                return None
            state, codes = state_after(result, sign_in_expected=account.auth is not AuthKind.NONE)
            return self.store.update_state(address, state, codes)

        return await asyncio.to_thread(record)

    async def save(self, state: WizardState, secret: Secret | None) -> str:
        """Save the state's account: the secret to the keyring first, then the account (never
        a secret) to the store. If the store cannot be written, the keyring entry just made is
        removed again, so nothing is left half-saved. Returns the account's key; raises the
        keyring's or the store's SetupError."""
        if state.address is None or state.config is None:
            raise ValueError("there is no account to save")
        address = str(state.address)
        uses_secret = secret is not None and state.config.auth is not AuthKind.OAUTH2_MICROSOFT
        backend = self.keyring_backend
        before: Secret | None = None
        if uses_secret:
            assert secret is not None
            # the password saved before for this address, if any: put back if saving fails
            before = await asyncio.to_thread(
                load_secret, address, SecretPurpose.ACCOUNT, backend=backend
            )
            await asyncio.to_thread(
                store_secret, address, secret, SecretPurpose.ACCOUNT, backend=backend
            )
        try:
            saved = await asyncio.to_thread(self.store.save, self._account(state, uses_secret))
        except BaseException:
            if uses_secret:
                await asyncio.to_thread(_restore_secret, address, before, backend)
            raise
        return saved.key


def _restore_secret(address: str, before: Secret | None, backend: Any) -> None:
    """The keyring as it was before a save that failed: the earlier password, or none."""
    if before is None:
        delete_secret(address, SecretPurpose.ACCOUNT, backend=backend)
    else:
        store_secret(address, before, SecretPurpose.ACCOUNT, backend=backend)
