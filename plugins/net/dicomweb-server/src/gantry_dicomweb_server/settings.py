"""The ``[dicomweb-server]`` configuration section (``gantry serve``).

    [storage]
    database = "sqlite:///gantry.db"      # what QIDO answers from and STOW indexes into (--db)
    store = "/srv/gantry/store"           # where STOW puts instances (--store); empty: ./gantry-store

    [dicomweb-server]
    host = "127.0.0.1"                    # --host
    port = 8042                           # --port
    public_root = "https://pacs.example.org/dicom-web"   # what BulkDataURI and RetrieveURL start with
                                          # (behind a proxy); empty: http://<Host header>/dicom-web
    tokens = ["s3cret"]                   # bearer tokens accepted; empty: no authentication
    cors_origins = ["https://viewer.example.org"]        # "*" for any; empty: no CORS headers
    max_upload_bytes = 2147483648         # a STOW body larger than this is refused (413), streamed
    max_results = 1000                    # QIDO answers at most this many per request (then a Warning)
    bulkdata_threshold = 1024             # binary elements longer than this become BulkDataURI in metadata
    overwrite = false                     # STOW of different bytes under a stored SOP Instance UID replaces it
    spool_dir = ""                        # where STOW parts are spooled while a body arrives; empty: system temp
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import Setting

#: Where the DICOMweb services are mounted (as Orthanc does).
SERVICE_PATH = "/dicom-web"
DEFAULT_PORT = 8042


def declared_settings() -> list[Setting]:
    return [
        Setting(name="host", type="str", default="127.0.0.1", help="address to listen on"),
        Setting(name="port", type="int", default=DEFAULT_PORT, help="TCP port to listen on"),
        Setting(name="public_root", type="str", default="",
                help="public URL of the DICOMweb root (BulkDataURI, RetrieveURL); empty: from the request's Host"),
        Setting(name="tokens", type="list", default=[],
                help="bearer tokens accepted (Authorization: Bearer ...); empty: no authentication"),
        Setting(name="cors_origins", type="list", default=[],
                help="origins allowed by CORS (\"*\" for any); empty: no CORS headers"),
        Setting(name="max_upload_bytes", type="int", default=2 * 1024 ** 3,
                help="largest STOW-RS request body accepted, in bytes (larger: 413)"),
        Setting(name="max_results", type="int", default=1000,
                help="most QIDO-RS results answered per request (more: a Warning header)"),
        Setting(name="bulkdata_threshold", type="int", default=1024,
                help="binary elements longer than this (bytes) are given as BulkDataURI in metadata"),
        Setting(name="overwrite", type="bool", default=False,
                help="a STOW of different bytes under a stored SOP Instance UID replaces it (otherwise it fails)"),
        Setting(name="spool_dir", type="str", default="",
                help="folder where STOW-RS parts are spooled while the body arrives (empty: system temp)"),
    ]


@attrs.frozen(kw_only=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_root: str = ""
    tokens: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_upload_bytes: int = 2 * 1024 ** 3
    max_results: int = 1000
    bulkdata_threshold: int = 1024
    overwrite: bool = False
    spool_dir: str = ""

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> ServerSettings:
        values = {setting.name: setting.default for setting in declared_settings()}
        values.update(settings or {})
        return cls(host=str(values["host"]), port=int(values["port"]),
                   public_root=str(values["public_root"]).rstrip("/"),
                   tokens=tuple(str(token) for token in values["tokens"] if str(token)),
                   cors_origins=tuple(str(origin) for origin in values["cors_origins"]),
                   max_upload_bytes=int(values["max_upload_bytes"]), max_results=int(values["max_results"]),
                   bulkdata_threshold=int(values["bulkdata_threshold"]), overwrite=bool(values["overwrite"]),
                   spool_dir=str(values["spool_dir"]))
