"""``SqlBackend``: the whole :class:`gantry.storage.Backend` contract over one DB-API connection.

The connection must be in autocommit mode: the backend opens and ends transactions itself
(``Dialect.begin_write``, ``COMMIT``, ``ROLLBACK``), so that reads outside a transaction see the
latest committed data and writes start as writes (in SQLite, ``BEGIN IMMEDIATE`` queues writers
instead of failing one of them later).

Threads share the connection through a re-entrant lock. ``transaction()`` holds the lock for its
whole block, so another thread's calls wait for it rather than slipping into it. A nested
``transaction()`` (and every call made inside one) is a SAVEPOINT: it commits with the outer
transaction, and an exception inside it undoes its own work, so a failed ``index`` inside a
caller's transaction never leaves half a batch even when the caller catches the error.

Errors are :class:`gantry.StorageError` whose message says what failed, on which database, in
words from ``Dialect.describe_error``: never a value from the data.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from gantry import GantryError, StorageError
from gantry.storage import (
    AuditEvent,
    AuditRow,
    AuditVerification,
    Finding,
    IndexRecord,
    Job,
    StoredFile,
)
from gantry_sql import audit as audit_trail
from gantry_sql.dialect import Dialect, chunks
from gantry_sql.indexing import check_records, index_records, remove_level
from gantry_sql.migrations import MIGRATIONS, Migration, migrate, utc_now
from gantry_sql.queries import build_count, build_query, check_level
from gantry_sql.runner import Runner

T = TypeVar("T")
JOB_STATUSES = ("running", "done", "failed")
_JOB_COLUMNS = "id, kind, params, status, started_at, finished_at"


def redact_url(url: str) -> str:
    """``url`` without its password, for messages (``postgresql://user:***@host/db``)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return url.split("://", 1)[0] + "://(unparseable URL)"


def _params_key(params: Mapping[str, Any]) -> str:
    try:
        return audit_trail.canonical_json(dict(params))
    except (TypeError, ValueError) as err:
        raise StorageError(f"job params are not JSON-serialisable ({type(err).__name__})") from None


class SqlBackend:
    """A storage backend on one DB-API connection, in the SQL of ``dialect``."""

    def __init__(self, connection: Any, dialect: Dialect, *, url: str,
                 migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.url = url
        self.dialect = dialect
        self._where = redact_url(url)
        self._runner = Runner(connection, dialect)
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        try:
            with self._operation("open (schema migration)"), self.transaction():
                migrate(self._runner, dialect, migrations, where=self._where)
        except BaseException:
            self._close_connection()
            raise

    def __repr__(self) -> str:
        return f"<SqlBackend {self.dialect.name} {self._where}>"

    def __enter__(self) -> SqlBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._close_connection()

    def _close_connection(self) -> None:
        self._closed = True
        try:
            self._runner.connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must not hide the cause
            pass

    def schema_version(self) -> int:
        with self._operation("read the schema version"):
            return int(self._runner.scalar("SELECT MAX(version) FROM schema_migrations") or 0)

    @contextmanager
    def _operation(self, what: str) -> Iterator[None]:
        """Hold the connection, and turn driver errors into a StorageError saying ``what``."""
        with self._lock:
            if self._closed:
                raise StorageError(f"{self._where}: cannot {what}: the backend is closed")
            try:
                yield
            except GantryError:
                raise
            except Exception as err:
                raise StorageError(f"{self._where}: {what} failed: {self.dialect.describe_error(err)}") from err

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All calls inside commit together, or none of them (see the module docstring)."""
        with self._lock:
            if self._closed:
                raise StorageError(f"{self._where}: cannot start a transaction: the backend is closed")
            if self._depth == 0:
                yield from self._outer_transaction()
            else:
                yield from self._savepoint()

    def _outer_transaction(self) -> Iterator[None]:
        with self._operation("begin a transaction"):
            self._runner.execute_ddl(self.dialect.begin_write)
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._quietly("ROLLBACK")
            raise
        self._depth = 0
        try:
            with self._operation("commit"):
                self._runner.execute_ddl("COMMIT")
        except StorageError:
            self._quietly("ROLLBACK")
            raise

    def _savepoint(self) -> Iterator[None]:
        name = f"gantry_{self._depth}"
        with self._operation("begin a nested transaction"):
            self._runner.execute_ddl(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._quietly(f"ROLLBACK TO SAVEPOINT {name}")
            self._quietly(f"RELEASE SAVEPOINT {name}")
            raise
        finally:
            self._depth -= 1
        with self._operation("end a nested transaction"):
            self._runner.execute_ddl(f"RELEASE SAVEPOINT {name}")

    def _quietly(self, statement: str) -> None:
        """Undo after a failure; the failure already raised is the one that matters."""
        try:
            self._runner.execute_ddl(statement)
        except Exception:  # noqa: BLE001
            pass

    def _write(self, what: str, work: Callable[[Runner], T]) -> T:
        with self._operation(what), self.transaction():
            return work(self._runner)

    def _read(self, what: str, work: Callable[[Runner], T]) -> T:
        with self._operation(what):
            return work(self._runner)

    # --- index -----------------------------------------------------------------------------

    def index(self, records: Sequence[IndexRecord]) -> None:
        records = list(records)
        check_records(records)
        if records:
            now = utc_now()
            self._write(f"index {len(records)} records", lambda run: index_records(run, records, now))

    def stored_files(self, sop_instance_uids: Sequence[str]) -> dict[str, StoredFile]:
        def work(run: Runner) -> dict[str, StoredFile]:
            found: dict[str, StoredFile] = {}
            for chunk in chunks(list(dict.fromkeys(sop_instance_uids))):
                for uid, location, size, mtime_ns, digest in run.all(
                        "SELECT sop_instance_uid, location, size, mtime_ns, digest FROM instances "
                        f"WHERE sop_instance_uid IN ({run.dialect.placeholders(len(chunk))})", chunk):
                    found[uid] = StoredFile(sop_instance_uid=uid, location=location, size=int(size),
                                            mtime_ns=int(mtime_ns), digest=digest)
            return found
        return self._read("look up stored files", work)

    def files_under(self, prefix: str) -> dict[str, tuple[int, int]]:
        # A range on the indexed location, not LIKE: '%' and '_' in paths stay literal, and the
        # index serves it. The substr check keeps it exact whatever the collation does.
        def work(run: Runner) -> dict[str, tuple[int, int]]:
            rows = run.all("SELECT location, size, mtime_ns FROM instances WHERE location >= ? "
                           "AND location < ? AND substr(location, 1, ?) = ?",
                           (prefix, prefix + "\U0010ffff", len(prefix), prefix))
            return {location: (int(size), int(mtime_ns)) for location, size, mtime_ns in rows}
        return self._read("list files under a prefix", work)

    def remove(self, level: str, uid: str) -> int:
        check_level(level)
        return self._write(f"remove a {level}", lambda run: remove_level(run, level, uid))

    def query(self, level: str, filters: Mapping[str, str] | None = None, *,
              fields: Sequence[str] | None = None, limit: int | None = None,
              offset: int = 0) -> list[dict[str, Any]]:
        select = build_query(level, filters, fields, limit, offset, self.dialect)
        return self._read(f"query {level}", lambda run: select.rows(run.all(select.sql, select.params)))

    def count(self, level: str, filters: Mapping[str, str] | None = None) -> int:
        statement = build_count(level, filters, self.dialect)
        return self._read(f"count {level}", lambda run: int(run.scalar(statement.sql, statement.params)))

    # --- audit trail -----------------------------------------------------------------------

    def audit(self, events: Sequence[AuditEvent]) -> None:
        events = list(events)
        if events:
            now = utc_now()
            self._write("append to the audit trail", lambda run: audit_trail.append(run, events, now))

    def audit_rows(self, *, after: int = 0, limit: int | None = None) -> list[AuditRow]:
        return self._read("read the audit trail", lambda run: audit_trail.rows(run, after, limit))

    def verify_audit(self) -> AuditVerification:
        return self._read("verify the audit trail", audit_trail.verify)

    # --- UID map and date shifts -----------------------------------------------------------

    def uid_map_get(self, originals: Sequence[str], *, namespace: str = "") -> dict[str, str]:
        def work(run: Runner) -> dict[str, str]:
            found: dict[str, str] = {}
            for chunk in chunks(list(dict.fromkeys(originals))):
                found.update(run.all(
                    "SELECT original, replacement FROM uid_map WHERE namespace = ? AND original IN "
                    f"({run.dialect.placeholders(len(chunk))})", (namespace, *chunk)))
            return found
        return self._read("read the UID map", work)

    def uid_map_put(self, pairs: Mapping[str, str], *, namespace: str = "") -> None:
        if pairs:
            rows = [(namespace, original, replacement) for original, replacement in pairs.items()]
            self._write("write the UID map", lambda run: run.execute_many(
                "INSERT INTO uid_map (namespace, original, replacement) VALUES (?, ?, ?) "
                "ON CONFLICT (namespace, original) DO NOTHING", rows))

    def date_shift_get(self, patient_key: str, *, namespace: str = "") -> int | None:
        days = self._read("read a date shift", lambda run: run.scalar(
            "SELECT days FROM date_shifts WHERE namespace = ? AND patient_key = ?", (namespace, patient_key)))
        return None if days is None else int(days)

    def date_shift_put(self, patient_key: str, days: int, *, namespace: str = "") -> int:
        if isinstance(days, bool) or not isinstance(days, int):
            raise StorageError("a date shift must be a whole number of days")

        def work(run: Runner) -> int:
            run.execute("INSERT INTO date_shifts (namespace, patient_key, days) VALUES (?, ?, ?) "
                        "ON CONFLICT (namespace, patient_key) DO NOTHING", (namespace, patient_key, days))
            return int(run.scalar("SELECT days FROM date_shifts WHERE namespace = ? AND patient_key = ?",
                                  (namespace, patient_key)))
        return self._write("write a date shift", work)

    # --- findings --------------------------------------------------------------------------

    def add_findings(self, findings: Sequence[Finding]) -> None:
        findings = list(findings)
        if findings:
            now = utc_now()
            rows = [(f.sop_instance_uid, f.tag, f.rule, f.job_id, f.note, now) for f in findings]
            self._write("record findings", lambda run: run.execute_many(
                "INSERT INTO findings (sop_instance_uid, tag, rule, job_id, note, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", rows))

    def findings(self, *, job_id: int | None = None, sop_instance_uid: str | None = None) -> list[Finding]:
        conditions: list[str] = []
        params: list[Any] = []
        if job_id is not None:
            conditions.append("job_id = ?")
            params.append(job_id)
        if sop_instance_uid is not None:
            conditions.append("sop_instance_uid = ?")
            params.append(sop_instance_uid)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._read("read findings", lambda run: run.all(
            f"SELECT sop_instance_uid, tag, rule, job_id, note FROM findings{where} ORDER BY id", params))
        return [Finding(sop_instance_uid=uid, tag=tag, rule=rule,
                        job_id=None if job is None else int(job), note=note)
                for uid, tag, rule, job, note in rows]

    # --- jobs ------------------------------------------------------------------------------

    def job_start(self, kind: str, params: Mapping[str, Any]) -> Job:
        key = _params_key(params)
        now = utc_now()
        row = self._write("start a job", lambda run: run.one(
            "INSERT INTO jobs (kind, params, params_key, status, started_at) VALUES (?, ?, ?, 'running', ?) "
            f"RETURNING {_JOB_COLUMNS}", (kind, key, key, now)))
        assert row is not None
        return _job(row)

    def job_mark_done(self, job_id: int, items: Sequence[str]) -> None:
        rows = [(job_id, item) for item in dict.fromkeys(items)]
        if rows:
            def work(run: Runner) -> None:
                self._require_job(run, job_id)
                run.execute_many("INSERT INTO job_items (job_id, item) VALUES (?, ?) "
                                 "ON CONFLICT (job_id, item) DO NOTHING", rows)
            self._write("mark job items done", work)

    def job_done_items(self, job_id: int) -> set[str]:
        rows = self._read("read job items", lambda run: run.all(
            "SELECT item FROM job_items WHERE job_id = ?", (job_id,)))
        return {item for (item,) in rows}

    def job_finish(self, job_id: int, status: str = "done") -> None:
        if status not in JOB_STATUSES:
            raise StorageError(f"job status must be one of {', '.join(JOB_STATUSES)}, got {status!r}")

        def work(run: Runner) -> None:
            self._require_job(run, job_id)
            run.execute("UPDATE jobs SET status = ?, finished_at = ? WHERE id = ?",
                        (status, "" if status == "running" else utc_now(), job_id))
        self._write("finish a job", work)

    def jobs(self, kind: str | None = None) -> list[Job]:
        where, params = (" WHERE kind = ?", (kind,)) if kind is not None else ("", ())
        rows = self._read("list jobs", lambda run: run.all(
            f"SELECT {_JOB_COLUMNS} FROM jobs{where} ORDER BY id", params))
        return [_job(row) for row in rows]

    def last_job(self, kind: str, params: Mapping[str, Any]) -> Job | None:
        key = _params_key(params)
        row = self._read("find a job", lambda run: run.one(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE kind = ? AND params_key = ? ORDER BY id DESC LIMIT 1",
            (kind, key)))
        return _job(row) if row else None

    def _require_job(self, run: Runner, job_id: int) -> None:
        if run.scalar("SELECT id FROM jobs WHERE id = ?", (job_id,)) is None:
            raise StorageError(f"{self._where}: there is no job {job_id!r}")


def _job(row: Sequence[Any]) -> Job:
    job_id, kind, params, status, started_at, finished_at = row
    return Job(id=int(job_id), kind=kind, params=json.loads(params) if isinstance(params, str) else params,
               status=status, started_at=started_at, finished_at=finished_at or "")
