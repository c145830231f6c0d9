"""The program's configuration: TOML layers, later winning, checked against a schema.

Layers (lowest first):

1. built-in defaults: ``resources/config/defaults.toml``;
2. the build's publisher settings: ``resources/config/publisher.toml``;
3. the user's settings: ``config.toml`` in the user's configuration folder (platformdirs,
   app name ``MailSetup``);
4. the file named by the environment variable ``MAILSETUP_CONFIG``;
5. the organisation's machine-wide file (``%ProgramData%\\MailSetup\\config.toml``,
   ``/Library/Application Support/MailSetup/config.toml``, ``/etc/mailsetup/config.toml``);
6. the policy sources: Windows policy registry values (``HKLM\\Software\\Policies\\MailSetup``)
   or macOS managed preferences (``/Library/Managed Preferences/com.mailsetup.plist``, then the
   user's). Policy beats the file. Both machine-wide sources may list ``locked = [...]`` keys,
   immune to the user's layers, overrides and the command line's network switches.

An unknown key is a warning naming the key and the file, with a "did you mean" (never a
failure: an older program survives a newer file). A bad value, a client secret, an unreadable
file or a TOML syntax error is a ``ConfigError`` naming the file and the key (CLI exit code 6).

Usage::

    from app.core.config import load_config

    config = load_config()
    config.microsoft.client_id            # MicrosoftSettings
    config.providers.is_allowed("google") # ProvidersSettings
    config.organisation.default_app       # OrganisationSettings
    config.branding.shown_name            # BrandingSettings
    config.support.to_dict()              # SupportSettings
    ignored: list[ConfigWarning] = []
    net_options = config.network_options(options_from_command_line, ignored)
    for warning in config.warnings:
        print(warning.render(language))

Modules: ``paths`` (where the layers are), ``layers`` (reading a file), ``values`` and
``orgvalues`` (checking one value), ``schema`` (the known keys), ``settings`` and
``orgsettings`` (the typed results), ``loader`` (merging, locks, overrides), ``netapply``
(the network settings over the command line's), ``policy``, ``policy_windows`` and
``policy_macos`` (the policy sources), ``consent`` (the admin-consent link), ``publisher``
(the build's file).
Documented for administrators in docs/admin-guide.md.
"""

from app.core.config.consent import DEFAULT_AUTHORITY_HOST, admin_consent_url
from app.core.config.layers import Layer, read_layer
from app.core.config.loader import Config, LockedKeyError, build_config, load_config
from app.core.config.orgsettings import (
    DEFAULT_PRODUCT_NAME,
    BrandingSettings,
    OrganisationSettings,
    ProvidersSettings,
    SupportSettings,
)
from app.core.config.orgvalues import DEFAULT_APPS, OTHER_PROVIDER, DefaultApp
from app.core.config.paths import (
    APP_NAME,
    ENV_VAR,
    machine_config_paths,
    user_config_path,
)
from app.core.config.policy import read_policy_layers
from app.core.config.publisher import publisher_toml
from app.core.config.schema import RESERVED_SECTIONS, SCHEMA_VERSION, SETTINGS
from app.core.config.settings import (
    DEFAULT_ACCOUNT_TYPES,
    DEFAULT_REDIRECT_URI,
    DEFAULT_SCOPES,
    ConfigSource,
    ConfigWarning,
    LayerKind,
    MicrosoftSettings,
    NetworkSettings,
)
from app.core.config.values import ACCOUNT_TYPES, AccountTypes, host_matches

__all__ = [
    "ACCOUNT_TYPES",
    "APP_NAME",
    "DEFAULT_ACCOUNT_TYPES",
    "DEFAULT_APPS",
    "DEFAULT_AUTHORITY_HOST",
    "DEFAULT_PRODUCT_NAME",
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_SCOPES",
    "ENV_VAR",
    "OTHER_PROVIDER",
    "RESERVED_SECTIONS",
    "SCHEMA_VERSION",
    "SETTINGS",
    "AccountTypes",
    "BrandingSettings",
    "Config",
    "ConfigSource",
    "ConfigWarning",
    "DefaultApp",
    "Layer",
    "LayerKind",
    "LockedKeyError",
    "MicrosoftSettings",
    "NetworkSettings",
    "OrganisationSettings",
    "ProvidersSettings",
    "SupportSettings",
    "admin_consent_url",
    "build_config",
    "host_matches",
    "load_config",
    "machine_config_paths",
    "publisher_toml",
    "read_layer",
    "read_policy_layers",
    "user_config_path",
]
