"""``gantry commit URL PATH... | --index -k KEY=VALUE``: ask a node to commit to keep instances.

The references (SOP Class and Instance UIDs) come from the files' headers, or from the site's
index. The report is awaited on the request's association and, with ``--listen`` (or
``[commitment] listen``), on a listener we run meanwhile for a report sent on a new association;
the request then goes out from the listener's AE title (unless the URL says ``calling=``), which
is whom the node reports to. Prints one line per instance not committed (or, with ``--json``,
one JSON object per instance) and a summary. Exit status: 0 every instance committed; 1 some
were not, a file could not be read, no report came within ``--timeout``, or the node failed or
could not be reached; 2 bad usage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from gantry import GantryError, NotDicomError
from gantry.cli import pass_kernel
from gantry.session_cli import parse_keys

from gantry_commitment.settings import CommitmentSettings

#: How long the --listen listener waits at the end for the node to release its association.
LINGER_SECONDS = 5.0


@click.command("commit")
@click.argument("url")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--index", "from_index", is_flag=True,
              help="Take the instances from the site's index (those matching -k), not from files.")
@click.option("-k", "--key", "keys", multiple=True, metavar="KEYWORD=VALUE",
              help="With --index: a key the instances must match, e.g. StudyInstanceUID=1.2.3 (repeatable).")
@click.option("--db", "database", metavar="URL", default=None,
              help="The index (default: storage.database in the configuration).")
@click.option("--listen", metavar="URL", default=None,
              help="Receive a report sent on a new association as dicom://OURAE@host:port "
                   "(default: commitment.listen in the configuration; empty: do not listen).")
@click.option("--release", is_flag=True,
              help="Release the association right after the request (the report must then come to --listen).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
              help="Seconds to wait for the report (default: commitment.timeout, 30).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per instance, then a summary object.")
@pass_kernel
@click.pass_context
def commit_command(ctx: click.Context, kernel: Any, url: str, paths: tuple[str, ...], from_index: bool,
                   keys: tuple[str, ...], database: str | None, listen: str | None, release: bool,
                   timeout: float | None, as_json: bool) -> None:
    """Ask URL (dicom://CALLED@host:port or a configured node) to commit to keep the instances in
    PATHS (files and folders), or with --index those of the site's index matching -k."""
    if bool(paths) == from_index:
        raise click.UsageError("give either PATH... or --index (with -k KEY=VALUE)")
    if keys and not from_index:
        raise click.UsageError("-k selects from the index: use it with --index")
    settings = CommitmentSettings.of(kernel)
    listen = settings.listen if listen is None else listen
    if database:  # the listener audits reports into the same index
        import attrs

        kernel.config = attrs.evolve(kernel.config, storage=attrs.evolve(kernel.config.storage, database=database))
    unreadable: list[tuple[str, str]] = []
    result, error = None, ""
    try:
        if from_index:
            references = _from_index(kernel, parse_keys(keys))
        else:
            references = _from_files(kernel, paths, unreadable)
        if not references:
            raise GantryError("no instances to commit" + (" (none readable)" if unreadable else ""))
        with _listener(kernel, listen) as calling:
            from gantry_commitment.scu import request_commitment

            with kernel.open_transport(_target(url, calling)) as peer:
                result = request_commitment(peer, references, timeout=timeout or settings.timeout, release=release)
    except GantryError as err:
        error = str(err)
    _show(result, unreadable, as_json)
    committed, failed = (len(result.committed), len(result.failed)) if result else (0, 0)
    ok = not error and not unreadable and result is not None and result.ok
    summary = {"url": url, "transaction_uid": result.transaction_uid if result else None, "committed": committed,
               "failed": failed, "unreadable": len(unreadable), "ok": ok, "error": error or None}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        if error:
            click.echo(f"gantry commit: {error}", err=True)
        click.echo(f"committed {committed}, failed {failed}"
                   + (f", unreadable {len(unreadable)}" if unreadable else "")
                   + (f" (transaction {result.transaction_uid})" if result else ""))
    if not ok:
        ctx.exit(1)


def _from_index(kernel: Any, filters: dict[str, str]) -> list[tuple[str, str]]:
    backend = kernel.open_storage(kernel.config.storage.database)
    try:
        rows = backend.query("instance", filters, fields=["SOPClassUID"])
    finally:
        backend.close()
    return [(str(row["SOPClassUID"]), str(row["SOPInstanceUID"])) for row in rows]


def _from_files(kernel: Any, paths: tuple[str, ...], unreadable: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from gantry.ingest import walk

    rejected: list[Any] = []
    references = []
    for path, _size, _mtime in walk(paths, rejected):
        try:
            header = kernel.scan(path, ("SOPClassUID", "SOPInstanceUID"))
        except NotDicomError:
            unreadable.append((path, "not a DICOM file"))
            continue
        except Exception as err:  # one unreadable file never ends the request
            unreadable.append((path, f"unreadable: {err}"))
            continue
        if not header.get("SOPClassUID") or not header.get("SOPInstanceUID"):
            unreadable.append((path, "no SOP Class UID or SOP Instance UID"))
            continue
        references.append((header["SOPClassUID"], header["SOPInstanceUID"]))
    unreadable.extend((rejection.path, rejection.reason) for rejection in rejected)
    return references


@contextmanager
def _listener(kernel: Any, url: str) -> Iterator[str | None]:
    """Run a listener answering only Storage Commitment reports while the request waits; yields its AE title."""
    if not url:
        yield None
        return
    from gantry_commitment.scp import commitment_scp
    from gantry_dimse.listener import Listener
    from gantry_dimse.settings import DimseSettings
    from gantry_dimse.urls import parse_dicom_url

    address = parse_dicom_url(url if "://" in url else f"dicom://{url}", DimseSettings())
    if address.secure:
        raise GantryError("--listen takes a dicom:// address (a TLS listener: use gantry listen)")
    with Listener(kernel, address.called_ae, address.host, address.port, roles=[commitment_scp(kernel)]) as listener:
        yield listener.ae_title
        # Let the node hear our answer to its report and release, rather than abort it.
        deadline = time.monotonic() + LINGER_SECONDS
        while listener.open_associations() and time.monotonic() < deadline:
            time.sleep(0.02)


def _target(url: str, calling: str | None) -> str:
    target = url if "://" in url else f"dicom://{url}"
    if calling is None or "calling=" in target:
        return target
    from urllib.parse import quote

    return f"{target}{'&' if '?' in target else '?'}calling={quote(calling)}"


def _show(result: Any, unreadable: list[tuple[str, str]], as_json: bool) -> None:
    for path, reason in unreadable:
        click.echo(json.dumps({"source": path, "ok": False, "reason": reason}) if as_json
                   else f"unreadable {path}: {reason}")
    if result is None:
        return
    if as_json:
        for class_uid, instance_uid in result.committed:
            click.echo(json.dumps({"sop_instance_uid": instance_uid, "sop_class_uid": class_uid, "ok": True}))
    for failure in result.failed:
        if as_json:
            click.echo(json.dumps({"sop_instance_uid": failure.sop_instance_uid, "sop_class_uid": failure.sop_class_uid,
                                   "ok": False, "failure_reason": failure.reason, "reason": failure.reason_text}))
        else:
            click.echo(f"failed {failure.sop_instance_uid} (0x{failure.reason:04X}): {failure.reason_text}")
