"""Start-up cost of the gantry command, against a bare interpreter start in the same run.

    .venv/bin/python benchmarks/startup.py [--runs 40]

Measures, interleaved so that machine noise hits every command alike, the wall time of:
``python -c pass`` (the peer), ``python -c "import gantry"``, ``gantry plugins --json`` (discovery
of every installed first-party plugin, the number the goal is about) and ``gantry --help``.
Goal (issue 2): ``gantry plugins --json`` under 150 ms above the bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import machine, write_section

GOAL_MS = 150.0


def commands(python: str) -> dict[str, list[str]]:
    gantry = str(Path(python).with_name("gantry"))
    return {
        "python -c pass (peer)": [python, "-c", "pass"],
        'python -c "import gantry"': [python, "-c", "import gantry"],
        "gantry plugins --json": [gantry, "plugins", "--json"],
        "gantry --help": [gantry, "--help"],
    }


def measure(runs: int) -> dict[str, list[float]]:
    # As an installed tool runs: bytecode caches written on the warm-up run and used after it
    # (a shell with PYTHONDONTWRITEBYTECODE=1 would make every run compile every module).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GANTRY_") and k != "PYTHONDONTWRITEBYTECODE"}
    todo = commands(sys.executable)
    times: dict[str, list[float]] = {name: [] for name in todo}
    with tempfile.TemporaryDirectory() as folder:  # no gantry.toml around
        for name, argv in todo.items():  # warm the OS cache and the entry-point cache
            subprocess.run(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True)
        for _ in range(runs):
            for name, argv in todo.items():
                start = time.perf_counter()
                subprocess.run(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True)
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    times = measure(args.runs)
    bare = statistics.median(times["python -c pass (peer)"])
    rows = ["| command | median ms | p90 ms | min ms | above bare interpreter (median) |", "|---|---:|---:|---:|---:|"]
    for name, values in times.items():
        values = sorted(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        median = statistics.median(values)
        rows.append(f"| `{name}` | {median:.1f} | {p90:.1f} | {values[0]:.1f} | {median - bare:+.1f} |")
    overhead = statistics.median(times["gantry plugins --json"]) - bare
    verdict = "meets" if overhead < GOAL_MS else "misses"
    body = "\n".join([
        "## Start-up: `gantry plugins --json` against a bare interpreter",
        "",
        f"Command: `.venv/bin/python benchmarks/startup.py --runs {args.runs}` "
        f"({time.strftime('%Y-%m-%d')}, {machine()}; every first-party plugin installed).",
        "",
        *rows,
        "",
        f"`gantry plugins --json` costs {overhead:.0f} ms above `python -c pass`: {verdict} the goal of "
        f"under {GOAL_MS:.0f} ms.",
    ])
    write_section("startup", body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
