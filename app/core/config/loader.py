"""Merging the layers into one checked :class:`Config`, and changing it afterwards.

Layers are applied lowest first; for each key the last layer that sets it wins. The
machine-wide sources come last (the machine file, then the policy sources: Windows policy
registry values or macOS managed preferences), so their values win anyway; their ``locked``
lists also make the keys they name immune to the layers a person controls (the user's file,
``MAILSETUP_CONFIG``, :meth:`Config.override`, which switches and saved window settings go
through, and the command line's network switches in :meth:`Config.network_options`): such a
value is ignored with a warning, or refused by ``override`` with :class:`LockedKeyError`.
A locked key's value therefore comes from the machine-wide sources, or, if they only lock it,
from the publisher settings and the built-in defaults.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Unpack, cast

from app.core.config import netapply, paths, policy, schema
from app.core.config.layers import Layer, read_layer
from app.core.config.orgsettings import (
    BrandingSettings,
    OrganisationSettings,
    ProvidersSettings,
    SupportSettings,
)
from app.core.config.orgvalues import DefaultApp
from app.core.config.settings import (
    ConfigSource,
    ConfigWarning,
    LayerKind,
    MicrosoftSettings,
    NetworkSettings,
)
from app.core.config.values import AccountTypes, InvalidValue, wrong_type
from app.core.errors import ConfigError, ErrorOptions, Fault, Fixer
from app.core.net.options import NetworkOptions
from app.core.texts import Text


class LockedKeyError(ConfigError):
    """An attempt to change a key the organisation's machine-wide file locks."""

    default_code = "config.locked"

    def __init__(
        self, key: str, where: str, locked_by: str, **options: Unpack[ErrorOptions]
    ) -> None:
        defaults: ErrorOptions = {
            "fault": Fault.LOCAL_INPUT,
            "fixer": Fixer.ADMIN,
            "fix": Text("config.locked.fix"),
            "detail": {"where": where, "key": key, "locked_by": locked_by},
        }
        defaults.update(options)
        super().__init__(
            f"{where}: {key}", Text("config.locked", {"key": key, "file": locked_by}), **defaults
        )
        self.key = key
        self.locked_by = locked_by


def value_error(source: str, key: str, problem: InvalidValue) -> ConfigError:
    """The ConfigError for a bad value of ``key`` in ``source``: names both."""
    return ConfigError(
        f"{source}: {key}",
        problem.reason,
        code=problem.code,
        detail={"where": f"{source}: {key}", "file": source, "key": key, **problem.detail},
    )


