"""gantry-sqlite against the StorageBackend contract, plus what is particular to SQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gantry import StorageError
from gantry.storage import INDEX_ATTRIBUTES
from gantry.testing import kernel_with
from gantry.testing.storage import StorageBackendContract, index_record, sample_records, synthetic_records
from gantry_sqlite import plugin as sqlite_plugin
from gantry_sqlite.backend import database_path, open_backend
from gantry_sqlite.dialect import SqliteDialect


def _connect(url: str) -> sqlite3.Connection:
    return sqlite3.connect(database_path(url), isolation_level=None, timeout=30)


class TestSqliteContract(StorageBackendContract):
    @pytest.fixture
    def backend_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/index.db"  # tmp_path is absolute: four slashes in all

    def raw_sql(self, url: str, sql: str) -> None:
        connection = _connect(url)
        try:
            connection.execute(sql)
        finally:
            connection.close()

    def tamper_sql(self, url: str, sql: str) -> None:
        connection = _connect(url)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DROP TRIGGER audit_no_update")
            connection.execute("DROP TRIGGER audit_no_delete")
            connection.execute(sql)
            for statement in SqliteDialect().append_only_ddl("audit"):
                connection.execute(statement)
            connection.execute("COMMIT")
        finally:
            connection.close()


@pytest.fixture
def kernel() -> Any:
    """A kernel holding only this plugin."""
    return kernel_with({"sqlite": sqlite_plugin})


# --- URLs ---------------------------------------------------------------------------------------

def test_relative_url_is_relative_to_the_current_folder(kernel: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    backend = kernel.open_storage("sqlite:///projects/one/index.db")
    backend.close()
    assert (tmp_path / "projects" / "one" / "index.db").is_file()  # parent folders created


def test_absolute_url_has_four_slashes(kernel: Any, tmp_path: Path) -> None:
    backend = kernel.open_storage(f"sqlite:////{str(tmp_path).lstrip('/')}/deep/er/index.db")
    backend.close()
    assert (tmp_path / "deep" / "er" / "index.db").is_file()


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
def test_memory_databases_are_private_and_fresh(kernel: Any, url: str) -> None:
    backend = kernel.open_storage(url)
    backend.index(sample_records())
    assert backend.count("instance") == 10
    other = kernel.open_storage(url)
    assert other.count("instance") == 0
    backend.close()
    other.close()


@pytest.mark.parametrize("url, words", [
    ("sqlite://somehost/index.db", "no host"),
    ("sqlite:///", "folder"),
    ("sqlite:///data/", "folder"),
    ("sqlite:///index.db?mode=ro", "query parameters"),
    ("postgres:///index.db", "not a sqlite"),
])
def test_bad_urls_are_storage_errors(url: str, words: str) -> None:
    with pytest.raises(StorageError, match=words):
        open_backend(url)


def test_a_folder_or_a_non_database_is_a_storage_error_naming_the_path(kernel: Any, tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(StorageError, match="folder.db"):
        kernel.open_storage(f"sqlite:///{tmp_path}/folder.db")
    (tmp_path / "junk.db").write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(StorageError, match="junk.db"):
        kernel.open_storage(f"sqlite:///{tmp_path}/junk.db")
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(StorageError, match="blocker"):
        kernel.open_storage(f"sqlite:///{tmp_path}/blocker/index.db")


def test_unknown_scheme_is_refused_by_the_kernel(kernel: Any) -> None:
    with pytest.raises(StorageError, match="sqlite://"):
        kernel.open_storage("mysql://localhost/db")


# --- connection settings -------------------------------------------------------------------------

def test_wal_mode_and_settings(kernel: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/index.db"
    backend = kernel.open_storage(url)
    connection = backend._runner.connection  # the backend's own connection
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    backend.close()
    assert _connect(url).execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # stays with the file


def test_settings_come_from_the_plugin_section(tmp_path: Path) -> None:
    kernel = kernel_with({"sqlite": sqlite_plugin}, config={"sqlite": {"busy_timeout": 2.5, "synchronous": "FULL"}})
    backend = kernel.open_storage(f"sqlite:///{tmp_path}/index.db")
    connection = backend._runner.connection
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    backend.close()


def test_the_schema_has_a_column_for_every_index_attribute(tmp_path: Path) -> None:
    from gantry_sql.schema import COLUMNS, TABLES

    backend = open_backend(f"sqlite:///{tmp_path}/index.db")
    connection = backend._runner.connection
    for level, table in TABLES.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        assert {column.name for column in COLUMNS[level]} <= present, level
        assert len(COLUMNS[level]) == len(INDEX_ATTRIBUTES[level])
    backend.close()


def test_queries_use_the_indexes(tmp_path: Path) -> None:
    backend = open_backend(f"sqlite:///{tmp_path}/index.db")
    connection = backend._runner.connection
    for statement, index in [
        ("SELECT id FROM patients WHERE patient_name GLOB 'DOE*'", "patients_patient_name"),
        ("SELECT id FROM studies WHERE study_date_key >= '2024'", "studies_study_date"),
        ("SELECT id FROM instances WHERE location >= '/a' AND location < '/b'", "instances_location"),
        ("SELECT COUNT(*) FROM instances WHERE series_ref = 1", "instances_series_ref"),
        ("SELECT id FROM series WHERE modality = 'CT'", "series_modality"),
    ]:
        plan = " ".join(str(row[-1]) for row in connection.execute("EXPLAIN QUERY PLAN " + statement))
        assert index in plan, (statement, plan)
    backend.close()


# --- migrations ----------------------------------------------------------------------------------

def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/index.db"
    open_backend(url).close()
    connection = _connect(url)
    connection.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', '2099-01-01')")
    connection.close()
    with pytest.raises(StorageError, match="schema version 999.*newer"):
        open_backend(url)


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/index.db"
    for _ in range(3):
        open_backend(url).close()
    rows = _connect(url).execute("SELECT version FROM schema_migrations").fetchall()
    assert rows == [(1,)]


# --- crashes -------------------------------------------------------------------------------------

def test_an_exception_in_the_middle_of_batches_keeps_the_committed_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/index.db"
    backend = open_backend(url)
    batches = [synthetic_records(2, first_study=2 * n) for n in range(3)]
    backend.index(batches[0])
    with pytest.raises(KeyboardInterrupt):
        with backend.transaction():
            backend.index(batches[1])
            backend.index(batches[2][:50])
            raise KeyboardInterrupt  # Ctrl-C halfway through
    backend.close()
    again = open_backend(url)
    assert again.count("instance") == len(batches[0])
    assert again.count("study") == 2
    again.close()


_CHILD = textwrap.dedent("""
    import os, sys, time
    from gantry.testing.storage import synthetic_records
    from gantry_sqlite.backend import open_backend

    backend = open_backend(sys.argv[1])
    backend.index(synthetic_records(1))              # committed: 100 instances
    with backend.transaction():
        backend.index(synthetic_records(3, first_study=1))
        backend.audit([])
        sys.stdout.write("inside\\n")
        sys.stdout.flush()
        time.sleep(60)                               # killed here
""")


def test_a_process_killed_inside_a_transaction_leaves_nothing_half_indexed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/index.db"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "inside"
        child.kill()  # SIGKILL: no cleanup, no rollback, no close
    finally:
        child.wait(timeout=30)
    assert child.returncode == -9
    assert os.path.exists(f"{tmp_path}/index.db-wal")  # the WAL the dead process left behind
    backend = open_backend(url)
    assert backend.count("instance") == 100 and backend.count("study") == 1
    assert backend.count("series") == 4
    backend.index([index_record(5, 1, 1, 1)])  # and the database takes writes again
    assert backend.count("instance") == 101
    backend.close()
