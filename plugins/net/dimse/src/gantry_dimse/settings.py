"""The ``[dimse]`` configuration section: declared settings and their typed form.

    [dimse]
    calling_ae = "GANTRY"          # our AE title when a URL does not say ?calling=
    connect_timeout = 10           # seconds for the TCP connection
    acse_timeout = 30              # seconds for A-ASSOCIATE / A-RELEASE answers
    dimse_timeout = 30             # seconds for a DIMSE response
    network_timeout = 60           # seconds without any traffic before the link is dropped
    retries = 2                    # extra attempts to connect/associate (not for DIMSE failures)
    idle_timeout = 30              # seconds an unused association stays open for reuse (0: no reuse)
    breaker_failures = 5           # consecutive connection failures that open a node's breaker
    breaker_reset = 30             # seconds a node's breaker stays open
    max_pdu_size = 262144          # largest PDU peers may send us (pynetdicom's default: 16382)
    max_associations = 10          # associations a listener serves at once (more are rejected)
    notify_queue = 1000            # events (instance stored ...) waiting for their listeners, at most
    notify_drain = 30              # seconds a stopping listener waits for queued events to be delivered

    [[dimse.nodes]]                # named remote nodes: `gantry echo pacs`
    name = "pacs"
    url = "dicom://PACS@pacs.example:104"   # or: ae = "PACS", host = "...", port = 104, calling = "..."

Nodes are a list of tables because the kernel's setting types have "list" but no "dict".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import ConfigError, Setting
from gantry.resilience import BreakerPolicy, RetryPolicy, resilience_settings

DEFAULT_CALLING_AE = "GANTRY"
#: 256 KiB: a small CT instance in one PDU instead of three of pynetdicom's 16 kB.
DEFAULT_MAX_PDU = 262144


def declared_settings() -> list[Setting]:
    return [
        *resilience_settings(retried="connecting and associating (refused, timed out, a transient rejection)"),
        Setting(name="calling_ae", type="str", default=DEFAULT_CALLING_AE,
                help="our AE title when a dicom:// URL has no ?calling="),
        Setting(name="connect_timeout", type="float", default=10.0, help="seconds to open the TCP connection"),
        Setting(name="acse_timeout", type="float", default=30.0, help="seconds to wait for association answers"),
        Setting(name="dimse_timeout", type="float", default=30.0, help="seconds to wait for a DIMSE response"),
        Setting(name="network_timeout", type="float", default=60.0,
                help="seconds without traffic before a connection is dropped"),
        Setting(name="idle_timeout", type="float", default=30.0,
                help="seconds an idle association is kept for reuse (0 closes it after each operation)"),
        Setting(name="max_pdu_size", type="int", default=DEFAULT_MAX_PDU,
                help="largest PDU we ask peers to send us, in bytes (0: no limit); larger PDUs mean "
                     "fewer of them per instance"),
        Setting(name="max_associations", type="int", default=10,
                help="associations a listener serves at once; more are rejected (transient)"),
        Setting(name="notify_queue", type="int", default=1000,
                help="events (instance stored ...) a listener queues for their hook listeners; "
                     "when full, handlers wait for room"),
        Setting(name="notify_drain", type="float", default=30.0,
                help="seconds a stopping listener waits for queued events to be delivered"),
        Setting(name="nodes", type="list", default=[],
                help="named remote nodes: tables with name and url (or ae, host, port, calling)"),
    ]


def ae_host_port(table: Mapping[str, Any], where: str) -> tuple[str, str, int]:
    """The ``ae``, ``host`` and ``port`` of a configured peer table (a C-MOVE destination, a
    commitment requestor ...); ConfigError naming ``where`` when one is missing or bad."""
    missing = [key for key in ("ae", "host", "port") if not table.get(key)]
    if missing:
        raise ConfigError(f"{where}: needs {', '.join(missing)}")
    port = table["port"]
    if isinstance(port, bool) or not str(port).isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}.port: must be a number from 1 to 65535, not {port!r}")
    return str(table["ae"]).strip(), str(table["host"]), int(port)


@attrs.frozen(kw_only=True)
class Timeouts:
    connect: float = 10.0
    acse: float = 30.0
    dimse: float = 30.0
    network: float = 60.0


@attrs.frozen(kw_only=True)
class DimseSettings:
    """The section as typed values (the kernel has already checked each value's type)."""

    calling_ae: str = DEFAULT_CALLING_AE
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    breaker: BreakerPolicy = attrs.field(factory=BreakerPolicy)
    idle_timeout: float = 30.0
    max_pdu_size: int = DEFAULT_MAX_PDU
    max_associations: int = 10
    notify_queue: int = 1000
    notify_drain: float = 30.0
    nodes: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> DimseSettings:
        values = {setting.name: setting.default for setting in declared_settings()}
        values.update(settings or {})
        return cls(
            calling_ae=values["calling_ae"],
            max_pdu_size=int(values["max_pdu_size"]),
            timeouts=Timeouts(connect=float(values["connect_timeout"]), acse=float(values["acse_timeout"]),
                              dimse=float(values["dimse_timeout"]), network=float(values["network_timeout"])),
            retry=RetryPolicy.from_settings(values),
            breaker=BreakerPolicy.from_settings(values),
            idle_timeout=float(values["idle_timeout"]),
            max_associations=max(1, int(values["max_associations"])),
            notify_queue=max(1, int(values["notify_queue"])),
            notify_drain=max(0.0, float(values["notify_drain"])),
            nodes=tuple(values["nodes"] or ()),
        )
