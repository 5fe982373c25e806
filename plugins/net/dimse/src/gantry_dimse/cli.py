"""``gantry echo URL`` and ``gantry listen URL``.

Exit status: 0 success; 1 when the node cannot be reached, refuses us, or answers with a failure
status (the reason is printed); 2 bad usage.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import click

from gantry import GantryError
from gantry.cli import pass_kernel

from gantry_dimse.urls import SCHEME


def _as_url(target: str) -> str:
    # A bare node name ("pacs") is a dicom:// URL for the kernel, which picks transports by scheme.
    return target if "://" in target else f"{SCHEME}://{target}"


@click.command("echo")
@click.argument("url")
@click.option("-c", "--count", type=click.IntRange(1, 100_000), default=1, show_default=True,
              help="How many C-ECHOs to send (on one association).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
@pass_kernel
@click.pass_context
def echo_command(ctx: click.Context, kernel: Any, url: str, count: int, as_json: bool) -> None:
    """C-ECHO URL: dicom://CALLED@host:port[?calling=AE], dicom://NODE or NODE (a configured node).

    Prints the round trip of each echo in milliseconds.
    """
    results: list[Any] = []
    error = ""
    shown = url
    try:
        with kernel.open_transport(_as_url(url)) as peer:
            shown = peer.url
            for number in range(1, count + 1):
                result = peer.echo()
                results.append(result)
                if not as_json:
                    click.echo(f"echo {number}/{count} {peer.address.called_ae}@{peer.address.endpoint}: "
                               f"status 0x{result.status:04X}, {result.seconds * 1000:.2f} ms")
    except GantryError as err:
        error = str(err)
    ok = not error and all(result.ok for result in results)
    if as_json:
        click.echo(json.dumps({
            "url": shown, "ok": ok, "error": error or None,
            "echoes": [{"ok": r.ok, "status": r.status, "ms": round(r.seconds * 1000, 3)} for r in results],
        }, indent=2))
    elif error:
        click.echo(f"gantry echo: {error}", err=True)
    elif not ok:
        click.echo("gantry echo: the node answered with a failure status", err=True)
    if not ok:
        ctx.exit(1)


@click.command("listen")
@click.argument("url")
@click.option("--allow", "allow", multiple=True, metavar="AE",
              help="Accept only this calling AE title (repeatable; default: any).")
@pass_kernel
def listen_command(kernel: Any, url: str, allow: tuple[str, ...]) -> None:
    """Answer DIMSE requests as URL (dicom://OURAE@host:port, e.g. dicom://GANTRY@0.0.0.0:11112)
    until Ctrl-C. Every service with an active SCP provider is answered (C-ECHO built in)."""
    from gantry_dimse.listener import Listener
    from gantry_dimse.settings import DimseSettings
    from gantry_dimse.urls import parse_dicom_url

    try:
        settings = DimseSettings.from_mapping(kernel.settings("dimse"))
        address = parse_dicom_url(_as_url(url), settings)
        listener = Listener(kernel, address.called_ae, address.host, address.port, allow=allow,
                            settings=settings).start()
    except GantryError as err:
        raise click.ClickException(str(err)) from None
    try:
        click.echo(f"listening as {listener.ae_title} on {address.host}:{listener.port} "
                   f"({', '.join(listener.services)}); calling AEs allowed: "
                   f"{', '.join(listener.allow) or 'any'}; Ctrl-C stops", err=True)
        threading.Event().wait()  # the server runs in its own threads; Ctrl-C ends this wait
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        listener.stop()
