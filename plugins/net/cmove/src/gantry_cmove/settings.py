"""The ``[cmove]`` configuration section: where the SCP may send instances.

    [cmove]
    destinations = [
      { ae = "WORKSTATION", host = "10.0.0.5", port = 104 },
    ]

A list of tables because the kernel's setting types have "list" but no "dict". A C-MOVE request
names only an AE title; the SCP sends nowhere that this table does not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import ConfigError, Setting


def declared_settings() -> list[Setting]:
    return [
        Setting(name="destinations", type="list", default=[],
                help="move destinations the SCP may send to: tables with ae, host and port"),
    ]


@attrs.frozen
class Destination:
    ae: str
    host: str
    port: int


@attrs.frozen
class MoveSettings:
    destinations: tuple[Destination, ...] = ()

    def destination(self, ae_title: str) -> Destination | None:
        wanted = ae_title.strip()
        return next((entry for entry in self.destinations if entry.ae == wanted), None)

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> MoveSettings:
        tables = (settings or {}).get("destinations") or []
        return cls(destinations=tuple(_destination(table, index) for index, table in enumerate(tables)))


def _destination(table: Any, index: int) -> Destination:
    where = f"cmove.destinations[{index}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table with ae, host and port, not {table!r}")
    missing = [key for key in ("ae", "host", "port") if not table.get(key)]
    if missing:
        raise ConfigError(f"{where}: needs {', '.join(missing)}")
    try:
        port = int(table["port"])
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.port: must be a number, not {table['port']!r}") from None
    return Destination(ae=str(table["ae"]).strip(), host=str(table["host"]), port=port)
