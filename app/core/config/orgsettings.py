"""The typed organisation settings: ``[providers]``, ``[organisation]``, ``[branding]`` and
``[support]`` (``[network]`` is in :mod:`app.core.config.settings`). Their defaults equal
``resources/config/defaults.toml`` (a test checks it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.config.orgvalues import OTHER_PROVIDER, DefaultApp

#: The product name shown when ``branding.product_name`` is not set.
DEFAULT_PRODUCT_NAME = "Mail Setup Wizard"


@dataclass(frozen=True)
class ProvidersSettings:
    """``[providers]``: which providers may be set up and which are left out of the lists.

    ``allowed`` empty: every provider. Otherwise only the ids listed (catalog ids, ``other``
    for every account the catalog does not describe). ``hidden``: providers not offered in the
    wizard's lists of providers (an address that belongs to one still works if it is allowed).
    """

    allowed: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()

    def is_allowed(self, provider_id: str | None) -> bool:
        """True when an account of ``provider_id`` (None: no catalog provider) may be set up."""
        return not self.allowed or (provider_id or OTHER_PROVIDER) in self.allowed

    def is_offered(self, provider_id: str | None) -> bool:
        """True when ``provider_id`` is allowed and not hidden: shown in lists of providers."""
        return self.is_allowed(provider_id) and (provider_id or OTHER_PROVIDER) not in self.hidden


@dataclass(frozen=True)
class OrganisationSettings:
    """``[organisation]``: ``default_app`` is the mail program the wizard configures unless the
    person picks another (None: the wizard asks)."""

    default_app: DefaultApp | None = None


@dataclass(frozen=True)
class BrandingSettings:
    """``[branding]``: the product name shown in the window and reports (None: the program's
    own) and a logo (an existing PNG or SVG file, absolute path; None: the program's)."""

    product_name: str | None = None
    logo: Path | None = None

    @property
    def shown_name(self) -> str:
        return self.product_name or DEFAULT_PRODUCT_NAME


@dataclass(frozen=True)
class SupportSettings:
    """``[support]``: the contact shown on every error page and in the report. Each field is
    None when not set; the formats are checked (``email`` an address, ``phone`` a telephone
    number, ``url`` an http(s) page)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None

    @property
    def is_set(self) -> bool:
        """True when there is a way to reach the support (anything but the name alone)."""
        return bool(self.email or self.phone or self.url)

    def to_dict(self) -> dict[str, str]:
        """The fields that are set, for reports and JSON."""
        fields = {"name": self.name, "email": self.email, "phone": self.phone, "url": self.url}
        return {key: value for key, value in fields.items() if value}
