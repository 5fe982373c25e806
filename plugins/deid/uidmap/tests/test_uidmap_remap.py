"""remap_uid: the documented formula, deterministic everywhere, keyed, always a valid UID."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import string
import subprocess
import sys

import pytest

from gantry_uidmap import remap_uid

VALID_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
ORIGINAL = "1.2.826.0.1.3680043.8.498.12345678901234567890"


def test_the_replacement_is_2_25_and_the_first_128_bits_of_the_hmac():
    digest = hmac.new(b"k", b"project-a/" + ORIGINAL.encode(), hashlib.sha256).digest()
    assert remap_uid(ORIGINAL, b"k", "project-a/") == f"2.25.{int.from_bytes(digest[:16], 'big')}"


def test_another_process_with_the_same_secret_computes_the_same_uid():
    code = f"from gantry_uidmap import remap_uid; print(remap_uid({ORIGINAL!r}, b's3cret', 'ns'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == remap_uid(ORIGINAL, b"s3cret", "ns")


def test_secret_and_namespace_each_change_the_replacement():
    base = remap_uid(ORIGINAL, b"secret-1")
    assert remap_uid(ORIGINAL, b"secret-2") != base
    assert remap_uid(ORIGINAL, b"secret-1", "project-b") != base
    assert remap_uid(ORIGINAL, "secret-1") == base  # a str secret is its UTF-8 bytes


def test_padding_does_not_change_the_replacement():
    assert remap_uid(ORIGINAL + "\x00", b"k") == remap_uid(f" {ORIGINAL} ", b"k") == remap_uid(ORIGINAL, b"k")


def test_any_input_gives_a_valid_uid_of_at_most_64_characters():
    rng = random.Random(20240315)
    alphabet = string.printable + "äé中\x00"
    inputs = ["", "0", "not a uid", "1..2", "01.2", "1.2." * 40]
    inputs += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200))) for _ in range(2000)]
    inputs += [".".join(str(rng.randint(0, 10**12)) for _ in range(rng.randint(1, 8))) for _ in range(2000)]
    replacements = {remap_uid(text, b"k") for text in inputs}
    for uid in replacements:
        assert VALID_UID.match(uid) and len(uid) <= 64 and uid.startswith("2.25.")
        assert len(uid.removeprefix("2.25.")) <= 39
    # Distinct inputs (after padding is stripped) get distinct UIDs.
    assert len(replacements) == len({text.strip("\x00 ") for text in inputs})


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="secret"):
        remap_uid(ORIGINAL, b"")
