"""The ``[cmove]`` configuration section: where the SCP may send instances.

    [cmove]
    destinations = [
      { ae = "WORKSTATION", host = "10.0.0.5", port = 104 },
      { ae = "REMOTE", host = "pacs.example", port = 2762, tls = true },   # DIMSE over TLS
      { url = "dicoms://ARCHIVE@archive.example:2762" },                 # the same, as a URL
    ]

A list of tables because the kernel's setting types have "list" but no "dict". A C-MOVE request
names only an AE title; the SCP sends nowhere that this table does not list. A destination with
``tls = true`` (or a ``dicoms://`` URL) gets its sub-associations over TLS with the site's
``[tls]`` client settings (gantry-tls): the destination's certificate is verified against
``tls.ca_file`` and must name its host, unless ``tls.verify = false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import ConfigError, GantryError, Setting

from gantry_dimse.settings import ae_host_port


def declared_settings() -> list[Setting]:
    return [
        Setting(name="destinations", type="list", default=[],
                help="move destinations the SCP may send to: tables with ae, host, port and "
                     "optionally tls = true, or with url = \"dicom[s]://AE@host:port\""),
    ]


@attrs.frozen
class Destination:
    ae: str
    host: str
    port: int
    tls: bool = False


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
    if table.get("url"):
        return _from_url(str(table["url"]), table, where)
    ae, host, port = ae_host_port(table, where)
    return Destination(ae=ae, host=host, port=port, tls=_flag(table, where))


def _from_url(url: str, table: Mapping[str, Any], where: str) -> Destination:
    from gantry_dimse.urls import parse_dicom_url

    if "://" not in url or "@" not in url:
        raise ConfigError(f"{where}.url: must be dicom://AE@host:port or dicoms://AE@host:port")
    try:
        address = parse_dicom_url(url)
    except GantryError as err:
        raise ConfigError(f"{where}.url: {err}") from None
    return Destination(ae=address.called_ae, host=address.host, port=address.port,
                       tls=address.secure or _flag(table, where))


def _flag(table: Mapping[str, Any], where: str) -> bool:
    value = table.get("tls", False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.tls: must be true or false, not {value!r}")
    return value
