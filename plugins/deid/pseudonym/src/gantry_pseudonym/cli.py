"""``gantry deid-recover IN... OUT [--key KEYFILE] [--cert CERTFILE]``.

A command of its own: ``gantry deid`` belongs to gantry-deid and is a plain command, not a group
another plugin can add to. Exit status 0 when every file was recovered, 1 when any failed (each
listed with its reason), or when the key cannot be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gantry.cli import pass_kernel


@click.command("deid-recover")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--key", "key_file", type=click.Path(dir_okay=False), default=None,
              help="The site's private key (default: [pseudonym] key_file, $GANTRY_PSEUDONYM_KEY, "
                   "gantry-pseudonym.key).")
@click.option("--cert", "cert_file", type=click.Path(dir_okay=False), default=None,
              help="Its certificate, which names the recipient (default: the key's path with .crt).")
@pass_kernel
def recover_command(kernel: Any, paths: tuple[str, ...], out: str, key_file: str | None,
                    cert_file: str | None) -> None:
    """Put the original attributes encrypted in Encrypted Attributes Sequence back, into copies in OUT."""
    from gantry_pseudonym.batch import recover_files
    from gantry_pseudonym.keys import KeyPaths, certificate_path_for, load_certificate, load_private_key

    configured = KeyPaths.from_settings(kernel.settings("pseudonym"))
    key = Path(key_file) if key_file else configured.key
    # A key named here brings its own certificate beside it, not the configured one.
    certificate = Path(cert_file) if cert_file else certificate_path_for(key) if key_file else configured.certificate
    # Neither file is made here: a new key could not open anything encrypted before.
    results = recover_files(kernel.read, paths, Path(out), load_certificate(certificate), load_private_key(key))
    failed = [result for result in results if not result.ok]
    for result in failed:
        click.echo(f"not recovered: {result.source}: {result.error}", err=True)
    click.echo(f"{len(results) - len(failed)} recovered, {len(failed)} not recovered, into {out}")
    if failed:
        raise SystemExit(1)
