"""Opening a ``sqlite://`` URL: the path, the connection settings, and a SqlBackend on top.

URLs read like SQLAlchemy's: ``sqlite:///relative/path.db`` (from the current folder),
``sqlite:////absolute/path.db``, and ``sqlite:///:memory:`` (or ``sqlite://``) for a private
in-memory database that goes away when it is closed.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from typing import Any

from gantry import StorageError
from gantry_sql import SqlBackend
from gantry_sqlite.dialect import SqliteDialect

MEMORY = ":memory:"
PREFIX = "sqlite://"
DEFAULT_SETTINGS: dict[str, Any] = {"busy_timeout": 30.0, "synchronous": "NORMAL"}


def database_path(url: str) -> str:
    """The file a ``sqlite://`` URL names (``:memory:`` for an in-memory database)."""
    if not url[:len(PREFIX)].lower() == PREFIX:
        raise StorageError(f"{url!r} is not a sqlite:// URL (expected sqlite:///relative.db, "
                           "sqlite:////absolute/path.db or sqlite:///:memory:)")
    rest = url[len(PREFIX):]
    if rest in ("", "/" + MEMORY):
        return MEMORY
    if not rest.startswith("/"):
        raise StorageError(f"{url!r}: a sqlite URL has no host part; write sqlite:///{rest} for a "
                           f"relative path or sqlite:////{rest} for an absolute one")
    if "?" in rest:
        raise StorageError(f"{url!r}: sqlite URLs take no query parameters; set options in the "
                           "[sqlite] section of the configuration")
    path = rest[1:]
    if not path or path.endswith(("/", os.sep)):
        raise StorageError(f"{url!r} names a folder, not a database file")
    return path


def open_backend(url: str, settings: Mapping[str, Any] | None = None) -> SqlBackend:
    """The StorageBackend ``open`` for ``sqlite://`` URLs."""
    options = {**DEFAULT_SETTINGS, **(settings or {})}
    path = database_path(url)
    if path != MEMORY:
        path = os.path.abspath(path)
        if os.path.isdir(path):
            raise StorageError(f"cannot open the SQLite database {path}: it is a folder")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as err:
            raise StorageError(f"cannot create the folder for the SQLite database {path}: "
                               f"{err.strerror or err}") from err
    try:
        connection = sqlite3.connect(path, timeout=float(options["busy_timeout"]), isolation_level=None,
                                     check_same_thread=False)
    except sqlite3.Error as err:
        raise StorageError(f"cannot open the SQLite database {path}: {err}") from err
    try:
        _configure(connection, options)
    except sqlite3.Error as err:
        connection.close()
        raise StorageError(f"cannot open the SQLite database {path}: {err}") from err
    return SqlBackend(connection, SqliteDialect(), url=url)


def _configure(connection: sqlite3.Connection, options: Mapping[str, Any]) -> None:
    """Connection settings; the first statement also proves the file is a database."""
    # WAL: readers never block the writer nor each other, and a commit is one append.
    connection.execute("PRAGMA journal_mode = WAL").fetchall()
    synchronous = str(options["synchronous"]).upper()
    if synchronous not in ("NORMAL", "FULL"):
        raise StorageError(f"sqlite synchronous must be NORMAL or FULL, got {synchronous!r}")
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    connection.execute(f"PRAGMA busy_timeout = {int(float(options['busy_timeout']) * 1000)}")
    connection.execute("PRAGMA foreign_keys = ON")
