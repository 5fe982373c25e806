"""The ``[commitment]`` configuration section.

    [commitment]
    report_on = "same"        # "same": the report goes on the requestor's association while it is
                              # open, else on a new one; "new": always on a new association
    requestors = [            # where a new association goes, by the requestor's AE title
      { ae = "MODALITY1", host = "10.0.0.7", port = 104 },
    ]
    report_retries = 3        # further attempts to deliver a report on a new association
    report_retry_wait = 5     # seconds before the first retry, doubled each time
    listen = ""               # gantry commit: where we receive reports (dicom://OURAE@host:port)
    timeout = 30              # gantry commit: seconds to wait for the report

``requestors`` is a list of tables (the kernel's setting types have "list" but no "dict"), the
shape of ``[cmove] destinations``: a report is never sent to an address this table does not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import ConfigError, Setting

from gantry_dimse.settings import ae_host_port

SAME, NEW = "same", "new"


def declared_settings() -> list[Setting]:
    return [
        Setting(name="report_on", type="str", default=SAME, choices=(SAME, NEW),
                help="where the SCP sends the N-EVENT-REPORT: the requestor's association while it is "
                     "open (same), or always a new association to the requestor (new)"),
        Setting(name="requestors", type="list", default=[],
                help="requestors a report may go to on a new association: tables with ae, host and port"),
        Setting(name="report_retries", type="int", default=3,
                help="further attempts to deliver a report on a new association"),
        Setting(name="report_retry_wait", type="float", default=5.0,
                help="seconds before the first retry of a report, doubled for each further one"),
        Setting(name="listen", type="str", default="",
                help="gantry commit: the address we receive reports on (dicom://OURAE@host:port)"),
        Setting(name="timeout", type="float", default=30.0,
                help="gantry commit: seconds to wait for the report"),
    ]


@attrs.frozen
class Requestor:
    ae: str
    host: str
    port: int


@attrs.frozen(kw_only=True)
class CommitmentSettings:
    report_on: str = SAME
    requestors: tuple[Requestor, ...] = ()
    report_retries: int = 3
    report_retry_wait: float = 5.0
    listen: str = ""
    timeout: float = 30.0

    def requestor(self, ae_title: str) -> Requestor | None:
        wanted = ae_title.strip()
        return next((entry for entry in self.requestors if entry.ae == wanted), None)

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> CommitmentSettings:
        values = {setting.name: setting.default for setting in declared_settings()}
        values.update(settings or {})
        if values["report_on"] not in (SAME, NEW):
            raise ConfigError(f"commitment.report_on: must be 'same' or 'new', not {values['report_on']!r}")
        return cls(report_on=values["report_on"],
                   requestors=tuple(_requestor(table, index) for index, table in enumerate(values["requestors"])),
                   report_retries=max(0, int(values["report_retries"])),
                   report_retry_wait=max(0.0, float(values["report_retry_wait"])),
                   listen=str(values["listen"] or ""), timeout=float(values["timeout"]))

    @classmethod
    def of(cls, kernel: Any) -> CommitmentSettings:
        """The kernel's ``[commitment]`` section (defaults when the plugin is not loaded)."""
        records = getattr(kernel, "records", {})
        return cls.from_mapping(kernel.settings("commitment") if "commitment" in records else None)


def _requestor(table: Any, index: int) -> Requestor:
    where = f"commitment.requestors[{index}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table with ae, host and port, not {table!r}")
    ae, host, port = ae_host_port(table, where)
    return Requestor(ae=ae, host=host, port=port)
