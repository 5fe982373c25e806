"""Files per second: the part10 fast header scan against pydicom, in one process.

    .venv/bin/python plugins/readers/part10/benchmarks/bench_header_scan.py [--files 2000] [--rounds 3] [--implicit]

Writes ``--files`` small CT images (``gantry.testing.datasets``, 16x16 pixels, explicit VR little
endian, or implicit with ``--implicit``) to a temporary folder, reads each once to warm the page cache, then times one loop over
all files per contender and round; the best round counts. Contenders:

- ``header_scan.scan(path, SCAN_KEYWORDS)``;
- ``Kernel.scan`` (the same plus the kernel's sniff and dispatch);
- ``pydicom.dcmread(path, stop_before_pixels=True)`` and then ``text_values`` (the reference);
- ``pydicom.dcmread(path, stop_before_pixels=True)`` alone;
- ``pydicom.dcmread(path, specific_tags=[the scanned tags])`` alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_files(folder: Path, count: int, syntax: str) -> list[str]:
    from gantry.testing.datasets import make_dataset, write_dataset

    paths = []
    for number in range(count):
        dataset = make_dataset(instance=number + 1, series=1 + number // 500)
        paths.append(write_dataset(dataset, folder / f"ct{number:05}.dcm", transfer_syntax=syntax))
    return paths


def files_per_second(paths: list[str], read: Callable[[str], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for path in paths:
            read(path)
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--implicit", action="store_true", help="write Implicit VR Little Endian files")
    options = parser.parse_args()

    import pydicom
    from pydicom.datadict import tag_for_keyword
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    import gantry_part10.plugin as part10_plugin
    from gantry.header import text_values
    from gantry.storage import SCAN_KEYWORDS
    from gantry.testing import kernel_with
    from gantry_part10.header_scan import scan

    warnings.simplefilter("ignore")
    kernel = kernel_with({"part10": part10_plugin})
    tags = [tag_for_keyword(keyword) for keyword in SCAN_KEYWORDS]
    contenders: dict[str, Callable[[str], Any]] = {
        "header_scan.scan": lambda path: scan(path, SCAN_KEYWORDS),
        "Kernel.scan": lambda path: kernel.scan(path, SCAN_KEYWORDS),
        "dcmread(stop_before_pixels) + text_values": lambda path: text_values(
            pydicom.dcmread(path, stop_before_pixels=True), SCAN_KEYWORDS),
        "dcmread(stop_before_pixels)": lambda path: pydicom.dcmread(path, stop_before_pixels=True),
        "dcmread(specific_tags)": lambda path: pydicom.dcmread(path, specific_tags=tags),
    }
    with tempfile.TemporaryDirectory() as folder:
        syntax = ImplicitVRLittleEndian if options.implicit else ExplicitVRLittleEndian
        paths = write_files(Path(folder), options.files, syntax)
        size = Path(paths[0]).stat().st_size
        for path in paths:  # warm the page cache, and check the scan agrees with the reference
            assert scan(path, SCAN_KEYWORDS) == text_values(
                pydicom.dcmread(path, stop_before_pixels=True), SCAN_KEYWORDS)
        results = {name: files_per_second(paths, read, options.rounds) for name, read in contenders.items()}
    scan_rate = results["header_scan.scan"]
    encoding = "implicit" if options.implicit else "explicit"
    print(f"{options.files} CT files ({encoding} VR) of {size} bytes, best of {options.rounds} rounds")
    print(f"{'reader':45} {'files/s':>10} {'scan is x faster':>17}")
    for name, rate in results.items():
        print(f"{name:45} {rate:10.0f} {scan_rate / rate:17.1f}")


if __name__ == "__main__":
    main()
