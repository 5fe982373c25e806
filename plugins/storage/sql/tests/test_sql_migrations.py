"""Versioned migrations: applied once, in order, in one transaction; newer databases refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gantry import StorageError
from gantry_sql import MIGRATIONS, SCHEMA_VERSION, Migration, SqlBackend, redact_url
from gantry_sql.migrations import check_steps


def _tables(connection: Any) -> set[str]:
    rows = connection.cursor().execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def test_steps_apply_once_and_in_order(tmp_path: Path, probe_open: Callable[[str], Any],
                                       probe_dialect: Any) -> None:
    path = str(tmp_path / "steps.db")
    extra = Migration(SCHEMA_VERSION + 1, "a later step", lambda dialect: ["CREATE TABLE later (x TEXT)"])
    backend = SqlBackend(probe_open(path), probe_dialect, url="probe")
    assert backend.schema_version() == SCHEMA_VERSION
    backend.close()
    for _ in range(2):  # the second open finds the later step applied and does nothing
        backend = SqlBackend(probe_open(path), probe_dialect, url="probe", migrations=(*MIGRATIONS, extra))
        assert backend.schema_version() == SCHEMA_VERSION + 1
        backend.close()
    check = probe_open(path)
    assert "later" in _tables(check)
    versions = check.cursor().execute("SELECT version, description FROM schema_migrations ORDER BY version").fetchall()
    assert [tuple(row) for row in versions] == [(1, MIGRATIONS[0].description), (SCHEMA_VERSION + 1, "a later step")]
    check.close()
    # The older code now meets a newer database.
    with pytest.raises(StorageError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        SqlBackend(probe_open(path), probe_dialect, url="probe")


def test_a_failing_step_leaves_the_database_as_it_was(tmp_path: Path, probe_open: Callable[[str], Any],
                                                      probe_dialect: Any) -> None:
    path = str(tmp_path / "failing.db")
    broken = Migration(SCHEMA_VERSION + 1, "broken",
                       lambda dialect: ["CREATE TABLE half (x TEXT)", "CREATE TABLE nonsense ("])
    with pytest.raises(StorageError, match="open"):
        SqlBackend(probe_open(path), probe_dialect, url="probe", migrations=(*MIGRATIONS, broken))
    check = probe_open(path)
    assert _tables(check) == set()  # not even the first step: one transaction for all
    check.close()


def test_steps_must_be_numbered_from_one() -> None:
    step = MIGRATIONS[0]
    with pytest.raises(ValueError, match="numbered"):
        check_steps([step, step])
    check_steps(MIGRATIONS)


def test_passwords_stay_out_of_messages() -> None:
    assert redact_url("postgresql://gantry:s3cret@db.example:5432/index") == "postgresql://gantry:***@db.example:5432/index"
    assert redact_url("sqlite:////srv/index.db") == "sqlite:////srv/index.db"
