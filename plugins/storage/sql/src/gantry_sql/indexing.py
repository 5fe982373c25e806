"""Writing the index: bulk upserts of the four levels, removal, and pruning of emptied parents.

``index`` sends each level as one ``executemany`` of ``INSERT ... ON CONFLICT ... DO UPDATE``;
a row finds its parent's ``id`` with a sub-select on the parent's unique UID, so no ids travel
back to Python. Within a batch the last record of a study (series, patient) wins, and across
batches the newest call wins: "updated from the newest record".

A record can move an instance to another series, a series to another study or a study to
another patient (a corrected PatientID). The parents it leaves are noted before the upserts and
removed afterwards if nothing is left under them, exactly like ``remove`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gantry import StorageError
from gantry.storage import IndexRecord
from gantry_sql.dialect import chunks
from gantry_sql.runner import Runner
from gantry_sql.schema import COLUMNS, quoted
from gantry_sql.values import integer_of, sortable_key

_REQUIRED = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_FILE_COLUMNS = ("location", "size", "mtime_ns", "transfer_syntax_uid", "status", "digest", "indexed_at")


@functools.cache  # the same for every batch
def _column_names(level: str) -> tuple[str, ...]:
    names: list[str] = []
    for column in COLUMNS[level]:
        names.append(quoted(column.name))
        if column.key_name:
            names.append(column.key_name)
    return tuple(names)


def _column_values(level: str, attributes: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = []
    for column in COLUMNS[level]:
        raw = attributes.get(column.keyword)
        text = "" if raw is None else str(raw)
        if column.matching == "int":
            values.append(integer_of(text))
            continue
        values.append(text)
        if column.key_name:
            values.append(sortable_key(column.matching, text))
    return values


def check_records(records: Sequence[IndexRecord]) -> None:
    """Refuse a batch with a record that cannot be indexed, before anything is written.

    The message says which record and what is wrong, never a value from it.
    """
    for number, record in enumerate(records):
        attributes = getattr(record, "attributes", None)
        if not isinstance(attributes, Mapping):
            raise StorageError(f"record {number} is not an IndexRecord (it has no attributes mapping)")
        for keyword in _REQUIRED:
            if not str(attributes.get(keyword) or "").strip():
                raise StorageError(f"record {number} has no {keyword}: it cannot be indexed")
        if not isinstance(record.location, str) or not record.location:
            raise StorageError(f"record {number} has no location")
        for field in ("size", "mtime_ns"):
            value = getattr(record, field)
            if isinstance(value, bool) or not isinstance(value, int):
                raise StorageError(f"record {number}: {field} must be an integer")
        if record.digest is not None and not isinstance(record.digest, str):
            raise StorageError(f"record {number}: digest must be text (hex) or None")


def _upsert(table: str, key_columns: Sequence[str], columns: Sequence[str],
            parent: tuple[str, str] | None = None) -> str:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET`` every other column.

    ``parent`` is ``(reference column, sub-select of the parent id)``, its placeholders first.
    """
    names = ([parent[0]] if parent else []) + list(columns)
    values = ([parent[1]] if parent else []) + ["?"] * len(columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in key_columns)
    return (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}")


def _newest_by(records: Sequence[IndexRecord], key: Any) -> dict[Any, IndexRecord]:
    """The last record for each key (dicts keep the first insertion's place, hence the pop)."""
    newest: dict[Any, IndexRecord] = {}
    for record in records:
        k = key(record)
        newest.pop(k, None)
        newest[k] = record
    return newest


def _patient_key(record: IndexRecord) -> tuple[str, str]:
    attributes = record.attributes
    return (str(attributes.get("PatientID") or ""), str(attributes.get("IssuerOfPatientID") or ""))


def _uid(record: IndexRecord, keyword: str) -> str:
    return str(record.attributes[keyword]).strip()


def _referenced_ids(runner: Runner, statement: str, uids: Iterable[str]) -> set[int]:
    """Run ``statement`` (with ``{}`` for an IN list) over ``uids`` in chunks; the first column."""
    found: set[int] = set()
    for chunk in chunks(list(uids)):
        found.update(row[0] for row in runner.all(
            statement.format(runner.dialect.placeholders(len(chunk))), chunk))
    return found


