"""Entry module: descriptors and settings only (psycopg is imported when a database is opened)."""

from __future__ import annotations

from gantry import Setting, StorageBackend, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_storage_backends() -> list[StorageBackend]:
    return [
        StorageBackend(
            name="postgres",
            description="Index, audit trail and plugin tables in a PostgreSQL database (psycopg 3)",
            schemes=("postgresql", "postgres"),
            open="gantry_postgres.backend:open_backend",
        )
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="connect_timeout", type="float", default=10.0,
                help="Seconds to wait for the server when connecting (0: wait as long as the "
                     "operating system does). A connect_timeout in the URL wins."),
        Setting(name="statement_timeout", type="float", default=0.0,
                help="Seconds after which the server cancels one statement (0: no limit)."),
        Setting(name="application_name", default="gantry",
                help="How the connection is named in pg_stat_activity. One in the URL wins."),
    ]
