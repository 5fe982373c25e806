"""``gantry phi-audit PATH... [--json]``: audit every DICOM file under the paths.

Prints findings grouped by rule and tag with their counts (never a value). Exit status 1 when
there is any finding, or a DICOM file that could not be read (an unread file is unverified);
0 when every file is clean. Files that are not DICOM are skipped and counted.

``--json`` prints JSON lines: one object per finding (``"type": "finding"``), then one summary
object (``"type": "summary"``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from gantry.cli import pass_kernel
from gantry_phi_audit.context import SECTION
from gantry_phi_audit.rules import RULES


def iter_files(paths: tuple[str, ...]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(folder) / name
        else:
            yield path


@click.command("phi-audit", epilog="Rules: " + "; ".join(
    f"{name}{'' if rule.on_by_default else ' (off by default)'}: {rule.catches}" for name, rule in RULES.items()))
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="JSON lines: one per finding, then a summary.")
@click.option("--rule", "rules", multiple=True, type=click.Choice(sorted(RULES)),
              help="Run only this rule (repeatable); default: the configured rules.")
@pass_kernel
def phi_audit_command(kernel: Any, paths: tuple[str, ...], as_json: bool, rules: tuple[str, ...]) -> None:
    """Audit DICOM headers under PATHS for values that look like identifiers."""
    from gantry import NotDicomError, ReaderError
    from gantry_phi_audit.audit import audit_dataset
    from gantry_phi_audit.context import AuditContext
    from gantry_phi_audit.settings import AuditSettings

    context = AuditContext(settings=AuditSettings.from_mapping(kernel.settings(SECTION)))
    by_place: Counter[tuple[str, str]] = Counter()
    files_with_findings: set[str] = set()
    audited, not_dicom, unreadable = 0, 0, []
    for path in iter_files(paths):
        if not path.is_file():
            continue  # FIFOs, sockets, devices: nothing to audit, and opening one may block
        try:
            dataset = kernel.read(path)
        except NotDicomError:
            not_dicom += 1
            continue
        except ReaderError as err:
            unreadable.append({"path": str(path), "reason": str(err)})
            continue
        audited += 1
        for finding in audit_dataset(dataset, rules=rules or None, context=context):
            by_place[(finding.rule, finding.tag)] += 1
            files_with_findings.add(str(path))
            if as_json:
                click.echo(json.dumps({"type": "finding", "path": str(path),
                                       "sop_instance_uid": finding.sop_instance_uid,
                                       "rule": finding.rule, "tag": finding.tag, "note": finding.note}))
    by_rule: Counter[str] = Counter()
    for (rule, _), count in by_place.items():
        by_rule[rule] += count
    summary = {"type": "summary", "files_audited": audited, "files_with_findings": len(files_with_findings),
               "findings": sum(by_place.values()), "by_rule": dict(sorted(by_rule.items())),
               "not_dicom": not_dicom, "unreadable": unreadable}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        _print_report(by_place, summary)
    if by_place or unreadable:
        raise SystemExit(1)


def _print_report(by_place: Counter[tuple[str, str]], summary: dict[str, Any]) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    if by_place:
        table = Table(title="Findings by rule and tag", title_justify="left")
        for column in ("rule", "tag", "count"):
            table.add_column(column, overflow="fold")
        for (rule, tag), count in sorted(by_place.items()):
            table.add_row(rule, tag, str(count))
        console.print(table)
    console.print(f"{summary['files_audited']} DICOM file(s) audited, {summary['files_with_findings']} "
                  f"with findings, {summary['findings']} finding(s); {summary['not_dicom']} non-DICOM "
                  f"file(s) skipped; {len(summary['unreadable'])} unreadable")
    for rule, count in summary["by_rule"].items():
        console.print(f"  {rule}: {count}")
    for row in summary["unreadable"]:
        console.print(f"unreadable {row['reason']}")
