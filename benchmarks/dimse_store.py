"""C-STORE speed over loopback: Gantry, dcmtk and pynetdicom's bundled apps, every pair.

    .venv/bin/python benchmarks/dimse_store.py [--small 1000] [--large 20] [--large-mb 50]
                                               [--repeats 3] [--associations 4] [--only small|large]

Each run starts a fresh receiver on a free port with an empty output folder, times the sending
program end to end (process start to exit, as a user runs it) and checks that every instance
arrived. Pairs take turns within each repeat and the median is reported (this machine's speed
drifts by a third between minutes).

- Gantry SCP: ``gantry listen --db sqlite:///... --store DIR --processes 2``: each instance is
  written and fsynced, indexed and audited *before* its success status; dcmtk's and
  pynetdicom's receivers write the file without fsync and index nothing, so Gantry is also run
  with ``[files] fsync = false`` ("no fsync") for a like-for-like figure.
- Gantry SCU: ``gantry send URL FOLDER``, on one association and on ``--associations``.
- dcmtk 3.6.7: ``storescu +sd +r`` and ``storescp --fork`` (without it storescp serves one
  association at a time), with ``TCP_NODELAY=1`` (peers.md).
- pynetdicom 3.0 apps: ``python -m pynetdicom storescu|storescp``, run through ``_nodelay.py``
  so that they too have TCP_NODELAY (as shipped they wait ~90 ms per small instance on Nagle's
  algorithm: that measures kernel timers, not pynetdicom).

Small: clones of pydicom's CT_small.dcm (39 kB, 128x128). Large: 16-bit multi-frame secondary
capture images of ``--large-mb`` MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _results import machine, write_section

from gantry.testing.network import free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
OUT = ROOT / "out" / "bench-dimse"
PYTHON = sys.executable
GANTRY = str(Path(PYTHON).with_name("gantry"))
ENV = {**os.environ, "TCP_NODELAY": "1"}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)  # programs start as a user's do: with bytecode caches
AE = "BENCH"
#: ``gantry listen --processes``: receiving scales past one interpreter lock (set by --processes).
PROCESSES = 2


# -- data ---------------------------------------------------------------------------------------


def small_folder(count: int) -> Path:
    sys.path.insert(0, str(BENCH))
    from ingest import generate

    return generate(count)


def large_folder(count: int, megabytes: int) -> Path:
    """``count`` multi-frame 16-bit secondary capture images of about ``megabytes`` MB each."""
    folder = OUT / f"large-{count}x{megabytes}"
    if folder.is_dir() and len(list(folder.glob("*.dcm"))) == count:
        return folder
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    from gantry.testing.datasets import make_uid

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rows = columns = 512
    frames = max(1, megabytes * 1024 * 1024 // (rows * columns * 2))
    pixels = np.random.default_rng(7).integers(0, 4096, size=(frames, rows, columns), dtype=np.uint16).tobytes()
    for number in range(count):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word SC
        meta.MediaStorageSOPInstanceUID = make_uid(8, 1, 1, number + 1)
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.PatientID, ds.PatientName, ds.Modality = "BENCHLARGE", "BENCH^LARGE", "OT"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = make_uid(8, 1), make_uid(8, 1, 1)
        ds.InstanceNumber = number + 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = pixels
        ds.save_as(folder / f"large{number:03d}.dcm", enforce_file_format=True)
    return folder


# -- receivers ----------------------------------------------------------------------------------


class Receiver:
    def __init__(self, kind: str, port: int, out: Path) -> None:
        self.kind, self.port, self.out = kind, port, out
        out.mkdir(parents=True)
        log = open(out.parent / f"{out.name}.log", "wb")  # noqa: SIM115 -- closed in stop()
        self.log = log
        store = out / "files"
        if kind.startswith("gantry"):
            config = out / "gantry.toml"
            # Like dcmtk's and pynetdicom's receivers, "gantry-nofsync" leaves flushing to the OS.
            config.write_text("[files]\nfsync = false\n" if kind == "gantry-nofsync" else "")
            command = [GANTRY, "--config", str(config), "listen", f"dicom://{AE}@127.0.0.1:{port}", "--db",
                       f"sqlite:///{out / 'index.db'}", "--store", str(store), "--processes", str(PROCESSES)]
        elif kind == "dcmtk":
            store.mkdir()
            # --fork: an association per child process, so that several at once are served.
            command = ["storescp", "--fork", "-aet", AE, "-od", str(store), str(port)]
        else:
            store.mkdir()
            command = [PYTHON, str(BENCH / "_nodelay.py"), "storescp", str(port), "-aet", AE, "-od", str(store)]
        self.store = store
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=ENV, cwd=out)
        self._wait_ready()

    def _wait_ready(self) -> None:
        import socket

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} receiver exited: {self.out.parent / (self.out.name + '.log')}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    time.sleep(0.2)  # the pynetdicom/gantry server thread is up once it accepts
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind} receiver did not start")

    def received(self) -> int:
        return sum(1 for path in self.store.rglob("*") if path.is_file() and not path.name.startswith("."))

    def cpu_seconds(self) -> float:
        """CPU of the receiver and its processes: live ones (``listen --processes`` workers) and
        ended ones it waited for (``storescp --fork`` children, in its cutime/cstime)."""
        return _tree_cpu(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _tree_cpu(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # ended meanwhile
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    return own + sum(_tree_cpu(int(child)) for child in children)


def sender_command(kind: str, port: int, folder: Path, associations: int) -> list[str]:
    if kind.startswith("gantry"):
        return [GANTRY, "send", f"dicom://{AE}@127.0.0.1:{port}?calling=GANTRY", str(folder),
                "--associations", str(associations)]
    if kind == "dcmtk":
        return ["storescu", "-aec", AE, "+sd", "+r", "127.0.0.1", str(port), str(folder)]
    return [PYTHON, str(BENCH / "_nodelay.py"), "storescu", "127.0.0.1", str(port), str(folder), "-r", "-aec", AE]


# -- one measurement ----------------------------------------------------------------------------


def measure(sender: str, receiver: str, folder: Path, count: int, associations: int, run: str) -> tuple[float, float]:
    """Seconds for ``sender`` to send ``folder`` to a fresh ``receiver``, and the receiver's CPU seconds."""
    port = free_port()
    out = OUT / "runs" / run
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    peer = Receiver(receiver, port, out)
    try:
        cpu_before = peer.cpu_seconds()
        started = time.perf_counter()
        result = subprocess.run(sender_command(sender, port, folder, associations), env=ENV,
                                capture_output=True, text=True)
        seconds = time.perf_counter() - started
        cpu = peer.cpu_seconds() - cpu_before
        from gantry.testing.network import wait_until

        wait_until(lambda: peer.received() >= count, 10)  # a receiver may write after answering
        got = peer.received()
        if result.returncode != 0 or got != count:
            raise RuntimeError(f"{sender} -> {receiver}: exit {result.returncode}, {got}/{count} received\n"
                               f"{result.stdout[-1500:]}\n{result.stderr[-1500:]}")
    finally:
        peer.stop()
        shutil.rmtree(out, ignore_errors=True)
    return seconds, cpu


