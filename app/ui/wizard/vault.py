"""Where the window keeps a secret between the page that takes it and the page that saves it:
in memory only, under a :class:`~app.core.flow.SecretRef` (the flow's state holds the handle,
never the secret). Cleared when the window closes."""

from __future__ import annotations

import secrets as _random

from app.core.checks.base import Secret
from app.core.flow import SecretRef


class SecretVault:
    def __init__(self) -> None:
        self._kept: dict[str, Secret] = {}

    def keep(self, secret: Secret) -> SecretRef:
        """Keep ``secret``; the handle to ask for it again."""
        ref = SecretRef(_random.token_hex(8))
        self._kept[ref.id] = secret
        return ref

    def get(self, ref: SecretRef | None) -> Secret | None:
        return None if ref is None else self._kept.get(ref.id)

    def forget(self, ref: SecretRef | None) -> None:
        if ref is not None:
            self._kept.pop(ref.id, None)

    def clear(self) -> None:
        self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)
