"""C-FIND at study level over 10,000 indexed studies: Gantry's SCP against Orthanc's.

    .venv/bin/python benchmarks/dimse_find.py [--studies 10000] [--repeats 3] [--queries 200]

Both archives hold the same ``--studies`` studies (one small instance each, 100 patients):
Gantry's index is filled directly through its storage backend, Orthanc's by uploading the
instances to its REST API (``POST /instances``; the upload is not timed). Then, in the same
run, each archive is asked, with two clients (Gantry's SCU in-process, and dcmtk's ``findscu``,
a separate program per query as users run it):

- *all studies*: ``PatientID=*`` with six return keys: every study answered; responses/s;
- *one patient*: ``PatientID=<one of 100>``: a hundredth of the studies, ``--queries`` times on one
  association (Gantry's SCU) or one findscu per query; queries/s.

Gantry answers from ``gantry listen --db sqlite:///...``; Orthanc 1.10 from its own index
(SQLite), started with TCP_NODELAY as peers.md advises. Medians of ``--repeats``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _results import machine, write_section

from gantry.testing.network import free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "bench-find"
GANTRY = str(Path(sys.executable).with_name("gantry"))
PATIENTS = 100
RETURN_KEYS = ("StudyInstanceUID", "StudyDate", "StudyDescription", "PatientName", "AccessionNumber",
               "ModalitiesInStudy")
CALLING = "FINDBENCH"


def study(number: int) -> dict[str, str]:
    from gantry.testing.datasets import make_uid

    uid = make_uid(9, number + 1)
    return {"PatientID": f"FP{number % PATIENTS:04d}", "PatientName": f"FIND^PATIENT{number % PATIENTS}",
            "StudyInstanceUID": uid, "StudyDate": f"20{10 + number % 15:02d}{1 + number % 12:02d}{1 + number % 28:02d}",
            "StudyDescription": f"Study {number}", "AccessionNumber": f"A{number:07d}", "Modality": "CT",
            "SeriesInstanceUID": f"{uid}.1", "SOPInstanceUID": f"{uid}.1.1",
            "SOPClassUID": "1.2.840.10008.5.1.4.1.1.7", "StudyTime": "120000", "PatientBirthDate": "19700101",
            "PatientSex": "O", "SeriesNumber": "1", "InstanceNumber": "1"}


def instance_bytes(attributes: dict[str, str]) -> bytes:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def fill_gantry(database: str, count: int) -> None:
    from gantry.kernel import Kernel
    from gantry.storage import IndexRecord

    backend = Kernel.from_config().open_storage(database)
    try:
        records = [IndexRecord(attributes=study(number), location=f"/absent/{number}.dcm", size=1000, mtime_ns=1,
                               transfer_syntax_uid="1.2.840.10008.1.2.1") for number in range(count)]
        for start in range(0, count, 5000):
            backend.index(records[start:start + 5000])
    finally:
        backend.close()


def fill_orthanc(orthanc: object, count: int) -> None:
    import http.client
    import threading

    local = threading.local()

    def upload(number: int) -> None:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", orthanc.http_port, timeout=60)  # type: ignore[attr-defined]
        local.connection.request("POST", "/instances", body=instance_bytes(study(number)))
        answer = local.connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"Orthanc refused instance {number}: HTTP {answer.status}")

    with ThreadPoolExecutor(4) as workers:
        list(workers.map(upload, range(count)))


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def gantry_client_all(kernel: object, url: str) -> tuple[float, int]:
    keys = {"PatientID": "*", **{key: "" for key in RETURN_KEYS}}
    with kernel.open_transport(url) as peer:  # type: ignore[attr-defined]
        started = time.perf_counter()
        count = sum(1 for _ in peer.find("study", keys))
        return time.perf_counter() - started, count


def gantry_client_patients(kernel: object, url: str, queries: int) -> tuple[float, int]:
    with kernel.open_transport(url) as peer:  # type: ignore[attr-defined]
        list(peer.find("study", {"PatientID": "FP0000", "StudyInstanceUID": ""}))  # the association
        started = time.perf_counter()
        answers = 0
        for number in range(queries):
            keys = {"PatientID": f"FP{number % PATIENTS:04d}", **{key: "" for key in RETURN_KEYS}}
            answers += sum(1 for _ in peer.find("study", keys))
        return time.perf_counter() - started, answers


def findscu(port: int, called: str, keys: dict[str, str]) -> tuple[float, int]:
    command = ["findscu", "-S", "-aet", CALLING, "-aec", called, "-k", "QueryRetrieveLevel=STUDY"]
    for keyword, value in keys.items():
        command += ["-k", f"{keyword}={value}"]
    command += ["127.0.0.1", str(port)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TCP_NODELAY": "1"})
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"findscu failed: {result.stderr[-1000:]}")
    # findscu prints each answer's identifier after a "# Dicom-Data-Set" line
    return seconds, result.stderr.count("# Dicom-Data-Set") + result.stdout.count("# Dicom-Data-Set")


def findscu_all(port: int, called: str) -> tuple[float, int]:
    return findscu(port, called, {"PatientID": "*", **{key: "" for key in RETURN_KEYS}})


def findscu_patients(port: int, called: str, queries: int) -> tuple[float, int]:
    total, answers = 0.0, 0
    for number in range(queries):
        seconds, count = findscu(port, called, {"PatientID": f"FP{number % PATIENTS:04d}",
                                               **{key: "" for key in RETURN_KEYS}})
        total, answers = total + seconds, answers + count
    return total, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    from gantry.kernel import Kernel
    from gantry.testing.orthanc import OrthancServer

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    database = f"sqlite:///{OUT / 'index.db'}"
    print(f"indexing {args.studies} studies in Gantry and uploading them to Orthanc ...", flush=True)
    fill_gantry(database, args.studies)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    listener = subprocess.Popen([GANTRY, "listen", f"dicom://GANTRY@127.0.0.1:{port}", "--db", database,
                                 "--store", str(OUT / "store")], stdout=subprocess.DEVNULL,
                                stderr=open(OUT / "listen.log", "wb"), env=env)  # noqa: SIM115
    orthanc = OrthancServer.start(extra={"LimitFindResults": 0, "LimitFindInstances": 0})
    try:
        orthanc.add_modality("bench", CALLING, free_port())
        started = time.perf_counter()
        fill_orthanc(orthanc, args.studies)
        print(f"  Orthanc upload: {args.studies / (time.perf_counter() - started):,.0f} instances/s", flush=True)
        wait_port(port)
        kernel = Kernel.from_config()
        targets = {"Gantry `listen`": (port, "GANTRY"), "Orthanc 1.10": (orthanc.dicom_port, "ORTHANC")}
        runs: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for repeat in range(args.repeats):
            for name, (target_port, called) in targets.items():
                url = f"dicom://{called}@127.0.0.1:{target_port}?calling={CALLING}"
                cases = {
                    ("all", "Gantry SCU"): lambda: gantry_client_all(kernel, url),
                    ("all", "findscu"): lambda: findscu_all(target_port, called),
                    ("patient", "Gantry SCU"): lambda: gantry_client_patients(kernel, url, args.queries),
                    ("patient", "findscu"): lambda: findscu_patients(target_port, called, max(20, args.queries // 10)),
                }
                for (case, client), run in cases.items():
                    seconds, answers = run()
                    runs.setdefault((name, f"{case}|{client}"), []).append((seconds, answers))
                    print(f"  [{repeat + 1}/{args.repeats}] {name} {case} ({client}): {answers:,} answers in "
                          f"{seconds:.2f} s", flush=True)
    finally:
        listener.terminate()
        listener.wait(20)
        orthanc.stop()
    lines = [f"## C-FIND over {args.studies:,} studies\n",
             f"`.venv/bin/python benchmarks/dimse_find.py {' '.join(sys.argv[1:])}` ({machine()}; median of "
             f"{args.repeats}; both archives hold the same studies, {PATIENTS} patients)\n",
             "| query | client | Gantry `listen` | Orthanc 1.10 | Gantry ÷ Orthanc |", "|---|---|---:|---:|---:|"]
    per_patient = args.studies // PATIENTS
    for case, what, unit in (("all", "all studies (`PatientID=*`), responses/s", "responses"),
                             ("patient", f"one patient ({per_patient} studies), queries/s", "queries")):
        for client in ("Gantry SCU", "findscu"):
            rates = {}
            for name in ("Gantry `listen`", "Orthanc 1.10"):
                measured = runs[(name, f"{case}|{client}")]
                seconds = statistics.median(m[0] for m in measured)
                answers = measured[0][1]
                count = answers if unit == "responses" else (args.queries if client == "Gantry SCU"
                                                             else max(20, args.queries // 10))
                rates[name] = count / seconds
            lines.append(f"| {what} | {client} | {rates['Gantry `listen`']:,.0f} | {rates['Orthanc 1.10']:,.0f} | "
                         f"{rates['Gantry `listen`'] / rates['Orthanc 1.10']:.1f}× |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("dimse-find", body)


if __name__ == "__main__":
    main()
