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


def _peer_name(peer: Any) -> str:
    # Other transports (dicomweb+http ...) have no AE title: their URL names the peer.
    address = getattr(peer, "address", None)
    if hasattr(address, "called_ae"):
        return f"{address.called_ae}@{address.endpoint}"
    return str(peer.url)


def _status_text(peer: Any, status: int | None) -> str:
    if status is None:
        return "none"
    return f"0x{status:04X}" if hasattr(getattr(peer, "address", None), "called_ae") else f"HTTP {status}"


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
                    click.echo(f"echo {number}/{count} {_peer_name(peer)}: "
                               f"status {_status_text(peer, result.status)}, {result.seconds * 1000:.2f} ms")
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
@click.option("--db", "database", metavar="URL", default=None,
              help="Index received instances here (default: storage.database in the configuration).")
@click.option("--store", "store", metavar="DIR", default=None,
              help="Keep received instances here (default: storage.store in the configuration).")
@click.option("--max-associations", type=click.IntRange(1, 1000), default=None,
              help="Associations served at once, per process (default: dimse.max_associations, 10).")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Serve the port from this many processes (the OS shares connections out among "
                   "them): receiving scales past one interpreter lock.")
@pass_kernel
def listen_command(kernel: Any, url: str, allow: tuple[str, ...], database: str | None, store: str | None,
                   max_associations: int | None, processes: int) -> None:
    """Answer DIMSE requests as URL (dicom://OURAE@host:port, e.g. dicom://GANTRY@0.0.0.0:11112)
    until Ctrl-C. Every service with an active SCP provider is answered (C-ECHO built in;
    C-STORE with gantry-cstore, into --db and --store)."""
    import attrs

    from gantry_dimse.listener import Listener
    from gantry_dimse.settings import DimseSettings
    from gantry_dimse.urls import parse_dicom_url
    from gantry_dimse.workers import start_workers, stop_on_sigterm, stop_workers

    if database or store:
        # SCP providers read the site's storage from the kernel's configuration: override it for
        # this run only (this kernel lives as long as this command).
        storage = kernel.config.storage
        storage = attrs.evolve(storage, database=database or storage.database, store=store or storage.store)
        kernel.config = attrs.evolve(kernel.config, storage=storage)
    stop_on_sigterm()
    listener, workers = None, []
    try:
        settings = DimseSettings.from_mapping(kernel.settings("dimse"))
        if max_associations is not None:
            settings = attrs.evolve(settings, max_associations=max_associations)
        address = parse_dicom_url(_as_url(url), settings)
        listener = Listener(kernel, address.called_ae, address.host, address.port, allow=allow,
                            settings=settings, ssl_context=server_ssl_context(kernel) if address.secure else None,
                            reuse_port=processes > 1)
        listener.start()
        workers = start_workers(processes - 1, kernel.config, listener.ae_title, address.host, address.port,
                                listener.allow, settings, address.secure)
    except GantryError as err:
        stop_workers(workers)
        if listener is not None:
            listener.stop()
        raise click.ClickException(str(err)) from None
    try:
        click.echo(f"listening as {listener.ae_title} on {address.host}:{listener.port} "
                   f"({', '.join(listener.services)}){f' in {processes} processes' if processes > 1 else ''}; "
                   f"calling AEs allowed: {', '.join(listener.allow) or 'any'}; Ctrl-C stops", err=True)
        threading.Event().wait()  # the server runs in its own threads; Ctrl-C ends this wait
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        stop_workers(workers)
        listener.stop()


def server_ssl_context(kernel: Any) -> Any:
    """For dicoms://, the server SSL context from the transport that serves that scheme: by
    convention its factory's module has ``server_ssl_context(settings)`` (gantry-tls does)."""
    offer = kernel.active("transport", "dicoms")
    if offer is None:
        raise GantryError("dicoms:// needs a TLS transport plugin (install gantry-tls)")
    module = offer.descriptor.factory.split(":", 1)[0]
    return kernel.load(f"{module}:server_ssl_context")(kernel.settings(offer.plugin))