def index_records(runner: Runner, records: Sequence[IndexRecord], now: str) -> None:
    """Upsert ``records`` (already checked); the caller holds the write transaction."""
    instances = _newest_by(records, lambda r: _uid(r, "SOPInstanceUID"))
    series = _newest_by(records, lambda r: _uid(r, "SeriesInstanceUID"))
    studies = _newest_by(records, lambda r: _uid(r, "StudyInstanceUID"))
    patients = _newest_by(records, _patient_key)

    # The parents rows leave when a record moves them (pruned below when left empty).
    left_series = _referenced_ids(runner, "SELECT DISTINCT series_ref FROM instances "
                                          "WHERE sop_instance_uid IN ({})", instances)
    left_studies = _referenced_ids(runner, "SELECT DISTINCT study_ref FROM series "
                                           "WHERE series_instance_uid IN ({})", series)
    left_patients = _referenced_ids(runner, "SELECT DISTINCT patient_ref FROM studies "
                                            "WHERE study_instance_uid IN ({})", studies)

    patient_columns = [*_column_names("patient"), "updated_at"]
    runner.execute_many(
        _upsert("patients", ("patient_id", "issuer_of_patient_id"), patient_columns),
        ([*_column_values("patient", record.attributes), now] for record in patients.values()))
    runner.execute_many(
        _upsert("studies", ("study_instance_uid",), [*_column_names("study"), "updated_at"],
                ("patient_ref", "(SELECT id FROM patients WHERE patient_id = ? AND issuer_of_patient_id = ?)")),
        ([*_patient_key(record), *_column_values("study", record.attributes), now]
         for record in studies.values()))
    runner.execute_many(
        _upsert("series", ("series_instance_uid",), [*_column_names("series"), "updated_at"],
                ("study_ref", "(SELECT id FROM studies WHERE study_instance_uid = ?)")),
        ([_uid(record, "StudyInstanceUID"), *_column_values("series", record.attributes), now]
         for record in series.values()))
    runner.execute_many(
        _upsert("instances", ("sop_instance_uid",), [*_column_names("instance"), *_FILE_COLUMNS],
                ("series_ref", "(SELECT id FROM series WHERE series_instance_uid = ?)")),
        ([_uid(record, "SeriesInstanceUID"), *_column_values("instance", record.attributes),
          record.location, record.size, record.mtime_ns,
          record.transfer_syntax_uid or str(record.attributes.get("TransferSyntaxUID") or ""),
          record.status, record.digest, now]
         for record in instances.values()))
    prune_empty(runner, series=left_series, studies=left_studies, patients=left_patients)


def prune_empty(runner: Runner, *, series: Iterable[int] = (), studies: Iterable[int] = (),
                patients: Iterable[int] = ()) -> None:
    """Remove those series, studies and patients that have nothing under them any more, and then
    their parents if that left them empty too."""
    series_ids, study_ids, patient_ids = set(series), set(studies), set(patients)
    if series_ids:
        empty = _empty(runner, "series", "study_ref", series_ids,
                       "NOT EXISTS (SELECT 1 FROM instances c WHERE c.series_ref = series.id)")
        study_ids |= empty
    if study_ids:
        empty = _empty(runner, "studies", "patient_ref", study_ids,
                       "NOT EXISTS (SELECT 1 FROM series c WHERE c.study_ref = studies.id)")
        patient_ids |= empty
    if patient_ids:
        _empty(runner, "patients", None, patient_ids,
               "NOT EXISTS (SELECT 1 FROM studies c WHERE c.patient_ref = patients.id)")


def _empty(runner: Runner, table: str, parent_ref: str | None, ids: set[int], condition: str) -> set[int]:
    """Delete the rows of ``ids`` meeting ``condition``; returns their parents' ids."""
    parents: set[int] = set()
    for chunk in chunks(sorted(ids)):
        marks = runner.dialect.placeholders(len(chunk))
        if parent_ref:
            parents.update(row[0] for row in runner.all(
                f"SELECT {parent_ref} FROM {table} WHERE id IN ({marks}) AND {condition}", chunk))
        runner.execute(f"DELETE FROM {table} WHERE id IN ({marks}) AND {condition}", chunk)
    return parents


# How remove() finds what goes: the instances under one row of each level.
_INSTANCES_UNDER = {
    "patient": "series_ref IN (SELECT se.id FROM series se JOIN studies st ON st.id = se.study_ref "
               "WHERE st.patient_ref IN ({}))",
    "study": "series_ref IN (SELECT id FROM series WHERE study_ref IN ({}))",
    "series": "series_ref IN ({})",
    "instance": "id IN ({})",
}
_LEVEL_ROWS = {
    "patient": ("patients", "patient_id", None),
    "study": ("studies", "study_instance_uid", "patient_ref"),
    "series": ("series", "series_instance_uid", "study_ref"),
    "instance": ("instances", "sop_instance_uid", "series_ref"),
}


def remove_level(runner: Runner, level: str, uid: str) -> int:
    """Delete one patient (every issuer's, by PatientID), study, series or instance with what is
    below it, then the parents left empty. Returns how many instances went."""
    table, key_column, parent_ref = _LEVEL_ROWS[level]
    columns = f"id, {parent_ref}" if parent_ref else "id, NULL"
    found = runner.all(f"SELECT {columns} FROM {table} WHERE {key_column} = ?", (uid,))
    if not found:
        return 0
    ids = [row[0] for row in found]
    parents = {row[1] for row in found if row[1] is not None}
    marks = runner.dialect.placeholders(len(ids))
    removed = runner.execute(f"DELETE FROM instances WHERE {_INSTANCES_UNDER[level].format(marks)}", ids).rowcount
    if level == "patient":
        runner.execute(f"DELETE FROM series WHERE study_ref IN (SELECT id FROM studies "
                       f"WHERE patient_ref IN ({marks}))", ids)
        runner.execute(f"DELETE FROM studies WHERE patient_ref IN ({marks})", ids)
    elif level == "study":
        runner.execute(f"DELETE FROM series WHERE study_ref IN ({marks})", ids)
    if level != "instance":
        runner.execute(f"DELETE FROM {table} WHERE id IN ({marks})", ids)
    upper = {"study": "patients", "series": "studies", "instance": "series"}.get(level)
    if upper:
        prune_empty(runner, **{upper: parents})
    return int(removed)
