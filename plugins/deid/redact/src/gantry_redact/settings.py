"""The ``redact`` section: the machine table and the modalities that carry a burned-in text risk.

The section comes from the run (``context.settings["redact"]``: the kernel's ``[redact]`` section
with the de-identification configuration's ``redaction:`` table on top), else from the kernel.
Parsed once per distinct section: a run de-identifies thousands of instances with one table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import attrs

from gantry import ConfigError

from gantry_redact.machines import Machine, parse_machines

SECTION = "redact"
#: Modalities whose images often carry text in their pixels (the privacy audit's list too).
DEFAULT_RISKY_MODALITIES = ("US", "SC", "XA", "ES", "DX", "OT")
KEYS = ("machines", "risky_modalities")


@attrs.frozen
class RedactSettings:
    machines: tuple[Machine, ...] = ()
    risky_modalities: frozenset[str] = frozenset(DEFAULT_RISKY_MODALITIES)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> RedactSettings:
        section = dict(section or {})
        unknown = sorted(set(section) - set(KEYS))
        if unknown:
            raise ConfigError(f"redact: unknown setting {unknown[0]!r}; the settings are {', '.join(KEYS)}")
        modalities = section.get("risky_modalities", DEFAULT_RISKY_MODALITIES)
        if not isinstance(modalities, (list, tuple)) or not all(isinstance(m, str) for m in modalities):
            raise ConfigError("redact: 'risky_modalities' must be a list of modality codes")
        return cls(machines=parse_machines(section.get("machines")),
                   risky_modalities=frozenset(m.strip().upper() for m in modalities))


def settings_for_context(context: Any) -> RedactSettings:
    section = (getattr(context, "settings", None) or {}).get(SECTION)
    if section is None and getattr(context, "kernel", None) is not None:
        section = context.kernel.settings(SECTION)
    try:
        key = json.dumps(section or {}, sort_keys=True)
    except (TypeError, ValueError):
        return RedactSettings.from_mapping(section)  # not plain data: parse it uncached
    return _parsed(key)


@lru_cache(maxsize=16)
def _parsed(key: str) -> RedactSettings:
    return RedactSettings.from_mapping(json.loads(key))
