"""A real Orthanc for tests: Debian's ``Orthanc`` with its DICOMweb plugin, on 127.0.0.1, on free
ports, with its database in a temporary folder.

    with OrthancServer.start(modalities={"gantry": ("OURAE", "127.0.0.1", port)}) as orthanc:
        orthanc.rest("GET", "/system")            # its REST API (a parsed JSON answer)
        orthanc.dicom_url                          # dicom://ORTHANC@127.0.0.1:PORT
        orthanc.http_url                           # http://127.0.0.1:PORT

Started with ``TCP_NODELAY=1`` as /work/shared/peers.md advises. Orthanc 1.10 cannot bind only to
127.0.0.1: it listens on every interface, so ``RemoteAccessAllowed`` is off (its REST API refuses
non-local clients) and tests connect only to 127.0.0.1. The folder is removed on ``stop``; the
log is kept in ``self.log_text()`` for failure messages until then.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from gantry.testing.network import free_port

DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
AE_TITLE = "ORTHANC"


def find_orthanc() -> str | None:
    """The Orthanc program (Debian installs it as /usr/sbin/Orthanc, often not on PATH)."""
    return shutil.which("Orthanc") or next((p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc")
                                             if os.access(p, os.X_OK)), None)


@attrs.define
class OrthancServer:
    base: Path
    http_port: int
    dicom_port: int
    process: subprocess.Popen[bytes]

    @staticmethod
    def available() -> bool:
        return find_orthanc() is not None

    @classmethod
    def start(cls, *, modalities: Mapping[str, tuple[str, str, int]] | None = None,
              dicomweb: bool = True, extra: Mapping[str, Any] | None = None,
              timeout: float = 60.0) -> OrthancServer:
        """Start Orthanc and wait until its REST API answers. ``modalities`` are its
        ``DicomModalities`` (name -> (AE title, host, port)); ``extra`` overrides configuration keys."""
        program = find_orthanc()
        if program is None:
            raise RuntimeError("Orthanc is not installed (Debian packages 'orthanc' and 'orthanc-dicomweb'; "
                               "make test installs them)")
        base = Path(tempfile.mkdtemp(prefix="gantry-orthanc-"))
        http_port, dicom_port = free_port(), free_port()
        config: dict[str, Any] = {
            "Name": "gantry-test", "StorageDirectory": str(base / "db"), "IndexDirectory": str(base / "db"),
            "StorageCompression": False, "HttpPort": http_port, "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "OrthancExplorerEnabled": False, "WebDavEnabled": False,
            "DicomServerEnabled": True, "DicomAet": AE_TITLE, "DicomPort": dicom_port,
            "DicomCheckCalledAet": False, "SaveJobs": False, "HttpsVerifyPeers": False,
            "DicomModalities": {name: list(node) for name, node in (modalities or {}).items()},
            "Plugins": [],
        }
        if dicomweb and os.path.exists(DICOMWEB_PLUGIN):
            config["Plugins"] = [DICOMWEB_PLUGIN]
            config["DicomWeb"] = {"Enable": True, "Root": "/dicom-web/", "EnableWado": True, "WadoRoot": "/wado",
                                  "Host": f"127.0.0.1:{http_port}", "Ssl": False}
        config.update(extra or {})
        (base / "config.json").write_text(json.dumps(config, indent=1))
        log = open(base / "orthanc.log", "wb")  # noqa: SIM115 -- the child writes to it until stop
        process = subprocess.Popen([program, str(base / "config.json")], stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "TCP_NODELAY": "1"}, cwd=base)
        log.close()
        server = cls(base=base, http_port=http_port, dicom_port=dicom_port, process=process)
        try:
            server._wait_until_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.http_url + "/system", timeout=2).close()
                return
            except urllib.error.HTTPError as err:
                if err.code == 401:  # up, with authentication on
                    return
            except OSError:  # not listening yet (URLError is an OSError)
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Orthanc did not answer on port {self.http_port}:\n{self.log_text()[-3000:]}")

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicom_url(self) -> str:
        return f"dicom://{AE_TITLE}@127.0.0.1:{self.dicom_port}"

    def rest(self, method: str, path: str, body: Any = None, *, timeout: float = 60.0) -> Any:
        """Call Orthanc's REST API; ``body`` is sent as JSON (bytes as they are). The answer is
        parsed as JSON when it is JSON, else returned as bytes. HTTP errors raise with Orthanc's answer."""
        data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        request = urllib.request.Request(self.http_url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                content = answer.read()
                kind = answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"Orthanc {method} {path}: HTTP {err.code}: {err.read()[:2000]!r}") from err
        return json.loads(content) if "json" in kind and content else content

    def upload(self, data: bytes) -> dict[str, Any]:
        """Store one DICOM file's bytes through ``POST /instances``."""
        return dict(self.rest("POST", "/instances", data))

    def add_modality(self, name: str, ae_title: str, port: int, host: str = "127.0.0.1", **options: Any) -> None:
        """Tell the running Orthanc about a DICOM node (``PUT /modalities/NAME``), e.g. our listener.
        ``options`` are more of the modality's keys, e.g. ``UseDicomTls=True``."""
        self.rest("PUT", f"/modalities/{name}", {"AET": ae_title, "Host": host, "Port": port, **options})

    def clear(self) -> None:
        """Delete every stored patient and every modality a test added (for a server shared by
        several tests)."""
        for patient in self.rest("GET", "/patients"):
            self.rest("DELETE", f"/patients/{patient}")
        for modality in self.rest("GET", "/modalities"):
            self.rest("DELETE", f"/modalities/{modality}")

    def log_text(self) -> str:
        path = self.base / "orthanc.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> OrthancServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
