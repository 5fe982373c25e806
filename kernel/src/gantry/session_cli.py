"""``gantry ingest``, ``gantry ls``, ``gantry stats`` and ``gantry audit-log``: the Session's CLI.

Each takes ``--db URL`` (default: the configuration's ``storage.database``, itself
``sqlite:///gantry.db`` unless set).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gantry.cli import ProgressBar, pass_kernel
from gantry.storage import COMPUTED_ATTRIBUTES, INDEX_ATTRIBUTES, LEVEL_KEYS, LEVELS

db_option = click.option("--db", "database", metavar="URL", default=None,
                         help="Storage URL (default: storage.database in the configuration, "
                              "else sqlite:///gantry.db).")


#: ``gantry ingest`` finished but rejected some files (1 is kept for "the ingest failed").
REJECTED_EXIT_STATUS = 3


def _session(kernel: Any, database: str | None) -> Any:
    from gantry.session import Session

    return Session(database, kernel=kernel)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@db_option
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Processes that read headers (default: one per CPU).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
@pass_kernel
def ingest_command(kernel: Any, paths: tuple[str, ...], database: str | None, workers: int | None,
                   as_json: bool, progress: bool | None) -> None:
    """Index every DICOM file under PATHS (recursively). Unchanged files are skipped, so running
    it again resumes; non-DICOM files are skipped and counted; damaged ones are listed.

    Exit status: 0 all done, 3 done but some files were rejected, 1 the ingest failed."""
    show_progress = sys.stderr.isatty() if progress is None else progress
    with _session(kernel, database) as session, ProgressBar("ingest", show_progress) as advance:
        summary = session.ingest(list(paths), workers=workers, progress=advance)
    if as_json:
        click.echo(json.dumps(summary.as_json()))
    else:
        click.echo(f"{summary.seen} files seen: {summary.indexed} indexed, "
                   f"{summary.already_indexed} already indexed, "
                   f"{summary.skipped_non_dicom} not DICOM, "
                   + (f"{summary.skipped_dicomdir} DICOMDIR, " if summary.skipped_dicomdir else "")
                   + f"{len(summary.rejected)} rejected ({summary.seconds:.1f} s, "
                   f"{summary.seen / summary.seconds if summary.seconds else 0:.0f} files/s)")
        for rejection in summary.rejected:
            click.echo(f"rejected: {rejection.path}: {rejection.reason}", err=True)
    if summary.rejected:
        sys.exit(REJECTED_EXIT_STATUS)


@click.command("ls")
@db_option
@click.option("--level", type=click.Choice(LEVELS), default="study", show_default=True)
@click.option("-k", "--key", "keys", multiple=True, metavar="KEYWORD=VALUE",
              help="DICOM matching: wildcards * and ?, ranges A-B for dates and times, "
                   "UID lists separated by backslashes. Repeatable.")
@click.option("--limit", type=click.IntRange(1), default=None)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
@pass_kernel
def ls_command(kernel: Any, database: str | None, level: str, keys: tuple[str, ...],
               limit: int | None, offset: int, as_json: bool) -> None:
    """List the index at one level with its identifying attributes and counts."""
    filters = parse_keys(keys)
    columns = ls_columns(level)
    with _session(kernel, database) as session:
        rows = session.query(level, filters, limit=limit, offset=offset)
    if as_json:
        for row in rows:
            click.echo(json.dumps({column: row.get(column) for column in columns}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} {level} rows", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def ls_columns(level: str) -> list[str]:
    """The parents' keys, the level's own attributes and its counts."""
    position = LEVELS.index(level)
    parents = [LEVEL_KEYS[upper] for upper in LEVELS[:position]]
    own = list(INDEX_ATTRIBUTES[level]) + list(COMPUTED_ATTRIBUTES[level])
    if level == "study":  # a study listing names its patient, as C-FIND study-root answers do
        parents = ["PatientID", "PatientName"]
    extra = ["transfer_syntax_uid", "size", "location"] if level == "instance" else []
    return parents + [column for column in own if column not in parents] + extra


def parse_keys(keys: tuple[str, ...]) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in keys:
        keyword, sep, value = item.partition("=")
        if not sep or not keyword.strip():
            raise click.BadParameter(f"{item!r} is not KEYWORD=VALUE", param_hint="-k")
        filters[keyword.strip()] = value
    return filters


@click.command("stats")
@db_option
@click.option("--json", "as_json", is_flag=True)
@pass_kernel
def stats_command(kernel: Any, database: str | None, as_json: bool) -> None:
    """Counts per level, bytes, transfer syntaxes and modalities in the index."""
    with _session(kernel, database) as session:
        stats = session.stats()
    if as_json:
        import attrs

        click.echo(json.dumps(attrs.asdict(stats)))
        return
    from gantry.uids import SHORT_NAMES

    short = {uid: name for name, uid in SHORT_NAMES.items()}
    click.echo(f"{stats.patients} patients, {stats.studies} studies, {stats.series} series, "
               f"{stats.instances} instances, {stats.bytes / 1e6:.1f} MB")
    for uid, count in sorted(stats.transfer_syntaxes.items(), key=lambda item: -item[1]):
        click.echo(f"  {count:>8}  {uid} ({short.get(uid, 'unknown')})")
    if stats.modalities:
        click.echo("  modalities: " + ", ".join(f"{m or '?'} {n}" for m, n in
                                                 sorted(stats.modalities.items())))


@click.command("verify")
@db_option
@click.pass_context
def audit_verify_command(ctx: click.Context, database: str | None) -> None:
    """Recompute the hash chain: exit 0 when it holds, 1 and where it breaks when not."""
    from gantry.cli import KERNEL_KEY

    kernel = ctx.find_root().meta[KERNEL_KEY]
    with _session(kernel, database) as session:
        result = session.backend.verify_audit()
    if result.ok:
        click.echo(f"audit trail holds: {result.checked} rows verified")
        return
    click.echo(f"audit trail BROKEN at row {result.broken_at}: {result.reason} "
               f"({result.checked} rows checked)")
    sys.exit(1)


@click.command("show")
@db_option
@click.option("--after", type=click.IntRange(0), default=0, help="Rows after this sequence number.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.pass_context
def audit_show_command(ctx: click.Context, database: str | None, after: int, limit: int) -> None:
    """Print audit rows as JSON lines."""
    from gantry.cli import KERNEL_KEY

    kernel = ctx.find_root().meta[KERNEL_KEY]
    with _session(kernel, database) as session:
        rows = session.backend.audit_rows(after=after, limit=limit)
    for row in rows:
        event = row.event
        click.echo(json.dumps({"sequence": row.sequence, "at": event.at, "actor": event.actor,
                               "action": event.action, "sop_instance_uid": event.sop_instance_uid,
                               "detail": dict(event.detail), "hash": row.hash}))
