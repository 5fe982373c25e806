"""``gantry move URL --dest AE -k StudyInstanceUID=1.2.3 [--level study] [--json]``: C-MOVE.

Prints a summary of the peer's sub-operation counts (with ``--json``: one JSON object per pending
response, then a summary object). Exit status: 0 every sub-operation completed; 1 some failed or
warned, the move was refused or cancelled, or the node could not be reached; 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gantry import GantryError
from gantry.cli import pass_kernel
from gantry.session_cli import parse_keys
from gantry.transport import RetrieveResult

from gantry_cmove.models import PENDING

LEVEL_CHOICES = ("patient", "study", "series", "instance")


@click.command("move")
@click.argument("url")
@click.option("--dest", "destination", required=True, metavar="AE", help="The AE title to send the instances to.")
@click.option("--level", type=click.Choice(LEVEL_CHOICES), default="study", show_default=True)
@click.option("--model", type=click.Choice(("study", "patient")), default=None,
              help="Query/retrieve model (default: patient for --level patient, study otherwise).")
@click.option("-k", "--key", "keys", multiple=True, required=True, metavar="KEYWORD=VALUE",
              help="A key naming what to move, e.g. StudyInstanceUID=1.2.3.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per pending response, then a summary.")
@pass_kernel
@click.pass_context
def move_command(ctx: click.Context, kernel: Any, url: str, destination: str, level: str, model: str | None,
                 keys: tuple[str, ...], as_json: bool) -> None:
    """C-MOVE from URL (dicom://CALLED@host:port or a configured node) to the AE --dest."""
    query = parse_keys(keys)
    model = model or ("patient" if level == "patient" else "study")
    target = url if "://" in url else f"dicom://{url}"
    final: RetrieveResult | None = None
    error = ""
    try:
        with kernel.open_transport(target) as peer:
            for result in peer.retrieve(level, query, destination=destination, model=model):
                final = result
                _show_progress(result, as_json)
    except GantryError as err:
        error = str(err)
    summary = _summary(url, destination, final, error)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        if error:
            click.echo(f"gantry move: {error}", err=True)
        click.echo(f"completed {summary['completed']}, failed {summary['failed']}, warning {summary['warning']}"
                   + (f" ({final.reason})" if final is not None and not summary["ok"] and not error else ""))
    if not summary["ok"]:
        ctx.exit(1)


def _summary(url: str, destination: str, final: RetrieveResult | None, error: str) -> dict[str, Any]:
    completed = (final.completed or 0) if final else 0
    failed = (final.failed or 0) if final else 0
    warning = (final.warning or 0) if final else 0
    ok = not error and final is not None and final.ok and not failed and not warning
    return {"url": url, "destination": destination, "completed": completed, "failed": failed,
            "warning": warning, "status": final.status if final else None, "ok": ok, "error": error or None}


def _show_progress(result: RetrieveResult, as_json: bool) -> None:
    if as_json and result.status == PENDING:
        click.echo(json.dumps({"status": result.status, "remaining": result.remaining, "completed": result.completed,
                               "failed": result.failed, "warning": result.warning}))
    elif not as_json and sys.stderr.isatty():
        click.echo(f"\rcompleted {result.completed or 0}, remaining {result.remaining or 0}", nl=False, err=True)
