"""What the audit of one instance needs to know besides the dataset.

The de-identification runner passes its :class:`gantry.deid.DeidContext`; the CLI passes
nothing, and the audit reads what an output declares about itself instead: the options listed
in its De-identification Method Code Sequence (0012,0064), and among them Clean Pixel Data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from gantry_phi_audit.profile_lists import PrivateKey, safe_private_attributes
from gantry_phi_audit.settings import DEFAULT_SETTINGS, AuditSettings

SECTION = "phi-audit"
CLEAN_PIXEL_DATA = "clean-pixel-data"
RETAIN_SAFE_PRIVATE = "retain-safe-private"
METHOD_CODE_SEQUENCE = 0x00120064
CODE_VALUE = 0x00080100
MIN_KNOWN_LENGTH = 4  # shorter originals ("1", "CT") would match ordinary words and numbers
#: Originals searched for as identifiers: Patient ID, Other Patient IDs, Accession Number,
#: Medical Record Locator. Institution or station names are words ("Here", "TOSHIBA") that
#: legitimately recur in kept text such as the Manufacturer.
IDENTIFIER_TAGS = frozenset({0x00100020, 0x00101000, 0x00080050, 0x00102150})


@attrs.frozen(kw_only=True)
class AuditContext:
    """Everything optional: None means "read it from the dataset's marking"."""

    options: frozenset[str] | None = None
    """Gantry option names in force (``gantry.deid.OPTIONS``)."""
    pixels_redacted: bool | None = None
    """Whether burned-in text was removed from the pixels."""
    allowed_private: frozenset[PrivateKey] | None = None
    """Private attributes that may stay; default: Table E.3.10-1 when Retain Safe Private is in
    force, none otherwise."""
    sop_instance_uid: str | None = None
    """The UID findings are filed under; default: the dataset's SOP Instance UID."""
    known_names: frozenset[str] = frozenset()
    """Person names of this instance's originals (upper case), searched for in free text."""
    known_identifiers: frozenset[str] = frozenset()
    """Identifiers of this instance's originals (upper case), searched for in free text."""
    settings: AuditSettings = DEFAULT_SETTINGS


def from_deid_context(context: Any) -> AuditContext:
    """The runner's :class:`gantry.deid.DeidContext` as an audit context.

    The originals the runner keeps (top-level elements as they were) give the names and
    identifiers to look for in what remains; they stay in memory and never reach a finding.
    """
    from gantry_phi_audit.patterns import COMMON_WORDS, name_parts

    names: set[str] = set()
    identifiers: set[str] = set()
    for element in getattr(context, "originals", ()):
        if element.VR == "PN":
            for value in _texts(element.value):
                names.update(name_parts(value))
        elif element.tag in IDENTIFIER_TAGS:
            identifiers.update(value.strip().upper() for value in _texts(element.value))
    patient_id = str(getattr(context, "patient_key", "") or "").split("^")[0]
    identifiers.add(patient_id.strip().upper())
    settings = AuditSettings.from_mapping(dict(getattr(context, "settings", {}) or {}).get(SECTION, {}))
    return AuditContext(
        options=frozenset(context.options),
        pixels_redacted=CLEAN_PIXEL_DATA in getattr(context, "used_options", ()),
        sop_instance_uid=context.sop_instance_uid or None,
        known_names=frozenset(name for name in names if not settings.is_dummy(name)),
        known_identifiers=frozenset(value for value in identifiers if len(value) >= MIN_KNOWN_LENGTH
                                    and value not in COMMON_WORDS and not settings.is_dummy(value)),
        settings=settings,
    )


def as_audit_context(context: Any) -> AuditContext:
    if context is None:
        return AuditContext()
    if isinstance(context, AuditContext):
        return context
    if hasattr(context, "originals") and hasattr(context, "options"):
        return from_deid_context(context)
    raise TypeError(f"context must be an AuditContext or a gantry.deid.DeidContext, "
                    f"not {type(context).__name__}")


def declared_options(dataset: Any) -> frozenset[str]:
    """Option names whose CID 7050 code the dataset's De-identification Method Code Sequence
    lists (empty for a dataset that was never de-identified)."""
    from gantry.deid import OPTIONS

    sequence = dataset.get(METHOD_CODE_SEQUENCE)
    if sequence is None or not sequence.value:
        return frozenset()
    by_code = {code: name for name, (code, _, _) in OPTIONS.items()}
    codes = {str(item[CODE_VALUE].value).strip() for item in sequence.value if CODE_VALUE in item}
    return frozenset(by_code[code] for code in codes if code in by_code)


def allowed_private_for(options: Iterable[str], explicit: Iterable[PrivateKey] | None) -> frozenset[PrivateKey]:
    if explicit is not None:
        return frozenset(explicit)
    return safe_private_attributes() if RETAIN_SAFE_PRIVATE in options else frozenset()


def _texts(value: Any) -> list[str]:
    from pydicom.multival import MultiValue

    if value is None:
        return []
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(item) for item in value]
    return [str(value)]
