"""De-identification configuration files: YAML with ``extends:`` and named presets.

    # study-x.yaml
    extends: research                  # a preset shipped with Gantry, or a path to another file
    options: [retain-uids]             # added to the options of what it extends
    overrides:
      PatientName: {action: D, value: "STUDYX^ANON"}
      "(0010,1010)": K                 # Patient's Age kept
      StudyDescription: C
    private: retain-safe               # remove (default) | retain-safe
    pseudonym: true                    # originals encrypted into (0400,0500) (gantry-pseudonym)
    dates: {strategy: keyed, min_days: 365, max_days: 730}
    uids: {namespace: "study-x/"}
    redaction:                         # read by gantry-redact
      machines: [...]

A file may extend a preset or another file, which may extend another (cycles are an error).
Lists of options add up along the chain; overrides and the ``dates``/``uids``/``redaction``
tables are merged key by key, the extending file winning. Every mistake is a ConfigError naming
the file, the key and what is allowed (overrides are checked when the plan is compiled, by
:mod:`gantry_deid.overrides`, which names the attribute and the action).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from gantry import ConfigError
from gantry.deid import OPTIONS

TOP_LEVEL_KEYS = ("extends", "description", "profile", "options", "overrides", "private", "dates",
                  "uids", "redaction", "pseudonym")
PRIVATE_POLICIES = ("remove", "retain-safe")


@attrs.frozen(kw_only=True)
class DeidConfig:
    """A validated configuration, ``extends`` resolved."""

    sources: tuple[str, ...] = ()
    """The files and presets it was built from, outermost first."""
    description: str = ""
    profile: str = "basic"
    options: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = attrs.field(factory=dict)
    """Keyword, ``(gggg,eeee)`` or mask -> an action code or ``{action, value}`` (see
    :mod:`gantry_deid.overrides`)."""
    private: str = "remove"
    pseudonym: bool = False
    """Encrypt the original values into the Encrypted Attributes Sequence (reversible)."""
    dates: Mapping[str, Any] = attrs.field(factory=dict)
    uids: Mapping[str, Any] = attrs.field(factory=dict)
    redaction: Mapping[str, Any] = attrs.field(factory=dict)

    def with_options(self, more: tuple[str, ...]) -> DeidConfig:
        return attrs.evolve(self, options=_merged_options(self.options, check_options(more, "--option")))

    @property
    def all_options(self) -> tuple[str, ...]:
        """The options in force, the private policy included."""
        extra = ("retain-safe-private",) if self.private == "retain-safe" else ()
        return _merged_options(self.options, extra)


def preset_names() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in _presets().iterdir() if p.name.endswith(".yaml"))


def load_config(reference: str | Path | None) -> DeidConfig:
    """Load a file or preset by name (None: the Basic Profile with no option)."""
    if reference is None:
        return DeidConfig(sources=("(default: basic profile)",))
    return _build(_load_chain(str(reference), base=Path.cwd(), seen=()))


def check_options(names: tuple[str, ...] | list[str], where: str) -> tuple[str, ...]:
    for name in names:
        if name not in OPTIONS:
            raise ConfigError(f"{where}: unknown option {name!r}; the options are {', '.join(OPTIONS)}")
    return tuple(names)


def _presets() -> Any:
    return resources.files("gantry_deid") / "presets"


def _load_chain(reference: str, base: Path, seen: tuple[str, ...]) -> list[tuple[str, Mapping[str, Any]]]:
    """``[(source, data), ...]`` from the outermost file to the root of the ``extends`` chain."""
    source, data, folder = _read(reference, base)
    if source in seen:
        raise ConfigError(f"{source}: 'extends' makes a cycle: {' -> '.join((*seen, source))}")
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; allowed: {', '.join(TOP_LEVEL_KEYS)}")
    parent = data.get("extends")
    chain = [(source, data)]
    if parent is not None:
        if not isinstance(parent, str) or not parent:
            raise ConfigError(f"{source}: 'extends' must name a preset or a file, got {parent!r}")
        chain += _load_chain(parent, folder, (*seen, source))
    return chain


def _read(reference: str, base: Path) -> tuple[str, Mapping[str, Any], Path]:
    import yaml

    path = Path(reference) if Path(reference).is_absolute() else base / reference
    if reference.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise ConfigError(f"de-identification configuration {str(path)!r} does not exist")
        text, source, folder = path.read_text(encoding="utf-8"), str(path), path.parent
    else:
        preset = _presets() / f"{reference}.yaml"
        if not preset.is_file():
            raise ConfigError(f"{reference!r} is neither a file nor a preset; presets: "
                              f"{', '.join(preset_names())}")
        text, source, folder = preset.read_text(encoding="utf-8"), f"preset {reference}", base
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML: {err}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, got {type(data).__name__}")
    return source, data, folder


def _build(chain: list[tuple[str, Mapping[str, Any]]]) -> DeidConfig:
    config = DeidConfig(sources=tuple(source for source, _ in chain))
    for source, data in reversed(chain):  # the root first, each extending file on top
        config = _apply(config, source, data)
    return config


def _apply(config: DeidConfig, source: str, data: Mapping[str, Any]) -> DeidConfig:
    changes: dict[str, Any] = {}
    if "description" in data:
        changes["description"] = str(data["description"])
    if "profile" in data:
        if not isinstance(data["profile"], str):
            raise ConfigError(f"{source}: 'profile' must be a profile name, got {data['profile']!r}")
        changes["profile"] = data["profile"]
    if "options" in data:
        options = data["options"]
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise ConfigError(f"{source}: 'options' must be a list of option names")
        changes["options"] = _merged_options(config.options, check_options(options, f"{source}: options"))
    if "overrides" in data:
        changes["overrides"] = {**config.overrides, **_overrides(data["overrides"], source)}
    if "private" in data:
        if data["private"] not in PRIVATE_POLICIES:
            raise ConfigError(f"{source}: 'private' must be one of {', '.join(PRIVATE_POLICIES)}, "
                              f"got {data['private']!r}")
        changes["private"] = data["private"]
    if "pseudonym" in data:
        if not isinstance(data["pseudonym"], bool):
            raise ConfigError(f"{source}: 'pseudonym' must be true or false, got {data['pseudonym']!r}")
        changes["pseudonym"] = data["pseudonym"]
    for table in ("dates", "uids", "redaction"):
        if table in data:
            if not isinstance(data[table], Mapping):
                raise ConfigError(f"{source}: '{table}' must be a mapping of settings")
            changes[table] = {**getattr(config, table), **data[table]}
    return attrs.evolve(config, **changes)


def _overrides(value: Any, source: str) -> dict[str, Any]:
    """Overrides as written; ``compile_plan`` checks keys, actions and values (and the run
    names this file when it refuses one)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: 'overrides' must map attribute keywords or tags to actions")
    return {str(key): spec for key, spec in value.items()}


def _merged_options(first: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *more)))
