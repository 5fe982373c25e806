"""``gantry serve [--db URL] [--store DIR] [--host H] [--port P] [--public-root URL]``.

Serves the index (``--db``, else ``storage.database``) and the instance store (``--store``, else
``storage.store``, else ``./gantry-store``) over DICOMweb at ``http://H:P/dicom-web`` until Ctrl-C.
Other settings come from ``[dicomweb-server]``. Exit status: 0 stopped; 1 the storage could not be
opened or the port bound; 2 bad usage.
"""

from __future__ import annotations

from typing import Any

import click

from gantry import GantryError
from gantry.cli import pass_kernel


@click.command("serve")
@click.option("--db", "database", metavar="URL", default=None,
              help="Index to answer from and to store into (default: storage.database).")
@click.option("--store", "store", metavar="DIR", default=None,
              help="Where STOW-RS puts instances (default: storage.store, else ./gantry-store).")
@click.option("--host", default=None, help="Address to listen on (default: dicomweb-server.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="TCP port (default: dicomweb-server.port, 8042).")
@click.option("--public-root", default=None, metavar="URL",
              help="Public URL of /dicom-web behind a proxy (BulkDataURI, RetrieveURL).")
@pass_kernel
def serve_command(kernel: Any, database: str | None, store: str | None, host: str | None, port: int | None,
                  public_root: str | None) -> None:
    """Serve QIDO-RS, WADO-RS, WADO-URI and STOW-RS at http://HOST:PORT/dicom-web."""
    from gantry_dicomweb_server.server import open_context, site_settings, uvicorn_server

    settings = site_settings(kernel, host=host, port=port,
                             public_root=public_root.rstrip("/") if public_root else None)
    try:
        context = open_context(kernel, database=database, store=store, settings=settings)
    except GantryError as err:
        raise click.ClickException(str(err)) from None
    try:
        click.echo(f"serving DICOMweb at http://{settings.host}:{settings.port}/dicom-web "
                   f"(WADO-URI at /wado); Ctrl-C stops", err=True)
        server = uvicorn_server(context, settings.host, settings.port)
        server.run()
        if not server.started:
            raise click.ClickException(f"could not listen on {settings.host}:{settings.port}")
    finally:
        context.close()
