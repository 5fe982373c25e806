"""``gantry send URL PATH...``: C-STORE files and folders.

Prints one line per failed file (or, with ``--json``, one JSON object per file) and a summary.
Exit status: 0 every file went; 1 some did not, or the node could not be reached; 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gantry import GantryError
from gantry.cli import ProgressBar, pass_kernel
from gantry.transport import StoreResult


@click.command("send")
@click.argument("url")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--fail-fast", is_flag=True, help="Stop at the first file that does not go.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, then a summary object.")
@pass_kernel
@click.pass_context
def send_command(ctx: click.Context, kernel: Any, url: str, paths: tuple[str, ...], fail_fast: bool,
                 as_json: bool) -> None:
    """C-STORE PATHS (files and folders, recursively) to URL: dicom://CALLED@host:port or a
    configured node. Files the peer refuses in their syntax are transcoded losslessly."""
    target = url if "://" in url else f"dicom://{url}"
    sent = failed = 0
    error = ""
    try:
        with kernel.open_transport(target) as peer, ProgressBar("send", shown=sys.stderr.isatty()) as advance:
            for result in peer.store(list(paths), continue_on_error=not fail_fast, progress=advance):
                sent, failed = sent + result.ok, failed + (not result.ok)
                _show(result, as_json)
    except GantryError as err:
        error = str(err)
    summary = {"url": url, "sent": sent, "failed": failed, "ok": not error and not failed, "error": error or None}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        if error:
            click.echo(f"gantry send: {error}", err=True)
        click.echo(f"sent {sent}, failed {failed}")
    if error or failed:
        ctx.exit(1)


def _show(result: StoreResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"source": result.source, "ok": result.ok, "sop_instance_uid": result.sop_instance_uid,
                               "status": result.status, "transfer_syntax_uid": result.transfer_syntax_uid,
                               "reason": result.reason}))
    elif not result.ok:
        status = f" (status 0x{result.status:04X})" if result.status is not None else ""
        click.echo(f"failed {result.source}{status}: {result.reason}")
