"""The kernel's planted-PHI corpus (gantry.testing.phi_corpus), through the Basic Profile:
no planted token survives in any output file's bytes (preamble and File Meta included)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pydicom

from gantry.testing.phi_corpus import write_phi_corpus
from gantry_deid import compile_plan, deidentify_file, make_context
from gantry_deid.tables import table_e1_1


def test_no_planted_token_survives_the_basic_profile(deid_kernel: Any, tmp_path: Path) -> None:
    corpus = write_phi_corpus(tmp_path / "in", table_tags=[row.tag_text for row in table_e1_1().rows])
    plan = compile_plan(deid_kernel)
    out = tmp_path / "out"
    out.mkdir()
    written = b""
    for number, source in enumerate(corpus.files):
        before = Path(source).read_bytes()
        destination = out / f"{number}.dcm"
        deidentify_file(deid_kernel, plan, source, destination,
                        lambda ds: make_context(ds, secret=b"corpus", plan=plan))
        assert Path(source).read_bytes() == before
        data = destination.read_bytes()
        assert data[:128] == bytes(128)
        pydicom.dcmread(destination)
        written += data
    assert len(corpus.tokens) > 1000
    survivors = [token for token in corpus.tokens if survives(token, written)]
    assert not survivors, survivors[:20]


def survives(token: str, data: bytes) -> bool:
    # A number-only token (a date, a time) can occur by chance inside a replacement UID's digits
    # (2.25.<39 digits>): such a token counts only where no digit or dot comes right before it.
    if not re.fullmatch(r"[0-9.+-]+", token):
        return token.encode() in data
    return re.search(rb"(?<![0-9.])" + re.escape(token.encode()), data) is not None
