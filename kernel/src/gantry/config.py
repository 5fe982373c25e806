"""Site configuration: one file (TOML or YAML) plus environment overrides, validated.

Where the file comes from, first match wins: ``--config PATH``, ``$GANTRY_CONFIG``,
``gantry.toml`` (or ``gantry.yaml``) in the working folder. No file is fine: defaults apply.

    [plugins]
    disable = ["vendor-j2k"]            # entry-point names of plugins not to load
    strict = false                      # any plugin failure is an error (dev and CI)

    [plugins.priority]                  # provider name -> priority, overriding the plugin's
    "vendor-j2k" = 10

    [plugins.pin.decoder]               # family -> key -> provider name: always rank first
    "1.2.840.10008.1.2.4.90" = "j2k-openjpeg"

    [log]
    format = "auto"                     # auto | console | json
    level = "info"                      # debug | info | warning | error
    phi = false                         # let patient identifiers reach the logs

    [storage]
    database = "sqlite:///gantry.db"    # the index: sqlite:///relative.db, sqlite:////abs.db, postgresql://...
    store = ""                          # where received instances are kept (folder or file:// URL)

    [part10]                            # a plugin's own section, named by its entry point
    ...

Environment: ``GANTRY_DISABLE=name1,name2`` adds to ``plugins.disable``;
``GANTRY_STRICT_PLUGINS``, ``GANTRY_LOG_FORMAT``, ``GANTRY_LOG_LEVEL`` and ``GANTRY_LOG_PHI``
override their keys, ``GANTRY_DATABASE`` overrides ``storage.database``. This module checks the
shape of the file; names of plugins and providers are checked by the kernel once it knows what
is installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from gantry.descriptors import FAMILIES
from gantry.errors import ConfigError

KERNEL_SECTIONS = ("plugins", "log", "storage")
PLUGINS_KEYS = ("disable", "strict", "priority", "pin")
LOG_FORMATS = ("auto", "console", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_KEYS = ("format", "level", "phi")
STORAGE_KEYS = ("database", "store")
DEFAULT_DATABASE = "sqlite:///gantry.db"
FILE_NAMES = ("gantry.toml", "gantry.yaml", "gantry.yml")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


@attrs.frozen(kw_only=True)
class StorageSettings:
    database: str = DEFAULT_DATABASE
    store: str = ""


@attrs.frozen(kw_only=True)
class LogSettings:
    format: str = "auto"
    level: str = "info"
    phi: bool = False


def _frozen_map(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Config:
    """The validated site configuration. Build it with :func:`load_config` or :func:`parse_config`."""

    source: str | None = None
    disable: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    """Plugin name -> where it was disabled ("<file> plugins.disable" or "GANTRY_DISABLE")."""
    strict: bool = False
    priorities: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_map)
    pins: Mapping[tuple[str, str], str] = attrs.field(factory=dict, converter=_frozen_map)
    log: LogSettings = attrs.field(factory=LogSettings)
    storage: StorageSettings = attrs.field(factory=StorageSettings)
    sections: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, converter=_frozen_map)
    """Plugin sections, by plugin name, as written (validated by the kernel)."""


def find_config_file(explicit: str | os.PathLike[str] | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"configuration file {str(path)!r} (from --config) does not exist")
        return path
    if env.get("GANTRY_CONFIG"):
        path = Path(env["GANTRY_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"configuration file {str(path)!r} (from $GANTRY_CONFIG) does not exist")
        return path
    for name in FILE_NAMES:
        if (cwd / name).is_file():
            return cwd / name
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read configuration file {str(path)!r}: {err.strerror}") from err
    if path.suffix in (".yaml", ".yml"):
        import yaml  # only sites with a YAML file pay for the import

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from err
    else:
        import tomllib

        try:
            data = tomllib.loads(text.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table of sections, got {type(data).__name__}")
    return data


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Config:
    """Find, read and validate the site configuration, then apply environment overrides."""
    env = os.environ if env is None else env
    found = find_config_file(path, env, Path.cwd() if cwd is None else Path(cwd))
    data = read_config_file(found) if found is not None else {}
    return parse_config(data, source=str(found) if found else None, env=env)


def parse_config(data: Mapping[str, Any], *, source: str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Validate an already-parsed configuration mapping (``source`` names it in errors)."""
    env = {} if env is None else env
    where = source or "configuration"
    sections = {name: value for name, value in data.items() if name not in KERNEL_SECTIONS}
    for name, value in sections.items():
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"{where}: top-level key {name!r} must be a section (table); kernel sections are "
                f"{', '.join(KERNEL_SECTIONS)}, other sections are named after a plugin"
            )
    plugins = _section(data, "plugins", PLUGINS_KEYS, where)
    log = _section(data, "log", LOG_KEYS, where)

    disable: dict[str, str] = {}
    for name in _string_list(plugins.get("disable", []), f"{where}: plugins.disable"):
        disable[name] = f"{where} plugins.disable"
    for name in (part.strip() for part in env.get("GANTRY_DISABLE", "").split(",")):
        if name:
            disable.setdefault(name, "GANTRY_DISABLE")

    strict = _bool(plugins.get("strict", False), f"{where}: plugins.strict")
    if "GANTRY_STRICT_PLUGINS" in env:
        strict = _env_bool(env, "GANTRY_STRICT_PLUGINS")

    priorities: dict[str, int] = {}
    for provider, value in _table(plugins.get("priority", {}), f"{where}: plugins.priority").items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: plugins.priority.{provider} must be an integer, got {value!r}")
        priorities[provider] = value

    pins: dict[tuple[str, str], str] = {}
    for family, keys in _table(plugins.get("pin", {}), f"{where}: plugins.pin").items():
        if family not in FAMILIES:
            raise ConfigError(
                f"{where}: plugins.pin.{family}: unknown family {family!r}; allowed: {', '.join(FAMILIES)}"
            )
        for key, provider in _table(keys, f"{where}: plugins.pin.{family}").items():
            if not isinstance(provider, str):
                raise ConfigError(f"{where}: plugins.pin.{family}.{key} must be a provider name, got {provider!r}")
            pins[(family, key)] = provider

    log_settings = LogSettings(
        format=_choice(env.get("GANTRY_LOG_FORMAT") or log.get("format", "auto"), LOG_FORMATS,
                       "GANTRY_LOG_FORMAT" if env.get("GANTRY_LOG_FORMAT") else f"{where}: log.format"),
        level=_choice((env.get("GANTRY_LOG_LEVEL") or log.get("level", "info")).lower(), LOG_LEVELS,
                      "GANTRY_LOG_LEVEL" if env.get("GANTRY_LOG_LEVEL") else f"{where}: log.level"),
        phi=_env_bool(env, "GANTRY_LOG_PHI") if "GANTRY_LOG_PHI" in env
        else _bool(log.get("phi", False), f"{where}: log.phi"),
    )
    storage = _section(data, "storage", STORAGE_KEYS, where)
    storage_settings = StorageSettings(
        database=env.get("GANTRY_DATABASE") or _text(storage.get("database", DEFAULT_DATABASE),
                                                      f"{where}: storage.database"),
        store=_text(storage.get("store", ""), f"{where}: storage.store"),
    )
    return Config(source=source, disable=disable, strict=strict, priorities=priorities, pins=pins,
                  log=log_settings, storage=storage_settings, sections=sections)


