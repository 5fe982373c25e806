"""What identifiers look like in text: compiled once, each a small named predicate.

Every pattern works on one text value and answers yes or no, so nothing downstream can leak a
matched value into a report by mistake. The two exceptions return name parts, which feed only
the search for the same names elsewhere in the instance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# A cheap gate: every pattern below needs a digit, '^' or '@'. Most header text has none of
# them, and one search is far cheaper than five.
_MIGHT_MATCH = re.compile(r"[\d^@]")

# FAMILY^GIVEN, the DICOM PN form, written into free text. Letters only, so that
# "01_ThoraxRoutine" or "PROTOCOL^2" are not names.
_NAME_LIKE = re.compile(r"(?<![\w^])([A-Za-z][A-Za-z'\-]+)\^([A-Za-z][A-Za-z'\-]*)")

# Words that sites join with '^' in descriptions and protocol names ("CHEST^ROUTINE",
# "Head^Sinus"): a caret between them is a separator, not a name.
PROTOCOL_WORDS = frozenset("""
    ABDOMEN ABD ANGIO ANKLE ARM AXIAL BRAIN BREAST CARDIAC CHEST CONTRAST CORONAL CSPINE CT CTA
    ELBOW EXTREMITY FOOT HAND HEAD HEART HIP KNEE LEG LIVER LSPINE LUMBAR LUNG MR MRA NECK PELVIS
    PET PROSTATE RENAL ROUTINE SAGITTAL SCOUT SERIES SHOULDER SINUS SKULL SPINE STANDARD STUDY
    THORAX TSPINE WRIST WITH WITHOUT ADULT CHILD PEDIATRIC PEDS HELICAL SPIRAL LOCALIZER
    """.split())

# Name parts too common in header text to search for as names: "PATIENT" in a test patient's
# name, or "operator" written as an Operators' Name, would match ordinary descriptions.
COMMON_WORDS = PROTOCOL_WORDS | frozenset("""
    PATIENT NAME TEST DOCTOR PHYSICIAN CLINIC HOSPITAL UNKNOWN OTHER THE AND FOR OPERATOR
    RADIOLOGIST TECHNICIAN TECH NURSE STAFF USER ADMIN SERVICE REFERRING PERFORMING READING
    """.split())

_DATE_PATTERNS = (
    # 2024-03-15, 2024/03/15, 2024.03.15
    r"(?<!\d)(?<!\d\.)(?:19|20)\d{2}([-/.])(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?!\d|\.\d)",
    # 15/03/2024, 03-15-2024, 15.03.2024 (day or month first: both are dates)
    r"(?<!\d)(?<!\d\.)(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|[12]\d|3[01])\1(?:19|20)\d{2}(?!\d|\.\d)",
    # 15/03/24: slashes only (dotted short forms are version numbers: 1.2.24)
    r"(?<![\d/.])(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|[12]\d|3[01])/\d{2}(?![\d/])",
    # 20240315 and DICOM date-times 20240315101530.25
    r"(?<!\d)(?<!\d\.)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d{4,6}(?:\.\d{1,6})?)?(?!\d|\.\d)",
    # 15 Mar 2024, 15-March-2024, March 15, 2024, Sept. 2024
    r"(?<!\w)(?:\d{1,2}[ -])?(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
    r"[ -](?:\d{1,2},? )?(?:19|20)\d{2}(?!\d)",
)
# Compiled one by one: the back-references (\1) keep their numbers, and month names need
# IGNORECASE alone.
_DATES = tuple(re.compile(pattern, re.IGNORECASE) for pattern in _DATE_PATTERNS)
# A digit run that is a compact date belongs to the date rule, not to identifier-like.
_COMPACT_DATE = _DATES[3]

# Six or more digits in a row (MRNs, accession numbers, phone extensions, account numbers),
# not part of a decimal number, a UID or a version ("0.000123456", "1.2.840.10008").
_DIGIT_RUN = re.compile(r"(?<![\d.,])\d{6,}(?![\d.,])")

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")

# Phone numbers need a shape that plain measurements lack: a leading '+', an area code in
# parentheses, dashes or dots between groups, or a national trunk prefix 0.
_PHONE = re.compile(
    r"(?<![\w+])\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{2,4}){2,3}(?![\w])"
    r"|(?<!\w)\(\d{3}\) ?\d{3}[ .\-]\d{4}(?!\w)"
    r"|(?<![\w.\-])\d{3}[.\-]\d{3}[.\-]\d{4}(?![\w.\-])"
    r"|(?<![\w.\-])0\d{2,4}[ \-]\d{3,4}[ \-]?\d{3,4}(?![\w.\-])"
)
_PHONE_DIGITS = range(9, 16)  # E.164 numbers have at most 15 digits; real ones at least 9


def might_match(text: str) -> bool:
    """False when no pattern below can match (no digit, caret or at sign)."""
    return _MIGHT_MATCH.search(text) is not None


def name_like_tokens(text: str, is_dummy: Callable[[str], bool]) -> list[str]:
    """The parts (upper case) of every ``FAMILY^GIVEN`` token that is neither a dummy nor
    written with a protocol word; empty when there is none."""
    parts = []
    for match in _NAME_LIKE.finditer(text):
        family, given = match[1].upper(), match[2].upper()
        if family in PROTOCOL_WORDS or given in PROTOCOL_WORDS:
            continue
        if is_dummy(family) and (not given or is_dummy(given)):
            continue
        parts += [family, given] if given else [family]
    return parts


def has_date(text: str, is_dummy: Callable[[str], bool]) -> bool:
    return any(not is_dummy(match[0]) for pattern in _DATES for match in pattern.finditer(text))


def has_identifier_like_number(text: str) -> bool:
    return any(_COMPACT_DATE.fullmatch(match[0]) is None for match in _DIGIT_RUN.finditer(text))


def has_email(text: str) -> bool:
    return _EMAIL.search(text) is not None


def has_phone_number(text: str) -> bool:
    for match in _PHONE.finditer(text):
        if sum(character.isdigit() for character in match[0]) in _PHONE_DIGITS:
            return True
    return False


def contains_word(upper_text: str, words: Iterable[str]) -> bool:
    """Whether one of ``words`` (upper case) occurs in ``upper_text`` as a whole word."""
    for word in words:
        start = upper_text.find(word)
        while start >= 0:
            end = start + len(word)
            if (start == 0 or not upper_text[start - 1].isalnum()) and \
                    (end == len(upper_text) or not upper_text[end].isalnum()):
                return True
            start = upper_text.find(word, start + 1)
    return False


def name_parts(person_name: str) -> list[str]:
    """The searchable parts of a PN value: family, given and middle names of every component
    group (alphabetic, ideographic, phonetic), three letters or more, common words left out."""
    parts = []
    for group in person_name.split("="):
        for part in group.split("^")[:3]:
            part = part.strip().upper()
            if len(part) >= 3 and part not in COMMON_WORDS:
                parts.append(part)
    return parts