# -- the table ----------------------------------------------------------------------------------

#: Runs that failed and were run again (reported under the tables).
REPEATED: list[str] = []

PAIRS = [
    ("gantry", "gantry"), ("gantry-1", "gantry"), ("gantry", "gantry-nofsync"), ("dcmtk", "dcmtk"),
    ("pynetdicom", "pynetdicom"), ("gantry", "dcmtk"), ("gantry-1", "dcmtk"), ("dcmtk", "gantry"),
    ("dcmtk", "gantry-nofsync"), ("gantry", "pynetdicom"), ("pynetdicom", "gantry"), ("dcmtk", "pynetdicom"),
    ("pynetdicom", "dcmtk"),
]


def run_table(name: str, folder: Path, count: int, megabytes_each: float, repeats: int, associations: int,
              pairs: list[tuple[str, str]], say: Callable[[str], None]) -> list[dict[str, object]]:
    times: dict[tuple[str, str], list[tuple[float, float]]] = {pair: [] for pair in pairs}
    for repeat in range(repeats):
        for sender, receiver in pairs:
            assoc = 1 if sender == "gantry-1" else associations
            try:
                seconds, cpu = measure(sender, receiver, folder, count, assoc, f"{name}-{sender}-{receiver}")
            except RuntimeError as err:  # once: pynetdicom's own apps sometimes lose an association
                first_line = str(err).splitlines()[0]
                say(f"  [{name} {repeat + 1}/{repeats}] {sender} -> {receiver}: FAILED ({first_line}); run again")
                REPEATED.append(f"{name} {sender} → {receiver}: {first_line}")
                seconds, cpu = measure(sender, receiver, folder, count, assoc, f"{name}-{sender}-{receiver}")
            times[(sender, receiver)].append((seconds, cpu))
            say(f"  [{name} {repeat + 1}/{repeats}] {sender} -> {receiver}: {count / seconds:,.0f} instances/s, "
                f"{count * megabytes_each / seconds:,.0f} MB/s")
    rows = []
    for (sender, receiver), runs in times.items():
        seconds = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        rows.append({"sender": sender, "receiver": receiver, "seconds": seconds, "per_second": count / seconds,
                     "mb_per_second": count * megabytes_each / seconds, "receiver_cpu": cpu})
    return rows