@dataclass(frozen=True)
class Config:
    """The program's configuration: every known key's value and where it came from.

    Build one with :func:`load_config` (the real layers) or :func:`build_config` (any layers).
    ``sources``: the layers that were read, lowest first. ``locked``: the keys (or whole
    tables) the machine-wide sources lock. ``warnings``: what was ignored (unknown keys with a
    "did you mean", locked values, a newer schema, provider ids the catalog does not know).
    The typed views: ``microsoft``, ``network``, ``providers``, ``organisation``, ``branding``,
    ``support``.
    """

    values: Mapping[str, object]
    origins: Mapping[str, ConfigSource]
    sources: tuple[ConfigSource, ...] = ()
    locked: frozenset[str] = frozenset()
    warnings: tuple[ConfigWarning, ...] = ()
    lock_origins: Mapping[str, ConfigSource] = field(default_factory=dict, repr=False)
    microsoft: MicrosoftSettings = field(init=False)
    network: NetworkSettings = field(init=False)
    providers: ProvidersSettings = field(init=False)
    organisation: OrganisationSettings = field(init=False)
    branding: BrandingSettings = field(init=False)
    support: SupportSettings = field(init=False)

    def __post_init__(self) -> None:
        missing = [key for key in schema.SETTINGS if key not in self.values]
        if missing:
            raise ConfigError(
                ", ".join(missing), Text("config.no-default"), code="config.no-default"
            )
        v = self.values
        microsoft = MicrosoftSettings(
            client_id=cast("str | None", v["microsoft.client_id"]),
            authority=cast("str | None", v["microsoft.authority"]),
            account_types=cast(AccountTypes, v["microsoft.account_types"]),
            redirect_uri=cast(str, v["microsoft.redirect_uri"]),
            scopes=cast("tuple[str, ...]", v["microsoft.scopes"]),
            allowed_hosts=cast("tuple[str, ...]", v["microsoft.allowed_hosts"]),
            tenant=cast("str | None", v["microsoft.tenant"]),
        )
        if microsoft.account_types == "single-tenant" and not (
            microsoft.tenant or microsoft.authority
        ):
            key = "microsoft.account_types"
            raise value_error(
                self.origins[key].location, key, InvalidValue(Text("config.single-tenant"))
            )
        object.__setattr__(self, "microsoft", microsoft)
        network = NetworkSettings(
            ca_bundle=cast("tuple[Path, ...]", v["network.ca_bundle"]),
            ispdb_url=cast("str | None", v["network.ispdb_url"]),
            proxy=cast("str | None", v["network.proxy"]),
        )
        object.__setattr__(self, "network", network)
        providers = ProvidersSettings(
            allowed=cast("tuple[str, ...]", v["providers.allowed"]),
            hidden=cast("tuple[str, ...]", v["providers.hidden"]),
        )
        object.__setattr__(self, "providers", providers)
        organisation = OrganisationSettings(
            default_app=cast("DefaultApp | None", v["organisation.default_app"])
        )
        object.__setattr__(self, "organisation", organisation)
        branding = BrandingSettings(
            product_name=cast("str | None", v["branding.product_name"]),
            logo=cast("Path | None", v["branding.logo"]),
        )
        object.__setattr__(self, "branding", branding)
        support = SupportSettings(
            name=cast("str | None", v["support.name"]),
            email=cast("str | None", v["support.email"]),
            phone=cast("str | None", v["support.phone"]),
            url=cast("str | None", v["support.url"]),
        )
        object.__setattr__(self, "support", support)

    @property
    def schema_version(self) -> int:
        return cast(int, self.values["schema_version"])

    def value(self, key: str) -> object:
        """The value of ``key`` (``"microsoft.client_id"``); KeyError for an unknown key."""
        return self.values[key]

    def origin(self, key: str) -> ConfigSource:
        """The layer the value of ``key`` came from; KeyError for an unknown key."""
        return self.origins[key]

    def is_locked(self, key: str) -> bool:
        """True when a machine-wide source locks ``key`` or the table it is in."""
        return _lock_of(key, self.locked) is not None

    def locked_by(self, key: str) -> ConfigSource | None:
        """The machine-wide layer that locks ``key``, or None when it is not locked."""
        lock = _lock_of(key, self.locked)
        return None if lock is None else self.lock_origins.get(lock)

    def override(
        self, key: str, value: object, *, source: str = "override", base_dir: Path | None = None
    ) -> Config:
        """A copy with ``key`` set to ``value`` (as it would be written in TOML), for a
        command-line switch or a setting the user saved; ``source`` names it in messages.

        Raises :class:`LockedKeyError` for a locked key and ``ConfigError`` for an unknown key
        or a bad value. Relative paths are relative to ``base_dir`` (default: the current
        folder).
        """
        setting = schema.SETTINGS.get(key)
        if setting is None:
            suggestion = schema.suggest(key)
            raise ConfigError(
                f"{source}: {key}",
                _unknown_text(key, source, suggestion),
                code="config.unknown-key",
                detail={"where": source, "key": key, "suggestion": suggestion or ""},
            )
        if self.is_locked(key):
            holder = self.locked_by(key)
            raise LockedKeyError(key, source, holder.location if holder else "-")
        try:
            parsed = setting.parse(value, base_dir if base_dir is not None else Path.cwd())
        except InvalidValue as problem:
            raise value_error(source, key, problem) from problem
        return Config(
            values={**self.values, key: parsed},
            origins={**self.origins, key: ConfigSource(LayerKind.OVERRIDE, source)},
            sources=self.sources,
            locked=self.locked,
            warnings=self.warnings,
            lock_origins=self.lock_origins,
        )

    def network_options(
        self, base: NetworkOptions, ignored: list[ConfigWarning] | None = None
    ) -> NetworkOptions:
        """``base`` (from the command line) with the configured CA bundles added to its own,
        and the configured ISPDB URL and proxy where the command line left them alone. For a
        locked ``network.ispdb_url`` or ``network.proxy`` the configured value wins over the
        command line, and a ``config.locked-option-ignored`` warning is appended to
        ``ignored`` (see :mod:`app.core.config.netapply`). ``network.ispdb_url = "none"``
        is not in the options: check ``self.network.ispdb_enabled``."""
        return netapply.apply_network(base, self.network, self.locked_by, ignored)


