"""Entry module: descriptors and settings only (sqlite3 is imported when a database is opened)."""

from __future__ import annotations

from gantry import Setting, StorageBackend, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_storage_backends() -> list[StorageBackend]:
    return [
        StorageBackend(
            name="sqlite",
            description="Index, audit trail and plugin tables in one SQLite file (WAL mode)",
            schemes=("sqlite",),
            open="gantry_sqlite.backend:open_backend",
        )
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="busy_timeout", type="float", default=30.0,
                help="Seconds a write waits for another writer (process) before failing."),
        Setting(name="synchronous", default="NORMAL", choices=("NORMAL", "FULL"),
                help="NORMAL: a power cut may lose the last commits but never corrupts (WAL); "
                     "FULL: every commit is on disk when it returns."),
    ]
