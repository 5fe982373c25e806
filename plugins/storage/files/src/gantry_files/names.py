"""Untrusted UIDs to safe file names.

UIDs arrive from the network, so they may hold anything: ``..``, slashes, NUL, a thousand
characters, ``CON``. A valid DICOM UID (PS3.5 9.1: digit components separated by dots, no
leading zeros except a lone "0", at most 64 characters) is safe as a name on every file system
and is used as it is, so the store stays readable by people and tools. Anything else gets a
deterministic name derived from its SHA-256, which cannot be confused with a UID (UIDs start with
a digit) and never escapes a folder or exceeds a name length limit.
"""

from __future__ import annotations

import hashlib
import re

MAX_UID_LENGTH = 64
_VALID_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
HASHED_PREFIX = "x-"
HASHED_HEX_CHARS = 40  # 160 bits: collisions are not a practical concern


def is_valid_uid(uid: str) -> bool:
    return len(uid) <= MAX_UID_LENGTH and _VALID_UID.fullmatch(uid) is not None


def safe_name(uid: str) -> str:
    """The folder or file name (without extension) under which ``uid`` is stored."""
    # Trailing NUL and space are DICOM's padding to an even length, not part of the UID:
    # "1.2.3\0" off the wire is the same instance as "1.2.3".
    unpadded = uid.rstrip("\0 ")
    if is_valid_uid(unpadded):
        return unpadded
    digest = hashlib.sha256(unpadded.encode("utf-8", "surrogatepass")).hexdigest()
    return HASHED_PREFIX + digest[:HASHED_HEX_CHARS]
