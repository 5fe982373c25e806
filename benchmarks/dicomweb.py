"""DICOMweb speed: `gantry serve` against Orthanc's DICOMweb plugin over the same instances.

    .venv/bin/python benchmarks/dicomweb.py [--files 5000] [--requests 500] [--repeats 3]

Both servers hold the same ``--files`` small CT instances (clones of pydicom's CT_small.dcm from
``benchmarks/ingest.py``'s generator: 20 patients, 50 instances per study in 2 series): Gantry's
by ``Session.ingest`` into SQLite (files served where they lie), Orthanc 1.10's by uploading them
to its REST API (not timed). Then, in the same run, one kept-alive HTTP connection per server
(httpx), the servers taking turns, median of ``--repeats``:

- QIDO-RS: ``GET /dicom-web/studies?PatientID=<one of 20>``, ``--requests`` times: requests/s;
- WADO-RS single instances: ``GET .../studies/S/series/SE/instances/I`` with ``Accept:
  multipart/related; type="application/dicom"``, ``--requests`` different instances:
  instances/s and MB/s;
- WADO-RS whole series (25 instances each), every series once: MB/s.

Every answer is checked (status 200, the number of studies or parts) so that no figure counts
errors. Goal (issue 7): QIDO-RS at least 2x Orthanc, WADO-RS at least Orthanc.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _results import machine, write_section

from gantry.testing.network import free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "bench-dicomweb"
GANTRY = str(Path(sys.executable).with_name("gantry"))
ACCEPT_DICOM = 'multipart/related; type="application/dicom"'


def wait_http(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def upload_to_orthanc(orthanc: object, files: list[str]) -> None:
    import httpx
    from concurrent.futures import ThreadPoolExecutor

    def upload(chunk: list[str]) -> None:
        with httpx.Client(base_url=orthanc.http_url, timeout=60) as client:  # type: ignore[attr-defined]
            for path in chunk:
                answer = client.post("/instances", content=Path(path).read_bytes())
                answer.raise_for_status()

    with ThreadPoolExecutor(4) as workers:
        list(workers.map(upload, [files[i::4] for i in range(4)]))


def count_parts(response: object) -> int:
    content_type = response.headers["content-type"]  # type: ignore[attr-defined]
    boundary = content_type.split("boundary=")[1].split(";")[0].strip('"')
    return response.content.count(b"--" + boundary.encode() + b"\r\n")  # type: ignore[attr-defined]


def qido(client: object, patients: list[str], requests: int, per_patient: int) -> float:
    started = time.perf_counter()
    for number in range(requests):
        answer = client.get("studies", params={"PatientID": patients[number % len(patients)]})  # type: ignore[attr-defined]
        assert answer.status_code == 200 and len(answer.json()) == per_patient, (answer.status_code, answer.text[:200])
    return requests / (time.perf_counter() - started)


def wado_instances(client: object, instances: list[tuple[str, str, str]]) -> tuple[float, float]:
    started, size = time.perf_counter(), 0
    for study, series, sop in instances:
        answer = client.get(f"studies/{study}/series/{series}/instances/{sop}", headers={"Accept": ACCEPT_DICOM})  # type: ignore[attr-defined]
        assert answer.status_code == 200 and count_parts(answer) == 1, answer.status_code
        size += len(answer.content)
    seconds = time.perf_counter() - started
    return len(instances) / seconds, size / seconds / 1e6


def wado_series(client: object, series: list[tuple[str, str, int]]) -> float:
    started, size = time.perf_counter(), 0
    for study, uid, expected in series:
        answer = client.get(f"studies/{study}/series/{uid}", headers={"Accept": ACCEPT_DICOM})  # type: ignore[attr-defined]
        assert answer.status_code == 200 and count_parts(answer) == expected, (answer.status_code, count_parts(answer))
        size += len(answer.content)
    return size / (time.perf_counter() - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import httpx

    from gantry.kernel import Kernel
    from gantry.session import Session
    from gantry.testing.orthanc import OrthancServer
    from ingest import files_of, generate

    folder = generate(args.files)
    files = files_of(folder)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    database = f"sqlite:///{OUT / 'index.db'}"
    with Session(database, kernel=Kernel.from_config()) as session:
        session.ingest([folder], workers=2)
        rows = session.query("instance", {})
    patients = sorted({row["PatientID"] for row in rows})
    studies_per_patient = len({row["StudyInstanceUID"] for row in rows}) // len(patients)
    instances = [(row["StudyInstanceUID"], row["SeriesInstanceUID"], row["SOPInstanceUID"]) for row in rows]
    instances = instances[:: max(1, len(instances) // args.requests)][:args.requests]
    per_series: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["StudyInstanceUID"], row["SeriesInstanceUID"])
        per_series[key] = per_series.get(key, 0) + 1
    series = [(study, uid, count) for (study, uid), count in sorted(per_series.items())][:40]

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    served = subprocess.Popen([GANTRY, "serve", "--db", database, "--store", str(OUT / "store"), "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=open(OUT / "serve.log", "wb"), env=env)  # noqa: SIM115
    orthanc = OrthancServer.start()
    try:
        print(f"uploading {len(files)} instances to Orthanc ...", flush=True)
        upload_to_orthanc(orthanc, files)
        wait_http(f"http://127.0.0.1:{port}/dicom-web/studies?limit=1")
        roots = {"Gantry `serve`": f"http://127.0.0.1:{port}/dicom-web/",
                 "Orthanc 1.10 + DICOMweb 1.7": f"{orthanc.http_url}/dicom-web/"}
        results: dict[tuple[str, str], list[float]] = {}
        for repeat in range(args.repeats):
            for name, root in roots.items():
                with httpx.Client(base_url=root, timeout=120) as client:
                    client.get("studies", params={"limit": "1"})  # connect and warm up
                    measured = {"qido": qido(client, patients, args.requests, studies_per_patient)}
                    measured["wado_instances"], measured["wado_instance_mb"] = wado_instances(client, instances)
                    measured["wado_series_mb"] = wado_series(client, series)
                for key, value in measured.items():
                    results.setdefault((name, key), []).append(value)
                print(f"  [{repeat + 1}/{args.repeats}] {name}: " + ", ".join(
                    f"{key} {value:,.0f}" for key, value in measured.items()), flush=True)
    finally:
        served.terminate()
        served.wait(20)
        orthanc.stop()
    median = {key: statistics.median(values) for key, values in results.items()}
    gantry, peer = roots
    rows_out = [("QIDO-RS by PatientID, requests/s", "qido"), ("WADO-RS single instances, instances/s", "wado_instances"),
                ("WADO-RS single instances, MB/s", "wado_instance_mb"), ("WADO-RS whole series, MB/s", "wado_series_mb")]
    lines = [f"## DICOMweb over {len(files):,} instances\n",
             f"`.venv/bin/python benchmarks/dicomweb.py {' '.join(sys.argv[1:])}` ({machine()}; one kept-alive "
             f"connection per server, median of {args.repeats}; every answer checked)\n",
             f"| measure | {gantry} | {peer} | Gantry ÷ Orthanc |", "|---|---:|---:|---:|"]
    for label, key in rows_out:
        lines.append(f"| {label} | {median[(gantry, key)]:,.0f} | {median[(peer, key)]:,.0f} | "
                     f"{median[(gantry, key)] / median[(peer, key)]:.2f}× |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("dicomweb", body)


if __name__ == "__main__":
    main()