def validate_section(plugin: str, values: Mapping[str, Any], settings: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check one plugin section against its declared :class:`~gantry.Setting` objects.

    Returns the section with defaults filled in. ``settings`` maps setting name -> Setting.
    """
    from gantry.descriptors import SETTING_TYPES

    unknown = sorted(set(values) - set(settings))
    if unknown:
        allowed = ", ".join(sorted(settings)) or "none (this plugin has no settings)"
        raise ConfigError(f"{where}: [{plugin}] has unknown setting(s) {', '.join(unknown)}; allowed: {allowed}")
    result = {name: setting.default for name, setting in settings.items()}
    for name, value in values.items():
        setting = settings[name]
        expected = SETTING_TYPES[setting.type]
        if (isinstance(value, bool) and setting.type != "bool") or not isinstance(value, expected):
            raise ConfigError(f"{where}: {plugin}.{name} must be of type {setting.type}, got {value!r}")
        if setting.choices and value not in setting.choices:
            raise ConfigError(
                f"{where}: {plugin}.{name} = {value!r} is not allowed; choose one of "
                f"{', '.join(map(repr, setting.choices))}"
            )
        result[name] = value
    return result


def _section(data: Mapping[str, Any], name: str, allowed: tuple[str, ...], where: str) -> Mapping[str, Any]:
    section = _table(data.get(name, {}), f"{where}: [{name}]")
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: [{name}] has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return section


def _table(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what} must be a table, got {type(value).__name__} {value!r}")
    return value


def _string_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{what} must be a list of plugin names, got {value!r}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {value!r}")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{what} must be true or false, got {value!r}")
    return value


def _env_bool(env: Mapping[str, str], name: str) -> bool:
    value = env[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={env[name]!r} is not a boolean; use one of {', '.join(_TRUE + _FALSE[:-1])}")


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{what} = {value!r} is not allowed; choose one of {', '.join(allowed)}")
    return value
