"""Versioned schema: numbered steps, applied in one transaction when a database is opened.

Each applied step is a row of ``schema_migrations``. Opening a database applies the steps it
lacks, all in the same transaction (a failure leaves the database as it was). A database whose
version is newer than the newest step here was written by a newer gantry-sql and is refused:
writing to it could break what that version relies on.

A step, once released, never changes: its DDL is spelt out here rather than generated from
``gantry.storage.INDEX_ATTRIBUTES``, so that a database made by step 1 today is the same as
one made a year ago. A new attribute is a new step (``ALTER TABLE ... ADD COLUMN``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs

from gantry import StorageError

if TYPE_CHECKING:
    from gantry_sql.dialect import Dialect
    from gantry_sql.runner import Runner


@attrs.frozen
class Migration:
    version: int
    description: str
    statements: Callable[[Dialect], list[str]]
    """The DDL of this step, for a dialect."""


def _text(name: str, dialect: Dialect) -> str:
    return f"{name} {dialect.text_type} NOT NULL DEFAULT ''"


def _dated(name: str, dialect: Dialect) -> str:
    """A date/time column and its sortable key (NULL when the value is not a valid date)."""
    return f"{_text(name, dialect)}, {name}_key {dialect.text_type}"


def _initial_schema(d: Dialect) -> list[str]:
    def text(name: str) -> str:
        return _text(name, d)

    def dated(name: str) -> str:
        return _dated(name, d)

    t = d.text_type
    return [
        f"""CREATE TABLE patients (
            {d.identity_column},
            patient_id {t} NOT NULL,
            {text("issuer_of_patient_id")},
            {text("patient_name")},
            {dated("patient_birth_date")},
            {text("patient_sex")},
            {text("other_patient_ids")},
            updated_at {t} NOT NULL,
            UNIQUE (patient_id, issuer_of_patient_id))""",
        "CREATE INDEX patients_patient_name ON patients (patient_name)",
        "CREATE INDEX patients_birth_date ON patients (patient_birth_date_key)",
        f"""CREATE TABLE studies (
            {d.identity_column},
            patient_ref BIGINT NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
            study_instance_uid {t} NOT NULL UNIQUE,
            {dated("study_date")},
            {dated("study_time")},
            {text("accession_number")},
            {text("study_id")},
            {text("study_description")},
            {text("referring_physician_name")},
            updated_at {t} NOT NULL)""",
        "CREATE INDEX studies_patient_ref ON studies (patient_ref)",
        "CREATE INDEX studies_study_date ON studies (study_date_key)",
        "CREATE INDEX studies_accession_number ON studies (accession_number)",
        f"""CREATE TABLE series (
            {d.identity_column},
            study_ref BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
            series_instance_uid {t} NOT NULL UNIQUE,
            {text("modality")},
            series_number BIGINT,
            {text("series_description")},
            {dated("series_date")},
            {dated("series_time")},
            {text("body_part_examined")},
            updated_at {t} NOT NULL)""",
        "CREATE INDEX series_study_ref ON series (study_ref)",
        "CREATE INDEX series_modality ON series (modality)",
        f"""CREATE TABLE instances (
            {d.identity_column},
            series_ref BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
            sop_instance_uid {t} NOT NULL UNIQUE,
            {text("sop_class_uid")},
            instance_number BIGINT,
            "rows" BIGINT,
            "columns" BIGINT,
            number_of_frames BIGINT,
            {dated("content_date")},
            {dated("content_time")},
            location {t} NOT NULL,
            size BIGINT NOT NULL,
            mtime_ns BIGINT NOT NULL DEFAULT 0,
            {text("transfer_syntax_uid")},
            status {t} NOT NULL DEFAULT 'indexed',
            digest {t},
            indexed_at {t} NOT NULL)""",
        "CREATE INDEX instances_series_ref ON instances (series_ref)",
        "CREATE INDEX instances_location ON instances (location)",
        f"""CREATE TABLE audit (
            sequence BIGINT PRIMARY KEY,
            at {t} NOT NULL,
            actor {t} NOT NULL,
            action {t} NOT NULL,
            {text("sop_instance_uid")},
            detail {t} NOT NULL,
            previous_hash {t} NOT NULL,
            hash {t} NOT NULL)""",
        "CREATE INDEX audit_sop_instance_uid ON audit (sop_instance_uid)",
        *d.append_only_ddl("audit"),
        f"""CREATE TABLE uid_map (
            namespace {t} NOT NULL,
            original {t} NOT NULL,
            replacement {t} NOT NULL,
            PRIMARY KEY (namespace, original))""",
        f"""CREATE TABLE date_shifts (
            namespace {t} NOT NULL,
            patient_key {t} NOT NULL,
            days BIGINT NOT NULL,
            PRIMARY KEY (namespace, patient_key))""",
        f"""CREATE TABLE jobs (
            {d.identity_column},
            kind {t} NOT NULL,
            params {d.json_type} NOT NULL,
            params_key {t} NOT NULL,
            status {t} NOT NULL,
            started_at {t} NOT NULL,
            {text("finished_at")})""",
        "CREATE INDEX jobs_kind_params ON jobs (kind, params_key)",
        f"""CREATE TABLE job_items (
            job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            item {t} NOT NULL,
            PRIMARY KEY (job_id, item))""",
        f"""CREATE TABLE findings (
            {d.identity_column},
            sop_instance_uid {t} NOT NULL,
            tag {t} NOT NULL,
            rule {t} NOT NULL,
            job_id BIGINT,
            {text("note")},
            recorded_at {t} NOT NULL)""",
        "CREATE INDEX findings_sop_instance_uid ON findings (sop_instance_uid)",
        "CREATE INDEX findings_job_id ON findings (job_id)",
    ]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "index, audit trail, UID map, date shifts, jobs and findings", _initial_schema),
)


def check_steps(migrations: Sequence[Migration]) -> None:
    """Steps are numbered 1, 2, 3 ... without gaps (a programming error otherwise)."""
    versions = [step.version for step in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration steps must be numbered 1, 2, 3 ..., got {versions}")


def migrate(runner: Runner, dialect: Dialect, migrations: Sequence[Migration] = MIGRATIONS,
            *, where: str) -> int:
    """Bring the database to the newest step; returns the schema version. Runs in the caller's
    write transaction."""
    check_steps(migrations)
    for statement in dialect.lock_migrations():
        runner.execute_ddl(statement)
    exists = dialect.table_exists_query
    if exists is None or runner.one(exists, ("schema_migrations",)) is None:
        runner.execute_ddl(f"""CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            description {dialect.text_type} NOT NULL,
            applied_at {dialect.text_type} NOT NULL)""")
    current = runner.scalar("SELECT MAX(version) FROM schema_migrations") or 0
    newest = migrations[-1].version if migrations else 0
    if current > newest:
        raise StorageError(
            f"{where}: the database has schema version {current}, newer than this gantry-sql "
            f"knows (up to {newest}); upgrade gantry-sql (and its backend plugin) to open it")
    for step in migrations[current:]:
        for statement in step.statements(dialect):
            runner.execute_ddl(statement)
        runner.execute("INSERT INTO schema_migrations (version, description, applied_at) "
                       "VALUES (?, ?, ?)", (step.version, step.description, utc_now()))
    return max(current, newest)


def utc_now() -> str:
    """The current UTC time, ISO 8601 with microseconds (sortable as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
