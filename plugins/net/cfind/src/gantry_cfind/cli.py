"""``gantry find URL --level study -k PatientID=123 -k StudyDate=20240101-20241231 [--json]``.

Prints a table (one column per returned key) or, with ``--json``, one JSON object per answer
(keyword -> value text). Exit status: 0 the query ended; 1 it failed or the node could not be
reached; 2 bad usage.
"""

from __future__ import annotations

import json
from typing import Any

import click

from gantry import GantryError
from gantry.cli import pass_kernel
from gantry.session_cli import parse_keys

from gantry_cfind.identifiers import answer_texts

LEVEL_CHOICES = ("patient", "study", "series", "instance")


@click.command("find")
@click.argument("url")
@click.option("--level", type=click.Choice(LEVEL_CHOICES), default="study", show_default=True)
@click.option("--model", type=click.Choice(("study", "patient")), default=None,
              help="Query/retrieve model (default: patient for --level patient, study otherwise).")
@click.option("-k", "--key", "keys", multiple=True, metavar="KEYWORD=VALUE",
              help="A matching key (wildcards, ranges, UID lists) or, with no value, a return key.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Cancel after this many answers.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per answer.")
@pass_kernel
@click.pass_context
def find_command(ctx: click.Context, kernel: Any, url: str, level: str, model: str | None,
                 keys: tuple[str, ...], limit: int | None, as_json: bool) -> None:
    """C-FIND URL (dicom://CALLED@host:port or a configured node) at --level with -k keys."""
    query = parse_keys(keys)
    model = model or ("patient" if level == "patient" else "study")
    target = url if "://" in url else f"dicom://{url}"
    rows: list[dict[str, str]] = []
    try:
        with kernel.open_transport(target) as peer:
            for answer in peer.find(level, query, model=model, limit=limit):
                row = answer_texts(answer)
                if as_json:
                    click.echo(json.dumps(row, ensure_ascii=False))
                rows.append(row)
    except GantryError as err:
        click.echo(f"gantry find: {err}", err=True)
        ctx.exit(1)
    if not as_json:
        _print_table(rows)


def _print_table(rows: list[dict[str, str]]) -> None:
    columns = list(dict.fromkeys(keyword for row in rows for keyword in row))
    if not columns:
        click.echo("no matches")
        return
    widths = {column: max(len(column), *(len(row.get(column, "")) for row in rows)) for column in columns}
    click.echo("  ".join(column.ljust(widths[column]) for column in columns).rstrip())
    for row in rows:
        click.echo("  ".join(row.get(column, "").ljust(widths[column]) for column in columns).rstrip())
    click.echo(f"{len(rows)} match{'es' if len(rows) != 1 else ''}")
