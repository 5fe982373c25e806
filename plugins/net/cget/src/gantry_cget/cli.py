"""``gantry get URL OUT -k StudyInstanceUID=1.2.3 [--level study] [--json]``: C-GET into a folder.

OUT is opened as an instance store (one sub-folder per study and series). Prints one line per
failed instance (or, with ``--json``, one JSON object per instance) and a summary. Exit status:
0 every instance arrived; 1 some did not, or the node failed or could not be reached; 2 bad usage.
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

LEVEL_CHOICES = ("patient", "study", "series", "instance")


@click.command("get")
@click.argument("url")
@click.argument("out", type=click.Path(file_okay=False, path_type=str))
@click.option("--level", type=click.Choice(LEVEL_CHOICES), default="study", show_default=True)
@click.option("--model", type=click.Choice(("study", "patient")), default=None,
              help="Query/retrieve model (default: patient for --level patient, study otherwise).")
@click.option("-k", "--key", "keys", multiple=True, required=True, metavar="KEYWORD=VALUE",
              help="A key naming what to retrieve, e.g. StudyInstanceUID=1.2.3.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per instance, then a summary object.")
@pass_kernel
@click.pass_context
def get_command(ctx: click.Context, kernel: Any, url: str, out: str, level: str, model: str | None,
                keys: tuple[str, ...], as_json: bool) -> None:
    """C-GET from URL (dicom://CALLED@host:port or a configured node) into the folder OUT."""
    query = parse_keys(keys)
    model = model or ("patient" if level == "patient" else "study")
    target = url if "://" in url else f"dicom://{url}"
    received = failed = 0
    final: RetrieveResult | None = None
    error = ""
    try:
        store = kernel.open_instance_store(out)
        with kernel.open_transport(target) as peer:
            for result in peer.retrieve(level, query, into=store, model=model):
                if not result.sop_instance_uid:  # the final status, with the peer's counts
                    final = result
                    continue
                received, failed = received + result.ok, failed + (not result.ok)
                _show(result, as_json, received + failed)
    except GantryError as err:
        error = str(err)
    failed = max(failed, final.failed or 0) if final is not None else failed
    summary = {"url": url, "out": out, "received": received, "failed": failed,
               "warning": final.warning if final else None, "status": final.status if final else None,
               "ok": not error and not failed, "error": error or None}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        if error:
            click.echo(f"gantry get: {error}", err=True)
        click.echo(f"received {received}, failed {failed}")
    if error or failed:
        ctx.exit(1)


def _show(result: RetrieveResult, as_json: bool, count: int) -> None:
    if as_json:
        click.echo(json.dumps({"sop_instance_uid": result.sop_instance_uid, "ok": result.ok,
                               "location": result.location or None, "status": result.status,
                               "reason": result.reason or None}))
        return
    if not result.ok:
        click.echo(f"failed {result.sop_instance_uid} (status 0x{result.status or 0:04X}): {result.reason}")
    elif sys.stderr.isatty():  # progress: results come when the association is done
        click.echo(f"\rreceived {count}", nl=False, err=True)
