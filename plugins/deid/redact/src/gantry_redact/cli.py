"""``gantry redact import-ctp FILE [--out FILE.yaml]``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click


@click.command("import-ctp")
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="write the YAML here (default: print it)")
def import_ctp_command(script: str, out: str | None) -> None:
    """Translate a CTP DicomPixelAnonymizer script into Gantry's machine table.

    The YAML holds a `redaction:` table: use it as a de-identification configuration to
    `extends:`, or copy its machines into your own. Rules Gantry cannot express are listed on
    stderr with their line numbers and left out.
    """
    from gantry_redact.ctp import import_ctp_script, machines_yaml

    text = Path(script).read_text(encoding="utf-8", errors="replace")
    result = import_ctp_script(text)
    for problem in result.problems:
        click.echo(f"{script}: {problem}", err=True)
    document = machines_yaml(result, Path(script).name)
    if out is None:
        click.echo(document, nl=False)
    else:
        _write_atomically(Path(out), document)
        click.echo(f"{len(result.machines)} machines from {result.rules} rules written to {out}", err=True)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
