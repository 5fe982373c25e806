"""Logging: structlog, configured once, with patient identifiers kept out by default.

Use ``log = gantry.log.get_logger(__name__)`` and log key-value events:
``log.warning("plugin.failed", plugin=name, error=str(err))``. Output goes to stderr: a readable
console on a terminal, JSON lines otherwise or when asked (``--log-format json``).

Patient data: values logged under a known identifying key (``patient_id``, ``PatientName`` ...)
or wrapped in :class:`Phi` are replaced by ``"<phi>"`` unless the site sets ``log.phi = true``.
Never put identifiers in the event text itself.

structlog is imported on the first log call, not at import time: ``gantry plugins`` and plugin
discovery stay fast when nothing is logged.
"""

from __future__ import annotations

import sys
from typing import Any

import attrs

from gantry.config import LogSettings

REDACTED = "<phi>"

# Keys whose values identify a patient; compared without case and underscores.
PHI_KEYS = frozenset(
    {
        "patientname", "patientid", "patientbirthdate", "patientbirthtime", "patientaddress",
        "patientbirthname", "patientmotherbirthname", "patienttelephonenumbers",
        "otherpatientids", "otherpatientnames", "otherpatientidssequence", "issuerofpatientid",
        "accessionnumber", "referringphysicianname", "performingphysicianname",
        "operatorsname", "physiciansofrecord", "medicalrecordlocator", "militaryrank",
        "ethnicgroup", "patientcomments", "patientsex", "patientage",
    }
)


@attrs.frozen
class Phi:
    """Wrap a value that identifies a patient: ``log.info("x", who=Phi(name))``."""

    value: Any


_settings = LogSettings()
_requested = False  # configure() was called
_configured = False  # structlog was set up with _settings


def configure(settings: LogSettings | None = None, *, force: bool = False) -> None:
    """Set up logging for the process. The first call wins unless ``force`` is given.

    The CLI calls this once with the site's settings; a library user who never calls it gets
    the defaults on the first log call.
    """
    global _settings, _configured, _requested
    if _requested and not force:
        return
    _settings = settings or LogSettings()
    _configured = False  # structlog itself is set up on the first log call (_ensure_structlog)
    _requested = True


def settings() -> LogSettings:
    return _settings


def get_logger(name: str) -> Any:
    """A logger bound to ``name``; structlog is imported on its first use."""
    return _LazyLogger(name)


class _LazyLogger:
    __slots__ = ("_name", "_logger")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, method: str) -> Any:
        if self._logger is None:
            import structlog

            _ensure_structlog()
            # A lazy proxy: it re-reads structlog's configuration on each call, so a later
            # configure(force=True) still applies to loggers made before it.
            self._logger = structlog.get_logger(module=self._name)
        return getattr(self._logger, method)


def redact_phi(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: hide patient identifiers unless the site allowed them."""
    allow = _settings.phi
    for key, value in list(event.items()):
        if isinstance(value, Phi):
            event[key] = value.value if allow else REDACTED
        elif not allow and key.replace("_", "").lower() in PHI_KEYS:
            event[key] = REDACTED
    return event


class _StderrFile:
    """Writes to whatever ``sys.stderr`` is now (pytest and embedding hosts swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _wants_console(fmt: str) -> bool:
    if fmt == "auto":
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return fmt == "console"


def _ensure_structlog() -> None:
    global _configured
    if _configured:
        return
    import logging

    import structlog

    console = _wants_console(_settings.format)
    renderer: Any
    if console:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_phi,
    ]
    if not console:
        processors.append(structlog.processors.format_exc_info)
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, _settings.level.upper())),
        logger_factory=lambda *args: structlog.PrintLogger(file=_StderrFile()),
        cache_logger_on_first_use=False,
    )
    _configured = True
