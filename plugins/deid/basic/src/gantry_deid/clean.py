"""C on text: remove the values that identify this instance's patient and the people and places
involved wherever they appear in a free-text attribute.

The identifying values are gathered from the original instance before any action runs (the
engine puts them in ``context.identifying_values``):

- person names: every PN attribute at the top level, and the patient's other and birth names;
  matched as the whole name and as each component of two characters or more ("Smith", "John");
- identifiers: Patient ID, Other Patient IDs (and the IDs in Other Patient IDs Sequence),
  Accession Number, Admission ID, Study ID, Medical Record Locator, Issuer of Patient ID;
- the birth date, also as YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY and DD.MM.YYYY;
- institution and place: Institution Name and Address, Institutional Department Name, Patient's
  Address, Station Name; matched as whole phrases (their single words may be common ones);
- telephone numbers.

A match is a whole word or phrase, compared without case, and is replaced by :data:`MARKER`.
When the text then holds nothing but markers, spaces and punctuation, or when the VR cannot be
cleaned (PN is a name through and through, binary VRs cannot be read), the value becomes the VR's
dummy (:mod:`gantry_deid.dummies`). A cleaned value longer than the VR allows is cut to length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

#: What replaces an identifying value inside text: valid in every text VR, CS and AE included.
MARKER = "XXX"

PERSON_NAME_TAGS = (0x00101001, 0x00101005, 0x00101060)  # other, birth and mother's birth names
IDENTIFIER_TAGS = (0x00100020, 0x00101000, 0x00080050, 0x00380010, 0x00200010, 0x00101090, 0x00100021)
BIRTH_DATE = 0x00100030
PHRASE_TAGS = (0x00080080, 0x00080081, 0x00081040, 0x00101040, 0x00081010)
TELEPHONE_TAGS = (0x00102154, 0x00080094)
IDENTIFYING_TAGS = frozenset((*PERSON_NAME_TAGS, *IDENTIFIER_TAGS, BIRTH_DATE, *PHRASE_TAGS, *TELEPHONE_TAGS))
OTHER_PATIENT_IDS_SEQUENCE = 0x00101002
PATIENT_ID = 0x00100020

MAX_LENGTH = {"AE": 16, "CS": 16, "SH": 16, "LO": 64, "ST": 1024, "LT": 10240}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def gather_identifying_values(dataset: Any) -> tuple[str, ...]:
    """Values of ``dataset`` (top level, plus Other Patient IDs Sequence) that identify someone.

    Reads elements without converting them inside ``dataset`` (the input stays as it was).
    """
    from gantry_deid.elements import element_at, text_values

    found: list[str] = []
    elements = dataset._dict
    # Plain int tags and a frozenset: membership tests in C (BaseTag's == is a Python method).
    for tag, element in sorted(zip(map(int, elements), elements.values())):
        vr = element.VR
        if tag in IDENTIFYING_TAGS or vr == "PN" or (vr is None and _dictionary_vr(tag) == "PN"):
            found.extend(text_values(element_at(dataset, tag, None, element)))
    sequence = dataset._dict.get(OTHER_PATIENT_IDS_SEQUENCE)
    if sequence is not None:
        for item in element_at(dataset, OTHER_PATIENT_IDS_SEQUENCE).value or ():
            if PATIENT_ID in item._dict:
                found.extend(text_values(element_at(item, PATIENT_ID)))
    return tuple(dict.fromkeys(value for value in found if value.strip()))


def _dictionary_vr(tag: int) -> str | None:
    from gantry_deid.plan import dictionary_vr

    return dictionary_vr(tag)


def _terms(values: Iterable[str]) -> Iterator[str]:
    """What to look for: whole values, name components, date spellings."""
    for value in values:
        whole = " ".join(value.replace("^", " ").replace("=", " ").split())
        if len(whole) >= 2:
            yield whole
        if "^" in value or "=" in value:  # a person name: each component on its own
            for component in re.split(r"[\^=]", value):
                for word in component.split():
                    if len(word) >= 2:
                        yield word
        if re.fullmatch(r"\d{8}", value.strip()):  # a date: its usual spellings
            y, m, d = value[:4], value[4:6], value[6:8]
            yield from (f"{y}-{m}-{d}", f"{d}/{m}/{y}", f"{m}/{d}/{y}", f"{d}.{m}.{y}")


def _looks_identifying(text: str) -> bool:
    """The privacy audit's own detectors (gantry-phi-audit verifies every output with them):
    text they would flag is not clean, whatever else was removed from it."""
    from gantry_phi_audit import patterns

    if not patterns.might_match(text):
        return False
    return bool(patterns.name_like_tokens(text, _is_dummy) or patterns.has_date(text, _is_dummy)
                or patterns.has_identifier_like_number(text) or patterns.has_email(text)
                or patterns.has_phone_number(text))


def _is_dummy(text: str) -> bool:
    from gantry_phi_audit.settings import AuditSettings

    return _default_audit_settings(AuditSettings).is_dummy(text)


@lru_cache(maxsize=1)
def _default_audit_settings(settings_class: Any) -> Any:
    return settings_class()


@lru_cache(maxsize=16)
def identifying_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression matching any identifying term as a whole word, without case."""
    terms = sorted(set(_terms(values)), key=lambda term: (-len(term), term))
    if not terms:
        return None
    # Spaces inside a phrase match any run of spaces; a term must not touch letters or digits.
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in term.split()) for term in terms)
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE | re.UNICODE)


def clean_text(text: str, pattern: re.Pattern[str] | None, vr: str) -> str | None:
    """``text`` without identifying terms; None when nothing useful would remain, or when what
    remains still looks like patient data to the privacy audit (a date, an identifier-like
    number, an e-mail address, a phone number, a FAMILY^GIVEN name): use a dummy then."""
    cleaned = pattern.sub(MARKER, text) if pattern is not None else text
    if _looks_identifying(cleaned):
        return None
    if cleaned == text:
        return text
    if not _WORD.search(cleaned.replace(MARKER, "")):
        return None
    limit = MAX_LENGTH.get(vr)
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit].rstrip()
    return cleaned
