"""``query`` and ``count`` as SQL: the joins up the hierarchy, filters, computed attributes, paging.

A query at a level selects from that level's table joined to every level above it, so a row names
its patient, study and series and a filter may use their attributes. Computed attributes (counts,
ModalitiesInStudy) are correlated sub-queries on the indexed parent references: they cost a few
index lookups per row returned, and nothing for rows a page leaves out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from gantry import StorageError
from gantry.storage import COMPUTED_ATTRIBUTES, INSTANCE_FILE_FIELDS, LEVEL_KEYS, LEVELS
from gantry_sql.dialect import Dialect
from gantry_sql.matching import Condition, any_of, match, match_text
from gantry_sql.schema import ALIASES, COLUMN_OF, COLUMNS, levels_up_to, quoted

_FROM = {
    "patient": "patients p",
    "study": "studies st JOIN patients p ON p.id = st.patient_ref",
    "series": "series se JOIN studies st ON st.id = se.study_ref "
              "JOIN patients p ON p.id = st.patient_ref",
    "instance": "instances i JOIN series se ON se.id = i.series_ref "
                "JOIN studies st ON st.id = se.study_ref JOIN patients p ON p.id = st.patient_ref",
}

_COUNTS = {
    "NumberOfPatientRelatedStudies": "(SELECT COUNT(*) FROM studies c WHERE c.patient_ref = p.id)",
    "NumberOfPatientRelatedSeries": "(SELECT COUNT(*) FROM series c JOIN studies cs ON cs.id = "
                                    "c.study_ref WHERE cs.patient_ref = p.id)",
    "NumberOfPatientRelatedInstances": "(SELECT COUNT(*) FROM instances c JOIN series cse ON cse.id = "
                                       "c.series_ref JOIN studies cs ON cs.id = cse.study_ref "
                                       "WHERE cs.patient_ref = p.id)",
    "NumberOfStudyRelatedSeries": "(SELECT COUNT(*) FROM series c WHERE c.study_ref = st.id)",
    "NumberOfStudyRelatedInstances": "(SELECT COUNT(*) FROM instances c JOIN series cse ON cse.id = "
                                     "c.series_ref WHERE cse.study_ref = st.id)",
    "NumberOfSeriesRelatedInstances": "(SELECT COUNT(*) FROM instances c WHERE c.series_ref = se.id)",
}

#: Instance file fields: how each is matched and decoded.
_FILE_FIELD_MATCHING = {"location": "text", "size": "int", "mtime_ns": "int",
                        "transfer_syntax_uid": "uid", "status": "text", "digest": "text"}


@attrs.frozen
class Output:
    """One key of a result row: the SQL that computes it and how its value is decoded."""

    key: str
    sql: str
    decode: Callable[[Any], Any]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


def _modalities(separator: str) -> Callable[[Any], str]:
    def decode(value: Any) -> str:
        return "\\".join(sorted({part for part in _text(value).split(separator) if part}))
    return decode


def _outputs(level: str, dialect: Dialect) -> dict[str, Output]:
    """Every key a row at ``level`` can hold, in the order rows present them."""
    outputs: dict[str, Output] = {}
    for upper in levels_up_to(level):
        for column in COLUMNS[upper]:
            decode = _integer if column.matching == "int" else _text
            outputs[column.keyword] = Output(column.keyword, f"{column.alias}.{quoted(column.name)}", decode)
    for keyword in COMPUTED_ATTRIBUTES[level]:
        if keyword == "ModalitiesInStudy":
            sql = (f"(SELECT {dialect.distinct_values('c.modality')} FROM series c "
                   "WHERE c.study_ref = st.id AND c.modality <> '')")
            outputs[keyword] = Output(keyword, sql, _modalities(dialect.aggregate_separator))
        else:
            outputs[keyword] = Output(keyword, _COUNTS[keyword], _integer)
    if level == "instance":
        for field in INSTANCE_FILE_FIELDS:
            decode = _integer if _FILE_FIELD_MATCHING[field] == "int" else _text
            outputs[field] = Output(field, f"i.{field}", decode)
    return outputs


def _unknown(key: str, level: str, what: str) -> StorageError:
    """The error for a key a ``level`` query cannot use, saying where that key does belong."""
    column = COLUMN_OF.get(key)
    if column is not None:
        return StorageError(f"{what} {key!r} is a {column.level}-level attribute: a {level}-level "
                            f"query can use {', '.join(levels_up_to(level))} attributes only")
    computed_at = next((other for other in LEVELS if key in COMPUTED_ATTRIBUTES[other]), None)
    if computed_at is not None:
        return StorageError(f"{what} {key!r} is computed for {computed_at}-level queries only, "
                            f"not at {level} level")
    if key in INSTANCE_FILE_FIELDS:
        return StorageError(f"{what} {key!r} is an instance file field: instance-level queries only")
    return StorageError(f"{what} {key!r} is not an attribute the index keeps")


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise StorageError(f"unknown query level {level!r}: use one of {', '.join(LEVELS)}")


def _condition(level: str, key: str, value: Any, dialect: Dialect) -> Condition | None:
    text = "" if value is None else str(value)
    column = COLUMN_OF.get(key)
    if column is not None and column.level in levels_up_to(level):
        key_sql = f"{column.alias}.{column.key_name}" if column.key_name else None
        return match(column.matching, text, dialect, keyword=key,
                     expression=f"{column.alias}.{quoted(column.name)}", key_expression=key_sql)
    if key == "ModalitiesInStudy" and level == "study":
        modalities = [match_text("c.modality", part.strip(), dialect) for part in text.split("\\")]
        condition = any_of(modalities)
        if condition is None:
            return None
        return Condition(f"EXISTS (SELECT 1 FROM series c WHERE c.study_ref = st.id AND {condition.sql})",
                         condition.params)
    if key in COMPUTED_ATTRIBUTES[level]:
        return match("int", text, dialect, keyword=key, expression=_COUNTS[key])
    if key in INSTANCE_FILE_FIELDS and level == "instance":
        return match(_FILE_FIELD_MATCHING[key], text, dialect, keyword=key, expression=f"i.{key}")
    raise _unknown(key, level, "filter")


@attrs.frozen
class Select:
    sql: str
    params: tuple[Any, ...]
    outputs: tuple[Output, ...]

    def rows(self, records: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        return [{output.key: output.decode(value) for output, value in zip(self.outputs, record, strict=True)}
                for record in records]


def _where(level: str, filters: Mapping[str, Any] | None, dialect: Dialect) -> Condition:
    conditions = [condition for key, value in (filters or {}).items()
                  if (condition := _condition(level, key, value, dialect)) is not None]
    if not conditions:
        return Condition("")
    return Condition(" WHERE " + " AND ".join(f"({c.sql})" for c in conditions),
                     tuple(param for c in conditions for param in c.params))


def build_query(level: str, filters: Mapping[str, Any] | None, fields: Sequence[str] | None,
                limit: int | None, offset: int, dialect: Dialect) -> Select:
    check_level(level)
    available = _outputs(level, dialect)
    if fields is None:
        chosen = list(available.values())
    else:
        for field in fields:
            if field not in available:
                raise _unknown(field, level, "field")
        wanted = set(fields) | {LEVEL_KEYS[upper] for upper in levels_up_to(level)}
        chosen = [output for key, output in available.items() if key in wanted]
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise StorageError(f"limit must be a whole number >= 0, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise StorageError(f"offset must be a whole number >= 0, got {offset!r}")
    where = _where(level, filters, dialect)
    sql = (f"SELECT {', '.join(output.sql for output in chosen)} FROM {_FROM[level]}{where.sql} "
           f"ORDER BY {ALIASES[level]}.id")
    params = list(where.params)
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    elif offset:
        sql += f" LIMIT {dialect.unlimited} OFFSET ?"
        params.append(offset)
    return Select(sql, tuple(params), tuple(chosen))


def build_count(level: str, filters: Mapping[str, Any] | None, dialect: Dialect) -> Condition:
    check_level(level)
    where = _where(level, filters, dialect)
    return Condition(f"SELECT COUNT(*) FROM {_FROM[level]}{where.sql}", where.params)
