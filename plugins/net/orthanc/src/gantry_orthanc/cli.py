"""``gantry orthanc follow URL [--since N] [--get OUT] [--new-instances] [--json]``.

Follows Orthanc's ``/changes`` and prints one line per stable study (Seq, StudyInstanceUID,
Orthanc ID), or a JSON object with ``--json``; with ``--get OUT`` it also retrieves each stable
study into the folder OUT (an instance store). Runs until Ctrl-C, or ``--max N`` changes, or
``--idle-polls N`` polls in a row found nothing. On exit it prints ``last seq N`` on stderr: pass
it back with ``--since N`` to resume. Exit status: 0 it ended normally; 1 Orthanc failed or could
not be reached; 2 bad usage.
"""

from __future__ import annotations

import json
from typing import Any

import click

from gantry import GantryError
from gantry.cli import pass_kernel


@click.command("follow")
@click.argument("url")
@click.option("--since", type=click.IntRange(min=0), default=None,
              help="Start after this change Seq (default: only changes from now on; 0: everything).")
@click.option("--get", "out", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Retrieve each stable study into this folder (an instance store).")
@click.option("--new-instances", is_flag=True, help="Report NewInstance changes too.")
@click.option("--poll", "poll_interval", type=click.FloatRange(min=0.01), default=None,
              help="Seconds between polls (default: orthanc.poll_interval).")
@click.option("--max", "max_changes", type=click.IntRange(min=1), default=None, help="Stop after this many changes.")
@click.option("--idle-polls", type=click.IntRange(min=1), default=None,
              help="Stop after this many polls in a row found nothing new.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per change.")
@pass_kernel
@click.pass_context
def follow_command(ctx: click.Context, kernel: Any, url: str, since: int | None, out: str | None,
                   new_instances: bool, poll_interval: float | None, max_changes: int | None,
                   idle_polls: int | None, as_json: bool) -> None:
    """Follow URL (orthanc+http://host:8042): print each stable study as Orthanc reports it."""
    if not url.lower().startswith(("orthanc+http://", "orthanc+https://")):
        raise click.UsageError("URL must be orthanc+http://host:port or orthanc+https://...")
    changes = ("StableStudy", "NewInstance") if new_instances else ("StableStudy",)
    seen = 0
    follower = None
    try:
        store = kernel.open_instance_store(out) if out else None
        with kernel.open_transport(url) as orthanc:
            follower = orthanc.follow(since, changes=changes, poll_interval=poll_interval, idle_polls=idle_polls)
            try:
                for change in follower:
                    row: dict[str, Any] = {"seq": change.seq, "change": change.change_type,
                                           "resource": change.resource_type, "id": change.resource_id,
                                           "uid": change.uid}
                    if store is not None and change.change_type == "StableStudy":
                        row.update(_get_study(orthanc, change, store))
                    _show(row, as_json)
                    seen += 1
                    if max_changes is not None and seen >= max_changes:
                        break
            except KeyboardInterrupt:
                pass
    except GantryError as err:
        click.echo(f"gantry orthanc follow: {err}", err=True)
        if follower is not None and follower.last_seq is not None:
            click.echo(f"last seq {follower.last_seq}", err=True)
        ctx.exit(1)
    if follower is not None and follower.last_seq is not None:
        click.echo(f"last seq {follower.last_seq}", err=True)


def _get_study(orthanc: Any, change: Any, store: Any) -> dict[str, Any]:
    from gantry_orthanc.retrieving import fetch_into

    received = failed = 0
    for result in fetch_into(orthanc.client, "study", [change.resource_id], store):
        if result.sop_instance_uid or not (result.completed is not None and result.remaining == 0):
            received, failed = received + result.ok, failed + (not result.ok)
    return {"received": received, "failed": failed}


def _show(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(row))
        return
    text = f"{row['seq']:>8}  {row['change']:<12} {row['uid'] or '-'}  ({row['resource'].lower()} {row['id']})"
    if "received" in row:
        text += f"  received {row['received']}, failed {row['failed']}"
    click.echo(text)
