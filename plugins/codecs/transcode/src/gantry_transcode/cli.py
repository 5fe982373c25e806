"""``gantry transcode IN... OUT --to SYNTAX [--workers N]``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from gantry.cli import pass_kernel
from gantry.uids import SHORT_NAMES


def plan(inputs: tuple[str, ...], output: str) -> Iterator[tuple[Path, Path]]:
    """(source, destination) pairs: a folder's layout is kept below OUT."""
    out = Path(output)
    single_file = len(inputs) == 1 and Path(inputs[0]).is_file() and not out.is_dir() and not output.endswith(os.sep)
    if single_file:
        yield Path(inputs[0]), out
        return
    for given in map(Path, inputs):
        if given.is_dir():
            for folder, dirs, files in os.walk(given):
                dirs.sort()
                for name in sorted(files):
                    source = Path(folder) / name
                    yield source, out / given.name / source.relative_to(given)
        else:
            yield given, out / given.name


def _work(job: tuple[str, str, str, dict[str, Any], str | None]) -> dict[str, Any]:
    source, destination, to, option_values, config = job
    from gantry.pixels import EncodeOptions
    from gantry_transcode.transcode import transcode_file

    kernel = _worker_kernel(config)
    return transcode_file(kernel, source, destination, to, EncodeOptions(**option_values)).as_dict()


_KERNELS: dict[str | None, Any] = {}


def _worker_kernel(config: str | None) -> Any:
    from gantry import Kernel

    if config not in _KERNELS:  # one kernel per worker process, built on its first job
        _KERNELS[config] = Kernel.from_config(config)
    return _KERNELS[config]


@click.command("transcode")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.argument("output", type=click.Path())
@click.option("--to", "to", required=True, metavar="SYNTAX",
              help=f"Target transfer syntax: a UID or one of {', '.join(SHORT_NAMES)}.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Processes.")
@click.option("--quality", type=click.IntRange(1, 100), default=90, show_default=True, help="JPEG lossy quality.")
@click.option("--ratio", type=click.FloatRange(1, 1000), default=10.0, show_default=True,
              help="JPEG 2000 / HTJ2K lossy compression ratio.")
@click.option("--near", type=click.IntRange(1, 255), default=2, show_default=True,
              help="JPEG-LS near-lossless error bound.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, then a summary.")
@pass_kernel
def transcode_command(kernel: Any, inputs: tuple[str, ...], output: str, to: str, workers: int, quality: int,
                      ratio: float, near: int, as_json: bool) -> None:
    """Transcode files and folders IN... into OUT (a file for one input file, else a folder)."""
    from gantry.uids import transfer_syntax

    try:
        target = transfer_syntax(to)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--to") from None
    options = {"quality": quality, "ratio": ratio, "near": near}
    pairs = [(s, d) for s, d in plan(inputs, output)]
    candidates = [(s, d) for s, d in pairs if kernel.is_dicom(s)]
    skipped = [str(s) for s, _ in pairs if (s, _) not in candidates]
    jobs = [(str(s), str(d), target, options, kernel.config.source) for s, d in candidates]
    results: list[dict[str, Any]] = []
    if workers == 1:
        _KERNELS[kernel.config.source] = kernel
        results = [_work(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_work, jobs, chunksize=4))
    failed = [r for r in results if not r["ok"]]
    if as_json:
        for result in results:
            click.echo(json.dumps(result))
        click.echo(json.dumps({"transcoded": len(results) - len(failed), "failed": len(failed),
                               "skipped_non_dicom": skipped, "to_syntax": target}))
    else:
        for result in results:
            if not result["ok"]:
                click.echo(f"failed: {result['reason']}", err=True)
            elif result["lossy"]:
                click.echo(f"lossy: {result['destination']} is a new instance "
                           f"(SOP Instance UID {result['new_sop_instance_uid']})")
        click.echo(f"{len(results) - len(failed)} transcoded to {target}, {len(failed)} failed, "
                   f"{len(skipped)} non-DICOM skipped")
    if failed:
        sys.exit(1)
