"""SqlBackend with only the portable defaults of Dialect (LIKE, %s parameters), against the
contract suite: the code paths a PostgreSQL backend uses, proven without a PostgreSQL server."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gantry.testing.storage import StorageBackendContract


def _path(url: str) -> str:
    return url.split("://", 1)[1]


class TestPortableSqlContract(StorageBackendContract):
    @pytest.fixture
    def backend_url(self, tmp_path: Path) -> str:
        return f"sqlprobe://{tmp_path}/probe.db"

    @pytest.fixture
    def storage_kernel(self, probe_kernel: Any) -> Any:
        return probe_kernel

    def raw_sql(self, url: str, sql: str) -> None:
        connection = sqlite3.connect(_path(url), isolation_level=None, timeout=30)
        try:
            connection.execute(sql)
        finally:
            connection.close()

    def tamper_sql(self, url: str, sql: str) -> None:
        connection = sqlite3.connect(_path(url), isolation_level=None, timeout=30)
        try:
            connection.execute("DROP TRIGGER audit_no_update")
            connection.execute("DROP TRIGGER audit_no_delete")
            connection.execute(sql)
        finally:
            connection.close()
