"""``gantry listen --processes N``: one port served by N processes sharing the index and store."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path


from gantry.testing.datasets import make_dataset, write_dataset


def listening_sockets(port: int) -> int:
    """How many sockets are in LISTEN state on ``port`` (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            count += 1
    return count


def processes_of(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


def test_three_processes_serve_one_port_and_stop_together(free_port, tmp_path, wait_for, installed_kernel):
    port = free_port()
    database = f"sqlite:///{tmp_path / 'index.db'}"
    server = subprocess.Popen([sys.executable, "-m", "gantry", "listen", f"dicom://OURAE@127.0.0.1:{port}",
                               "--db", database, "--store", str(tmp_path / "store"), "--processes", "3"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: listening_sockets(port) == 3, 60), "three processes never listened"
        workers = processes_of(server.pid)
        assert len(workers) >= 2  # the two workers (multiprocessing may add its resource tracker)
        folder = tmp_path / "outgoing"
        folder.mkdir()
        for number in range(24):
            write_dataset(make_dataset(instance=number + 1, rows=8, columns=8), folder / f"{number}.dcm")
        with installed_kernel.open_transport(f"dicom://OURAE@127.0.0.1:{port}") as peer:
            results = list(peer.store([str(folder)], associations=6))
        assert [result.ok for result in results] == [True] * 24, [r.reason for r in results if not r.ok]
        with sqlite3.connect(tmp_path / "index.db") as index:
            assert index.execute("SELECT COUNT(*) FROM instances").fetchone()[0] == 24
        assert len(list((tmp_path / "store").rglob("*.dcm"))) == 24
    finally:
        server.send_signal(signal.SIGTERM)  # as a service manager stops it
        _, errors = server.communicate(timeout=60)
    assert server.returncode == 0, errors
    assert "in 3 processes" in errors
    assert listening_sockets(port) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text()]

