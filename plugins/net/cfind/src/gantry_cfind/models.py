"""The two query/retrieve information models (PS3.4 C.6.1, C.6.2) and what they ask of a query.

Gantry names levels as the index does (``patient``, ``study``, ``series``, ``instance``); on the
wire they are the Query/Retrieve Level values PATIENT, STUDY, SERIES and IMAGE.
"""

from __future__ import annotations

from gantry.storage import LEVEL_KEYS

#: Gantry level -> QueryRetrieveLevel.
WIRE_LEVELS = {"patient": "PATIENT", "study": "STUDY", "series": "SERIES", "instance": "IMAGE"}
LEVELS_BY_WIRE = {wire: level for level, wire in WIRE_LEVELS.items()}

PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
FIND_SOP_CLASSES = {"patient": PATIENT_ROOT_FIND, "study": STUDY_ROOT_FIND}
MODELS_BY_SOP_CLASS = {uid: model for model, uid in FIND_SOP_CLASSES.items()}

#: The levels of each model, root first. The Study Root model has no PATIENT level.
MODEL_LEVELS = {"patient": ("patient", "study", "series", "instance"),
                "study": ("study", "series", "instance")}

#: Characters that make a value something other than one single value (PS3.4 C.2.2.2).
NOT_SINGLE = ("*", "?", "\\")


def normalise_level(level: str) -> str:
    """``study``/``STUDY`` -> ``study``; ``image`` is the wire name of ``instance``."""
    name = level.strip().lower()
    name = "instance" if name == "image" else name
    if name not in WIRE_LEVELS:
        raise ValueError(f"unknown query level {level!r}: use one of {', '.join(WIRE_LEVELS)}")
    return name


def required_unique_keys(model: str, level: str) -> tuple[str, ...]:
    """The unique keys of the levels above ``level`` that a hierarchical query must give, each
    with a single value (PS3.4 C.4.1.2.2.1): e.g. StudyInstanceUID for a Study Root series query."""
    levels = MODEL_LEVELS[model]
    return tuple(LEVEL_KEYS[above] for above in levels[:levels.index(level)])
