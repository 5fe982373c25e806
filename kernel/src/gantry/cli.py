"""The ``gantry`` command. The kernel adds ``plugins`` and the Session's commands (``ingest``,
``ls``, ``stats``, ``audit-log``); every other subcommand comes from a plugin's ``gantry_cli``
hook.

Global options come before the subcommand: ``gantry --config site.toml --strict-plugins plugins``.
Exit status: 0 success, 1 the work failed (a GantryError), 2 bad usage or configuration.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

import click

from gantry import log as gantry_log
from gantry.config import LOG_FORMATS, LOG_LEVELS
from gantry.errors import ConfigError, GantryError, PluginError

KERNEL_KEY = "gantry.kernel"


class GantryGroup(click.Group):
    """A click group that builds the kernel once, before resolving subcommands, so plugins can
    contribute commands that depend on the site configuration."""

    def kernel(self, ctx: click.Context) -> Any:
        root = ctx.find_root()
        if KERNEL_KEY not in root.meta:
            root.meta[KERNEL_KEY] = _build_kernel(root.params)
            root.meta[KERNEL_KEY].add_cli_commands(self)
        return root.meta[KERNEL_KEY]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self.kernel(ctx)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.kernel(ctx)
        return super().list_commands(ctx)


def _build_kernel(params: dict[str, Any]) -> Any:
    import attrs

    from gantry.config import load_config
    from gantry.kernel import Kernel

    try:
        config = load_config(params.get("config"))
        log_settings = config.log
        if params.get("log_format"):
            log_settings = attrs.evolve(log_settings, format=params["log_format"])
        if params.get("log_level"):
            log_settings = attrs.evolve(log_settings, level=params["log_level"])
        gantry_log.configure(log_settings)
        if params.get("strict_plugins"):
            config = attrs.evolve(config, strict=True)
        return Kernel(config)
    except ConfigError as err:
        raise click.UsageError(f"configuration: {err}") from None
    except PluginError as err:
        raise click.ClickException(str(err)) from None


class LazyCommand(click.Command):
    """A subcommand whose module is imported only when it runs or shows its help.

    ``gantry_cli`` runs on every ``gantry`` invocation; registering commands lazily keeps
    ``gantry plugins`` from importing every plugin's command module:

        app.add_command(LazyCommand("scan", "gantry_part10.scan:scan_command", help="..."))
    """

    def __init__(self, name: str, ref: str, *, help: str = "") -> None:
        super().__init__(name, help=help, short_help=help)
        self.ref = ref
        self._real: click.Command | None = None

    def real(self) -> click.Command:
        if self._real is None:
            from gantry.registry import resolve_ref

            self._real = resolve_ref(self.ref)
        return self._real

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self.real().get_params(ctx)

    def make_parser(self, ctx: click.Context) -> Any:
        return self.real().make_parser(ctx)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return self.real().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        return self.real().invoke(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.real().get_help(ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or ""


class ProgressBar:
    """A rich progress bar on stderr fed by ``advance(done, total)``; a no-op when not shown.

        with ProgressBar("ingest", shown=sys.stderr.isatty()) as advance:
            session.ingest(paths, progress=advance)      # advance is None when not shown
    """

    def __init__(self, label: str, shown: bool) -> None:
        self.label = label
        self.shown = shown
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.shown:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                            MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
                            console=Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=None)
        return self.advance

    def advance(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def pass_kernel(function: Any) -> Any:
    """Decorator for plugin commands: passes the kernel as the first argument."""

    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        kernel = ctx.find_root().meta[KERNEL_KEY]
        return ctx.invoke(function, kernel, *args, **kwargs)

    return functools.update_wrapper(wrapper, function)


def make_app() -> GantryGroup:
    """A fresh ``gantry`` command group (fresh, so that each kernel adds its own commands)."""

    @click.group(cls=GantryGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--config", type=click.Path(dir_okay=False), default=None,
                  help="Site configuration file (default: $GANTRY_CONFIG, then ./gantry.toml).")
    @click.option("--strict-plugins", is_flag=True, default=False,
                  help="Any plugin failure is an error (for development and CI).")
    @click.option("--log-format", type=click.Choice(LOG_FORMATS), default=None,
                  help="Log lines on stderr: console on a terminal, JSON otherwise (auto).")
    @click.option("--log-level", type=click.Choice(LOG_LEVELS), default=None, help="Least severe level logged.")
    @click.version_option(version=_version(), prog_name="gantry")
    def app(**_: Any) -> None:
        """Gantry: read, move, de-identify and store DICOM, with plugins."""

    app.add_command(plugins_command)
    for name, ref, help_text in SESSION_COMMANDS:
        app.add_command(LazyCommand(name, ref, help=help_text))
    audit_log = click.Group("audit-log", help="The append-only, hash-chained audit trail.",
                            short_help="Verify or show the audit trail.")
    for name, ref, help_text in AUDIT_LOG_COMMANDS:
        audit_log.add_command(LazyCommand(name, ref, help=help_text))
    app.add_command(audit_log)
    return app


#: The Session's commands (gantry.session_cli), imported only when one of them runs.
SESSION_COMMANDS = (
    ("ingest", "gantry.session_cli:ingest_command", "Index every DICOM file under PATHS."),
    ("ls", "gantry.session_cli:ls_command", "List patients, studies, series or instances."),
    ("stats", "gantry.session_cli:stats_command", "Counts, sizes and syntaxes in the index."),
)
AUDIT_LOG_COMMANDS = (
    ("verify", "gantry.session_cli:audit_verify_command", "Check the hash chain; exit 1 if broken."),
    ("show", "gantry.session_cli:audit_show_command", "Print audit rows as JSON lines."),
)


def _version() -> str:
    from gantry import __version__

    return __version__


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per plugin (a stable format).")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool) -> None:
    """List every plugin: status, what it provides, which provider is active per key."""
    kernel = ctx.find_root().meta[KERNEL_KEY]
    rows = kernel.report()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_plugins_table(rows, kernel)


def _print_plugins_table(rows: list[dict[str, Any]], kernel: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    plugins = Table(title="Plugins", title_justify="left")
    for column in ("plugin", "distribution", "version", "status", "provides / error"):
        plugins.add_column(column, overflow="fold")
    for row in rows:
        if row["status"] == "failed":
            detail = f"[red]{row['error']}[/red]"
        elif row["status"] == "disabled":
            detail = f"disabled by {kernel.records[row['name']].disabled_by}"
        else:
            counts: dict[str, int] = {}
            for item in row["provides"]:
                counts[item["family"]] = counts.get(item["family"], 0) + 1
            detail = ", ".join(f"{family} x{n}" for family, n in sorted(counts.items())) or "hooks only"
        status = {"loaded": "[green]loaded[/green]", "failed": "[red]failed[/red]"}.get(row["status"], row["status"])
        plugins.add_row(row["name"], row["distribution"] or "-", row["version"] or "-", status, detail)
    console.print(plugins)

    active = Table(title="Active provider per capability (highest priority wins)", title_justify="left")
    for column in ("family", "key", "active provider", "priority", "also available"):
        active.add_column(column, overflow="fold")
    from gantry.uids import SHORT_NAMES

    short = {uid: name for name, uid in SHORT_NAMES.items()}
    for (family, key), offers in kernel.capabilities().items():
        best = offers[0]
        key = f"{key} ({short[key]})" if key in short else key
        others = ", ".join(f"{o.provider} ({o.priority})" for o in offers[1:]) or "-"
        name = best.provider + (" [pinned]" if best.pinned else "")
        active.add_row(family, key, name, str(best.priority), others)
    console.print(active)
    for warning in kernel.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


def main(argv: list[str] | None = None) -> None:
    app = make_app()
    try:
        result = app.main(args=argv, prog_name="gantry", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except GantryError as err:
        click.echo(f"gantry: error: {err}", err=True)
        sys.exit(1)
    # Without standalone mode click returns ctx.exit()'s code (or the command's return value).
    sys.exit(result if isinstance(result, int) else 0)
