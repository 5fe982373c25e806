"""Peak memory of transcoding a 2 GB multi-frame file: Gantry's frame streaming against pydicom.

    .venv/bin/python benchmarks/transcode_memory.py [--frames 4000]

Builds a native (Explicit VR Little Endian) multi-frame file of 512 x 512 16-bit frames (4000
frames: 2.1 GB) in a temporary folder, streaming it to disk: pydicom writes the header, the Pixel
Data element is appended here frame by frame. Then each of these runs in a process of its own,
which reports its peak resident set (VmHWM), also read from the parent's ``wait4`` (ru_maxrss):

- Gantry: ``transcode_file(kernel, src, dst, "rle")``;
- Gantry's command: ``gantry transcode src dst --to rle``;
- pydicom's read-everything path: ``ds = dcmread(src); ds.compress(RLELossless); ds.save_as(dst)``.

Goal (issue): Gantry's peak RSS under 300 MB. The outputs are checked (frame count, first and last
frame decoded against the source) and everything is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _results import machine, write_section

GOAL_MB = 300.0
ROWS = COLUMNS = 512
BITS_STORED = 12
DISTINCT_FRAMES = 48  # the source cycles through these (generating 4000 would take longer than transcoding)
MB = 1e6
MIB = 1 << 20


# -- the source file ------------------------------------------------------------------------

def frame_pool(count: int, seed: int = 2026) -> list[bytes]:
    """``count`` CT-like 12-bit frames (a body ellipse with organs, noise, zero padding outside a
    circular field of view), as little-endian bytes."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-256:256, -256:256].astype(np.float32) + 0.5
    fov = x * x + y * y <= 250.0**2
    frames = []
    for z in range(count):
        t = z / max(count - 1, 1)
        image = np.full((ROWS, COLUMNS), 24.0, np.float32)
        body = (x / (200 - 12 * t)) ** 2 + (y / (150 - 6 * t)) ** 2 <= 1
        image[body] = 1064.0
        for cx, cy, a, b, value in ((-75, -5, 55, 85 - 15 * t, 200.0), (75, -5, 55, 85 - 15 * t, 200.0),
                                    (0, 105, 22, 20, 1900.0), (20, -30, 45 * (1 - t) + 5, 38 * (1 - t) + 5, 1080.0)):
            image[((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1] = value
        image += np.where(body, 12.0, 4.0) * rng.normal(0.0, 1.0, image.shape).astype(np.float32)
        image[~fov] = 0.0
        np.clip(np.rint(image), 0, (1 << BITS_STORED) - 1, out=image)
        frames.append(image.astype("<u2").tobytes())
    return frames


def write_source(path: Path, frames: int) -> int:
    """Write the header with pydicom, then the Pixel Data element frame by frame; its size."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    length = frames * ROWS * COLUMNS * 2
    if length >= 0xFFFFFFFF:  # a native element's 32-bit length (0xFFFFFFFF means undefined)
        raise SystemExit(f"{frames} frames need {length} bytes: more than a native Pixel Data element holds")
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word SC
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "Benchmark^Phantom", "BENCH", "CT"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLUMNS, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, BITS_STORED, BITS_STORED - 1
    pool = frame_pool(DISTINCT_FRAMES)
    with open(path, "wb") as out:
        pydicom.dcmwrite(out, ds, enforce_file_format=True)
        out.write(struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\x00\x00" + struct.pack("<I", length))
        for index in range(frames):
            out.write(pool[index % DISTINCT_FRAMES])
    return path.stat().st_size


def expected_frame(index: int) -> Any:
    import numpy as np

    return np.frombuffer(frame_pool(DISTINCT_FRAMES)[index % DISTINCT_FRAMES], "<u2").reshape(ROWS, COLUMNS)


# -- the measured processes -------------------------------------------------------------------

def vm_hwm_mib() -> float:
    """This process's peak resident set so far (VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(kind: str, source: str, destination: str) -> int:
    """Run one transcoding in this process; print what it measured as JSON."""
    report: dict[str, Any] = {}
    if kind == "gantry":
        from gantry import Kernel
        from gantry_transcode.transcode import transcode_file

        kernel = Kernel.from_config(env={})
        report["startup_mib"] = vm_hwm_mib()
        start = time.perf_counter()
        result = transcode_file(kernel, source, destination, "rle")
        report["seconds"] = time.perf_counter() - start
        report["ok"], report["reason"] = result.ok, result.reason
    else:
        import numpy  # noqa: F401  (pydicom's encoders need it: loaded before the start-up figure)
        from pydicom import dcmread
        from pydicom.uid import RLELossless

        report["startup_mib"] = vm_hwm_mib()
        start = time.perf_counter()
        ds = dcmread(source)
        read = time.perf_counter()
        report["after_read_mib"] = vm_hwm_mib()
        ds.compress(RLELossless)
        compressed = time.perf_counter()
        ds.save_as(destination)
        report["seconds"] = time.perf_counter() - start
        report["stages"] = {"dcmread": read - start, "compress": compressed - read,
                            "save_as": report["seconds"] - (compressed - start)}
        report["ok"], report["reason"] = True, ""
    report["peak_mib"] = vm_hwm_mib()
    print(json.dumps(report))
    return 0


def measure(argv: list[str], folder: Path) -> dict[str, Any]:
    """Run ``argv`` (cwd: ``folder``, no GANTRY_ variables); its wall time, its own ru_maxrss, and
    the JSON it printed, if any."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANTRY_")}
    out, err = folder / "child.out", folder / "child.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=folder, env=env, stdout=stdout, stderr=stderr)
        _pid, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited with {process.returncode}: {err.read_text()[-2000:]}")
    lines = out.read_text().strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"output": lines}
    report.update(wall=wall, ru_maxrss_mib=usage.ru_maxrss / 1024)  # Linux: kilobytes
    out.unlink()
    err.unlink()
    return report


def check_output(path: Path, frames: int) -> str:
    """The output is RLE Lossless with every frame, its first and last decoding to the source's."""
    import numpy as np
    from gantry import Kernel
    from gantry.frames import open_pixels
    from gantry.pixels import decode_frame
    from gantry.uids import RLE_LOSSLESS

    kernel = Kernel.from_config(env={})
    with open_pixels(kernel, path) as pixels:
        if pixels.info.transfer_syntax != RLE_LOSSLESS:
            raise AssertionError(f"{path.name}: transfer syntax {pixels.info.transfer_syntax}, not RLE Lossless")
        first = last = None
        count = 0
        for count, frame in enumerate(pixels.encoded_frames(), start=1):
            if count == 1:
                first = frame
            last = frame
        if count != frames:
            raise AssertionError(f"{path.name}: {count} frames, not {frames}")
        for index, frame in ((0, first), (frames - 1, last)):
            if not np.array_equal(decode_frame(kernel, frame, pixels.info), expected_frame(index)):
                raise AssertionError(f"{path.name}: frame {index + 1} differs from the source")
    return f"{path.stat().st_size / MB:.0f} MB"


# -- the report ---------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4000)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "SOURCE", "DESTINATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)

    size = 0
    python = sys.executable
    gantry = str(Path(python).with_name("gantry"))
    here = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory(prefix="gantry-bench-memory-") as name:
        folder = Path(name)
        needed = args.frames * ROWS * COLUMNS * 2 * 2 + (1 << 30)  # source, output and spool, 1 GiB spare
        free = shutil.disk_usage(folder).free
        if free < needed:
            raise SystemExit(f"{folder}: {free / 1e9:.1f} GB free, {needed / 1e9:.1f} GB needed")
        source = folder / "source.dcm"
        start = time.perf_counter()
        size = write_source(source, args.frames)
        written = time.perf_counter() - start
        print(f"source: {size / 1e9:.2f} GB in {written:.0f} s", file=sys.stderr)
        runs: list[tuple[str, dict[str, Any]]] = []
        gantry_out, pydicom_out = folder / "gantry.dcm", folder / "pydicom.dcm"
        for label, argv, output in (
            ('Gantry `transcode_file(kernel, src, dst, "rle")`',
             [python, here, "--child", "gantry", str(source), str(gantry_out)], gantry_out),
            ("`gantry transcode src dst --to rle`",
             [gantry, "transcode", str(source), str(gantry_out), "--to", "rle"], gantry_out),
            ("pydicom `dcmread`, `compress(RLELossless)`, `save_as`",
             [python, here, "--child", "pydicom", str(source), str(pydicom_out)], pydicom_out),
        ):
            report = measure(argv, folder)
            if not report.get("ok", True):
                raise RuntimeError(f"{label} failed: {report.get('reason')}")
            report["output"] = check_output(output, args.frames)
            output.unlink()
            runs.append((label, report))
            print(f"{label}: peak {report.get('peak_mib', report['ru_maxrss_mib']):.0f} MiB, "
                  f"{report['wall']:.0f} s", file=sys.stderr)

    rows = ["| path | peak RSS (VmHWM) | of which start-up | peak RSS (`wait4` ru_maxrss) | transcoding | "
            "process wall time | source MB/s | RLE output |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, report in runs:
        peak = f"{report['peak_mib']:.0f} MiB" if "peak_mib" in report else "-"
        startup = f"{report['startup_mib']:.0f} MiB" if "startup_mib" in report else "-"
        seconds = report.get("seconds")
        rows.append(f"| {label} | {peak} | {startup} | {report['ru_maxrss_mib']:.0f} MiB "
                    f"| {f'{seconds:.1f} s' if seconds else '-'} | {report['wall']:.1f} s "
                    f"| {size / MB / (seconds or report['wall']):.0f} | {report['output']} |")
    gantry_peak = max(report["ru_maxrss_mib"] for label, report in runs[:2])
    pydicom_report = runs[2][1]
    stages = pydicom_report["stages"]
    verdict = "meets" if gantry_peak * MIB / MB < GOAL_MB else "misses"
    body = "\n".join([
        "## Transcoding a 2 GB multi-frame file: peak memory",
        "",
        f"Command: `.venv/bin/python benchmarks/transcode_memory.py --frames {args.frames}` "
        f"({time.strftime('%Y-%m-%d')}, {machine()}).",
        "",
        f"Source: native Explicit VR Little Endian, {args.frames} frames of {ROWS} x {COLUMNS} x 16 bits (Bits "
        f"Stored {BITS_STORED}), {size / 1e9:.2f} GB, CT-like content ({DISTINCT_FRAMES} distinct phantom frames "
        "in turn), written by streaming (pydicom writes the header, the Pixel Data element is appended "
        "frame by frame). Target: RLE Lossless. Each path runs in a fresh process; peak RSS is the process's "
        "own VmHWM (reported by it at the end) and its ru_maxrss from the parent's `wait4`; start-up is "
        "VmHWM after imports (and building the kernel), before the file is opened. The source stays in the "
        "page cache (not counted in RSS). Outputs checked: RLE Lossless, every frame, first and last "
        "decoded equal to the source.",
        "",
        *rows,
        "",
        f"pydicom's path, by stage: `dcmread` {stages['dcmread']:.1f} s (VmHWM "
        f"{pydicom_report['after_read_mib']:.0f} MiB after it), `compress` {stages['compress']:.1f} s, "
        f"`save_as` {stages['save_as']:.1f} s.",
        "",
        f"Gantry's peak RSS is {gantry_peak:.0f} MiB ({gantry_peak * MIB / MB:.0f} MB): {verdict} the goal of "
        f"under {GOAL_MB:.0f} MB; pydicom's read-everything path peaks at "
        f"{pydicom_report['peak_mib'] / 1024:.2f} GiB.",
    ])
    write_section("transcode-memory", body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
