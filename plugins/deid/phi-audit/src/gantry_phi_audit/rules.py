"""The audit's rules by name: what each catches and what it leaves alone.

A finding carries its rule's name; the README has the long form of this table.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Rule:
    name: str
    catches: str
    on_by_default: bool = True


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("person-name", "a PN value, at any depth, that is neither empty nor a dummy"),
    Rule("patient-identifier-attribute",
         "a value in an attribute the Basic Profile removes or blanks (Table E.1-1: X, Z, D and "
         "combinations) that is neither empty nor a dummy, unless an option in force keeps or "
         "cleans it"),
    Rule("free-text-name", "a FAMILY^GIVEN token, or a person name known from this instance, "
                           "in free text (LO, LT, SH, ST, UC, UT)"),
    Rule("free-text-date", "a date in free text: 2024-03-15, 15/03/2024, 20240315, 15 Mar 2024"),
    Rule("identifier-like", "six or more digits in a row in free text (MRN, accession, account), "
                            "or an original identifier of this instance"),
    Rule("email", "an e-mail address in free text"),
    Rule("phone", "a telephone number in free text"),
    Rule("sr-text", "a name, date, identifier, e-mail or phone number in an SR Text Value"),
    Rule("private-tag-present", "a private data element, unless allowed (Retain Safe Private)"),
    Rule("burned-in-annotation", "Burned In Annotation (0028,0301) = YES"),
    Rule("burned-in-text-risk", "an image of a modality that often burns text into its pixels "
                                "(US, SC, XA, ES, DX, OT) with no record of pixel redaction"),
    Rule("overlay-data", "Overlay Data (60xx,3000), or text in an overlay group"),
    Rule("curve-data", "a retired Curve group (50xx,xxxx)"),
    Rule("file-meta-identity", "a Source, Sending or Receiving AE Title, or Private Information, "
                               "in the File Meta Information"),
    Rule("preamble-not-blank", "a 128-byte preamble that is neither zeros nor a TIFF header"),
    Rule("uid-not-remapped", "a UID neither well known (pydicom's dictionary, the DICOM root) nor "
                             "under 2.25 (optional: many sites remap to their own root)",
         on_by_default=False),
)}

DEFAULT_RULES: frozenset[str] = frozenset(name for name, rule in RULES.items() if rule.on_by_default)
