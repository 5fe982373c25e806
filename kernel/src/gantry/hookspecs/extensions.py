"""Extension hooks: settings, configuration, CLI subcommands, instance filters and events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gantry.hookspecs import hookspec

if TYPE_CHECKING:
    import click

    from gantry.config import Config
    from gantry.descriptors import Setting
    from gantry.kernel import Kernel


@hookspec
def gantry_settings() -> list[Setting]:
    """Declare the settings of this plugin's own configuration section.

    The section is named after the plugin's entry-point name (``[part10]`` in ``gantry.toml``).
    The kernel validates the section against these declarations before any plugin is configured:
    an unknown key, a wrong type or a value outside ``choices`` is a ConfigError naming it.
    A plugin that declares no settings has no section; writing one is an error.
    """


@hookspec
def gantry_configure(config: Config, settings: dict[str, Any], kernel: Kernel) -> None:
    """Called once per kernel after the configuration is loaded and validated.

    ``settings`` is this plugin's own section with defaults filled in. Raise
    :class:`~gantry.ConfigError` for combinations of settings that are invalid together; the
    plugin is then recorded as failed (or, in strict mode, the kernel refuses to start).
    """


@hookspec
def gantry_cli(app: click.Group, kernel: Kernel) -> None:
    """Add subcommands to the ``gantry`` command: ``app.add_command(...)``.

    Import heavy modules inside the command function, not here: this runs on every ``gantry``
    invocation, including ``gantry plugins``.
    """


@hookspec
def gantry_accept_instance(dataset: Any, stage: str, kernel: Kernel) -> bool | None:
    """Filter: may this instance go through ``stage`` (``"ingest"``, ``"receive"``, ``"send"`` ...)?

    Every filter must allow: one ``False`` rejects the instance; ``None`` abstains. A filter
    that raises rejects too (a broken filter must not let data through) and is logged.
    """


@hookspec
def gantry_instance_received(dataset: Any, source: str, kernel: Kernel) -> None:
    """Event: an instance arrived from ``source`` (a URL or path), before it is stored.

    Events fan out to every listener; a listener that raises is logged and the others still run.
    Listeners must be quick: heavy work belongs in a job, not on the receiving path.
    """


@hookspec
def gantry_instance_stored(instance: Any, kernel: Kernel) -> None:
    """Event: an instance was durably stored and indexed. Fans out like every event."""


@hookspec
def gantry_instance_quarantined(location: str, stage: str, reason: str, kernel: Kernel) -> None:
    """Event: an instance failed ``stage`` and was set aside with ``reason``. Fans out."""
