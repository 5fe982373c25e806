"""The de-identification contract: what the runner and the action plugins share.

The runner (``gantry-deid``) decides, for every element of an instance at every nesting level,
which action code applies (the Basic Profile of PS3.15 Table E.1-1, the options in force, the
site's overrides) and calls the active provider of that code (:class:`gantry.DeidAction`):

    apply(dataset, element, context) -> None

``dataset`` is the runner's working copy (originals are never touched) holding ``element``
(a pydicom DataElement, possibly inside a sequence item); the provider changes or deletes it in
place. *Instance steps* are actions called once per instance with ``element=None``, at a fixed
point of the pipeline: ``redact-pixels`` before the attribute actions, ``encrypt-originals``
after them.

Everything an action needs beyond the element travels in :class:`DeidContext`: the site secret
for keyed operations, the options, the original patient key, and the places where an action
leaves what the runner must persist or report (UID pairs, the date shift, originals for
reversible pseudonymisation, notes, flags for review). Actions never write to the storage
backend themselves: the runner writes one batch at a time, with the audit rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

#: The Basic Profile's code (CID 7050), always present in De-identification Method Code Sequence.
BASIC_PROFILE = ("113100", "Basic Application Confidentiality Profile")

#: Profile options by their Gantry name -> (CID 7050 code, code meaning, Table E.1-1 column).
OPTIONS: dict[str, tuple[str, str, str]] = {
    "clean-pixel-data": ("113101", "Clean Pixel Data Option", ""),
    "clean-recognizable-visual-features": ("113102", "Clean Recognizable Visual Features Option", ""),
    "clean-graphics": ("113103", "Clean Graphics Option", "clean_graphics"),
    "clean-structured-content": ("113104", "Clean Structured Content Option", "clean_structured_content"),
    "clean-descriptors": ("113105", "Clean Descriptors Option", "clean_descriptors"),
    "retain-long-full-dates": ("113106", "Retain Longitudinal Temporal Information Full Dates Option",
                               "retain_long_full_dates"),
    "retain-long-modified-dates": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option",
                                   "retain_long_modified_dates"),
    "retain-patient-characteristics": ("113108", "Retain Patient Characteristics Option",
                                       "retain_patient_characteristics"),
    "retain-device-identity": ("113109", "Retain Device Identity Option", "retain_device_identity"),
    "retain-uids": ("113110", "Retain UIDs Option", "retain_uids"),
    "retain-safe-private": ("113111", "Retain Safe Private Option", "retain_safe_private"),
    "retain-institution-identity": ("113112", "Retain Institution Identity Option",
                                    "retain_institution_identity"),
}

#: The action codes of Table E.1-1a.
ACTIONS: dict[str, str] = {
    "D": "replace with a non-zero length dummy value consistent with the VR",
    "Z": "replace with a zero length value, or a dummy value consistent with the VR",
    "X": "remove",
    "K": "keep (unchanged for non-sequence attributes, cleaned for sequences)",
    "C": "clean: replace values of similar meaning known not to contain identifying information",
    "U": "replace with a non-zero length UID that is internally consistent within a set of instances",
}

#: Combined codes resolved without knowing the attribute's Type in the IOD: the action that keeps
#: the output conformant whatever the Type is (a dummy value is valid for Types 1, 2 and 3, an
#: empty one for 2 and 3) and removes the original information all the same.
COMBINED_SAFE: dict[str, str] = {"X/Z": "Z", "X/D": "D", "Z/D": "D", "X/Z/D": "D", "X/Z/U*": "U"}

#: How each combined code resolves once the Type is known (Type 1, 2, 3 -> code).
COMBINED_BY_TYPE: dict[str, dict[str, str]] = {
    "X/Z": {"1": "Z", "1C": "Z", "2": "Z", "2C": "Z", "3": "X"},
    "X/D": {"1": "D", "1C": "D", "2": "D", "2C": "D", "3": "X"},
    "Z/D": {"1": "D", "1C": "D", "2": "Z", "2C": "Z", "3": "Z"},
    "X/Z/D": {"1": "D", "1C": "D", "2": "Z", "2C": "Z", "3": "X"},
    "X/Z/U*": {"1": "U", "1C": "U", "2": "Z", "2C": "Z", "3": "X"},
}

#: Instance steps: action codes called once per instance with ``element=None``.
INSTANCE_STEPS = ("redact-pixels", "encrypt-originals")

#: Dates and times. Table E.1-1 says "C" for them under the Retain Longitudinal Temporal
#: Information with Modified Dates option; cleaning a date means shifting it, so the runner calls
#: the provider of the ``shift`` action for "C" on an element of one of these VRs.
DATE_VRS = ("DA", "DT", "TM")
SHIFT = "shift"


@attrs.define(eq=False)
class DeidContext:
    """What one instance's de-identification shares between the runner and the actions."""

    sop_instance_uid: str
    """The original SOP Instance UID (for reports and the audit; never written to the output)."""
    patient_key: str
    """The original Patient ID (and issuer, ``"ID^ISSUER"``): keys per-patient choices such as
    the date shift. Never written to the output, never logged."""
    secret: bytes
    """The site secret for keyed operations (HMAC). Never logged."""
    options: frozenset[str] = frozenset()
    settings: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    """Each plugin's configuration section, by plugin name."""
    backend: Any = None
    """The storage backend, read-only for actions (the UID map, date shifts of earlier runs)."""
    kernel: Any = None
    """The kernel, for actions that need other plugins (pixel redaction decodes and encodes
    frames through the ranked codecs)."""
    identifying_values: tuple[str, ...] = ()
    """Values of this instance that identify the patient or the people and places involved
    (names, IDs, birth date, accession number, institution ...), gathered by the runner before
    the actions run, for actions that clean free text (``C``) or burned-in text. Never logged,
    never written to the output."""

    # --- what actions leave for the runner --------------------------------------------------
    uid_pairs: dict[str, str] = attrs.field(factory=dict)
    """Original UID -> replacement, for the backend's UID map."""
    date_shift_days: int | None = None
    """The patient's date shift in force, for the backend's date shifts."""
    originals: list[Any] = attrs.field(factory=list)
    """Top-level DataElements as they were before being replaced or removed (for the Encrypted
    Attributes Sequence), in dataset order. The runner fills it; ``encrypt-originals`` reads it."""
    notes: list[str] = attrs.field(factory=list)
    """What was done that the report should say (never values)."""
    flags: list[str] = attrs.field(factory=list)
    """Reasons the instance needs a person to look at it (burned-in text risk ...). A flagged
    instance is written but the run's grade cannot be PASS."""
    used_options: set[str] = attrs.field(factory=set)
    """Options that changed something in this instance (for the method code sequence)."""
