"""From a :class:`~gantry_deid.config_file.DeidConfig` to what a run uses: the compiled plan and
each plugin's settings with the configuration's ``dates``/``uids``/``redaction`` on top.

Compiled once per process (workers call it too) and cached by configuration.
"""

from __future__ import annotations

from typing import Any

from gantry import ConfigError

from gantry_deid.config_file import DeidConfig

#: Configuration tables -> the plugin section they fill for the run.
TABLE_SECTIONS = {"dates": "dateshift", "uids": "uidmap", "redaction": "redact"}

_plans: dict[int, tuple[DeidConfig, Any]] = {}


def plan_for(kernel: Any, config: DeidConfig) -> Any:
    """The compiled plan of ``config`` (ConfigError naming the configuration when refused)."""
    from gantry_deid.plan import compile_plan

    cached = _plans.get(id(kernel))
    if cached is not None and cached[0] == config:
        return cached[1]
    try:
        plan = compile_plan(kernel, config.profile, config.all_options, config.overrides or None,
                            steps=("encrypt-originals",) if config.pseudonym else ())
    except ConfigError as err:
        raise ConfigError(f"{' <- '.join(config.sources)}: {err}") from None
    _plans[id(kernel)] = (config, plan)
    return plan


def settings_for(kernel: Any, config: DeidConfig) -> dict[str, dict[str, Any]]:
    """Every loaded plugin's settings, with the configuration's tables applied to theirs."""
    settings = {name: kernel.settings(name) for name in kernel.records}
    for table, section in TABLE_SECTIONS.items():
        values = getattr(config, table)
        if values:
            settings[section] = {**settings.get(section, {}), **values}
    return settings
