"""``gantry send URL PATH...`` or ``gantry send URL --index -k KEYWORD=VALUE...``: C-STORE files
and folders, or instances selected from the index.

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
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--index", "from_index", is_flag=True,
              help="Send the instances selected from the index with -k instead of PATHS.")
@click.option("-k", "--key", "keys", multiple=True, metavar="KEYWORD=VALUE",
              help="With --index: DICOM matching on the index, e.g. PatientID=123 or "
                   "StudyDate=20240101-20241231 (repeatable).")
@click.option("--db", "database", metavar="URL", default=None,
              help="With --index: the index's storage URL (default: storage.database).")
@click.option("--associations", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Send over this many associations at once (each waits for its own responses).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first file that does not go.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, then a summary object.")
@pass_kernel
@click.pass_context
def send_command(ctx: click.Context, kernel: Any, url: str, paths: tuple[str, ...], from_index: bool,
                 keys: tuple[str, ...], database: str | None, associations: int, fail_fast: bool,
                 as_json: bool) -> None:
    """C-STORE PATHS (files and folders, recursively), or with --index the indexed instances
    matching the -k keys, to URL: dicom://CALLED@host:port or a configured node. Files the peer
    refuses in their syntax are transcoded losslessly."""
    sources = _sources(kernel, paths, from_index, keys, database)
    target = url if "://" in url else f"dicom://{url}"
    sent = failed = 0
    error = ""
    try:
        with kernel.open_transport(target) as peer, ProgressBar("send", shown=sys.stderr.isatty()) as advance:
            for result in peer.store(sources, continue_on_error=not fail_fast, progress=advance,
                                     associations=associations):
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


def _sources(kernel: Any, paths: tuple[str, ...], from_index: bool, keys: tuple[str, ...],
             database: str | None) -> list[Any]:
    if from_index == bool(paths):
        raise click.UsageError("give PATHS, or --index with -k selections, not both or neither")
    if not from_index:
        if keys or database:
            raise click.UsageError("-k and --db select from the index: they need --index")
        return list(paths)
    from gantry.session_cli import parse_keys

    from gantry_cstore.selection import select

    if not keys:
        raise click.UsageError("--index needs at least one -k KEYWORD=VALUE (PatientID=*, to send everything)")
    try:
        rows = select(kernel, parse_keys(keys), database)
    except GantryError as err:
        raise click.UsageError(f"cannot select from the index: {err}") from err
    if not rows:
        raise click.UsageError("the index selection matches no instance")
    return rows


def _show(result: StoreResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"source": result.source, "ok": result.ok, "sop_instance_uid": result.sop_instance_uid,
                               "status": result.status, "transfer_syntax_uid": result.transfer_syntax_uid,
                               "reason": result.reason}))
    elif not result.ok:
        status = f" (status 0x{result.status:04X})" if result.status is not None else ""
        click.echo(f"failed {result.source}{status}: {result.reason}")