def _lock_of(key: str, locked: Iterable[str]) -> str | None:
    for lock in locked:
        if key == lock or key.startswith(lock + "."):
            return lock
    return None


def _unknown_text(key: str, source: str, suggestion: str | None) -> Text:
    if suggestion:
        return Text(
            "config.unknown-key.suggest", {"key": key, "file": source, "suggestion": suggestion}
        )
    return Text("config.unknown-key", {"key": key, "file": source})


# --- building ------------------------------------------------------------------------------------


class _Builder:
    """Collects values, origins, locks and warnings while the layers are applied."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.origins: dict[str, ConfigSource] = {}
        self.locked: dict[str, ConfigSource] = {}
        self.warnings: list[ConfigWarning] = []

    def warn(
        self, code: str, layer: Layer, message: Text, key: str | None = None, **extra: str | None
    ) -> None:
        self.warnings.append(
            ConfigWarning(code, layer.location, message, key, extra.get("suggestion"))
        )

    def collect_locks(self, layer: Layer) -> None:
        if schema.LOCKED_KEY not in layer.data:
            return
        if not layer.kind.may_lock:
            self.warn(
                "config.locked-misplaced",
                layer,
                Text("config.locked-misplaced", {"file": layer.location}),
                schema.LOCKED_KEY,
            )
            return
        raw = layer.data[schema.LOCKED_KEY]
        if not isinstance(raw, list):
            raise value_error(layer.location, schema.LOCKED_KEY, wrong_type("array", raw))
        for item in raw:
            if not isinstance(item, str) or not item.strip():
                raise value_error(
                    layer.location, schema.LOCKED_KEY, InvalidValue(Text("config.locked-item"))
                )
            key = item.strip()
            if not schema.is_known_lock(key):
                suggestion = schema.suggest(key)
                message = (
                    Text(
                        "config.locked-unknown.suggest",
                        {"key": key, "file": layer.location, "suggestion": suggestion},
                    )
                    if suggestion
                    else Text("config.locked-unknown", {"key": key, "file": layer.location})
                )
                self.warn("config.locked-unknown", layer, message, key, suggestion=suggestion)
            self.locked.setdefault(key, layer.source)

    def apply(self, layer: Layer) -> None:
        for name, value in layer.data.items():
            if name == schema.LOCKED_KEY:
                continue
            if schema.is_credential_name(name):
                raise _secret_error(layer, name)
            if name in schema.SETTINGS:
                self.set(layer, name, value)
            elif name in schema.SECTIONS or name in schema.RESERVED_SECTIONS:
                if not isinstance(value, dict):
                    raise value_error(layer.location, name, wrong_type("table", value))
                if name == "microsoft":
                    _reject_credentials(layer, name, value)
                for sub, subvalue in value.items():
                    key = f"{name}.{sub}"
                    if key in schema.SETTINGS:
                        self.set(layer, key, subvalue)
                    else:
                        self.unknown(layer, key)
            else:
                self.unknown(layer, name)

    def set(self, layer: Layer, key: str, value: object) -> None:
        lock = _lock_of(key, self.locked)
        if lock is not None and not layer.kind.is_administrative:
            holder = self.locked[lock].location
            self.warn(
                "config.locked-ignored",
                layer,
                Text("config.locked-ignored", {"key": key, "file": layer.location, "by": holder}),
                key,
            )
            return
        try:
            parsed = schema.SETTINGS[key].parse(value, layer.base_dir)
        except InvalidValue as problem:
            raise value_error(layer.location, key, problem) from problem
        if key == "schema_version" and isinstance(parsed, int) and parsed > schema.SCHEMA_VERSION:
            self.warn(
                "config.newer-schema",
                layer,
                Text(
                    "config.newer-schema",
                    {
                        "file": layer.location,
                        "version": parsed,
                        "supported": schema.SCHEMA_VERSION,
                    },
                ),
                key,
            )
        advise = schema.SETTINGS[key].advise
        for item, suggestion in advise(parsed) if advise is not None else ():
            params = {"file": layer.location, "key": key, "value": item}
            message = (
                Text("config.provider-unknown.suggest", {**params, "suggestion": suggestion})
                if suggestion
                else Text("config.provider-unknown", params)
            )
            self.warn("config.provider-unknown", layer, message, key, suggestion=suggestion)
        self.values[key] = parsed
        self.origins[key] = layer.source

    def unknown(self, layer: Layer, key: str) -> None:
        suggestion = schema.suggest(key)
        self.warn(
            "config.unknown-key",
            layer,
            _unknown_text(key, layer.location, suggestion),
            key,
            suggestion=suggestion,
        )


def _reject_credentials(layer: Layer, prefix: str, table: Mapping[str, Any]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if schema.is_credential_name(name):
            raise _secret_error(layer, key)
        if isinstance(value, dict):
            _reject_credentials(layer, key, value)


def _secret_error(layer: Layer, key: str) -> ConfigError:
    return ConfigError(
        f"{layer.location}: {key}",
        Text("config.client-secret", {"key": key}),
        code="config.client-secret",
        fix=Text("config.client-secret.fix"),
        detail={"where": f"{layer.location}: {key}", "file": layer.location, "key": key},
    )


def build_config(layers: Sequence[Layer]) -> Config:
    """The configuration the ``layers`` (lowest first) make. The first layer should be the
    built-in defaults: every known key needs a value."""
    builder = _Builder()
    for layer in layers:
        builder.collect_locks(layer)
    for layer in layers:
        builder.apply(layer)
    return Config(
        values=builder.values,
        origins=builder.origins,
        sources=tuple(layer.source for layer in layers),
        locked=frozenset(builder.locked),
        warnings=tuple(builder.warnings),
        lock_origins=dict(builder.locked),
    )


def load_config(
    *,
    environ: Mapping[str, str] | None = None,
    machine_paths: Sequence[Path] | None = None,
    user_path: Path | None = None,
    publisher_path: Path | None = None,
    defaults_path: Path | None = None,
    policy_layers: Sequence[Layer] | None = None,
) -> Config:
    """Read the configuration layers (see :mod:`app.core.config`) and merge them.

    Every argument replaces one default location: ``environ`` (default ``os.environ``) is
    where ``MAILSETUP_CONFIG`` is looked up; ``machine_paths`` the machine-wide files (default
    :func:`~app.core.config.paths.machine_config_paths`, one per platform); ``user_path``,
    ``publisher_path`` and ``defaults_path`` the other files; ``policy_layers`` the policy
    sources, applied after the machine files (default
    :func:`~app.core.config.policy.read_policy_layers`: the Windows policy registry values or
    the macOS managed preferences of this computer). Missing files are skipped, except the
    defaults and a file ``MAILSETUP_CONFIG`` names. Raises ``ConfigError``.
    """
    env = os.environ if environ is None else environ
    found: list[Layer | None] = [
        read_layer(defaults_path or paths.defaults_path(), LayerKind.DEFAULTS, required=True),
        read_layer(publisher_path or paths.publisher_path(), LayerKind.PUBLISHER),
        read_layer(user_path or paths.user_config_path(), LayerKind.USER),
    ]
    named = env.get(paths.ENV_VAR, "").strip()
    if named:
        env_path = Path(named).expanduser().absolute()
        if not env_path.exists():
            raise ConfigError(
                str(env_path),
                Text("config.missing-env", {"variable": paths.ENV_VAR}),
                code="config.missing",
                detail={"where": str(env_path), "file": str(env_path)},
            )
        found.append(read_layer(env_path, LayerKind.ENVIRONMENT))
    machine = paths.machine_config_paths(environ=env) if machine_paths is None else machine_paths
    found.extend(read_layer(path, LayerKind.MACHINE) for path in machine)
    found.extend(policy.read_policy_layers(environ=env) if policy_layers is None else policy_layers)
    return build_config([layer for layer in found if layer is not None])
