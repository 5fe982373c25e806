"""``gantry deid IN... OUT``: de-identify files, folders or a selection from the index.

Exit status: 0 the grade is PASS, 3 REVIEW (everything written and verified, but findings or
flags need a person), 1 FAIL (instances lost or unverified) or any error before the run.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from gantry.cli import ProgressBar, pass_kernel
from gantry.deid import OPTIONS

EXIT_STATUS = {"PASS": 0, "REVIEW": 3, "FAIL": 1}


@click.command("deid")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--profile", "profile", metavar="NAME", default=None,
              help="A preset (basic, research, longitudinal-uids) or a profile name. Default: basic.")
@click.option("--option", "options", multiple=True, type=click.Choice(list(OPTIONS)),
              help="A PS3.15 profile option, on top of the profile's. Repeatable.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="A de-identification YAML file (extends:, options, overrides, dates, uids ...).")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Processes (default: one per CPU).")
@click.option("--db", "database", metavar="URL", default=None,
              help="Storage URL for the UID map, date shifts, audit and resume (default: storage.database).")
@click.option("--index", "from_index", is_flag=True,
              help="De-identify instances selected from the index with -k instead of PATHS.")
@click.option("-k", "--key", "keys", multiple=True, metavar="KEYWORD=VALUE",
              help="With --index: DICOM matching on the index (repeatable).")
@click.option("--pseudonym", is_flag=True,
              help="Encrypt the original values into the Encrypted Attributes Sequence (reversible "
                   "with gantry deid-recover and the site key; needs gantry-pseudonym).")
@click.option("--write-flagged", is_flag=True,
              help="Write instances the re-scan found something in or an action flagged (still graded REVIEW).")
@click.option("--report", "report_base", type=click.Path(), default=None,
              help="Where the report goes, without suffix (default: OUT-report, beside OUT).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: on a terminal).")
@pass_kernel
def deid_command(kernel: Any, paths: tuple[str, ...], profile: str | None, options: tuple[str, ...],
                 config_file: str | None, workers: int | None, database: str | None, from_index: bool,
                 keys: tuple[str, ...], pseudonym: bool, write_flagged: bool, report_base: str | None, as_json: bool,
                 progress: bool | None) -> None:
    """De-identify PATHS (files and folders) into the folder OUT (the last argument).

    With no profile or configuration named, the Basic Application Confidentiality Profile with
    no option applies. Output files are named by their new UIDs; originals are never modified.
    """
    from gantry.session import Session
    from gantry.session_cli import parse_keys

    from gantry_deid.config_file import DeidConfig, load_config, preset_names
    from gantry_deid.report import summary_line
    from gantry_deid.runner import DeidRun
    from gantry_deid.secret import load_or_create_secret

    if not paths:
        raise click.UsageError("give the output folder (and the inputs, unless --index)")
    *inputs, output = paths
    if from_index == bool(inputs):
        raise click.UsageError("give input PATHS, or --index with -k selections, not both or neither")
    if profile and config_file:
        raise click.UsageError("--profile and --config both name the configuration: give one")
    reference = config_file or (profile if profile in preset_names() else None)
    config = load_config(reference)
    if profile and reference is None:
        config = DeidConfig(sources=(f"profile {profile}",), profile=profile)
    config = config.with_options(options)
    if pseudonym:
        import attrs

        config = attrs.evolve(config, pseudonym=True)
    settings = kernel.settings("deid")
    secret = load_or_create_secret(settings.get("secret_file") or None)

    with Session(database, kernel=kernel) as session:
        if from_index:
            rows = session.query("instance", parse_keys(keys), fields=("location",))
            inputs = [row["location"] for row in rows]
            if not inputs:
                raise click.UsageError("the index selection matches no instance")
        shown = sys.stderr.isatty() if progress is None else progress
        with ProgressBar("deid", shown) as advance:
            run = DeidRun(kernel, session.backend, config, output=output, secret=secret,
                          database=session.database, workers=workers, write_flagged=write_flagged,
                          progress=advance)
            report = run.run(inputs)
    base = report_base or os.path.abspath(output).rstrip(os.sep) + "-report"
    json_path, markdown_path = report.write(base)
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        click.echo(summary_line(report))
        click.echo(f"report: {markdown_path} and {json_path}")
    sys.exit(EXIT_STATUS[report.grade])