def label(kind: str, associations: int) -> str:
    return {"gantry": f"Gantry `send -j {associations}`", "gantry-1": "Gantry `send` (1 association)",
            "dcmtk": "dcmtk `storescu`", "pynetdicom": "pynetdicom `storescu`"}[kind]


def receiver_label(kind: str) -> str:
    return {"gantry": f"Gantry `listen --processes {PROCESSES}` (fsync + index)",
            "gantry-nofsync": f"Gantry `listen --processes {PROCESSES}` (index, no fsync)",
            "dcmtk": "dcmtk `storescp`", "pynetdicom": "pynetdicom `storescp`"}[kind]


def render(title: str, rows: list[dict[str, object]], associations: int, large: bool) -> str:
    lines = [f"**{title}**", "",
             "| sender → receiver | instances/s | MB/s | receiver CPU s (all its processes) |", "|---|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {label(str(row['sender']), associations)} → {receiver_label(str(row['receiver']))} | "
                     f"{row['per_second']:,.0f} | {row['mb_per_second']:,.0f} | {row['receiver_cpu']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    global PROCESSES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=20)
    parser.add_argument("--large-mb", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--associations", type=int, default=4)
    parser.add_argument("--processes", type=int, default=PROCESSES, help="gantry listen --processes")
    parser.add_argument("--only", choices=("small", "large"))
    parser.add_argument("--pairs", help="only these sender:receiver pairs, comma-separated (implies --no-write)")
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()
    chosen = PAIRS
    if args.pairs:
        chosen = [tuple(pair.split(":")) for pair in args.pairs.split(",")]
        unknown = [pair for pair in chosen if pair not in PAIRS]
        if unknown:
            parser.error(f"--pairs: unknown pair(s) {unknown}; known: {PAIRS}")
        args.no_write = True
    PROCESSES = args.processes
    say = lambda text: print(text, flush=True)  # noqa: E731
    sections = []
    command = " ".join(["benchmarks/dimse_store.py", *sys.argv[1:]])
    if args.only != "large":
        folder = small_folder(args.small)
        size_mb = sum(p.stat().st_size for p in folder.rglob("*.dcm")) / 1e6 / args.small
        rows = run_table("small", folder, args.small, size_mb, args.repeats, args.associations, chosen, say)
        sections.append(render(f"{args.small:,} small CT instances ({size_mb * 1000:.0f} kB each)", rows,
                               args.associations, False))
    if args.only != "small":
        folder = large_folder(args.large, args.large_mb)
        size_mb = sum(p.stat().st_size for p in folder.glob("*.dcm")) / 1e6 / args.large
        pairs = [pair for pair in chosen if pair[0] != "gantry-1"]
        rows = run_table("large", folder, args.large, size_mb, args.repeats, args.associations, pairs, say)
        sections.append(render(f"{args.large} instances of {size_mb:.0f} MB", rows, args.associations, True))
    if REPEATED:
        sections.append("Runs that failed once and were run again: " + "; ".join(REPEATED) + ".")
    body = "\n\n".join([f"## C-STORE over loopback\n\n`.venv/bin/python {command}` ({machine()}; "
                        f"end to end per sending program, median of {args.repeats}; every pair checked "
                        "to deliver every instance)", *sections])
    print(body)
    if not args.no_write:
        write_section("dimse-store", body)


if __name__ == "__main__":
    main()
