"""The replacement UID: ``2.25.`` + the integer of the first 128 bits of a keyed HMAC.

``2.25.<decimal integer>`` is the UID form PS3.5 B.2 reserves for UUID-derived UIDs: no
registered root is needed and 128 bits make collisions negligible. The integer is at most
2**128 - 1 (39 digits), so a replacement is at most 44 characters: always under the 64 allowed.

The HMAC is keyed with the site secret. A plain hash of the original would be just as
deterministic, but anyone could then hash candidate UIDs (they are far from random: a scanner
root plus a date and a counter) and match them against the output. Without the key that
dictionary attack is impossible, while every machine holding the key computes the same mapping.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

UUID_DERIVED_ROOT = "2.25."
# DICOM pads UI values to an even length with NUL; a padded and an unpadded copy of one UID
# (a reference in one file, the instance's own UID in another) must map to the same value.
UID_PADDING = "\x00 "
# A study's UIDs repeat across all of its files; the bound keeps a long-running server's memory flat.
CACHE_SIZE = 1 << 16


def remap_uid(original: str, secret: bytes | str, namespace: str = "") -> str:
    """The replacement of ``original`` under ``secret`` and ``namespace``.

    Any text is accepted, valid UID or not (the HMAC does not care), and the result is always a
    valid UID. Padding (NUL, spaces) around ``original`` is ignored. A ``str`` secret is used as
    its UTF-8 bytes. Well-known UIDs are *not* special here: the U action keeps those itself.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        # With an empty key the HMAC is public: exactly the dictionary attack the key prevents.
        raise ValueError("a keyed UID replacement needs a non-empty site secret")
    return _keyed_uid(key, namespace, original.strip(UID_PADDING))


@lru_cache(maxsize=CACHE_SIZE)
def _keyed_uid(key: bytes, namespace: str, original: str) -> str:
    digest = hmac.new(key, (namespace + original).encode("utf-8"), hashlib.sha256).digest()
    return UUID_DERIVED_ROOT + str(int.from_bytes(digest[:16], "big"))
