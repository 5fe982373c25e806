"""A real PostgreSQL server for tests: a temporary cluster on 127.0.0.1, on a free port.

    with PostgresServer.start() as server:
        url = server.create_database("t1")      # postgresql://gantry@127.0.0.1:PORT/t1

Uses the Debian ``postgresql`` package's binaries (``initdb``, ``pg_ctl``); they are not on PATH
there, so they are looked for under ``/usr/lib/postgresql/<version>/bin`` too. CI runs as root,
and PostgreSQL refuses to run as root: the cluster is then owned by and run as ``nobody``, in a
folder of its own under the system temporary folder (pytest's ``tmp_path`` sits below folders
that only root may enter). The folder is removed on ``stop``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

from gantry.testing.network import free_port

_SUPERUSER = "gantry"


def find_binary(name: str) -> str | None:
    """``initdb``/``pg_ctl``/``postgres`` from PATH, or from the newest Debian cluster version."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _run_as() -> dict[str, Any]:
    """Keyword arguments for subprocess so that PostgreSQL never runs as root."""
    if os.geteuid() != 0:
        return {}
    import pwd

    user = pwd.getpwnam("nobody")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@attrs.define
class PostgresServer:
    base: Path
    data_dir: Path
    port: int
    log_file: Path
    pg_ctl: str

    @staticmethod
    def available() -> bool:
        return all(find_binary(name) for name in ("initdb", "pg_ctl"))

    @classmethod
    def start(cls) -> PostgresServer:
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if not (initdb and pg_ctl):
            raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql')")
        base = Path(tempfile.mkdtemp(prefix="gantry-postgres-"))
        data_dir, socket_dir = base / "data", base / "socket"
        socket_dir.mkdir()
        run_as = _run_as()
        if run_as:  # the server's own user must own its folders
            for path in (base, socket_dir):
                os.chown(path, run_as["user"], run_as["group"])
        subprocess.run([initdb, "-D", str(data_dir), "-U", _SUPERUSER, "--auth=trust",
                        "--encoding=UTF8", "--locale=C", "--no-sync"],
                       check=True, capture_output=True, **run_as)
        port = free_port()
        log_file = base / "server.log"
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} "
                   f"-c unix_socket_directories={socket_dir} -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off")
        server = cls(base=base, data_dir=data_dir, port=port, log_file=log_file, pg_ctl=pg_ctl)
        result = subprocess.run([pg_ctl, "-D", str(data_dir), "-l", str(log_file), "-o", options,
                                 "-w", "-t", "60", "start"], capture_output=True, text=True, **run_as)
        if result.returncode != 0:
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()}\n{log[-2000:]}")
        server._wait_until_accepting()
        return server

    def _wait_until_accepting(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"PostgreSQL on port {self.port} did not accept connections")

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL (needs psycopg)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([self.pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
                       capture_output=True, **_run_as())
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
