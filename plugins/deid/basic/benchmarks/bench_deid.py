"""De-identify clones of pydicom's CT_small.dcm, file to file, in one process; report files/s.

    .venv/bin/python plugins/deid/basic/benchmarks/bench_deid.py [--files 2000] [--rounds 3]
        [--option retain-uids ...] [--originals] [--profile] [--real-providers] [--work /dev/shm]

Each clone gets its own SOP/Series/Study Instance UIDs and patient name, so U maps new UIDs for
every file. Each round writes into a new, empty output folder. ``U`` and ``shift`` come from the test doubles of gantry-deid's tests (as small as a
real provider can be) unless ``--real-providers`` is given and gantry-uidmap / gantry-dateshift
are installed. Every timed step is what ``deidentify_file`` does: ``kernel.read`` (part10, with
its completeness walk), de-identify, encode, write a temporary file, fsync, rename.

``--profile`` prints the cProfile table of one round (sorted by own time, then cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def load_stand_ins():
    spec = importlib.util.spec_from_file_location("gantry_deid_test_doubles",
                                                  HERE.parents[1] / "tests" / "deid_stand_ins.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gantry_deid_test_doubles"] = module
    spec.loader.exec_module(module)
    return module


def make_clones(folder: Path, count: int) -> list[Path]:
    import pydicom
    from pydicom.data import get_testdata_file

    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    paths = []
    for number in range(count):
        template.SOPInstanceUID = f"1.2.826.0.1.3680043.10.1432.77.{number}"
        template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
        template.SeriesInstanceUID = f"1.2.826.0.1.3680043.10.1432.78.{number // 50}"
        template.StudyInstanceUID = f"1.2.826.0.1.3680043.10.1432.79.{number // 200}"
        template.PatientName = f"CLONE^PATIENT{number // 200}"
        path = folder / f"ct{number:05d}.dcm"
        template.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--option", action="append", default=[])
    parser.add_argument("--originals", action="store_true",
                        help="fill context.originals (off unless encrypt-originals runs)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--real-providers", action="store_true")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the clones and outputs (default: a temporary folder; try /dev/shm "
                             "to take the disk out of the measurement)")
    args = parser.parse_args(argv)

    import gantry_deid.plugin as deid_plugin
    import gantry_part10.plugin as part10_plugin
    from gantry.testing import kernel_with
    from gantry_deid import compile_plan, deidentify_file, make_context

    plugins = {"part10": part10_plugin, "deid": deid_plugin}
    if args.real_providers:
        kernel = kernel_with(discover=True)
    else:
        plugins["stand-ins"] = load_stand_ins().StandIns()
        kernel = kernel_with(plugins)
    plan = compile_plan(kernel, options=args.option, keep_originals=True if args.originals else None)
    providers = {code: action.provider for code, action in sorted(plan.actions.items())}
    work = Path(tempfile.mkdtemp(prefix="gantry-deid-bench-", dir=args.work))
    try:
        sources = make_clones(work / "in", args.files) if (work / "in").mkdir() is None else []
        secret = b"benchmark secret"
        rounds = iter(range(1_000_000))
        out = work / "out"

        def fresh_output() -> Path:
            # Every round writes into a new, empty folder, as a de-identification run does
            # (replacing existing files costs the file system more: the old blocks are freed).
            nonlocal out
            shutil.rmtree(out, ignore_errors=True)
            out = work / f"out-{next(rounds)}"
            out.mkdir()
            return out

        def run() -> float:
            fresh_output()
            start = time.perf_counter()
            for path in sources:
                deidentify_file(kernel, plan, path, out / path.name,
                                lambda ds: make_context(ds, secret=secret, plan=plan))
            return time.perf_counter() - start

        run()  # warm-up: imports, plan caches, page cache
        rates = [len(sources) / run() for _ in range(args.rounds)]
        print(f"providers: {providers}")
        print(f"options: {sorted(plan.options) or 'none'}; originals kept: {plan.keep_originals}")
        print(f"{len(sources)} files x {args.rounds} rounds, one process: "
              f"best {max(rates):.0f} files/s, median {sorted(rates)[len(rates) // 2]:.0f} files/s")
        # Where the time goes, stage by stage, for one more round (same steps as deidentify_file).
        from gantry_deid import deidentify_dataset, encode_part10
        from gantry_deid.files import write_atomically

        stages = dict.fromkeys(("read", "context", "de-identify", "encode", "write+fsync+rename"), 0.0)
        fresh_output()
        for path in sources:
            t0 = time.perf_counter()
            dataset = kernel.read(path)
            t1 = time.perf_counter()
            context = make_context(dataset, secret=secret, plan=plan)
            t2 = time.perf_counter()
            result = deidentify_dataset(dataset, plan, context)
            t3 = time.perf_counter()
            data = encode_part10(result)
            t4 = time.perf_counter()
            write_atomically(out / path.name, data)
            t5 = time.perf_counter()
            for name, spent in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                stages[name] += spent
        total = sum(stages.values())
        print("per file: " + ", ".join(f"{name} {spent / len(sources) * 1e6:.0f} us" for name, spent in stages.items())
              + f" (total {total / len(sources) * 1e6:.0f} us = {len(sources) / total:.0f} files/s)")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run()
            profiler.disable()
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).strip_dirs()
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(30)
            print(text.getvalue())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
